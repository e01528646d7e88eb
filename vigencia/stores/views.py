"""The store locator page: a list that works on its own, and a map on top when scripts and tiles load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from csp.decorators import csp_update
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vigencia.catalog.selectors import carrier_get, carrier_list
from vigencia.core import clock
from vigencia.core.errors import InvalidInput
from vigencia.stores.hours import hours_format
from vigencia.stores.models import Service, Store
from vigencia.stores.selectors import (
    coordinates_parse,
    store_districts,
    store_list,
    store_nearest,
    store_schedules,
)

OSM_TILES = "https://tile.openstreetmap.org"
PAGE_LIMIT = 20


@dataclass(frozen=True)
class StoreRow:
    store: Store
    hours: str
    open_now: bool
    opens_at: Any
    carriers: list[str]  # names
    services: list[str]  # labels
    distance_m: int | None = None

    @property
    def distance_text(self) -> str:
        if self.distance_m is None:
            return ""
        if self.distance_m < 1000:
            return _("%(metres)s m") % {"metres": self.distance_m}
        return _("%(km)s km") % {"km": number_format(self.distance_m / 1000, decimal_pos=1)}


def _labels(codes: list[str]) -> list[str]:
    return [str(Service(code).label) for code in codes]


def _rows(stores: list[Store]) -> list[StoreRow]:
    """The stores as the list shows them, open or not now (`store_list` prefetched what they need)."""
    at = clock.now()
    schedules = store_schedules(stores, at=at)
    return [
        StoreRow(
            store=store,
            hours=hours_format(
                ((row.weekday, row.opens, row.closes) for row in store.hours.all()), localized=True
            ),
            open_now=schedules[store.pk].open_at(at),
            opens_at=None if schedules[store.pk].open_at(at) else schedules[store.pk].next_opening(at),
            carriers=[carrier.name for carrier in store.carriers.all()],
            services=_labels([row.service for row in store.services.all()]),
        )
        for store in stores
    ]


@require_GET
@csp_update({"img-src": [OSM_TILES]})
def locator(request: HttpRequest) -> HttpResponse:
    params = request.GET
    districts = store_districts()
    district = next((item for item in districts if item.key == params.get("district")), None)
    carrier = carrier_get(code=params.get("carrier", ""))
    service = params.get("service") if params.get("service") in Service.values else None
    open_now = params.get("open_now") == "1"
    # A filter that names nothing we know is left out, and the page says so.
    errors = []
    if params.get("district") and district is None:
        errors.append(_("There is no such district; choose one from the list."))
    if params.get("carrier") and carrier is None:
        errors.append(_("There is no such carrier; showing stores of every carrier."))
    if params.get("service") and service is None:
        errors.append(_("There is no such service; showing stores with any service."))
    origin = None
    if district is not None:
        origin = (district.latitude, district.longitude)
    elif params.get("lat") or params.get("lng"):
        try:
            origin = coordinates_parse(params.get("lat"), params.get("lng"))
        except InvalidInput as invalid:
            errors.append(str(invalid.message))

    if origin is not None:
        rows = [
            StoreRow(
                store=item.store,
                hours=hours_format(item.hours, localized=True),
                open_now=item.open_now,
                opens_at=item.opens_at,
                carriers=[name for _code, name in item.carriers],
                services=_labels(item.services),
                distance_m=item.distance_m,
            )
            for item in store_nearest(
                lat=origin[0],
                lng=origin[1],
                limit=PAGE_LIMIT,
                open_now=open_now,
                carrier=carrier,
                service=service,
            )
        ]
        page: Page[Any] | None = None
    else:
        # Without a place, every store by city and name, a page at a time (there may be thousands);
        # "open now" is known only from each store's hours, so then the open ones are paged.
        stores = store_list().order_by("city", "district", "name", "pk")
        if carrier is not None:
            stores = stores.filter(carriers=carrier)
        if service is not None:
            stores = stores.filter(services__service=service).distinct()
        if open_now:
            page = Paginator([row for row in _rows(list(stores)) if row.open_now], PAGE_LIMIT).get_page(
                params.get("page")
            )
            rows = list(page.object_list)
        else:
            page = Paginator(stores, PAGE_LIMIT).get_page(params.get("page"))
            rows = _rows(list(page.object_list))
    return render(
        request,
        "stores/locator.html",
        {
            "rows": rows,
            "origin": origin,
            "error": " ".join(errors),
            "districts": districts,
            "district": district,
            "carriers": carrier_list(),
            "carrier": carrier,
            "services": Service.choices,
            "service": service,
            "open_now": open_now,
            "page": page,
            "page_query": urlencode([(key, value) for key, value in params.items() if key != "page"]),
            "tiles": OSM_TILES + "/{z}/{x}/{y}.png",
        },
    )
