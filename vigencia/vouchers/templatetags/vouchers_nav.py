"""Where the menu's "Recharge codes" leads: a reseller's stock, or redeeming a code."""

from __future__ import annotations

from typing import Any

from django import template

from vigencia.vouchers.services import reseller_is

register = template.Library()


@register.filter
def is_reseller(user: Any) -> bool:
    """Asked once per request (the answer is kept on the user object the request carries)."""
    if not user.is_authenticated:
        return False
    if not hasattr(user, "_vouchers_is_reseller"):
        user._vouchers_is_reseller = reseller_is(user)  # type: ignore[attr-defined]
    return bool(user._vouchers_is_reseller)  # type: ignore[attr-defined]
