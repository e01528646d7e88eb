"""/api/v1/stores: the store locator; /api/v1/pos: the store counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status

from vigencia.accounts.auth import api_user, bearer
from vigencia.catalog.selectors import carrier_get
from vigencia.core.errors import InvalidInput
from vigencia.core.idempotency import idempotent
from vigencia.core.schemas import ErrorOut, Text
from vigencia.stores.iddocs import IdDocument, id_blind_index, id_document_validate
from vigencia.stores.models import Receipt, Service
from vigencia.stores.selectors import MAX_LIMIT, NearbyStore, coordinates_parse, store_nearest, store_of_agent
from vigencia.stores.services import SalePayment, pos_sale_create, pos_voucher_redeem
from vigencia.vouchers.api import RedeemedOrderOut, order_out

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


def _out(nearby: NearbyStore) -> dict[str, Any]:
    # A dict, not a NearbyStoreOut: ninja validates the response once, against the schema.
    store = nearby.store
    return {
        "id": store.pk,
        "code": store.code,
        "name": store.name,
        "address": store.address,
        "district": store.district,
        "city": store.city,
        "latitude": store.latitude,
        "longitude": store.longitude,
        "phone": store.phone,
        "timezone": store.timezone,
        "carriers": [code for code, _name in nearby.carriers],
        "services": nearby.services,
        "distance_m": nearby.distance_m,
        "open_now": nearby.open_now,
        "opens_at": nearby.opens_at,
    }


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
) -> list[dict[str, Any]]:
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


# --- the counter: POST /api/v1/pos/sales -----------------------------------------------------------

pos_router = Router(tags=["pos"], auth=bearer)


class IdDocumentIn(Schema):
    type: Text = Field(description="dni, ce or passport")
    number: Text = Field(max_length=40)
    country: Text | None = Field(None, max_length=4, description="Passports: ISO 3166 alpha-2")


class PaymentIn(Schema):
    method: Text = Field(description="cash or card")
    tendered_minor: int | None = Field(None, description="Cash: what the customer hands over")
    card_reference: Text | None = Field(None, max_length=60, description="Card: the terminal's reference")


class SaleIn(Schema):
    msisdn: Text = Field(max_length=40, examples=["+51912345678"])
    carrier: Text = Field(max_length=40, examples=["claro-pe"])
    plan_id: int
    id_document: IdDocumentIn
    payment: PaymentIn
    store_id: int | None = Field(None, description="Optional: must be the agent's own store")
    promo_code: Text | None = Field(None, max_length=40, description="Optional: a promotion code")


class ReceiptOut(Schema):
    number: str
    verification_code: str
    url: str
    pdf_url: str


class SaleOut(Schema):
    order_id: int
    receipt: ReceiptOut


def _receipt_out(receipt: Receipt) -> ReceiptOut:
    return ReceiptOut(
        number=receipt.number,
        verification_code=receipt.verification_code,
        url=reverse("stores:pos_receipt", args=[receipt.number]),
        pdf_url=reverse("stores:pos_receipt_pdf", args=[receipt.number]),
    )


def _sale_out(receipt: Receipt) -> dict[str, Any]:
    return SaleOut(order_id=receipt.order_id, receipt=_receipt_out(receipt)).dict()


def _fingerprinted(payload: SaleIn) -> dict[str, Any]:
    # The request's fingerprint is kept a day: it holds the ID number only as its keyed blind index.
    body = payload.dict()
    document = payload.id_document
    body["id_document"]["number"] = id_blind_index(
        IdDocument(type=document.type, number=document.number, country=document.country or "")
    )
    return body


@pos_router.post(
    "/sales",
    response={201: SaleOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Sell a renewal at the store counter",
    description=(
        "Store agents only, in their own open shift. Checks the holder's ID document (DNI with its "
        "check character, CE of 9 digits, passport with country), takes cash (`tendered_minor` >= price "
        "and at most S/ 200 above it; the change is on the receipt) or card (`card_reference` from the "
        "terminal), creates the renewal "
        "order (channel `store`) and the store's next receipt. Requires `Idempotency-Key`: a double tap "
        "answers the first sale. 403 `not_a_store_agent`, `wrong_store`; 409 `no_open_shift`; 422 "
        "`invalid_dni_check`, `invalid_ce`, `msisdn_other_carrier`, `tendered_too_low`, `tendered_too_high`, "
        "`promo_not_applicable` (its details say why), ..."
    ),
)
def pos_sale(
    request: HttpRequest, payload: SaleIn, idempotency_key: str = Header(None, alias="Idempotency-Key")
) -> Status[Any]:
    agent = api_user(request)

    def action() -> tuple[int, Any]:
        document = id_document_validate(
            type=payload.id_document.type,
            number=payload.id_document.number,
            country=payload.id_document.country,
        )
        receipt = pos_sale_create(
            agent=agent,
            msisdn=payload.msisdn,
            carrier_code=payload.carrier,
            plan_id=payload.plan_id,
            id_document=document,
            payment=SalePayment(
                method=payload.payment.method,
                tendered_minor=payload.payment.tendered_minor,
                card_reference=payload.payment.card_reference or "",
            ),
            store_id=payload.store_id,
            promo_code=payload.promo_code or "",
        )
        return 201, _sale_out(receipt)

    store_of_agent(user=agent)  # 403 before anything else, even the Idempotency-Key check
    return Status(
        *idempotent(
            owner_id=agent.pk,
            key=idempotency_key,
            scope="pos.sale",
            payload=_fingerprinted(payload),
            action=action,
        )
    )


class PosVoucherIn(Schema):
    msisdn: Text = Field(max_length=40, examples=["+51912345678"])
    carrier: Text = Field(max_length=40, examples=["claro-pe"])
    pin: Text = Field(max_length=40)


class PosVoucherOut(RedeemedOrderOut):
    receipt: ReceiptOut


@pos_router.post(
    "/vouchers/redeem",
    response={200: PosVoucherOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Redeem a recharge code the customer brings to the counter",
    description=(
        "Store agents only. Renews the number for its holder (the subscriber who registered it, else "
        "the walk-in holder); no money goes through the drawer, the code is already paid. Unknown, "
        "used, void and expired PINs all answer 422 `voucher_invalid`; a code of another carrier 422 "
        "`voucher_wrong_carrier`; wrong PINs count against the agent and the counter's address (429). "
        "Exactly once per code, so no Idempotency-Key is needed. The answer is the order with the "
        "store's receipt (no ID document on it: none is asked for a code)."
    ),
)
def pos_voucher(request: HttpRequest, payload: PosVoucherIn) -> dict[str, Any]:
    receipt = pos_voucher_redeem(
        agent=api_user(request),
        msisdn=payload.msisdn,
        carrier_code=payload.carrier,
        pin=payload.pin,
        ip=request.META.get("REMOTE_ADDR") or None,
    )
    return {**order_out(receipt.order), "receipt": _receipt_out(receipt)}
