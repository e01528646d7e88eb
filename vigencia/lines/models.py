"""The SIM lines subscribers keep alive, and each line's event history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.core.models import TimeStampedModel
from vigencia.core.transitions import TransitionTable


class LineStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    RESTRICTED = "restricted", _("Restricted")
    SUSPENDED = "suspended", _("Cut off")
    RECYCLED = "recycled", _("Number lost")


LINE_TRANSITIONS = TransitionTable(
    "line",
    {
        LineStatus.ACTIVE: {LineStatus.RESTRICTED, LineStatus.SUSPENDED, LineStatus.RECYCLED},
        LineStatus.RESTRICTED: {LineStatus.ACTIVE, LineStatus.SUSPENDED, LineStatus.RECYCLED},
        LineStatus.SUSPENDED: {LineStatus.ACTIVE, LineStatus.RECYCLED},
        LineStatus.RECYCLED: set(),
    },
)


class Line(TimeStampedModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="lines", verbose_name=_("owner")
    )
    msisdn = models.CharField(_("number"), max_length=16, help_text=_("E.164, e.g. +51912345678"))
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="lines", verbose_name=_("carrier")
    )
    nickname = models.CharField(_("nickname"), max_length=60, blank=True)
    iccid = models.CharField(_("ICCID"), max_length=22, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=LineStatus.choices, default=LineStatus.ACTIVE
    )
    last_recharge_at = models.DateField(_("last recharge"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    # What the lifecycle reads besides the dates above: unused balance (in the carrier's currency)
    # may extend life, and for "chargeable use" carriers any use counts like a recharge.
    balance_minor = models.BigIntegerField(_("known balance (minor units)"), null=True, blank=True)
    last_chargeable_use_at = models.DateField(_("last chargeable use"), null=True, blank=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        ordering = ["valid_until", "id"]
        verbose_name = _("line")
        verbose_name_plural = _("lines")
        constraints = [
            # One live registration of a number per subscriber; a removed line may be added again.
            models.UniqueConstraint(
                fields=["owner", "msisdn"],
                condition=Q(removed_at__isnull=True),
                name="lines_line_owner_msisdn_unique_live",
            ),
            models.CheckConstraint(
                condition=Q(msisdn__regex=r"^\+[1-9][0-9]{6,14}$"), name="lines_line_msisdn_e164"
            ),
            models.CheckConstraint(condition=Q(status__in=LineStatus.values), name="lines_line_status_known"),
        ]
        indexes = [
            models.Index(fields=["msisdn"]),
            models.Index(fields=["status", "valid_until"]),
            # The lifecycle sweep reads due lines by carrier, status and anchor date.
            models.Index(fields=["carrier", "status", "last_recharge_at"], name="lines_sweep_recharge_idx"),
            models.Index(fields=["carrier", "status", "valid_until"], name="lines_sweep_valid_idx"),
        ]

    def __str__(self) -> str:
        return self.msisdn


class LineEventKind(models.TextChoices):
    ADDED = "added", _("Line added")
    UPDATED = "updated", _("Details changed")
    REMOVED = "removed", _("Line removed")
    STATUS_CHANGED = "status_changed", _("Status changed")
    RENEWED = "renewed", _("Renewed")


class LineEvent(models.Model):
    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="events", verbose_name=_("line"))
    kind = models.CharField(_("kind"), max_length=24, choices=LineEventKind.choices)
    at = models.DateTimeField(_("at"), default=clock.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("line event")
        verbose_name_plural = _("line events")

    def __str__(self) -> str:
        return f"{self.line} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


# --- keep-alive settings: reminders and auto-renew ---------------------------------------------------

DEFAULT_REMINDER_LEAD_DAYS = [30, 7, 1]
DEFAULT_REMINDER_CHANNELS = ["email"]


class ReminderSetting(TimeStampedModel):
    """How a line's owner wants to be reminded of its next deadline. A line without a row gets the
    defaults (30, 7 and 1 days before, by email); an empty `lead_days` turns reminders off."""

    line = models.OneToOneField(
        Line, on_delete=models.CASCADE, related_name="reminder_setting", verbose_name=_("line")
    )
    lead_days = models.JSONField(_("days before the deadline"), default=list)
    channels = models.JSONField(_("channels"), default=list)
    # Quiet hours in the owner's timezone; start == end means none.
    quiet_start = models.TimeField(_("quiet from"), default="21:00")
    quiet_end = models.TimeField(_("quiet until"), default="08:00")

    class Meta:
        verbose_name = _("reminder setting")
        verbose_name_plural = _("reminder settings")

    def __str__(self) -> str:
        return f"{self.line_id}: {self.lead_days} by {self.channels}"


class ReminderSent(models.Model):
    """One reminder sent: the unique constraint is what makes it exactly one per line, deadline,
    lead time and channel, whatever the retries or concurrent runs."""

    line = models.ForeignKey(
        Line, on_delete=models.CASCADE, related_name="reminders_sent", verbose_name=_("line")
    )
    deadline = models.DateField(_("deadline"))
    deadline_kind = models.CharField(_("deadline kind"), max_length=12)
    lead_days = models.PositiveSmallIntegerField(_("days before"))
    channel = models.CharField(_("channel"), max_length=10)
    sent_at = models.DateTimeField(_("sent"), default=clock.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(
                fields=["line", "deadline", "lead_days", "channel"], name="lines_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.line_id} {self.deadline} -{self.lead_days}d {self.channel}"


class AutoRenewSetting(TimeStampedModel):
    """Auto-renew of one line: the plan bought from the owner's wallet `days_before` its deadline."""

    line = models.OneToOneField(
        Line, on_delete=models.CASCADE, related_name="autorenew_setting", verbose_name=_("line")
    )
    enabled = models.BooleanField(_("enabled"), default=False)
    plan = models.ForeignKey(
        "catalog.Plan", on_delete=models.PROTECT, related_name="+", verbose_name=_("plan")
    )
    days_before = models.PositiveSmallIntegerField(_("days before the deadline"), default=3)

    class Meta:
        verbose_name = _("auto-renew setting")
        verbose_name_plural = _("auto-renew settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(days_before__gte=2, days_before__lte=60), name="lines_autorenew_days_before_range"
            )
        ]
        indexes = [models.Index(fields=["enabled", "line"], name="lines_autorenew_enabled_idx")]

    def __str__(self) -> str:
        return f"{self.line_id}: {'on' if self.enabled else 'off'} {self.plan_id} -{self.days_before}d"


class AutoRenewStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to charge")
    ORDERED = "ordered", _("Ordered")
    FAILED = "failed", _("Failed")


AUTORENEW_TRANSITIONS = TransitionTable(
    "auto-renewal",
    {
        AutoRenewStatus.PENDING: {AutoRenewStatus.ORDERED, AutoRenewStatus.FAILED},
        # A carrier that declines refunds the order: the run tries again with a new one, or gives
        # up after the last attempt.
        AutoRenewStatus.ORDERED: {AutoRenewStatus.PENDING, AutoRenewStatus.FAILED},
        AutoRenewStatus.FAILED: {AutoRenewStatus.PENDING},
    },
)


class AutoRenewRun(TimeStampedModel):
    """The auto-renewal of one line for one period (the deadline it renews before). The unique
    (line, period) makes it exactly once per period, however many schedulers or retries."""

    line = models.ForeignKey(
        Line, on_delete=models.CASCADE, related_name="autorenew_runs", verbose_name=_("line")
    )
    period = models.DateField(_("deadline renewed before"))
    status = models.CharField(
        _("status"), max_length=10, choices=AutoRenewStatus.choices, default=AutoRenewStatus.PENDING
    )
    plan = models.ForeignKey(
        "catalog.Plan", on_delete=models.PROTECT, related_name="+", verbose_name=_("plan")
    )
    # The renewal order of the latest attempt (orders sits above lines, so no foreign key here).
    order_id = models.BigIntegerField(_("order"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    failure_code = models.CharField(_("failure"), max_length=60, blank=True)

    class Meta:
        ordering = ["-period", "-id"]
        verbose_name = _("auto-renewal")
        verbose_name_plural = _("auto-renewals")
        constraints = [
            models.UniqueConstraint(fields=["line", "period"], name="lines_autorenew_once_per_period"),
            models.CheckConstraint(
                condition=Q(status__in=AutoRenewStatus.values), name="lines_autorenew_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} @ {self.period} {self.status}"
