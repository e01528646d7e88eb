from datetime import UTC, datetime

import pytest

from vigencia.core.models import PeriodicRun
from vigencia.core.scheduler import scheduler_tick

pytestmark = pytest.mark.django_db

JOBS = {"demo.job": {"task": "tests.core.tasks_for_tests.noop", "every": 60}}


def test_each_period_is_enqueued_once_however_often_the_scheduler_ticks(settings):
    settings.VIGENCIA_PERIODIC_JOBS = JOBS
    at = datetime(2026, 11, 25, 12, 0, 30, tzinfo=UTC)

    assert scheduler_tick(at=at) == ["demo.job"]
    assert scheduler_tick(at=at) == []
    assert scheduler_tick(at=datetime(2026, 11, 25, 12, 0, 59, tzinfo=UTC)) == []
    assert scheduler_tick(at=datetime(2026, 11, 25, 12, 1, 0, tzinfo=UTC)) == ["demo.job"]

    assert list(PeriodicRun.objects.order_by("period_start").values_list("period_start", flat=True)) == [
        datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 12, 1, tzinfo=UTC),
    ]


def test_enqueued_jobs_run_in_the_worker(settings, run_tasks):
    from tests.core import tasks_for_tests

    settings.VIGENCIA_PERIODIC_JOBS = JOBS
    tasks_for_tests.RAN.clear()

    scheduler_tick(at=datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    assert run_tasks() == 1
    assert tasks_for_tests.RAN == ["noop"]
