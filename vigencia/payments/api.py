"""/api/v1/payments (status, provider webhooks) and /api/v1/test-helpers/payments (sandbox only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema

from vigencia.accounts.auth import BearerToken, api_user, bearer
from vigencia.core.errors import NotFound
from vigencia.core.schemas import ErrorOut, MoneyOut
from vigencia.payments.models import PaymentIntent
from vigencia.payments.selectors import payment_get
from vigencia.payments.services import payment_simulate, webhook_receive

router = Router(tags=["payments"])


class SandboxBearer(BearerToken):
    """The test helpers' authentication: while the sandbox is off they are not there at all — 404 to
    everyone, before the token is looked at (a 401 would tell that they exist)."""

    def __call__(self, request: HttpRequest) -> Any:
        # Read at request time, so a deployment (or a test) can turn test mode off without a restart.
        if not settings.VIGENCIA_SANDBOX_PAYMENTS:
            raise NotFound()
        return super().__call__(request)


test_helpers_router = Router(tags=["test helpers"], auth=SandboxBearer())

_ONE = {401: ErrorOut, 404: ErrorOut}


class PaymentOut(Schema):
    id: str
    status: str
    amount: MoneyOut
    method: str
    purpose: str
    purpose_id: str
    checkout_url: str
    failure_code: str
    refunded: MoneyOut


class WebhookAck(Schema):
    received: bool
    duplicate: bool


def _out(request: HttpRequest, intent: PaymentIntent) -> dict[str, Any]:
    return {
        "id": intent.public_id,
        "status": intent.status,
        "amount": intent.amount.as_dict(),
        "method": intent.method,
        "purpose": intent.purpose,
        "purpose_id": intent.purpose_id,
        "checkout_url": request.build_absolute_uri(intent.checkout_url),
        "failure_code": intent.failure_code,
        "refunded": intent.refunded.as_dict(),
    }


def _own(request: HttpRequest, payment_id: str) -> PaymentIntent:
    intent = payment_get(public_id=payment_id, payer=api_user(request))
    if intent is None:
        raise NotFound(code="payment_not_found")
    return intent


@router.get(
    "/{payment_id}", auth=bearer, response={200: PaymentOut, **_ONE}, summary="One of the caller's payments"
)
def payment_detail(request: HttpRequest, payment_id: str) -> dict[str, Any]:
    return _out(request, _own(request, payment_id))


@router.post(
    "/webhooks/{provider}",
    auth=None,
    response={200: WebhookAck, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Receive a provider's signed event",
    description=(
        "Header `Vigencia-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + '.' + raw body)>`, 300 s "
        "tolerance. 400 `invalid_signature` (nothing stored); 200 for a new or a duplicate event."
    ),
)
def webhook(request: HttpRequest, provider: str) -> dict[str, bool]:
    _event, handled = webhook_receive(provider=provider, headers=dict(request.headers), body=request.body)
    return {"received": True, "duplicate": not handled}


@test_helpers_router.post(
    "/{payment_id}/succeed",
    response={200: PaymentOut, **_ONE, 409: ErrorOut},
    summary="Test mode: the customer paid",
)
def test_succeed(request: HttpRequest, payment_id: str) -> dict[str, Any]:
    return _out(request, payment_simulate(intent=_own(request, payment_id), outcome="succeed"))


@test_helpers_router.post(
    "/{payment_id}/fail",
    response={200: PaymentOut, **_ONE, 409: ErrorOut},
    summary="Test mode: the payment was declined",
)
def test_fail(request: HttpRequest, payment_id: str) -> dict[str, Any]:
    return _out(request, payment_simulate(intent=_own(request, payment_id), outcome="fail"))
