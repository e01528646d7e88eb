"""Plan comparison across carriers: price, validity, allowances, price per day and per GB, and what
keeping a number N months costs on the plan's carrier (from the keep-alive planner)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from vigencia.catalog.fx import money_order
from vigencia.catalog.models import Carrier, Plan
from vigencia.catalog.selectors import carrier_get, plan_list_on_sale
from vigencia.core.errors import InvalidInput
from vigencia.core.money import Money

SORTS = ("price", "price_per_day", "price_per_gb", "validity", "data", "keep_cost")
MAX_MONTHS = 60
MAX_CARRIERS = 20


@dataclass(frozen=True)
class PlanRow:
    plan: Plan
    price_per_day: Money
    price_per_gb: Money | None
    keep_cost: Money | None
    keep_recharges: int | None


def _ratio(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, in integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def compare_carriers_parse(value: str | None) -> list[Carrier] | None:
    """Carriers from "claro-pe,entel-pe" (None: all); an unknown code is InvalidInput naming it."""
    if not value:
        return None
    codes = list(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
    if len(codes) > MAX_CARRIERS:
        raise InvalidInput(_("Too many carriers."), code="invalid_carriers", details={"max": MAX_CARRIERS})
    carriers = []
    for code in codes:
        carrier = carrier_get(code=code)
        if carrier is None:
            raise InvalidInput(_("Unknown carrier."), code="unknown_carrier", details={"carrier": code[:40]})
        carriers.append(carrier)
    return carriers


def plan_compare(
    *, carriers: list[Carrier] | None = None, sort: str = "price", months: int = 12
) -> list[PlanRow]:
    """Plans on sale (of `carriers`, else all), with their unit prices and the cheapest cost to keep
    a number on their carrier for `months` (None where the planner has no schedule). Sorted by `sort`
    ascending (validity and data descending: more is better), plans without data last for
    price_per_gb; amounts in several currencies by their worth at the newest FX rates; ties by
    price then code. InvalidInput for an unknown sort or months not in 1..60."""
    # The planner lives in lines (which builds on catalog): imported here, where it is used.
    from vigencia.lines.planner import keepalive_compare

    if sort not in SORTS:
        raise InvalidInput(_("Unknown sort order."), code="invalid_sort", details={"allowed": list(SORTS)})
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(
            _("Months must be between 1 and %(max)d.") % {"max": MAX_MONTHS},
            code="invalid_months",
            details={"min": 1, "max": MAX_MONTHS},
        )
    plans = plan_list_on_sale()
    if carriers is not None:
        plans = plans.filter(carrier__in=carriers)
    keep = {cost.carrier.pk: cost for cost in keepalive_compare(months=months, goal="keep_number")}
    rows = []
    for plan in plans:
        cost = keep.get(plan.carrier_id)
        rows.append(
            PlanRow(
                plan=plan,
                price_per_day=Money(_ratio(plan.price_minor, plan.validity_days), plan.currency),
                price_per_gb=Money(_ratio(plan.price_minor * 1024, plan.data_mb), plan.currency)
                if plan.data_mb
                else None,
                keep_cost=cost.total if cost else None,
                keep_recharges=cost.steps_count if cost else None,
            )
        )
    # Plans in several currencies are ordered by their worth at the newest FX rates, not by their
    # minor units (S/ 30 is not less than HK$ 100).
    worth = money_order(row.plan.currency for row in rows)

    def key(row: PlanRow) -> tuple:
        plan = row.plan
        value = {
            "price": worth(plan.price),
            "price_per_day": worth(row.price_per_day),
            "price_per_gb": worth(row.price_per_gb),
            "validity": -plan.validity_days,
            "data": -plan.data_mb,
            "keep_cost": worth(row.keep_cost),
        }[sort]
        return (value, worth(plan.price), f"{plan.carrier.code}/{plan.code}")

    return sorted(rows, key=key)
