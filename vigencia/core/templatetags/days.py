"""`{% load days %}`: `{{ day|month_day }}`, a day without its year as the reader's language writes it
short (21 nov., Nov 21, 11月21日) — for tables of days on a phone, where the full date wraps."""

from __future__ import annotations

from datetime import date

from babel.dates import format_skeleton
from django import template

from vigencia.core.money import babel_locale

register = template.Library()


@register.filter
def month_day(value: date | None) -> str:
    if value is None:
        return ""
    return str(format_skeleton("MMMd", value, locale=babel_locale()))
