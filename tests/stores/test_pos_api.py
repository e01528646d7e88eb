"""POST /api/v1/pos/sales: a renewal sold at the counter, cash or card, with the holder's ID checked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import UserFactory
from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.core.models import IdempotencyRecord
from vigencia.ledger.models import LedgerAccount, LedgerTransaction
from vigencia.lines.models import Line
from vigencia.lines.services import line_add
from vigencia.orders.models import RenewalOrder
from vigencia.orders.selectors import order_list
from vigencia.stores.iddocs import id_decrypt
from vigencia.stores.models import Receipt, ReceiptCounter
from vigencia.stores.selectors import WALK_IN_EMAIL
from vigencia.stores.services import shift_close

pytestmark = pytest.mark.django_db


def _sell(client, body, key="tap-1"):
    return client.post_json("/api/v1/pos/sales", body, HTTP_IDEMPOTENCY_KEY=key)


def _balance(code: str) -> int:
    return LedgerAccount.objects.get(code=code).balance.amount_minor


def test_cash_sale_renews_the_subscribers_line_and_numbers_the_receipt(
    agent_api, agent, user, claro, open_shift, counter_store, sale_body
):
    # given a subscriber who registered the number
    line = line_add(owner=user, msisdn="912345678", carrier=claro)

    # when the agent sells the S/ 10 plan for S/ 20 in cash
    response = _sell(agent_api, sale_body())

    # then the sale is a store order paid from the shift's drawer, with receipt number 1 of the store
    assert response.status_code == 201, response.content
    body = response.json()
    receipt = Receipt.objects.get()
    number = f"{counter_store.code}-000001"
    assert body == {
        "order_id": receipt.order_id,
        "receipt": {
            "number": number,
            "verification_code": receipt.verification_code,
            "url": f"/stores/pos/receipts/{number}/",
            "pdf_url": f"/stores/pos/receipts/{number}/pdf/",
        },
    }
    assert len(receipt.verification_code) == 10
    order = RenewalOrder.objects.get()
    assert (order.channel, order.payment_method, order.status) == ("store", "cash", "fulfilling")
    assert (order.payer, order.line, order.amount_minor) == (user, line, 1000)
    assert (receipt.shift, receipt.agent, receipt.store) == (open_shift, agent, counter_store)
    assert (receipt.payment, receipt.tendered_minor, receipt.change_minor) == ("cash", 2000, 1000)
    assert (receipt.id_type, receipt.id_masked, receipt.id_country) == ("dni", "****7410", "")
    assert id_decrypt(receipt.id_number_encrypted) == "10117410"
    assert _balance(f"cash_drawer:shift-{open_shift.pk}:PEN") == -1000
    assert _balance("carrier_payable:claro-pe:PEN") == 1000
    assert list(order_list(payer=user)) == [order]


def test_store_sale_completes_when_the_carrier_confirms(
    agent_api, user, claro, open_shift, sale_body, run_tasks
):
    line_add(owner=user, msisdn="912345678", carrier=claro)
    today = clock.today()
    assert _sell(agent_api, sale_body()).status_code == 201
    order = RenewalOrder.objects.get()

    # when the carrier confirms, the line is renewed and the subscriber sees it in their history
    run_tasks()
    order.refresh_from_db()
    assert order.status == "completed"
    assert order.valid_until_after == today + timedelta(days=7)
    assert list(order_list(payer=user)) == [order]


def test_card_sale_is_paid_from_the_store_terminal_clearing(agent_api, open_shift, counter_store, sale_body):
    response = _sell(agent_api, sale_body(payment={"method": "card", "card_reference": "AUTH-778812"}))

    assert response.status_code == 201, response.content
    receipt = Receipt.objects.get()
    assert (receipt.payment, receipt.card_reference, receipt.tendered_minor) == ("card", "AUTH-778812", None)
    assert receipt.order.payment_method == "card_terminal"
    assert _balance(f"psp_clearing:terminal-{counter_store.pk}:PEN") == -1000
    assert not LedgerAccount.objects.filter(code=f"cash_drawer:shift-{open_shift.pk}:PEN").exists()


def test_walk_in_number_is_registered_to_the_walk_in_holder_once(agent_api, open_shift, sale_body):
    # when two sales renew a number nobody has registered
    first = _sell(agent_api, sale_body(), key="a")
    second = _sell(
        agent_api, sale_body(id_document={"type": "passport", "number": "E1234567", "country": "cn"}), key="b"
    )

    # then one walk-in line carries both orders, and the receipts follow each other
    assert (first.status_code, second.status_code) == (201, 201)
    line = Line.objects.get()
    assert (line.owner.email, line.msisdn, line.owner.has_usable_password()) == (
        WALK_IN_EMAIL,
        "+51912345678",
        False,
    )
    assert list(RenewalOrder.objects.values_list("line", flat=True)) == [line.pk, line.pk]
    assert sorted(Receipt.objects.values_list("sequence", flat=True)) == [1, 2]
    passport = Receipt.objects.get(sequence=2)
    assert (passport.id_type, passport.id_country, passport.id_masked) == ("passport", "CN", "****4567")


def test_double_submit_sells_once_and_answers_the_same(agent_api, open_shift, sale_body):
    first = _sell(agent_api, sale_body())
    second = _sell(agent_api, sale_body())

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert (RenewalOrder.objects.count(), Receipt.objects.count()) == (1, 1)
    assert _balance(f"cash_drawer:shift-{open_shift.pk}:PEN") == -1000


def test_same_key_with_another_body_is_refused(agent_api, open_shift, sale_body):
    _sell(agent_api, sale_body())

    response = _sell(agent_api, sale_body(payment={"method": "cash", "tendered_minor": 5000}))

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Receipt.objects.count() == 1


def test_receipt_numbers_are_per_store(agent_api, agent_at, make_store, open_shift, sale_body, api_for):
    # given a second store with its own agent in an open shift
    other_store = make_store(name="Counter Barranco", carriers="claro-pe")
    other_agent = agent_at(other_store)
    from vigencia.stores.services import shift_open

    shift_open(agent=other_agent, float_minor=0)

    # when both sell
    for key in ("1", "2"):
        assert _sell(agent_api, sale_body(), key=key).status_code == 201
    assert _sell(api_for(other_agent), sale_body(), key="1").status_code == 201

    # then each store counts from 1
    numbers = sorted(Receipt.objects.values_list("store__code", "sequence"))
    assert numbers == sorted([(open_shift.store.code, 1), (open_shift.store.code, 2), (other_store.code, 1)])


def _nothing_written(lines_before: int = 0) -> None:
    assert RenewalOrder.objects.count() == 0
    assert Receipt.objects.count() == 0
    assert LedgerTransaction.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0
    assert Line.objects.count() == lines_before
    assert list(ReceiptCounter.objects.values_list("last_number", flat=True)) in ([], [0])


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"id_document": {"type": "dni", "number": "10117410-5"}}, 422, "invalid_dni_check"),
        ({"id_document": {"type": "ce", "number": "12345678"}}, 422, "invalid_ce"),
        ({"id_document": {"type": "passport", "number": "E1234567"}}, 422, "invalid_country"),
        ({"id_document": {"type": "licence", "number": "12345678"}}, 422, "invalid_id_type"),
        ({"payment": {"method": "cash", "tendered_minor": 999}}, 422, "tendered_too_low"),
        ({"payment": {"method": "cash", "tendered_minor": 21_001}}, 422, "tendered_too_high"),
        ({"id_document": {"type": "dni", "number": "00000000"}}, 422, "invalid_dni"),
        ({"payment": {"method": "cash"}}, 422, "tendered_missing"),
        ({"payment": {"method": "cash", "tendered_minor": -5}}, 422, "invalid_amount"),
        ({"payment": {"method": "card"}}, 422, "invalid_card_reference"),
        ({"payment": {"method": "cheque"}}, 422, "invalid_payment_method"),
        ({"carrier": "entel-pe"}, 422, "carrier_not_served"),
        ({"carrier": "nope"}, 422, "invalid_carrier"),
        ({"msisdn": "12345"}, 422, "invalid_msisdn"),
        ({"plan_id": 999_999}, 422, "invalid_plan"),
        ({"msisdn": "+51 912\x00345"}, 422, "invalid"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(agent_api, open_shift, sale_body, changes, status, code):
    response = _sell(agent_api, sale_body(**changes))

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["message"]
    _nothing_written()


def test_a_number_of_another_carrier_is_refused(agent_api, open_shift, sale_body, user):
    # given the number is registered as a Movistar line
    line_add(owner=user, msisdn="912345678", carrier=Carrier.objects.get(code="movistar-pe"))

    # when the agent sells a Claro plan for it
    response = _sell(agent_api, sale_body())

    assert response.status_code == 422
    assert response.json()["code"] == "msisdn_other_carrier"
    _nothing_written(lines_before=1)


def test_a_plan_of_another_carrier_is_refused(agent_api, open_shift, sale_body):
    movistar_plan = Carrier.objects.get(code="movistar-pe").plans.first()

    response = _sell(agent_api, sale_body(plan_id=movistar_plan.pk))

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_plan"
    _nothing_written()


def test_agent_of_store_a_cannot_sell_for_store_b(agent_api, open_shift, sale_body, make_store):
    store_b = make_store(name="Store B")

    response = _sell(agent_api, sale_body(store_id=store_b.pk))

    assert response.status_code == 403
    assert response.json()["code"] == "wrong_store"
    _nothing_written()


def test_no_sale_without_an_open_shift(agent_api, agent, sale_body):
    response = _sell(agent_api, sale_body())

    assert response.status_code == 409
    assert response.json()["code"] == "no_open_shift"
    _nothing_written()


def test_no_sale_in_a_closed_shift(agent_api, agent, open_shift, sale_body):
    shift_close(agent=agent, counted_minor=10_000)

    response = _sell(agent_api, sale_body())

    assert response.status_code == 409
    assert response.json()["code"] == "no_open_shift"
    _nothing_written()


def test_someone_who_is_not_an_agent_cannot_sell(api, sale_body, demo_catalog):
    response = _sell(api, sale_body())

    assert response.status_code == 403
    assert response.json()["code"] == "not_a_store_agent"
    _nothing_written()


def test_an_inactive_agent_cannot_sell(agent_api, agent, open_shift, sale_body):
    agent.store_agent.active = False
    agent.store_agent.save()

    response = _sell(agent_api, sale_body())

    assert response.status_code == 403
    _nothing_written()


def test_without_idempotency_key_nothing_is_sold(agent_api, open_shift, sale_body):
    response = agent_api.post_json("/api/v1/pos/sales", sale_body())

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_required"
    _nothing_written()


def test_anonymous_is_401(anon_api, sale_body):
    response = _sell(anon_api, sale_body())

    assert response.status_code == 401


def test_walk_in_holder_is_not_a_subscriber_of_anyone(agent_api, open_shift, sale_body):
    _sell(agent_api, sale_body())
    stranger = UserFactory()

    assert list(order_list(payer=stranger)) == []
