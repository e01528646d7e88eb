"""Periodic jobs: each period of each job is enqueued exactly once, whoever runs the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from vigencia.core import clock
from vigencia.core.models import PeriodicRun


def _period_start(at: datetime, every: int) -> datetime:
    seconds = int(at.timestamp()) // every * every
    return datetime.fromtimestamp(seconds, tz=UTC)


def scheduler_tick(*, at: datetime | None = None) -> list[str]:
    """Enqueue every job whose current period has not run yet; returns the names enqueued."""
    at = at or clock.now()
    enqueued = []
    for name, job in settings.VIGENCIA_PERIODIC_JOBS.items():
        every = int(job["every"])  # type: ignore[call-overload]
        period = _period_start(at, every)
        try:
            with transaction.atomic():
                PeriodicRun.objects.create(name=name, period_start=period)
                import_string(str(job["task"])).enqueue()
        except IntegrityError:
            continue
        enqueued.append(name)
    return enqueued
