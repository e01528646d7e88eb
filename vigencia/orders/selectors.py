"""Order reads."""

from __future__ import annotations

from django.db.models import FilteredRelation, Q, QuerySet

from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier, Plan
from vigencia.core.errors import NotFound
from vigencia.lines.models import Line
from vigencia.lines.selectors import line_list
from vigencia.orders.models import RenewalOrder, WalletTopup

# The wallet's own currency: the portal's top-ups and balance are in soles.
WALLET_CURRENCY = "PEN"


def wallet_currencies() -> list[str]:
    """The currencies a wallet holds money in: soles and those the carriers on sale charge in (a
    wallet renewal pays in the plan's currency). Anything else could never be spent."""
    charged = Carrier.objects.filter(is_active=True).values_list("currency", flat=True).distinct()
    return sorted({WALLET_CURRENCY, *charged})


def renewal_subject_get(*, owner: User, line_id: int, plan_id: int) -> tuple[Line, Plan]:
    """A live line of `owner` with its carrier, and the plan to renew it with, in one query (the
    plan joined through the line's carrier). NotFound (line_not_found, plan_not_found) otherwise; a
    plan of another carrier is returned as it is, for order_create to refuse."""
    lines = line_list(owner=owner)
    if 0 < plan_id < 2**63:  # beyond the key's range no plan exists, and the join would lose the line
        lines = lines.annotate(
            chosen_plan=FilteredRelation("carrier__plans", condition=Q(carrier__plans__pk=plan_id))
        ).select_related("chosen_plan")  # type: ignore[misc]  # django-stubs knows no FilteredRelation
    try:
        line = lines.get(pk=line_id)
    except Line.DoesNotExist:
        raise NotFound(code="line_not_found") from None
    plan: Plan | None = getattr(line, "chosen_plan", None)  # not set when the join found no row
    if plan is not None:
        plan.carrier = line.carrier
        return line, plan
    plan = Plan.objects.filter(pk=plan_id).first()  # another carrier's, or none
    if plan is None:
        raise NotFound(code="plan_not_found")
    return line, plan


def order_list(*, payer: User) -> QuerySet[RenewalOrder]:
    return RenewalOrder.objects.filter(payer=payer).select_related("line", "line__carrier", "plan")


def order_get(*, payer: User, order_id: int) -> RenewalOrder:
    order = order_list(payer=payer).filter(pk=order_id).first()
    if order is None:
        raise NotFound(code="order_not_found")
    return order


def topup_list(*, user: User) -> QuerySet[WalletTopup]:
    return WalletTopup.objects.filter(user=user)
