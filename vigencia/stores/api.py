"""/api/v1/stores: the store locator."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from vigencia.catalog.selectors import carrier_get
from vigencia.core.errors import InvalidInput
from vigencia.core.schemas import ErrorOut
from vigencia.stores.models import Service
from vigencia.stores.selectors import MAX_LIMIT, NearbyStore, coordinates_parse, store_nearest

router = Router(tags=["stores"])


class NearbyStoreOut(Schema):
    id: int
    code: str
    name: str
    address: str
    district: str
    city: str
    latitude: float
    longitude: float
    phone: str
    timezone: str
    carriers: list[str]
    services: list[str]
    distance_m: int
    open_now: bool
    opens_at: datetime | None


def _out(nearby: NearbyStore) -> NearbyStoreOut:
    store = nearby.store
    return NearbyStoreOut(
        id=store.pk,
        code=store.code,
        name=store.name,
        address=store.address,
        district=store.district,
        city=store.city,
        latitude=store.latitude,
        longitude=store.longitude,
        phone=store.phone,
        timezone=store.timezone,
        carriers=[code for code, _name in nearby.carriers],
        services=nearby.services,
        distance_m=nearby.distance_m,
        open_now=nearby.open_now,
        opens_at=nearby.opens_at,
    )


@router.get(
    "",
    response={200: list[NearbyStoreOut], 422: ErrorOut},
    summary="Stores nearest to a point",
    description=(
        "Public. Active stores sorted by great-circle distance from (`lat`, `lng`), with `distance_m` "
        "(integer metres), `open_now`, and `opens_at` (the next opening, ISO 8601 in the store's "
        "timezone) when closed. `open_now=true` keeps only open stores; `carrier` (a code such as "
        "claro-pe) and `service` (renewal, sim_sale, voucher_redeem, id_check) filter. 422 "
        "`invalid_coordinates`, `unknown_carrier`, `unknown_service`, or `invalid` for a `limit` "
        "outside 1..50."
    ),
)
def stores_nearby(
    request: HttpRequest,
    lat: str | None = Query(None, description="Latitude in degrees, -90..90", examples=["-12.1211"]),
    lng: str | None = Query(None, description="Longitude in degrees, -180..180", examples=["-77.0297"]),
    limit: int = Query(10, ge=1, le=MAX_LIMIT),
    open_now: bool = Query(False, description="Only stores open now"),
    carrier: str | None = Query(None, description="A carrier code, e.g. claro-pe"),
    service: str | None = Query(None, description="A service the store offers"),
) -> list[NearbyStoreOut]:
    latitude, longitude = coordinates_parse(lat, lng)
    chosen = None
    if carrier is not None:
        chosen = carrier_get(code=carrier)
        if chosen is None:
            raise InvalidInput(_("Unknown carrier."), code="unknown_carrier", details={"field": "carrier"})
    if service is not None and service not in Service.values:
        raise InvalidInput(_("Unknown service."), code="unknown_service", details={"field": "service"})
    nearby = store_nearest(
        lat=latitude, lng=longitude, limit=limit, open_now=open_now, carrier=chosen, service=service
    )
    return [_out(item) for item in nearby]
