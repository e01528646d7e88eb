"""`{{ money|approx }}`: the amount in the viewer's likely currency (CNY for Chinese, else USD),
labelled approximate, or nothing when it is already in it or no rate is known."""

from django import template

from vigencia.catalog.fx import money_approx_label
from vigencia.core.money import Money

register = template.Library()


@register.filter
def approx(money: Money | None) -> str:
    return money_approx_label(money) if isinstance(money, Money) else ""
