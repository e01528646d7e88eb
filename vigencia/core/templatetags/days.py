"""`{% load days %}`: `{{ day|month_day }}`, a day without its year as the reader's language writes it
short (21 nov., Nov 21, 11月21日) — for tables of days on a phone, where the full date wraps; and
`{{ instant|weekday_time }}`, a moment of the coming days (Tue, Mar 3, 10:00; mar, 3 mar., 10:00;
3月3日周二 10:00)."""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
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


@register.filter
def weekday_time(value: datetime | None) -> str:
    """On the current timezone's clock (a store's, inside {% timezone %}), as month_day reads it."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    locale = Locale.parse(babel_locale())
    day, time = format_skeleton("MMMEd", value, locale=locale), format_skeleton("Hm", value, locale=locale)
    return str(locale.datetime_formats["short"]).replace("{1}", day).replace("{0}", time)
