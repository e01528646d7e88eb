"""Races, proven on PostgreSQL with real threads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tests.concurrency import race
from tests.fulfilment import handlers
from vigencia.core import clock
from vigencia.core.money import Money
from vigencia.fulfilment.gateways.simulator import simulator
from vigencia.fulfilment.models import FulfilmentEvent, FulfilmentTransaction
from vigencia.fulfilment.services import (
    TopupRequest,
    fulfilment_apply_status,
    fulfilment_reconcile,
    fulfilment_start,
    fulfilment_start_many,
    fulfilment_submit_waiting,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def _start(n: int = 42) -> FulfilmentTransaction:
    return fulfilment_start(
        external_id=f"order-{n}",
        reference=f"order:{n}",
        msisdn="+51912345678",
        carrier_code="claro-pe",
        plan_code="claro-10",
        amount=Money(1000, "PEN"),
    )


def test_ten_concurrent_starts_of_one_external_id_record_one_top_up_and_one_task():
    results = race(10, lambda _index: _start().pk)

    assert len(set(results)) == 1, results
    assert FulfilmentTransaction.objects.count() == 1
    assert DBTaskResult.objects.count() == 1


def test_concurrent_completions_apply_once_and_call_the_handler_once():
    transaction = _start()

    results = race(
        8, lambda _index: fulfilment_apply_status(transaction=transaction, status="completed").status
    )

    assert results == ["completed"] * 8
    assert FulfilmentEvent.objects.filter(kind="status_changed").count() == 1
    assert handlers.CALLS == [("order-42", "completed")]


def test_concurrent_reconcilers_never_check_a_top_up_twice():
    for n in range(20):
        _start(n)
    later = clock.now() + timedelta(minutes=1)

    results = race(4, lambda _index: fulfilment_reconcile(now=later))

    assert sum(result["checked"] for result in results) == 20, results  # type: ignore[index]
    assert simulator.calls.count("create") == 20
    assert FulfilmentTransaction.objects.filter(status="completed").count() == 20


def test_concurrent_tasks_behind_a_backlog_submit_every_top_up_once(settings):
    settings.VIGENCIA_FULFILMENT_BATCH = 7
    started = [_start(n).pk for n in range(40)]

    results = race(
        8, lambda index: [row.pk for row in fulfilment_submit_waiting(transaction_id=started[index])]
    )

    submitted = [pk for result in results for pk in result]  # type: ignore[attr-defined]
    assert sorted(submitted) == started, results  # every one, none twice
    assert simulator.calls.count("create") == 40
    assert set(FulfilmentTransaction.objects.values_list("status", "attempts")) == {("completed", 1)}
    assert len(handlers.CALLS) == 40


def test_the_tasks_of_top_ups_started_together_run_by_concurrent_workers_submit_each_once(settings):
    settings.VIGENCIA_FULFILMENT_BATCH = 7
    price = Money(1000, "PEN")
    started = fulfilment_start_many(
        [
            TopupRequest(f"order-{n}", f"order:{n}", "+51912345678", "claro-pe", "claro-10", price)
            for n in range(40)
        ]
    )
    tasks = list(DBTaskResult.objects.order_by("enqueued_at", "id"))
    assert [task.task_path for task in tasks] == ["vigencia.fulfilment.tasks.submit_transaction"] * 6

    results = race(6, lambda index: tasks[index].task.call(*tasks[index].args_kwargs["args"]))

    assert results == [None] * 6  # no task raised
    assert simulator.calls.count("create") == 40  # each top-up once, whichever worker took it
    assert set(FulfilmentTransaction.objects.values_list("status", "attempts")) == {("completed", 1)}
    assert sorted(external_id for external_id, _status in handlers.CALLS) == sorted(
        row.external_id for row in started
    )
