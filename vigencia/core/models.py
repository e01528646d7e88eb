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

    owner_id = models.BigIntegerField(verbose_name=_("owner id"))
    key = models.CharField(max_length=255, verbose_name=_("idempotency key"))
    scope = models.CharField(max_length=60, verbose_name=_("scope"))
    fingerprint = models.CharField(max_length=64, verbose_name=_("fingerprint"))
    status_code = models.PositiveSmallIntegerField(null=True, verbose_name=_("status code"))
    response = models.JSONField(null=True, verbose_name=_("response"))
    created_at = models.DateTimeField(default=clock.now, db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["owner_id", "key"], name="core_idempotency_owner_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class PeriodicRun(models.Model):
    """A periodic job's run for one period: the unique key makes a second scheduler a no-op."""

    name = models.CharField(max_length=80, verbose_name=_("job"))
    period_start = models.DateTimeField(verbose_name=_("period start"))
    enqueued_at = models.DateTimeField(default=clock.now, verbose_name=_("enqueued at"))

    class Meta:
        verbose_name = _("periodic run")
        verbose_name_plural = _("periodic runs")
        constraints = [
            models.UniqueConstraint(fields=["name", "period_start"], name="core_periodic_run_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.period_start:%Y-%m-%d %H:%M:%S}"


class Worker(models.Model):
    """A `vigencia worker` process while it runs: it beats (`seen_at`) so that a task it claimed and
    never finished can be told from one it is still running (`vigencia.core.workers`)."""

    worker_id = models.CharField(max_length=64, unique=True, verbose_name=_("worker id"))
    started_at = models.DateTimeField(default=clock.now, verbose_name=_("started at"))
    seen_at = models.DateTimeField(default=clock.now, verbose_name=_("last seen at"))

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")

    def __str__(self) -> str:
        return self.worker_id
