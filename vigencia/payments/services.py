"""Payment writes. Every state change goes through PAYMENT_TRANSITIONS under a row lock, writes a
PaymentEvent, and, when the payment reaches an outcome (succeeded, failed, canceled), calls the
handler registered for its purpose in the same transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.db import transaction
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput
from vigencia.core.money import Money
from vigencia.core.transitions import IllegalTransition
from vigencia.payments.models import (
    DECLINE_CODES,
    OUTCOME_STATUSES,
    PAYMENT_TRANSITIONS,
    PaymentEvent,
    PaymentIntent,
    PaymentMethod,
    PaymentStatus,
    WebhookEvent,
    WebhookOutcome,
)
from vigencia.payments.providers import provider_get

logger = logging.getLogger(__name__)

# Every method of the built-in PSP; a real PSP's methods map to their provider here.
_PROVIDER_OF_METHOD = dict.fromkeys(PaymentMethod.values, "sandbox")


def _lock(intent: PaymentIntent) -> None:
    """Take the intent's row lock (inside the caller's transaction) and reload what it holds."""
    PaymentIntent.objects.select_for_update().filter(pk=intent.pk).values_list("pk").first()
    intent.refresh_from_db()


def _handler_call(intent: PaymentIntent) -> None:
    path = settings.VIGENCIA_PAYMENT_HANDLERS.get(intent.purpose)
    if path:
        import_string(path)(intent=intent)


def _transition(
    intent: PaymentIntent, target: str, data: Mapping[str, Any] | None = None, **changes: Any
) -> None:
    """Move a locked intent to `target` (IllegalTransition if the table refuses) and record it."""
    source = PAYMENT_TRANSITIONS.apply(intent, field="status", target=target, **changes)
    PaymentEvent.objects.create(intent=intent, from_status=source, to_status=target, data=dict(data or {}))
    logger.info("payment %s %s -> %s", intent.public_id, source, target)
    if target in OUTCOME_STATUSES:
        _handler_call(intent)


def payment_create(
    *,
    payer: User,
    amount: Money,
    method: str,
    purpose: str,
    purpose_id: str,
    return_url: str = "",
) -> PaymentIntent:
    """Open a payment waiting for the customer (status requires_action) at the method's provider.

    `return_url` is a relative path in Vigencia the checkout sends the customer back to (default:
    the payment's status page). Raises InvalidInput and writes nothing on bad input."""
    if method not in _PROVIDER_OF_METHOD:
        raise InvalidInput(_("Unknown payment method."), code="invalid_method", details={"field": "method"})
    if amount.amount_minor <= 0:
        raise InvalidInput(
            _("The amount must be positive."), code="invalid_amount", details={"field": "amount"}
        )
    if not (0 < len(purpose) <= 30 and 0 < len(purpose_id) <= 64):
        raise InvalidInput(_("The payment purpose is not valid."), code="invalid_purpose")
    if return_url and not (
        return_url.startswith("/")
        and len(return_url) <= 500
        and url_has_allowed_host_and_scheme(return_url, allowed_hosts=None)
    ):
        raise InvalidInput(
            _("The return URL must be a path inside Vigencia."),
            code="invalid_return_url",
            details={"field": "return_url"},
        )
    provider = provider_get(_PROVIDER_OF_METHOD[method])
    if provider.name == "sandbox" and not settings.VIGENCIA_SANDBOX_PAYMENTS:
        # With test mode off, a test card must never pay for a real renewal.
        raise InvalidInput(
            _("This payment method is not available."), code="method_unavailable", details={"field": "method"}
        )
    with transaction.atomic():
        intent = PaymentIntent(
            provider=provider.name,
            method=method,
            amount_minor=amount.amount_minor,
            currency=amount.currency,
            purpose=purpose,
            purpose_id=purpose_id,
            payer=payer,
            return_url=return_url,
        )
        intent.provider_reference = provider.create_intent(intent=intent)
        intent.save()
        PaymentEvent.objects.create(intent=intent, from_status="", to_status=intent.status)
    return intent


def payment_confirm(*, intent: PaymentIntent, payment_method: Mapping[str, str]) -> PaymentIntent:
    """Hand what the customer entered at checkout to the provider. Either another customer step is
    needed (`next_action` set, still requires_action) or the intent moves to processing and the
    provider reports the outcome later by webhook. Locks the intent; Conflict if it is not waiting
    for the customer; InvalidInput (nothing written, nothing sent) if the provider refuses the input."""
    with transaction.atomic():
        _lock(intent)
        if intent.status != PaymentStatus.REQUIRES_ACTION:
            raise Conflict(
                _("This payment is no longer waiting for you."), code="payment_not_awaiting_customer"
            )
        confirmation = provider_get(intent.provider).confirm(intent=intent, payment_method=payment_method)
        details = dict(confirmation.method_details)
        if confirmation.next_action:
            PaymentIntent.objects.filter(pk=intent.pk).update(
                next_action=confirmation.next_action, method_details=details, updated_at=clock.now()
            )
            intent.next_action, intent.method_details = confirmation.next_action, details
        else:
            _transition(
                intent,
                PaymentStatus.PROCESSING,
                {"method_details": details},
                next_action="",
                method_details=details,
            )
    return intent


def payment_process(*, intent: PaymentIntent) -> PaymentIntent:
    """requires_action -> processing (the provider is confirming). Locks the intent."""
    with transaction.atomic():
        _lock(intent)
        _transition(intent, PaymentStatus.PROCESSING, next_action="")
    return intent


def payment_succeed(*, intent: PaymentIntent, provider_reference: str = "") -> PaymentIntent:
    """processing -> succeeded, then the purpose's handler, in one transaction. Locks the intent;
    IllegalTransition (409) from any other status, so it happens at most once."""
    with transaction.atomic():
        _lock(intent)
        changes: dict[str, Any] = (
            {"provider_reference": provider_reference[:80]} if provider_reference else {}
        )
        _transition(intent, PaymentStatus.SUCCEEDED, **changes)
    return intent


def payment_fail(*, intent: PaymentIntent, code: str, message: str) -> PaymentIntent:
    """requires_action|processing -> failed with the provider's reason, then the purpose's handler.
    Locks the intent; at most once."""
    with transaction.atomic():
        _lock(intent)
        _transition(
            intent,
            PaymentStatus.FAILED,
            {"code": code[:40]},
            failure_code=code[:40],
            failure_message=message[:255],
            next_action="",
        )
    return intent


def payment_cancel(*, intent: PaymentIntent) -> PaymentIntent:
    """requires_action|processing -> canceled, then the purpose's handler. Locks the intent; at most once."""
    with transaction.atomic():
        _lock(intent)
        _transition(intent, PaymentStatus.CANCELED, next_action="")
    return intent


ABANDONED_BATCH = 500


def payments_cancel_abandoned(*, now: datetime | None = None) -> int:
    """Cancel the payments customers left at the checkout (requires_action, created more than
    VIGENCIA_PAYMENT_ABANDONED_AFTER before `now`), oldest first, up to ABANDONED_BATCH a run; each
    one's order or top-up is canceled by the payment's handler, so nothing stays pending forever.
    A payment that moved on meanwhile is left as it is. Returns how many were canceled."""
    cutoff = (now or clock.now()) - settings.VIGENCIA_PAYMENT_ABANDONED_AFTER
    abandoned = PaymentIntent.objects.filter(status=PaymentStatus.REQUIRES_ACTION, created_at__lt=cutoff)
    canceled = 0
    for intent in abandoned.order_by("created_at", "id")[:ABANDONED_BATCH]:
        with transaction.atomic():
            _lock(intent)
            if intent.status != PaymentStatus.REQUIRES_ACTION:
                continue  # the customer went on meanwhile
            _transition(intent, PaymentStatus.CANCELED, {"reason": "abandoned"}, next_action="")
        canceled += 1
    return canceled


def payment_refund(*, intent: PaymentIntent, amount: Money | None = None) -> PaymentIntent:
    """Refund a paid intent (all of it by default) at the provider and move it to refunded. Locks the
    intent; InvalidInput for an amount that is not positive, in another currency or more than was
    paid; Conflict if already refunded or not paid. The provider call carries the idempotency key
    `payment_refund:<id>`, so a retry after a crash never refunds twice."""
    refund = amount if amount is not None else intent.amount
    with transaction.atomic():
        _lock(intent)
        if intent.status == PaymentStatus.REFUNDED:
            raise Conflict(_("This payment has already been refunded."), code="already_refunded")
        PAYMENT_TRANSITIONS.check(intent.status, PaymentStatus.REFUNDED)
        if refund.currency != intent.currency or not 0 < refund.amount_minor <= intent.amount_minor:
            raise InvalidInput(
                _("The refund must be positive, in the payment's currency and at most what was paid."),
                code="invalid_refund_amount",
                details={"paid": intent.amount.as_dict(), "refund": refund.as_dict()},
            )
        reference = provider_get(intent.provider).refund(
            intent=intent, amount=refund, idempotency_key=f"payment_refund:{intent.public_id}"
        )
        _transition(
            intent,
            PaymentStatus.REFUNDED,
            {"refund_reference": reference, "amount_minor": refund.amount_minor},
            refunded_minor=refund.amount_minor,
        )
    return intent


def payment_simulate(*, intent: PaymentIntent, outcome: Literal["succeed", "fail"]) -> PaymentIntent:
    """Test mode only: act as if the customer paid (or the payment was declined), synchronously."""
    with transaction.atomic():
        _lock(intent)
        if outcome == "fail":
            return payment_fail(
                intent=intent, code=DECLINE_CODES[intent.method], message=_("The payment was declined.")
            )
        if intent.status == PaymentStatus.REQUIRES_ACTION:
            payment_process(intent=intent)
        return payment_succeed(intent=intent)


def _event_apply(intent: PaymentIntent, event: WebhookEvent) -> None:
    data = event.payload.get("data", {})
    if event.type == "payment.processing":
        payment_process(intent=intent)
    elif event.type == "payment.succeeded":
        if (data.get("amount_minor"), data.get("currency")) != (intent.amount_minor, intent.currency):
            raise IllegalTransition("the event's amount is not the payment's amount")
        if intent.status == PaymentStatus.REQUIRES_ACTION:
            payment_process(intent=intent)
        payment_succeed(intent=intent, provider_reference=str(data.get("provider_reference") or ""))
    elif event.type == "payment.failed":
        payment_fail(
            intent=intent,
            code=str(data.get("failure_code") or "failed"),
            message=str(data.get("failure_message") or ""),
        )
    elif event.type == "payment.refunded":
        refunded = data.get("amount_refunded_minor", intent.amount_minor)
        if not isinstance(refunded, int) or not 0 < refunded <= intent.amount_minor:
            raise IllegalTransition("the event's refund is not within the payment's amount")
        with transaction.atomic():
            _lock(intent)
            _transition(intent, PaymentStatus.REFUNDED, {"source": "webhook"}, refunded_minor=refunded)


def webhook_handle(*, event: WebhookEvent) -> bool:
    """Apply a stored event to its payment, once: the inbox row is locked and `handled_at` stamped in
    the same transaction. An event the payment's state cannot take (late, out of order, for an
    unknown payment) is recorded as ignored, never moving a payment backwards. Returns whether this
    call handled it (False: already handled)."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if event.handled_at is not None:
            return False
        payment_id = str(event.payload.get("data", {}).get("payment_id", ""))
        intent = PaymentIntent.objects.filter(public_id=payment_id, provider=event.provider).first()
        outcome, note = WebhookOutcome.APPLIED, ""
        if intent is None:
            outcome, note = WebhookOutcome.IGNORED, "unknown payment"
        else:
            try:
                with transaction.atomic():
                    _event_apply(intent, event)
            except IllegalTransition as refused:
                outcome, note = WebhookOutcome.IGNORED, str(refused.message)[:255]
        WebhookEvent.objects.filter(pk=event.pk).update(handled_at=clock.now(), outcome=outcome, note=note)
        logger.info("webhook %s %s %s %s", event.provider, event.event_id, event.type, outcome)
        return True


def webhook_receive(*, provider: str, headers: Mapping[str, str], body: bytes) -> tuple[WebhookEvent, bool]:
    """Verify a provider's webhook request, store the event once per (provider, event id) and handle
    it once. Returns the inbox row and whether this delivery handled it (False for a duplicate).
    InvalidSignature (400) or InvalidInput (422) store nothing; UnknownProvider is 404."""
    psp = provider_get(provider)
    verified = psp.parse_and_verify_webhook(headers=headers, body=body)
    with transaction.atomic():
        event, _created = WebhookEvent.objects.get_or_create(
            provider=psp.name,
            event_id=verified.id,
            defaults={
                "type": verified.type,
                "payload": {"id": verified.id, "type": verified.type, "data": dict(verified.data)},
            },
        )
        return event, webhook_handle(event=event)
