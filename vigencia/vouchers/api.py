"""/api/v1/vouchers (redeem, verify) and /api/v1/reseller (batches, their one download, voiding)."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, Router, Schema, Status
from ninja.security import HttpBearer

from vigencia.accounts.auth import api_user, bearer
from vigencia.accounts.models import User
from vigencia.accounts.services import api_token_authenticate
from vigencia.catalog.models import Carrier, Plan
from vigencia.core.errors import InvalidInput, NotFound
from vigencia.core.idempotency import idempotent
from vigencia.core.money import Money
from vigencia.core.schemas import Currency, ErrorOut, MoneyOut, page_slice
from vigencia.ledger.selectors import account_balance
from vigencia.lines.selectors import line_get
from vigencia.orders.models import RenewalOrder
from vigencia.vouchers import exports, services
from vigencia.vouchers.codes import ONLINE_MAX_COUNT, serial_display, serial_make
from vigencia.vouchers.models import VoucherBatch
from vigencia.vouchers.selectors import batch_get, batch_list, voucher_verify


class ResellerAuth(HttpBearer):
    """A reseller's API key (`vrk_...`), or the bearer token of a user in the reseller role."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if token.startswith(services.API_KEY_PREFIX):
            user = services.reseller_api_key_authenticate(key=token)
        else:
            user = api_token_authenticate(token=token)
        if user is None or not services.reseller_is(user):
            return None
        request.user = user
        return user


router = Router(tags=["vouchers"])
reseller_router = Router(tags=["reseller"], auth=ResellerAuth())


class RedeemIn(Schema):
    pin: str
    line_id: int | None = None
    msisdn: str | None = None
    carrier: str | None = None


class RedeemedOrderOut(Schema):
    kind: str = "renewal"
    id: int
    status: str
    channel: str
    line_id: int
    msisdn: str
    carrier: str
    plan_code: str
    total: MoneyOut
    valid_until: date | None
    created_at: datetime


class WalletCreditOut(Schema):
    kind: str = "wallet_credit"
    credited: MoneyOut
    balance: MoneyOut


class VerifyOut(Schema):
    genuine: bool
    status: str | None


class MoneyIn(Schema):
    amount_minor: int
    currency: Currency


class BatchIn(Schema):
    plan_id: int | None = None
    face_value: MoneyIn | None = None
    count: int
    expires_on: date | None = None


class BatchOut(Schema):
    id: int
    plan_id: int | None
    plan_code: str | None
    count: int
    face_value: MoneyOut
    expires_on: date
    first_serial: str
    last_serial: str
    redeemed: int
    active: int
    void: int
    downloaded: bool
    created_at: datetime


class VoidIn(Schema):
    serial_from: str = ""
    serial_to: str = ""


class VoidOut(Schema):
    voided: int


class BalanceOut(Schema):
    balance: MoneyOut


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def order_out(order: RenewalOrder) -> dict[str, Any]:
    return {
        "id": order.pk,
        "status": order.status,
        "channel": order.channel,
        "line_id": order.line_id,
        "msisdn": order.msisdn,
        "carrier": order.carrier_code,
        "plan_code": order.plan_code,
        "total": order.total.as_dict(),
        "valid_until": order.valid_until_after,
        "created_at": order.created_at,
    }


def _batch_out(batch: VoucherBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "plan_id": batch.plan_id,
        "plan_code": batch.plan.code if batch.plan else None,
        "count": batch.count,
        "face_value": batch.face.as_dict(),
        "expires_on": batch.expires_on.isoformat(),
        "first_serial": serial_display(serial_make(batch_id=batch.pk, index=1)),
        "last_serial": serial_display(serial_make(batch_id=batch.pk, index=batch.count)),
        "redeemed": getattr(batch, "redeemed", 0),
        "active": getattr(batch, "active", 0),
        "void": getattr(batch, "void", 0),
        "downloaded": batch.exported_at is not None,
        "created_at": batch.created_at.isoformat(),
    }


