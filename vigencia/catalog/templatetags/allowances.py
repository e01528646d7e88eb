"""A plan's allowances as people read them, in the viewer's language: `{{ plan.data_mb|data_mb }}`
("20 GB", "1,5 GB", "500 MB"), `{{ plan.minutes|allowance }}` and `{{ plan.sms|allowance }}` ("1,000";
"Unlimited" from UNLIMITED up); "—" for none."""

from __future__ import annotations

from babel.numbers import format_decimal
from django import template
from django.utils.translation import gettext as _

from vigencia.core.money import babel_locale

register = template.Library()

# Carriers' "unlimited" (fair-use) calls and SMS are entered as 9,999 minutes or messages, and data as
# 9,999 GB: a month holds 44,640 minutes, so nobody reads such a figure as a real limit.
UNLIMITED = 9999


@register.filter
def data_mb(megabytes: int | None) -> str:
    if not megabytes:
        return "—"
    if megabytes >= UNLIMITED * 1024:
        return _("Unlimited")
    if megabytes >= 1024:
        gigabytes = format_decimal(round(megabytes / 1024, 1), locale=babel_locale())
        return _("%(amount)s GB") % {"amount": gigabytes}
    return _("%(amount)s MB") % {"amount": format_decimal(megabytes, locale=babel_locale())}


@register.filter
def allowance(amount: int | None) -> str:
    if not amount:
        return "—"
    if amount >= UNLIMITED:
        return _("Unlimited")
    return format_decimal(amount, locale=babel_locale())
