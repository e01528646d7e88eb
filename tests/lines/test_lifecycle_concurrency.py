"""Two sweeps at once, on PostgreSQL with real threads: each transition happens once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.models import Count

from tests.factories import UserFactory
from vigencia.catalog.models import Carrier
from vigencia.lines.lifecycle import lifecycle_sweep
from vigencia.lines.models import Line, LineEvent, LineEventKind

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"),
]

AT = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def test_two_sweeps_at_once_move_each_line_once(demo_catalog):
    # given 300 Movistar lines overdue for cut-off and 100 overdue for number loss
    movistar = Carrier.objects.get(code="movistar-pe")
    owner = UserFactory()
    Line.objects.bulk_create(
        [
            Line(
                owner=owner,
                msisdn=f"+5191{index:07d}",
                carrier=movistar,
                last_recharge_at=date(2026, 4, 1) if index < 300 else date(2025, 6, 1),
            )
            for index in range(400)
        ]
    )
    barrier = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def sweep() -> None:
        try:
            barrier.wait()
            results.append(lifecycle_sweep(at=AT, notify=None))
        finally:
            connection.close()

    # when two sweeps run at the same instant
    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then between them they moved every line exactly once, and wrote one event per line
    assert len(results) == 2
    assert sum(result["active->suspended"] for result in results) == 300
    assert sum(result["active->recycled"] for result in results) == 100
    assert sum(sum(result.values()) for result in results) == 400
    events = LineEvent.objects.filter(kind=LineEventKind.STATUS_CHANGED)
    assert events.count() == 400
    assert events.values("line").distinct().count() == 400
    assert dict(Line.objects.values_list("status").order_by("status").annotate(n=Count("id"))) == {
        "recycled": 100,
        "suspended": 300,
    }