@router.post(
    "/vouchers/redeem",
    auth=bearer,
    response={
        200: RedeemedOrderOut | WalletCreditOut,
        401: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
    summary="Redeem a recharge code",
    description="`{pin, line_id}` renews one of your lines; `{pin, msisdn, carrier}` renews any number of "
    "the plan's carrier as a gift (added to your lines): 200 with the order (`kind` renewal). A wallet card "
    "needs only `{pin}`: its value goes to your wallet, 200 `{kind: wallet_credit, credited, balance}`; a "
    "plan's code without a line or a number is 422 `line_required` and stays unused. Unknown, used, void "
    "and expired PINs all answer "
    "422 `voucher_invalid`. Too many failures (per account, per IP or overall) answer 429 until the "
    "window passes, even for a correct PIN. The PIN itself makes this exactly-once, so no "
    "Idempotency-Key is needed: a code renews once, and the order is listed under /orders.",
)
def redeem(request: HttpRequest, payload: RedeemIn):
    user = api_user(request)
    line = carrier = None
    if payload.line_id is not None:
        line = line_get(owner=user, line_id=payload.line_id)
    elif payload.carrier:
        carrier = Carrier.objects.filter(code=payload.carrier[:40]).first()
        if carrier is None:
            raise InvalidInput(code="carrier_not_found", details={"field": "carrier"})
    redeemed = services.voucher_redeem(
        pin=payload.pin,
        redeemer=user,
        ip=_ip(request),
        line=line,
        msisdn=payload.msisdn or "",
        carrier=carrier,
    )
    if isinstance(redeemed, services.WalletCredit):
        return Status(
            200,
            {
                "kind": "wallet_credit",
                "credited": redeemed.amount.as_dict(),
                "balance": redeemed.balance.as_dict(),
            },
        )
    return Status(200, order_out(redeemed))


@router.get(
    "/vouchers/verify",
    auth=None,
    response={200: VerifyOut, 422: ErrorOut, 429: ErrorOut},
    summary="Is this card genuine?",
    description="Public: by the serial printed on the card. Tells nothing about the PIN. "
    "Rate-limited per IP. Without a serial: 422 `serial_required`.",
)
def verify(request: HttpRequest, serial: str = ""):
    services.verify_throttle(ip=_ip(request))
    if not serial.strip():
        raise InvalidInput(_("Give the serial printed on the card."), code="serial_required")
    return Status(200, voucher_verify(serial=serial))


@reseller_router.get("/batches", response={200: list[BatchOut], 401: ErrorOut, 422: ErrorOut})
def list_batches(request: HttpRequest, limit: int = 50, offset: int = 0):
    rows = page_slice(limit=limit, offset=offset)
    return Status(200, [_batch_out(b) for b in batch_list(reseller=api_user(request))[rows]])


@reseller_router.post(
    "/batches",
    response={201: BatchOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Buy a batch of codes",
    description="Codes of a plan (`plan_id`) or wallet cards worth `face_value` each (`{amount_minor, "
    "currency}`), one of the two. "
    "Paid from your prepaid balance at face value (409 insufficient_funds otherwise). The PINs "
    "are downloaded once with POST /reseller/batches/{id}/export. Needs an `Idempotency-Key` header.",
)
def create_batch(
    request: HttpRequest, payload: BatchIn, idempotency_key: str = Header(None, alias="Idempotency-Key")
):
    reseller: User = api_user(request)

    def action() -> tuple[int, Any]:
        plan = face = None
        if payload.plan_id is not None:
            plan = Plan.objects.filter(pk=payload.plan_id, is_active=True).first()
            if plan is None:
                raise NotFound(code="plan_not_found")
        if payload.face_value is not None:
            face = Money(payload.face_value.amount_minor, payload.face_value.currency)
        stream = io.StringIO()
        export: list[exports.BatchExport] = []

        def sink(batch: VoucherBatch, pairs: list[tuple[str, str]]) -> None:
            if not export:
                export.append(exports.BatchExport(stream, batch=batch))
            export[0].add(pairs)

        batch = services.batch_create(
            plan=plan,
            face=face,
            count=payload.count,
            expires_on=payload.expires_on,
            reseller=reseller,
            created_by=reseller,
            sink=sink,
            max_count=ONLINE_MAX_COUNT,
        )
        services.batch_export_hold(batch=batch, csv_text=stream.getvalue(), pdf=export[0].pdf())
        return 201, _batch_out(batch_get(reseller=reseller, batch_id=batch.pk))

    status, body = idempotent(
        owner_id=reseller.pk,
        key=idempotency_key,
        scope="reseller.batches.create",
        payload=payload.dict(),
        action=action,
    )
    return Status(status, body)


@reseller_router.post(
    "/batches/{batch_id}/export",
    response={200: None, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Download a batch's PINs (once)",
    description="A zip of codes.csv and cards.pdf. The PINs are never shown again: a second call is 409.",
)
def download_batch(request: HttpRequest, batch_id: int):
    batch = batch_get(reseller=api_user(request), batch_id=batch_id)
    content = services.batch_export_take(batch=batch)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="vigencia-batch-{batch.pk}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@reseller_router.post(
    "/batches/{batch_id}/void", response={200: VoidOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
)
def void_batch(request: HttpRequest, batch_id: int, payload: VoidIn):
    batch = batch_get(reseller=api_user(request), batch_id=batch_id)
    voided = services.voucher_void(
        batch=batch, actor=api_user(request), serial_from=payload.serial_from, serial_to=payload.serial_to
    )
    return Status(200, {"voided": voided})


@reseller_router.get("/balance", response={200: BalanceOut, 401: ErrorOut, 422: ErrorOut})
def balance(request: HttpRequest, currency: Currency = "PEN"):
    account = services.reseller_prepaid_account(reseller=api_user(request), currency=currency)
    return Status(200, {"balance": account_balance(account=account).as_dict()})
