"""Top-ups sent to the carriers through an aggregator, and each one's event history."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vigencia.core import clock
from vigencia.core.models import TimeStampedModel
from vigencia.core.money import Money
from vigencia.core.transitions import TransitionTable


class FulfilmentStatus(models.TextChoices):
    # The aggregator's states (Reloadly, DT One, Ding): the local row mirrors the last one known.
    CREATED = "created", _("Created")
    CONFIRMED = "confirmed", _("Confirmed")
    SUBMITTED = "submitted", _("Submitted to the carrier")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")
    REVERSED = "reversed", _("Reversed")


FINAL_STATUSES = frozenset({FulfilmentStatus.COMPLETED, FulfilmentStatus.DECLINED, FulfilmentStatus.REVERSED})

# Only forward moves: a late or repeated callback that would go backwards is not in the table.
FULFILMENT_TRANSITIONS = TransitionTable(
    "fulfilment",
    {
        FulfilmentStatus.CREATED: {
            FulfilmentStatus.CONFIRMED,
            FulfilmentStatus.SUBMITTED,
            FulfilmentStatus.COMPLETED,
            FulfilmentStatus.DECLINED,
        },
        FulfilmentStatus.CONFIRMED: {
            FulfilmentStatus.SUBMITTED,
            FulfilmentStatus.COMPLETED,
            FulfilmentStatus.DECLINED,
        },
        FulfilmentStatus.SUBMITTED: {FulfilmentStatus.COMPLETED, FulfilmentStatus.DECLINED},
        FulfilmentStatus.COMPLETED: {FulfilmentStatus.REVERSED},
        FulfilmentStatus.DECLINED: set(),
        FulfilmentStatus.REVERSED: set(),
    },
)


class FulfilmentTransaction(TimeStampedModel):
    external_id = models.CharField(
        _("external id"), max_length=100, unique=True, help_text=_("Our id at the gateway, e.g. order-42")
    )
    reference = models.CharField(
        _("reference"), max_length=100, help_text=_("What it fulfils, e.g. order:42")
    )
    msisdn = models.CharField(_("number"), max_length=16)
    carrier_code = models.CharField(_("carrier"), max_length=40)
    plan_code = models.CharField(_("plan"), max_length=60)
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=12, choices=FulfilmentStatus.choices, default=FulfilmentStatus.CREATED
    )
    gateway = models.CharField(_("gateway"), max_length=20, blank=True)
    gateway_transaction_id = models.CharField(_("gateway transaction id"), max_length=100, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # When reconciliation next asks the gateway; empty once the transaction is final.
    next_check_at = models.DateTimeField(_("next check"), null=True, blank=True, default=clock.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("carrier top-up")
        verbose_name_plural = _("carrier top-ups")
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="fulfilment_tx_amount_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="fulfilment_tx_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(status__in=FulfilmentStatus.values), name="fulfilment_tx_status_known"
            ),
            models.CheckConstraint(
                condition=Q(msisdn__regex=r"^\+[1-9][0-9]{6,14}$"), name="fulfilment_tx_msisdn_e164"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_check_at"],
                condition=Q(next_check_at__isnull=False),
                name="fulfilment_tx_due",
            ),
            models.Index(fields=["reference"], name="fulfilment_tx_reference"),
            # The few top-ups waiting for their first attempt (`fulfilment_submit_waiting` claims them).
            models.Index(fields=["id"], condition=Q(attempts=0), name="fulfilment_tx_waiting"),
        ]

    def __str__(self) -> str:
        return self.external_id

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class FulfilmentEventKind(models.TextChoices):
    STARTED = "started", _("Started")
    STATUS_CHANGED = "status_changed", _("Status changed")
    GATEWAY_FAILED = "gateway_failed", _("Gateway did not answer")
    LATE_STATUS = "late_status", _("Status ignored (would go backwards)")


class FulfilmentEvent(models.Model):
    transaction = models.ForeignKey(
        FulfilmentTransaction,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("carrier top-up"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=FulfilmentEventKind.choices)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=clock.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("top-up event")
        verbose_name_plural = _("top-up events")

    def __str__(self) -> str:
        return f"{self.transaction_id} {self.kind}"
