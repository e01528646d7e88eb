"""`{% load days %}`: `{{ day|month_day }}`, a day without its year as the reader's language writes it
short (21 nov., Nov 21, 11月21日) — for tables of days on a phone, where the full date wraps."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_skeleton
from django import template
from django.utils import timezone

from vigencia.core.money import babel_locale

register = template.Library()


@register.filter
def month_day(value: date | datetime | None) -> str:
    """An instant is read on the current timezone's calendar, as Django's `date` filter reads it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return str(format_skeleton("MMMd", value, locale=babel_locale()))
