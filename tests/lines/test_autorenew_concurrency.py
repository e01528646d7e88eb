"""Two schedulers at once, on PostgreSQL with real threads: each reminder and each auto-renewal
happens once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.db import connection

from tests.factories import UserFactory
from tests.lines.keepalive_helpers import fund, lima
from vigencia.catalog.models import Carrier, Plan
from vigencia.lines.autorenew import autorenew_set, autorenew_sweep
from vigencia.lines.models import AutoRenewRun, Line, ReminderSent
from vigencia.lines.reminders import reminders_send
from vigencia.notifications.models import Notification
from vigencia.orders.models import RenewalOrder

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"),
]

D0 = date(2026, 3, 2)
RESTRICTED_ON = D0 + timedelta(days=61)


def _at_once(work: Callable[[], object], threads: int = 3) -> list[object]:
    barrier = threading.Barrier(threads)
    results: list[object] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


@pytest.fixture
def lines(demo_catalog) -> list[Line]:
    claro = Carrier.objects.get(code="claro-pe")
    plan = Plan.objects.get(carrier=claro, code="max-10")
    made = []
    for index in range(20):
        owner = UserFactory()
        fund(owner, 1000)
        line = Line.objects.create(
            owner=owner, msisdn=f"+5191234{index:04d}", carrier=claro, last_recharge_at=D0
        )
        autorenew_set(line=line, enabled=True, plan=plan, days_before=3)
        made.append(line)
    return made


def test_three_reminder_runs_at_once_send_each_reminder_once(lines):
    results = _at_once(lambda: reminders_send(at=lima(RESTRICTED_ON - timedelta(days=7))))

    assert sum(results) == 20  # type: ignore[arg-type]
    assert ReminderSent.objects.count() == 20
    assert Notification.objects.filter(dedupe_key__startswith="reminder:").count() == 20


def test_three_auto_renew_runs_at_once_charge_each_line_once(lines):
    results = _at_once(lambda: autorenew_sweep(at=lima(RESTRICTED_ON - timedelta(days=3))))

    assert sum(result.get("ordered", 0) for result in results) == 20  # type: ignore[attr-defined]
    assert RenewalOrder.objects.count() == 20
    assert AutoRenewRun.objects.filter(status="ordered").count() == 20
    assert sorted(RenewalOrder.objects.values_list("line_id", flat=True)) == sorted(line.pk for line in lines)
