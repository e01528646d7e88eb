"""insert_unless_taken: one INSERT that skips a taken unique value and leaves the transaction usable."""

import pytest
from django.db import transaction

from vigencia.core.db import insert_unless_taken
from vigencia.core.models import IdempotencyRecord

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
