"""insert_unless_taken: one INSERT that skips a taken unique value and leaves the transaction usable.
rows_update: many rows' own values written in one statement, only where they still match."""

from datetime import UTC, datetime

import pytest
from django.db import transaction

from tests.factories import TopupFactory
from vigencia.core.db import insert_unless_taken, rows_update
from vigencia.core.models import IdempotencyRecord
from vigencia.fulfilment.models import FulfilmentTransaction

pytestmark = pytest.mark.django_db


def _record(fingerprint: str) -> IdempotencyRecord:
    return IdempotencyRecord(owner_id=1, key="key-1", scope="test", fingerprint=fingerprint)


def test_a_new_row_is_inserted_and_gets_its_primary_key():
    record = _record("first")

    assert insert_unless_taken(record) is True

    assert record.pk == IdempotencyRecord.objects.get(key="key-1").pk
    assert record._state.adding is False


def test_a_taken_unique_value_inserts_nothing_and_the_transaction_goes_on():
    # given a record holding the (owner, key) pair
    IdempotencyRecord.objects.create(owner_id=1, key="key-1", scope="test", fingerprint="first")

    with transaction.atomic():
        # when another row with the same pair is inserted
        second = _record("second")
        inserted = insert_unless_taken(second)

        # then nothing is written and, with no savepoint taken, the transaction still answers
        assert inserted is False
        assert second.pk is None
        assert list(IdempotencyRecord.objects.values_list("fingerprint", flat=True)) == ["first"]


def test_each_row_gets_its_own_values_nulls_included_where_it_still_matches():
    # given three top-ups, one of which has moved on meanwhile
    first, second, moved = TopupFactory(n=1), TopupFactory(n=2), TopupFactory(n=3)
    FulfilmentTransaction.objects.filter(pk=moved.pk).update(status="declined")
    moved_check_at = moved.next_check_at
    later = datetime(2027, 1, 2, 3, 4, tzinfo=UTC)
    first.status, first.next_check_at, first.last_error = "completed", None, ""
    second.status, second.next_check_at, second.last_error = "confirmed", later, "slow"
    moved.status, moved.next_check_at = "completed", None

    # when they are written back on condition that they are still created
    written = rows_update(
        FulfilmentTransaction,
        [first, second, moved],
        ["status", "next_check_at", "last_error"],
        status="created",
    )

    # then the two that were are written with their own values, and the third is left alone
    assert written == 2
    rows = FulfilmentTransaction.objects.order_by("pk").values_list("status", "next_check_at", "last_error")
    assert list(rows) == [
        ("completed", None, ""),
        ("confirmed", later, "slow"),
        ("declined", moved_check_at, ""),
    ]


def test_no_rows_write_nothing():
    assert rows_update(FulfilmentTransaction, [], ["status"], status="created") == 0
