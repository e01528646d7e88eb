"""TransitionTable.apply_many: many rows moved in one conditional write, only through the table."""

import pytest
from django.db import transaction

from tests.factories import TopupFactory
from vigencia.core.transitions import IllegalTransition
from vigencia.fulfilment.models import FULFILMENT_TRANSITIONS, FulfilmentTransaction

pytestmark = pytest.mark.django_db


def _statuses() -> list[tuple[str, str]]:
    return list(FulfilmentTransaction.objects.order_by("pk").values_list("status", "last_error"))


def test_rows_moved_or_left_in_their_state_are_written_together():
    # given two created top-ups: one completed in memory, one still created with a note
    done, waiting = TopupFactory(n=1), TopupFactory(n=2)
    done.status = "completed"
    waiting.last_error = "slow"

    # when they are applied from created
    FULFILMENT_TRANSITIONS.apply_many(
        [done, waiting], field="status", source="created", fields=["status", "last_error"]
    )

    # then each row has its own state and values
    assert _statuses() == [("completed", ""), ("created", "slow")]


def test_a_move_through_intermediate_states_is_checked_step_by_step():
    # given a created top-up marked completed through submitted, and one through declined
    through_submitted, through_declined = TopupFactory(n=1), TopupFactory(n=2)
    through_submitted.status = through_declined.status = "completed"

    # when applied through submitted, the legal path is written
    FULFILMENT_TRANSITIONS.apply_many(
        [through_submitted], field="status", source="created", via=["submitted"], fields=["status"]
    )
    # and through declined (final: no way on to completed) nothing is written
    with pytest.raises(IllegalTransition):
        FULFILMENT_TRANSITIONS.apply_many(
            [through_declined], field="status", source="created", via=["declined"], fields=["status"]
        )

    assert _statuses() == [("completed", ""), ("created", "")]


def test_a_move_not_in_the_table_writes_nothing():
    # given a declined top-up set back to created in memory, and a legal move beside it
    declined, legal = TopupFactory(n=1), TopupFactory(n=2)
    FulfilmentTransaction.objects.filter(pk=declined.pk).update(status="declined")
    declined.status, legal.status = "submitted", "submitted"

    # when both are applied from declined
    with pytest.raises(IllegalTransition) as refused:
        FULFILMENT_TRANSITIONS.apply_many(
            [declined, legal], field="status", source="declined", fields=["status"]
        )

    # then the table refused before anything was written
    assert refused.value.details == {"from": "declined", "to": "submitted"}
    assert _statuses() == [("declined", ""), ("created", "")]


def test_a_row_another_writer_moved_first_refuses_the_whole_write():
    # given two created top-ups, one of which another writer declined meanwhile
    first, moved = TopupFactory(n=1), TopupFactory(n=2)
    FulfilmentTransaction.objects.filter(pk=moved.pk).update(status="declined")
    first.status = moved.status = "completed"

    # when both are applied from created inside the caller's transaction
    with pytest.raises(IllegalTransition) as refused, transaction.atomic():
        FULFILMENT_TRANSITIONS.apply_many([first, moved], field="status", source="created", fields=["status"])

    # then the caller's transaction rolls back: nothing is written
    assert refused.value.details == {"from": "created"}
    assert _statuses() == [("created", ""), ("declined", "")]


def test_no_rows_write_nothing():
    FULFILMENT_TRANSITIONS.apply_many([], field="status", source="created", fields=["status"])

    assert _statuses() == []
