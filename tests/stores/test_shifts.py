"""Shifts: opened with a float, closed with the counted cash (the difference goes to the ledger),
reviewed by a supervisor in the back office."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from vigencia.core.errors import Conflict, InvalidInput, PermissionDenied
from vigencia.core.transitions import IllegalTransition
from vigencia.ledger.models import LedgerAccount, LedgerTransaction
from vigencia.stores.models import Shift, ShiftEvent
from vigencia.stores.services import shift_close, shift_open, shift_review

pytestmark = pytest.mark.django_db


def _balance(code: str) -> int:
    return LedgerAccount.objects.get(code=code).balance.amount_minor


def _sell_cash(agent_api, sale_body, key: str) -> None:
    response = agent_api.post_json("/api/v1/pos/sales", sale_body(), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content


def test_open_shift_records_the_float_and_an_event(agent, counter_store):
    shift = shift_open(agent=agent, float_minor=5_000)

    assert (shift.status, shift.store, shift.float_minor, shift.currency) == (
        "open",
        counter_store,
        5_000,
        "PEN",
    )
    assert list(ShiftEvent.objects.values_list("from_status", "to_status", "data")) == [
        ("", "open", {"float_minor": 5_000})
    ]


def test_a_second_open_shift_is_refused(agent, open_shift):
    with pytest.raises(Conflict) as error:
        shift_open(agent=agent, float_minor=0)

    assert error.value.code == "shift_already_open"
    assert Shift.objects.count() == 1


@pytest.mark.parametrize("amount", [-1, 10_000_001, "100", 1.5, True])
def test_a_bad_float_is_refused_and_writes_nothing(agent, amount):
    with pytest.raises(InvalidInput) as error:
        shift_open(agent=agent, float_minor=amount)

    assert error.value.code == "invalid_amount"
    assert Shift.objects.count() == 0


def test_someone_who_is_not_an_agent_cannot_open_a_shift(user):
    with pytest.raises(PermissionDenied):
        shift_open(agent=user, float_minor=0)

    assert Shift.objects.count() == 0


def test_close_with_the_expected_cash_posts_nothing(agent, open_shift, agent_api, sale_body):
    # given a float of S/ 100 and two S/ 10 cash sales
    _sell_cash(agent_api, sale_body, "1")
    _sell_cash(agent_api, sale_body, "2")
    before = LedgerTransaction.objects.count()

    # when the agent counts exactly S/ 120
    shift = shift_close(agent=agent, counted_minor=12_000)

    # then the shift is closed with no difference and no ledger movement
    assert (shift.status, shift.expected_minor, shift.counted_minor, shift.difference_minor) == (
        "closed",
        12_000,
        12_000,
        0,
    )
    assert LedgerTransaction.objects.count() == before


def test_close_with_a_shortage_records_the_difference_in_the_ledger(agent, open_shift, agent_api, sale_body):
    # given a float of S/ 100 and one S/ 10 cash sale: S/ 110 expected
    _sell_cash(agent_api, sale_body, "1")
    drawer = f"cash_drawer:shift-{open_shift.pk}:PEN"
    assert _balance(drawer) == -1_000

    # when the agent counts S/ 105
    shift = shift_close(agent=agent, counted_minor=10_500)

    # then S/ 5 short is posted drawer -> adjustments, and the drawer now matches the count
    assert (shift.expected_minor, shift.counted_minor, shift.difference_minor) == (11_000, 10_500, -500)
    entry = LedgerTransaction.objects.get(kind="cash_difference")
    assert (entry.idempotency_key, entry.reference) == (f"shift:{shift.pk}:close", f"shift:{shift.pk}")
    assert sorted(entry.postings.values_list("account__code", "amount_minor")) == [
        ("adjustments:PEN", -500),
        (drawer, 500),
    ]
    assert _balance(drawer) == -(10_500 - 10_000)
    assert list(shift.events.values_list("to_status", flat=True)) == ["open", "closed"]


def test_close_with_a_surplus(agent, open_shift):
    shift = shift_close(agent=agent, counted_minor=10_250)

    assert shift.difference_minor == 250
    assert _balance("adjustments:PEN") == 250
    assert _balance(f"cash_drawer:shift-{open_shift.pk}:PEN") == -250


def test_close_without_an_open_shift_is_refused(agent):
    with pytest.raises(Conflict) as error:
        shift_close(agent=agent, counted_minor=0)

    assert error.value.code == "no_open_shift"


def test_a_supervisor_reviews_a_closed_shift_once(agent, open_shift):
    supervisor = UserFactory(is_staff=True)
    shift = shift_close(agent=agent, counted_minor=10_000)

    shift_review(shift=shift, supervisor=supervisor, note="ok")

    shift.refresh_from_db()
    assert (shift.status, shift.reviewed_by, shift.review_note) == ("reviewed", supervisor, "ok")
    with pytest.raises(IllegalTransition):
        shift_review(shift=shift, supervisor=supervisor)


def test_an_open_shift_cannot_be_reviewed_nor_by_an_agent(agent, open_shift):
    with pytest.raises(IllegalTransition):
        shift_review(shift=open_shift, supervisor=UserFactory(is_staff=True))
    with pytest.raises(PermissionDenied):
        shift_review(shift=open_shift, supervisor=agent)

    open_shift.refresh_from_db()
    assert open_shift.status == "open"


def test_operator_reviews_in_the_back_office(agent, open_shift, client, seeded_operator, base_template):
    # given a shift closed S/ 5 short
    shift = shift_close(agent=agent, counted_minor=9_500)
    client.force_login(seeded_operator)

    # the changelist shows expected, counted and difference
    page = client.get("/admin/stores/shift/")
    assert page.status_code == 200
    assert "-S/\xa05.00" in page.content.decode()

    # when the operator runs the review action
    response = client.post(
        "/admin/stores/shift/", {"action": "review", "_selected_action": [shift.pk]}, follow=True
    )

    assert response.status_code == 200
    shift.refresh_from_db()
    assert (shift.status, shift.reviewed_by) == ("reviewed", seeded_operator)


def test_close_page_shows_expected_and_records_the_count(agent, open_shift, client, base_template):
    client.force_login(agent)

    page = client.get("/stores/pos/shift/close/")
    assert page.status_code == 200
    assert "S/\xa0100.00" in page.content.decode()

    response = client.post("/stores/pos/shift/close/", {"counted": "99.50"}, follow=True)

    assert response.status_code == 200
    open_shift.refresh_from_db()
    assert (open_shift.status, open_shift.difference_minor) == ("closed", -50)
    assert "-S/\xa00.50" in response.content.decode()


def test_close_page_refuses_a_bad_count(agent, open_shift, client, base_template):
    client.force_login(agent)

    response = client.post("/stores/pos/shift/close/", {"counted": "-3"})

    assert response.status_code == 422
    open_shift.refresh_from_db()
    assert open_shift.status == "open"
