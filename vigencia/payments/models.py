"""Payment intents, their event history, and the inbox of provider webhook events."""

from __future__ import annotations

import secrets
import string

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vigencia.core import clock
from vigencia.core.models import TimeStampedModel
from vigencia.core.money import Money
from vigencia.core.transitions import TransitionTable

_ALPHABET = string.ascii_letters + string.digits


def new_public_id() -> str:
    """`pay_` and 24 random characters: unguessable, so the checkout URL is a capability."""
    return "pay_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


class PaymentStatus(models.TextChoices):
    REQUIRES_ACTION = "requires_action", _("Waiting for the customer")
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", pgettext_lazy("payment", "Failed")
    CANCELED = "canceled", _("Canceled")
    REFUNDED = "refunded", _("Refunded")


class PaymentMethod(models.TextChoices):
    SANDBOX_CARD = "sandbox_card", _("Card (test)")
    SANDBOX_EWALLET = "sandbox_ewallet", _("Yape-style e-wallet (test)")
    SANDBOX_PAYPAL = "sandbox_paypal", _("PayPal-style (test)")


# The failure code of a payment its method's provider refused: a declined Yape payment is no card.
DECLINE_CODES: dict[str, str] = {
    PaymentMethod.SANDBOX_CARD: "card_declined",
    PaymentMethod.SANDBOX_EWALLET: "ewallet_declined",
    PaymentMethod.SANDBOX_PAYPAL: "paypal_declined",
}


class NextAction(models.TextChoices):
    NONE = "", _("None")
    THREE_D_SECURE = "three_d_secure", _("Authorise with the card issuer")
    PAYPAL_REDIRECT = "paypal_redirect", _("Approve at PayPal")


PAYMENT_TRANSITIONS = TransitionTable(
    "payment",
    {
        PaymentStatus.REQUIRES_ACTION: {
            PaymentStatus.PROCESSING,
            PaymentStatus.FAILED,
            PaymentStatus.CANCELED,
        },
        PaymentStatus.PROCESSING: {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED},
        PaymentStatus.SUCCEEDED: {PaymentStatus.REFUNDED},
        PaymentStatus.FAILED: set(),
        PaymentStatus.CANCELED: set(),
        PaymentStatus.REFUNDED: set(),
    },
)

# The statuses at which the purpose's handler is told (once: none of them can be re-entered).
OUTCOME_STATUSES = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED})


class PaymentIntent(TimeStampedModel):
    public_id = models.CharField(_("id"), max_length=28, unique=True, default=new_public_id, editable=False)
    provider = models.CharField(_("provider"), max_length=20)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices)
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.REQUIRES_ACTION
    )
    next_action = models.CharField(
        _("next action"), max_length=20, choices=NextAction.choices, default=NextAction.NONE, blank=True
    )
    purpose = models.CharField(_("purpose"), max_length=30)
    purpose_id = models.CharField(_("purpose id"), max_length=64)
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payment_intents",
        verbose_name=_("payer"),
    )
    provider_reference = models.CharField(_("provider reference"), max_length=80, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=40, blank=True)
    failure_message = models.CharField(_("failure message"), max_length=255, blank=True)
    refunded_minor = models.BigIntegerField(_("refunded (minor units)"), default=0)
    return_url = models.CharField(_("return URL"), max_length=500, blank=True)
    # Never a card number: only what a receipt may show (card brand + last 4, wallet phone's last 3).
    method_details = models.JSONField(_("method details"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payments_intent_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0) & Q(refunded_minor__lte=F("amount_minor")),
                name="payments_intent_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payments_intent_status_known"
            ),
        ]
        indexes = [models.Index(fields=["purpose", "purpose_id"])]

    def __str__(self) -> str:
        return self.public_id

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def refunded(self) -> Money:
        return Money(self.refunded_minor, self.currency)

    @property
    def checkout_url(self) -> str:
        """The hosted sandbox checkout page (a relative path)."""
        return reverse("payments:checkout", args=[self.public_id])

    @property
    def status_url(self) -> str:
        return reverse("payments:status", args=[self.public_id])

    @property
    def after_checkout_url(self) -> str:
        """Where the customer goes when the checkout is done: the caller's return URL or our status page."""
        return self.return_url or self.status_url


class PaymentEvent(models.Model):
    """One row per transition of a payment (and its creation), in order."""

    intent = models.ForeignKey(
        PaymentIntent, on_delete=models.CASCADE, related_name="events", verbose_name=_("payment")
    )
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    at = models.DateTimeField(_("at"), default=clock.now, db_index=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")

    def __str__(self) -> str:
        return f"{self.intent} {self.from_status or '-'} -> {self.to_status}"


class WebhookOutcome(models.TextChoices):
    PENDING = "", _("Not handled yet")
    APPLIED = "applied", _("Applied")
    IGNORED = "ignored", _("Recorded and ignored")


class WebhookEvent(models.Model):
    """The inbox: every verified provider event exactly once, handled at most once."""

    provider = models.CharField(_("provider"), max_length=20)
    event_id = models.CharField(_("event id"), max_length=80)
    type = models.CharField(_("type"), max_length=40)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received"), default=clock.now)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=10,
        choices=WebhookOutcome.choices,
        default=WebhookOutcome.PENDING,
        blank=True,
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="payments_webhook_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id} {self.type}"
