"""/api/v1/carriers and /api/v1/plans: the public catalog."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from vigencia.catalog.models import Carrier, Plan
from vigencia.catalog.schemas import CarrierOut, PlanOut
from vigencia.catalog.selectors import carrier_get, carrier_list, plan_list_on_sale
from vigencia.core.errors import InvalidInput
from vigencia.core.schemas import ErrorOut

router = Router(tags=["catalog"])


@router.get(
    "/carriers",
    response=list[CarrierOut],
    summary="Carriers and their keep-alive rules",
    description="Public. `policy` says how a line of the carrier stays alive, in days.",
)
def carriers(request: HttpRequest) -> QuerySet[Carrier]:
    return carrier_list()


@router.get(
    "/plans",
    response={200: list[PlanOut], 422: ErrorOut},
    summary="Plans on sale",
    description=(
        "Public. Plans on sale now, of one carrier when `carrier` is given; `name` in the language of "
        "the request (`Accept-Language`: en, es, zh-hans). An unknown carrier code is 422 "
        "`unknown_carrier`."
    ),
)
def plans(
    request: HttpRequest,
    carrier: str | None = Query(None, description="A carrier code, e.g. claro-pe"),
) -> QuerySet[Plan]:
    chosen = None
    if carrier is not None:
        chosen = carrier_get(code=carrier)
        if chosen is None:
            raise InvalidInput(_("Unknown carrier."), code="unknown_carrier", details={"field": "carrier"})
    return plan_list_on_sale(carrier=chosen)
