from django.db import models
from django.utils.translation import gettext_lazy as _

from vigencia.core import clock


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class IdempotencyRecord(models.Model):
    """One API write per (owner, Idempotency-Key), with the response it produced."""

    owner_id = models.BigIntegerField()
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=60)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner_id", "key"], name="core_idempotency_owner_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class PeriodicRun(models.Model):
    """A periodic job's run for one period: the unique key makes a second scheduler a no-op."""

    name = models.CharField(max_length=80)
    period_start = models.DateTimeField()
    enqueued_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "period_start"], name="core_periodic_run_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.period_start:%Y-%m-%d %H:%M:%S}"
