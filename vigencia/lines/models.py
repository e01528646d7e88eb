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
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="lines")
    msisdn = models.CharField(_("number"), max_length=16, help_text=_("E.164, e.g. +51912345678"))
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="lines")
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
    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=24, choices=LineEventKind.choices)
    at = models.DateTimeField(_("at"), default=clock.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("line event")
        verbose_name_plural = _("line events")

    def __str__(self) -> str:
        return f"{self.line} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"
