"""/api/v1/orders and /api/v1/wallet."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Header, Router, Schema, Status

from vigencia.accounts.auth import api_user, bearer
from vigencia.core.idempotency import idempotent
from vigencia.core.money import Money
from vigencia.core.schemas import Currency, ErrorOut, MoneyOut, page_slice
from vigencia.ledger.selectors import wallet_balance
from vigencia.orders.models import RenewalOrder, WalletTopup
from vigencia.orders.selectors import order_get, order_list, renewal_subject_get
from vigencia.orders.services import order_create, wallet_topup_create
from vigencia.payments.models import PaymentIntent

router = Router(tags=["orders"], auth=bearer)


class OrderIn(Schema):
    line_id: int
    plan_id: int
    payment_method: str
    promo_code: str = ""


class TopupIn(Schema):
    amount_minor: int
    payment_method: str
    currency: Currency = "PEN"


class PaymentOut(Schema):
    id: str | None
    method: str
    status: str
    checkout_url: str | None = None


class OrderOut(Schema):
    id: int
    status: str
    channel: str
    line_id: int
    msisdn: str
    carrier: str
    plan_id: int
    plan_code: str
    total: MoneyOut
    discount: MoneyOut
    promo_code: str | None
    payment: PaymentOut
    valid_until: date | None
    failure_code: str
    created_at: datetime
    completed_at: datetime | None


class TopupOut(Schema):
    id: int
    status: str
    amount: MoneyOut
    payment: PaymentOut


class WalletOut(Schema):
    balance: MoneyOut


def _payment(request: HttpRequest, method: str, payment_id: str) -> dict[str, Any]:
    if not payment_id:
        return {"id": None, "method": method, "status": "succeeded", "checkout_url": None}
    intent = PaymentIntent.objects.get(public_id=payment_id)
    checkout = None
    if intent.status == "requires_action":
        checkout = request.build_absolute_uri(intent.checkout_url)
    return {"id": intent.public_id, "method": method, "status": intent.status, "checkout_url": checkout}


def _order_out(request: HttpRequest, order: RenewalOrder) -> dict[str, Any]:
    return {
        "id": order.pk,
        "status": order.status,
        "channel": order.channel,
        "line_id": order.line_id,
        "msisdn": order.msisdn,
        "carrier": order.carrier_code,
        "plan_id": order.plan_id,
        "plan_code": order.plan_code,
        "total": order.total.as_dict(),
        "discount": order.discount.as_dict(),
        "promo_code": order.promotion.code or order.promotion.name if order.promotion else None,
        "payment": _payment(request, order.payment_method, order.payment_id),
        "valid_until": order.valid_until_after.isoformat() if order.valid_until_after else None,
        "failure_code": order.failure_code,
        "created_at": order.created_at.isoformat(),
        "completed_at": order.completed_at.isoformat() if order.completed_at else None,
    }


def _topup_out(request: HttpRequest, topup: WalletTopup) -> dict[str, Any]:
    return {
        "id": topup.pk,
        "status": topup.status,
        "amount": topup.amount.as_dict(),
        "payment": _payment(request, topup.payment_method, topup.payment_id),
    }


@router.post(
    "/orders",
    response={201: OrderOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Renew a line",
    description="Needs an `Idempotency-Key` header: the same key and body answer the same order; "
    "the same key with another body is 422. A wallet without enough funds is 409 insufficient_funds.",
)
def create_order(
    request: HttpRequest, payload: OrderIn, idempotency_key: str = Header(None, alias="Idempotency-Key")
):
    user = api_user(request)

    def action() -> tuple[int, Any]:
        line, plan = renewal_subject_get(owner=user, line_id=payload.line_id, plan_id=payload.plan_id)
        order = order_create(
            payer=user,
            line=line,
            plan=plan,
            payment_method=payload.payment_method,
            promo_code=payload.promo_code,
        )
        return 201, _order_out(request, order)

    return Status(
        *idempotent(
            owner_id=user.pk,
            key=idempotency_key,
            scope="orders.create",
            payload=payload.dict(),
            action=action,
        )
    )


@router.get("/orders", response=list[OrderOut])
def list_orders(request: HttpRequest, limit: int = 50, offset: int = 0):
    orders = order_list(payer=api_user(request))[page_slice(limit=limit, offset=offset)]
    return [_order_out(request, order) for order in orders]


@router.get("/orders/{order_id}", response={200: OrderOut, 404: ErrorOut})
def get_order(request: HttpRequest, order_id: int):
    return _order_out(request, order_get(payer=api_user(request), order_id=order_id))


@router.get("/wallet", response=WalletOut)
def get_wallet(request: HttpRequest, currency: Currency = "PEN"):
    return {"balance": wallet_balance(user=api_user(request), currency=currency).as_dict()}


@router.post(
    "/wallet/topups",
    response={201: TopupOut, 401: ErrorOut, 422: ErrorOut},
    summary="Top up your wallet through a PSP",
    description=(
        "`currency` (PEN by default) is one the wallet holds: PEN or a currency the carriers charge in, "
        "else 422 `invalid_currency` with `details.allowed`. 422 `invalid_amount`, "
        "`invalid_payment_method`. Nothing is written on an error."
    ),
)
def create_topup(
    request: HttpRequest, payload: TopupIn, idempotency_key: str = Header(None, alias="Idempotency-Key")
):
    user = api_user(request)

    def action() -> tuple[int, Any]:
        amount = Money(payload.amount_minor, payload.currency)
        topup = wallet_topup_create(user=user, amount=amount, payment_method=payload.payment_method)
        return 201, _topup_out(request, topup)

    return Status(
        *idempotent(
            owner_id=user.pk, key=idempotency_key, scope="wallet.topup", payload=payload.dict(), action=action
        )
    )
