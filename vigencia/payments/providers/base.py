"""What Vigencia needs from a payment service provider (PSP), shaped like Stripe's test and live modes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from vigencia.core import clock
from vigencia.core.errors import DomainError, NotFound
from vigencia.core.money import Money
from vigencia.core.signing import signature_valid

if TYPE_CHECKING:
    from vigencia.payments.models import PaymentIntent


class InvalidSignature(DomainError):
    status = 400
    code = "invalid_signature"
    default_message = _("The webhook signature is missing, wrong or too old.")


class UnknownProvider(NotFound):
    code = "unknown_provider"
    default_message = _("Unknown payment provider.")  # type: ignore[assignment]  # a lazy str, as DomainError allows


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event: `type` is payment.processing|succeeded|failed|refunded."""

    id: str
    type: str
    payment_id: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Confirmation:
    """What a provider answers to a confirmation: another step for the customer, or processing."""

    next_action: str = ""
    method_details: Mapping[str, str] = field(default_factory=dict)


def signature_verify(*, secret: str, body: bytes, header: str | None) -> None:
    """Raise InvalidSignature unless `header` signs `body` with `secret` within the tolerance of the
    (injectable) clock."""
    if not signature_valid(secret=secret, body=body, header=header, now=clock.now().timestamp()):
        raise InvalidSignature()


class PaymentProvider(ABC):
    name: str

    @abstractmethod
    def create_intent(self, *, intent: PaymentIntent) -> str:
        """Register the intent at the PSP; returns the PSP's reference for it."""

    @abstractmethod
    def confirm(self, *, intent: PaymentIntent, payment_method: Mapping[str, str]) -> Confirmation:
        """Submit what the customer entered. Raises InvalidInput for input the PSP refuses (nothing
        sent). The final outcome arrives later as a webhook event."""

    @abstractmethod
    def refund(self, *, intent: PaymentIntent, amount: Money, idempotency_key: str) -> str:
        """Refund `amount` of a paid intent; returns the refund's reference. Idempotent by key."""

    @abstractmethod
    def parse_and_verify_webhook(self, *, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        """Verify the signature of a raw webhook request and parse it; InvalidSignature (400) if not
        authentic or fresh, InvalidInput (422) if authentic but not an event we understand."""
