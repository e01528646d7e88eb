import threading

import pytest
from django.db import connection

from vigencia.core.errors import InvalidInput
from vigencia.core.idempotency import idempotent
from vigencia.core.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def test_same_key_and_body_replays_the_stored_response_without_running_again():
    calls = []

    def action():
        calls.append(1)
        return 201, {"id": len(calls)}

    first = idempotent(owner_id=1, key="k1", scope="s", payload={"a": 1}, action=action)
    second = idempotent(owner_id=1, key="k1", scope="s", payload={"a": 1}, action=action)

    assert first == second == (201, {"id": 1})
    assert calls == [1]


def test_same_key_with_another_body_is_refused_and_runs_nothing():
    idempotent(owner_id=1, key="k1", scope="s", payload={"a": 1}, action=lambda: (201, {}))

    with pytest.raises(InvalidInput) as error:
        idempotent(owner_id=1, key="k1", scope="s", payload={"a": 2}, action=pytest.fail)

    assert error.value.code == "idempotency_key_reused"


def test_keys_are_per_owner():
    idempotent(owner_id=1, key="k", scope="s", payload={}, action=lambda: (201, {"who": 1}))
    assert idempotent(owner_id=2, key="k", scope="s", payload={}, action=lambda: (201, {"who": 2})) == (
        201,
        {"who": 2},
    )


@pytest.mark.parametrize("key", [None, "", "   ", "x" * 256, "bad\nkey"])
def test_missing_or_malformed_keys_are_refused(key):
    with pytest.raises(InvalidInput):
        idempotent(owner_id=1, key=key, scope="s", payload={}, action=pytest.fail)
    assert IdempotencyRecord.objects.count() == 0


def test_a_failed_action_leaves_no_record_so_a_retry_runs_again():
    def failing():
        raise InvalidInput(code="nope")

    with pytest.raises(InvalidInput):
        idempotent(owner_id=1, key="k", scope="s", payload={}, action=failing)

    assert IdempotencyRecord.objects.count() == 0
    assert idempotent(owner_id=1, key="k", scope="s", payload={}, action=lambda: (201, {"ok": True})) == (
        201,
        {"ok": True},
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL")
def test_twenty_concurrent_requests_with_one_key_run_once_and_answer_alike():
    runs = []
    answers = []
    barrier = threading.Barrier(20)

    def action():
        runs.append(1)
        return 201, {"run": len(runs)}

    def client():
        try:
            barrier.wait()
            answers.append(idempotent(owner_id=7, key="same", scope="s", payload={"x": 1}, action=action))
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(runs) == 1
    assert answers == [(201, {"run": 1})] * 20
