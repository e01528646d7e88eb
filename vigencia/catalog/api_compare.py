"""/api/v1/plans/compare: plans side by side across carriers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from vigencia.catalog.compare import SORTS, PlanRow, compare_carriers_parse, plan_compare
from vigencia.catalog.fx import APPROX_CURRENCIES, money_approx
from vigencia.core.errors import InvalidInput
from vigencia.core.schemas import ErrorOut, MoneyOut

router = Router(tags=["catalog"])


class ComparedPlanOut(Schema):
    id: int
    carrier: str
    code: str
    name: str
    price: MoneyOut
    price_approx: MoneyOut | None
    validity_days: int
    data_mb: int
    minutes: int
    sms: int
    price_per_day: MoneyOut
    price_per_gb: MoneyOut | None
    keep_number_cost: MoneyOut | None
    keep_number_recharges: int | None


def _out(row: PlanRow, approx: str | None) -> dict[str, Any]:
    plan = row.plan
    converted = money_approx(plan.price, currency=approx) if approx else None
    return {
        "id": plan.pk,
        "carrier": plan.carrier.code,
        "code": plan.code,
        "name": plan.name,
        "price": plan.price.as_dict(),
        "price_approx": converted.as_dict() if converted else None,
        "validity_days": plan.validity_days,
        "data_mb": plan.data_mb,
        "minutes": plan.minutes,
        "sms": plan.sms,
        "price_per_day": row.price_per_day.as_dict(),
        "price_per_gb": row.price_per_gb.as_dict() if row.price_per_gb else None,
        "keep_number_cost": row.keep_cost.as_dict() if row.keep_cost else None,
        "keep_number_recharges": row.keep_recharges,
    }


@router.get(
    "/plans/compare",
    response={200: list[ComparedPlanOut], 422: ErrorOut},
    summary="Compare plans across carriers",
    description=(
        "Public. `carriers`: comma-separated codes (default: all). `sort`: "
        + ", ".join(SORTS)
        + ". `months`: horizon of `keep_number_cost`, the cheapest schedule of recharges that keeps the "
        "plan's carrier's number that long (1..60). `approx`: USD or CNY adds `price_approx`, an "
        "approximate amount from the operator's FX rates (null without a rate); prices are charged "
        "in `price`'s currency only."
    ),
)
def compare(
    request: HttpRequest,
    carriers: str | None = Query(None, max_length=900),
    sort: str = "price",
    months: int = 12,
    approx: str | None = None,
):
    if approx is not None and approx not in APPROX_CURRENCIES:
        raise InvalidInput(code="invalid_approx", details={"allowed": list(APPROX_CURRENCIES)})
    rows = plan_compare(carriers=compare_carriers_parse(carriers), sort=sort, months=months)
    return [_out(row, approx) for row in rows]
