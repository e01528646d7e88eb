"""Starting, submitting and reconciling top-ups against the in-process simulator."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from tests.fulfilment import handlers
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput
from vigencia.core.money import Money
from vigencia.fulfilment.gateways.simulator import simulator
from vigencia.fulfilment.models import (
    FINAL_STATUSES,
    FulfilmentEvent,
    FulfilmentStatus,
    FulfilmentTransaction,
)
from vigencia.fulfilment.services import (
    fulfilment_apply_status,
    fulfilment_reconcile,
    fulfilment_start,
    fulfilment_submit,
    fulfilment_submit_waiting,
)
from vigencia.fulfilment.tasks import submit_transaction

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _events(transaction: FulfilmentTransaction) -> list[tuple[str, dict]]:
    return list(transaction.events.values_list("kind", "data"))


def test_start_records_the_top_up_and_enqueues_one_submission(start):
    with clock.frozen(T0):
        transaction = start()

    assert transaction.status == FulfilmentStatus.CREATED
    assert (transaction.external_id, transaction.reference, transaction.msisdn) == (
        "order-42",
        "order:42",
        "+51912345678",
    )
    assert transaction.amount == Money(1000, "PEN")
    assert transaction.next_check_at == T0 + timedelta(seconds=30)
    assert DBTaskResult.objects.filter(task_path="vigencia.fulfilment.tasks.submit_transaction").count() == 1
    assert simulator.calls == []


def test_start_is_idempotent_by_external_id(start):
    first = start()
    second = start()

    assert second.pk == first.pk
    assert FulfilmentTransaction.objects.count() == 1
    assert DBTaskResult.objects.count() == 1
    assert [kind for kind, _data in _events(first)] == ["started"]


def test_start_with_a_reused_external_id_and_other_details_is_a_conflict(start):
    start(amount=1000)

    with pytest.raises(Conflict) as error:
        start(amount=2000)

    assert error.value.code == "external_id_reused"
    assert list(FulfilmentTransaction.objects.values_list("amount_minor", flat=True)) == [1000]
    assert DBTaskResult.objects.count() == 1


@pytest.mark.parametrize("msisdn", ["912345678", "+51 912 345 678", "+5191234", "", "+51abc"])
def test_start_refuses_a_number_not_in_e164_and_writes_nothing(start, msisdn):
    with pytest.raises(InvalidInput) as error:
        start(msisdn=msisdn)

    assert error.value.code == "invalid_msisdn"
    assert FulfilmentTransaction.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


def test_start_refuses_a_non_positive_amount(start):
    with pytest.raises(InvalidInput) as error:
        start(amount=0)

    assert error.value.code == "invalid_amount"
    assert FulfilmentTransaction.objects.count() == 0


def test_the_submission_task_completes_the_top_up_once_and_calls_the_handler(start, run_tasks):
    transaction = start()

    assert run_tasks() == 1

    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.COMPLETED
    assert transaction.gateway_transaction_id == "sim-000001"
    assert transaction.attempts == 1
    assert transaction.next_check_at is None
    assert transaction.completed_at is not None
    assert simulator.calls == ["create", "confirm"]
    assert simulator.carrier.topups_by_external_id == {"order-42": 1}
    assert simulator.carrier.topups_by_msisdn == {"+51912345678": 1}
    assert handlers.CALLS == [("order-42", "completed")]
    assert _events(transaction)[1:] == [("status_changed", {"from": "created", "to": "completed"})]


def test_a_declined_top_up_tops_up_nothing_and_calls_the_handler(start):
    transaction = start()
    simulator.decline_next(1)

    transaction = fulfilment_submit(transaction=transaction)

    assert transaction.status == FulfilmentStatus.DECLINED
    assert transaction.completed_at is None
    assert transaction.next_check_at is None
    assert simulator.carrier.topups_by_external_id == {}
    assert handlers.CALLS == [("order-42", "declined")]


def test_submitting_again_never_tops_up_twice(start):
    transaction = start()

    for _attempt in range(3):
        fulfilment_submit(transaction=transaction)

    assert simulator.carrier.topups_by_external_id == {"order-42": 1}
    assert simulator.calls == ["create", "confirm"]  # final rows are not sent again
    assert handlers.CALLS == [("order-42", "completed")]


def test_a_new_top_ups_task_submits_it_with_the_others_waiting_and_their_tasks_then_do_nothing(start):
    first, second, third = start(1), start(2), start(3)

    submit_transaction.call(second.pk)

    assert simulator.carrier.topups_by_external_id == {"order-1": 1, "order-2": 1, "order-3": 1}
    assert handlers.CALLS == [("order-1", "completed"), ("order-2", "completed"), ("order-3", "completed")]
    assert list(FulfilmentTransaction.objects.order_by("pk").values_list("status", "attempts")) == [
        ("completed", 1),
        ("completed", 1),
        ("completed", 1),
    ]
    calls = len(simulator.calls)

    submit_transaction.call(first.pk)
    submit_transaction.call(third.pk)

    assert len(simulator.calls) == calls
    assert len(handlers.CALLS) == 3


def test_a_submission_takes_its_own_top_up_first_then_the_oldest_waiting_up_to_the_batch(start, settings):
    settings.VIGENCIA_FULFILMENT_BATCH = 2
    start(1), start(2), start(3)
    fourth = start(4)

    submitted = fulfilment_submit_waiting(transaction_id=fourth.pk)

    assert [row.external_id for row in submitted] == ["order-1", "order-4"]
    assert list(FulfilmentTransaction.objects.order_by("pk").values_list("status", "attempts")) == [
        ("completed", 1),
        ("created", 0),
        ("created", 0),
        ("completed", 1),
    ]


def test_a_top_up_another_run_has_claimed_is_not_submitted_again(start):
    claimed = start(1)
    FulfilmentTransaction.objects.filter(pk=claimed.pk).update(attempts=1)  # its worker is at the gateway

    assert fulfilment_submit_waiting(transaction_id=claimed.pk) == []
    assert simulator.calls == []
    assert FulfilmentTransaction.objects.get().status == FulfilmentStatus.CREATED


def test_a_claimed_top_up_left_without_an_answer_is_completed_by_reconciliation(start):
    with clock.frozen(T0):
        transaction = start()
    simulator.fail_next(1, "timeout")

    assert [row.status for row in fulfilment_submit_waiting(transaction_id=transaction.pk, now=T0)] == [
        FulfilmentStatus.CREATED
    ]
    assert fulfilment_submit_waiting(transaction_id=transaction.pk, now=T0) == []  # claimed already
    fulfilment_reconcile(now=T0 + timedelta(seconds=30))

    assert FulfilmentTransaction.objects.get().status == FulfilmentStatus.COMPLETED
    assert simulator.carrier.topups_by_external_id == {"order-42": 1}


def test_a_lost_request_leaves_the_top_up_open_with_backoff_then_reconciliation_completes_it(start):
    with clock.frozen(T0):
        transaction = start()
    simulator.fail_next(1, "timeout")

    transaction = fulfilment_submit(transaction=transaction, now=T0)

    assert transaction.status == FulfilmentStatus.CREATED
    assert transaction.gateway_transaction_id == ""
    assert transaction.last_error == "simulated timeout on create"
    assert transaction.next_check_at == T0 + timedelta(seconds=30)
    assert simulator.carrier.topups_by_external_id == {}
    assert handlers.CALLS == []

    assert fulfilment_reconcile(now=T0 + timedelta(seconds=29))["checked"] == 0
    counts = fulfilment_reconcile(now=T0 + timedelta(seconds=30))

    assert counts == {"checked": 1, "completed": 1, "declined": 0, "reversed": 0, "pending": 0, "failed": 0}
    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.COMPLETED
    assert transaction.attempts == 2
    assert simulator.carrier.topups_by_external_id == {"order-42": 1}


@pytest.mark.parametrize(
    ("failures", "calls_after_reconcile"),
    [
        # create applied, answer lost: the retry's create returns the existing one, then confirms
        (["lost_response"], ["create", "create", "confirm"]),
        # confirm applied, answer lost: the poll finds it completed and does not confirm again
        (["ok", "lost_response"], ["create", "confirm", "get"]),
    ],
)
def test_a_lost_answer_is_found_by_reconciliation_never_topped_up_twice(
    start, failures, calls_after_reconcile
):
    with clock.frozen(T0):
        transaction = start()
    for failure in failures:
        if failure == "ok":
            simulator._faults.append("none")
        else:
            simulator.fail_next(1, failure)

    fulfilment_submit(transaction=transaction, now=T0)
    fulfilment_reconcile(now=T0 + timedelta(minutes=1))

    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.COMPLETED
    assert simulator.calls == calls_after_reconcile
    assert simulator.carrier.topups_by_external_id == {"order-42": 1}
    assert handlers.CALLS == [("order-42", "completed")]


def test_backoff_doubles_per_attempt_up_to_the_cap(start, settings):
    settings.VIGENCIA_FULFILMENT_RETRY_MAX_SECONDS = 100
    with clock.frozen(T0):
        transaction = start()
    simulator.fail_next(4, "error")

    checks = []
    for _attempt in range(4):
        transaction = fulfilment_submit(transaction=transaction, now=T0)
        checks.append((transaction.next_check_at - T0).total_seconds())

    assert checks == [30, 60, 100, 100]
    assert [kind for kind, _data in _events(transaction)] == ["started"] + ["gateway_failed"] * 4


def test_after_the_max_age_a_top_up_the_gateway_never_got_is_declined_without_creating_it(start):
    with clock.frozen(T0):
        transaction = start()
    simulator.fail_next(1, "timeout")
    fulfilment_submit(transaction=transaction, now=T0)

    counts = fulfilment_reconcile(now=T0 + timedelta(hours=25))

    assert counts["declined"] == 1
    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.DECLINED
    assert transaction.last_error == "never reached the gateway before the max age"
    assert simulator.calls == ["create", "find"]
    assert simulator.carrier.topups_by_external_id == {}
    assert handlers.CALLS == [("order-42", "declined")]


def test_after_the_max_age_a_top_up_with_no_answer_is_declined(start):
    with clock.frozen(T0):
        transaction = start()
    simulator.fail_next(2, "error")
    fulfilment_submit(transaction=transaction, now=T0)

    fulfilment_reconcile(now=T0 + timedelta(hours=25))

    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.DECLINED
    assert transaction.last_error == "no answer before the max age: simulated 503 on find"


def test_after_the_max_age_a_top_up_applied_at_the_gateway_is_completed_not_declined(start):
    with clock.frozen(T0):
        transaction = start()
    simulator._faults.append("none")
    simulator.fail_next(1, "lost_response")  # the confirm is applied, its answer lost
    fulfilment_submit(transaction=transaction, now=T0)

    fulfilment_reconcile(now=T0 + timedelta(hours=25))

    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.COMPLETED
    assert simulator.carrier.topups_by_external_id == {"order-42": 1}


def test_duplicate_and_out_of_order_statuses_never_move_backwards(start):
    transaction = start()

    for status in ["confirmed", "completed", "completed", "submitted", "confirmed", "declined"]:
        transaction = fulfilment_apply_status(transaction=transaction, status=status)

    assert transaction.status == FulfilmentStatus.COMPLETED
    assert handlers.CALLS == [("order-42", "completed")]
    assert _events(transaction)[1:] == [
        ("status_changed", {"from": "created", "to": "confirmed"}),
        ("status_changed", {"from": "confirmed", "to": "completed"}),
        ("late_status", {"status": "completed", "reported": "submitted"}),
        ("late_status", {"status": "completed", "reported": "confirmed"}),
        ("late_status", {"status": "completed", "reported": "declined"}),
    ]


def test_a_completed_top_up_can_be_reversed_and_the_handler_hears_it(start):
    transaction = start()
    fulfilment_apply_status(transaction=transaction, status="completed")

    transaction = fulfilment_apply_status(transaction=transaction, status="reversed")

    assert transaction.status == FulfilmentStatus.REVERSED
    assert handlers.CALLS == [("order-42", "completed"), ("order-42", "reversed")]


def test_an_unknown_status_is_refused(start):
    transaction = start()

    with pytest.raises(InvalidInput):
        fulfilment_apply_status(transaction=transaction, status="teleported")

    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.CREATED


def test_a_failing_handler_rolls_the_status_back(start, settings):
    settings.VIGENCIA_FULFILMENT_HANDLERS = {"order": "tests.fulfilment.handlers.explode"}
    transaction = start()

    with pytest.raises(RuntimeError):
        fulfilment_apply_status(transaction=transaction, status="completed")

    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.CREATED
    assert FulfilmentEvent.objects.filter(kind="status_changed").count() == 0


def test_a_reference_without_a_handler_is_skipped(db):
    transaction = fulfilment_start(
        external_id="gift-1",
        reference="gift:1",
        msisdn="+51912345678",
        carrier_code="claro-pe",
        plan_code="claro-10",
        amount=Money(500, "PEN"),
    )

    assert fulfilment_submit(transaction=transaction).status == FulfilmentStatus.COMPLETED
    assert handlers.CALLS == []


def test_reconciliation_checks_a_bounded_batch_oldest_first(start, settings):
    settings.VIGENCIA_FULFILMENT_BATCH = 2
    with clock.frozen(T0):
        for n in (1, 2, 3):
            start(n)

    counts = fulfilment_reconcile(now=T0 + timedelta(minutes=1))

    assert counts["checked"] == 2
    assert sorted(
        FulfilmentTransaction.objects.filter(status="completed").values_list("external_id", flat=True)
    ) == [
        "order-1",
        "order-2",
    ]
    assert fulfilment_reconcile(now=T0 + timedelta(minutes=1))["checked"] == 1


def test_the_reconcile_command_runs_one_batch(start, capsys):
    from django.core.management import call_command

    with clock.frozen(clock.now() - timedelta(minutes=5)):
        start()

    call_command("fulfilment", "reconcile")

    assert capsys.readouterr().out.strip() == (
        "checked: 1, completed: 1, declined: 0, reversed: 0, pending: 0, failed: 0"
    )


def test_the_periodic_reconcile_task_is_registered(settings):
    from django.utils.module_loading import import_string

    job = settings.VIGENCIA_PERIODIC_JOBS["fulfilment.reconcile"]

    assert job == {"task": "vigencia.fulfilment.tasks.reconcile_pending", "every": 60}
    assert import_string(job["task"]).name == "reconcile_pending"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("external_id", ""),
        ("external_id", "x" * 101),
        ("reference", "  "),
        ("carrier_code", "c" * 41),
        ("plan_code", ""),
    ],
)
def test_start_refuses_missing_or_too_long_identifiers_and_writes_nothing(db, field, value):
    arguments = {
        "external_id": "order-1",
        "reference": "order:1",
        "msisdn": "+51912345678",
        "carrier_code": "claro-pe",
        "plan_code": "claro-10",
        "amount": Money(1000, "PEN"),
        field: value,
    }

    with pytest.raises(InvalidInput) as error:
        fulfilment_start(**arguments)

    assert error.value.details == {"field": field}
    assert FulfilmentTransaction.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


def test_a_fault_rate_fails_each_top_up_on_its_own_once_and_never_the_same_ones_by_position(start):
    # given a carrier where each new top-up fails with probability 0.5 (seeded)
    simulator.fault_rate(0.5, random.Random(7))

    # when 200 top-ups are submitted, and every one of them is submitted again
    outcomes = {}
    for n in range(200):
        outcomes[n] = fulfilment_submit(transaction=start(n)).status
    again = {n: fulfilment_submit(transaction=start(n)).status for n in range(200)}

    # then about half failed, split between declines and timeouts (still open, nothing applied),
    # each drawn once: submitting again never draws a new fault for the same top-up
    declined = {n for n, status in outcomes.items() if status == FulfilmentStatus.DECLINED}
    open_ = {n for n, status in outcomes.items() if status not in FINAL_STATUSES}
    assert simulator.faults_injected == len(declined) + len(open_) == 99
    assert (len(declined), len(open_)) == (55, 44)
    assert all(again[n] == FulfilmentStatus.COMPLETED for n in open_)
    assert all(again[n] == outcomes[n] for n in outcomes if n not in open_)
    # and the faults fall all over the sequence, not on the first ones submitted
    failed = declined | open_
    assert (len(failed & set(range(100))), len(failed - set(range(100)))) == (57, 42)
