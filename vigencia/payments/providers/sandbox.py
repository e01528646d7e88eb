"""The built-in sandbox PSP: behaves like a real PSP's test mode, entirely inside Vigencia.

Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, 4000 0027 6000 3184 asks
for a 3-D Secure-style authorisation first. E-wallet approval code 123456 approves, 000000 declines.
The outcome is never answered in the customer's request: it is delivered later as a signed webhook
by a background task, exactly as it would arrive over HTTP.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _
from stdnum import luhn

from vigencia.core import clock
from vigencia.core.errors import InvalidInput
from vigencia.core.money import Money
from vigencia.core.signing import SIGNATURE_HEADER, signature_header
from vigencia.payments.models import DECLINE_CODES
from vigencia.payments.providers.base import Confirmation, PaymentProvider, ProviderEvent, signature_verify

if TYPE_CHECKING:
    from vigencia.payments.models import PaymentIntent

TEST_CARDS = {
    "4242424242424242": "approve",
    "4000000000000002": "decline",
    "4000002760003184": "authenticate",
}
EWALLET_CODES = {"123456": "approve", "000000": "decline"}
EVENT_TYPES = frozenset({"payment.processing", "payment.succeeded", "payment.failed", "payment.refunded"})


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4] or 0) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "card"


def _card_check(payment_method: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The test card's behaviour and what may be kept of it (brand, last 4). Never logs the number."""
    number = "".join(str(payment_method.get("number", "")).split()).replace("-", "")
    if not (number.isdigit() and 12 <= len(number) <= 19 and luhn.is_valid(number)):
        raise InvalidInput(
            _("The card number is not valid."), code="invalid_card_number", details={"field": "number"}
        )
    behaviour = TEST_CARDS.get(number)
    if behaviour is None:
        raise InvalidInput(
            _("This is a test checkout: use one of the test card numbers shown."),
            code="card_not_in_test_mode",
            details={"field": "number"},
        )
    try:
        month, year = int(payment_method.get("exp_month", "")), int(payment_method.get("exp_year", ""))
        year = year + 2000 if year < 100 else year
        if not 1 <= month <= 12:
            raise ValueError(month)
        expires = date(year + month // 12, month % 12 + 1, 1)
    except (TypeError, ValueError):
        raise InvalidInput(
            _("The expiry date is not valid."), code="invalid_expiry", details={"field": "expiry"}
        ) from None
    if expires <= clock.today():
        raise InvalidInput(_("The card has expired."), code="expired_card", details={"field": "expiry"})
    cvc = str(payment_method.get("cvc", ""))
    if not (cvc.isdigit() and len(cvc) in (3, 4)):
        raise InvalidInput(_("The security code is not valid."), code="invalid_cvc", details={"field": "cvc"})
    return behaviour, {"brand": card_brand(number), "last4": number[-4:]}


def _ewallet_check(payment_method: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    try:
        phone = phonenumbers.parse(str(payment_method.get("phone", "")), "PE")
    except phonenumbers.NumberParseException:
        phone = None
    if phone is None or not phonenumbers.is_valid_number(phone):
        raise InvalidInput(
            _("The phone number is not valid."), code="invalid_phone", details={"field": "phone"}
        )
    behaviour = EWALLET_CODES.get(str(payment_method.get("code", "")).strip())
    if behaviour is None:
        raise InvalidInput(
            _("The approval code is wrong: use 123456 to approve or 000000 to decline."),
            code="invalid_approval_code",
            details={"field": "code"},
        )
    return behaviour, {"phone_last3": str(phone.national_number)[-3:]}


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    @property
    def secret(self) -> str:
        return str(settings.VIGENCIA_SANDBOX_WEBHOOK_SECRET)

    def create_intent(self, *, intent: PaymentIntent) -> str:
        return "sb_pi_" + secrets.token_hex(12)

    def confirm(self, *, intent: PaymentIntent, payment_method: Mapping[str, str]) -> Confirmation:
        details: dict[str, str] = dict(intent.method_details)
        if intent.next_action == "three_d_secure":
            behaviour = {"approve": "approve", "decline": "decline_3ds"}.get(
                payment_method.get("decision", "")
            )
        elif intent.next_action == "paypal_redirect":
            behaviour = {"approve": "approve"}.get(payment_method.get("decision", ""))
        elif intent.method == "sandbox_card":
            behaviour, details = _card_check(payment_method)
            if behaviour == "authenticate":
                return Confirmation(next_action="three_d_secure", method_details=details)
        elif intent.method == "sandbox_ewallet":
            behaviour, details = _ewallet_check(payment_method)
        else:  # sandbox_paypal: the customer first approves at "PayPal"
            return Confirmation(next_action="paypal_redirect", method_details={"wallet": "paypal"})
        if behaviour is None:
            raise InvalidInput(
                _("Choose approve or decline."), code="invalid_decision", details={"field": "decision"}
            )
        if behaviour == "approve":
            self.event_schedule(intent=intent, type="payment.succeeded")
        else:
            code, message = {
                "decline": (DECLINE_CODES[intent.method], _("The payment was declined.")),
                "decline_3ds": ("authentication_failed", _("The payment was not authorised.")),
            }[behaviour]
            self.event_schedule(
                intent=intent, type="payment.failed", failure_code=code, failure_message=message
            )
        return Confirmation(method_details=details)

    def refund(self, *, intent: PaymentIntent, amount: Money, idempotency_key: str) -> str:
        return "sb_re_" + secrets.token_hex(12)

    def event_schedule(self, *, intent: PaymentIntent, type: str, **data: Any) -> dict[str, Any]:
        """Enqueue the delivery of an event (in the caller's transaction: sent only if it commits)."""
        from vigencia.payments.tasks import sandbox_webhook_deliver

        event = {
            "id": "evt_" + secrets.token_hex(12),
            "type": type,
            "created": int(clock.now().timestamp()),
            "data": {
                "payment_id": intent.public_id,
                "provider_reference": intent.provider_reference,
                "amount_minor": intent.amount_minor,
                "currency": intent.currency,
                **data,
            },
        }
        sandbox_webhook_deliver.enqueue(event=event)
        return event

    def webhook_request(self, *, event: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
        """The headers and raw body of the HTTP request that delivers `event`, signed now."""
        body = json.dumps(event, separators=(",", ":")).encode()
        timestamp = int(clock.now().timestamp())
        return {SIGNATURE_HEADER: signature_header(secret=self.secret, body=body, timestamp=timestamp)}, body

    def parse_and_verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        header = next(
            (value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER.lower()), None
        )
        signature_verify(secret=self.secret, body=body, header=header)
        try:
            event = json.loads(body)
            parsed = ProviderEvent(
                id=str(event["id"]),
                type=str(event["type"]),
                payment_id=str(event["data"]["payment_id"]),
                data=dict(event["data"]),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(_("The event is not valid."), code="invalid_event") from None
        if parsed.type not in EVENT_TYPES or not 0 < len(parsed.id) <= 80:
            raise InvalidInput(
                _("The event is not valid."), code="invalid_event", details={"type": parsed.type[:40]}
            )
        return parsed
