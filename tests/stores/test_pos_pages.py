"""The counter pages: open a shift, find a number, sell with the ID check, land on the receipt."""

from __future__ import annotations

import uuid

import pytest

from vigencia.lines.services import line_add
from vigencia.orders.models import RenewalOrder
from vigencia.stores.models import Receipt, Shift

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("base_template")]


def _sale_form(plan, **changes):
    data = {
        "plan": plan.pk,
        "id_type": "dni",
        "id_number": "10117410G",
        "id_country": "",
        "payment": "cash",
        "tendered": "50.00",
        "card_reference": "",
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(changes)
    return data


SALE_URL = "/stores/pos/sale/?msisdn=912345678&carrier=claro-pe"


def test_agent_opens_a_shift_from_the_counter(client, agent):
    client.force_login(agent)
    assert "Open a shift" in client.get("/stores/pos/").content.decode()

    response = client.post("/stores/pos/shift/open/", {"float_amount": "150.50"})

    assert response.status_code == 302
    assert Shift.objects.get().float_minor == 15_050
    assert "Find a line" in client.get("/stores/pos/").content.decode()


def test_lookup_shows_the_lines_status_and_deadline(client, agent, open_shift, user, claro):
    line_add(owner=user, msisdn="912345678", carrier=claro)
    client.force_login(agent)

    html = client.get(SALE_URL).content.decode()

    assert "+51 912 345 678" in html
    assert "Active" in html
    assert "Claro Max S/ 10 · 7 days" in html


def test_lookup_of_a_bad_number_stays_on_the_counter(client, agent, open_shift):
    client.force_login(agent)

    response = client.get("/stores/pos/sale/?msisdn=12&carrier=claro-pe")

    assert response.status_code == 422
    assert "This is not a valid mobile number" in response.content.decode()


def test_sale_lands_on_the_receipt_and_a_double_submit_sells_once(client, agent, open_shift, claro_plan):
    client.force_login(agent)
    form = _sale_form(claro_plan)

    first = client.post(SALE_URL, form)
    second = client.post(SALE_URL, form)

    receipt = Receipt.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/stores/pos/receipts/{receipt.number}/"
    assert (receipt.tendered_minor, receipt.change_minor) == (5_000, 4_000)
    assert RenewalOrder.objects.count() == 1
    counter = client.get("/stores/pos/").content.decode()
    assert "cash taken S/\xa010.00 · 1 renewal\n" in counter


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id_number": "10117410-5"}, "The DNI&#x27;s check character does not match its number."),
        ({"id_type": "ce", "id_number": "12345678"}, "A carné de extranjería has 9 digits."),
        ({"tendered": "9.99"}, "is less than the price"),
        ({"payment": "card"}, "Enter the terminal&#x27;s reference"),
    ],
)
def test_bad_sale_shows_the_error_and_writes_nothing(client, agent, open_shift, claro_plan, changes, message):
    client.force_login(agent)

    response = client.post(SALE_URL, _sale_form(claro_plan, **changes))

    assert response.status_code == 422
    assert message in response.content.decode()
    assert (RenewalOrder.objects.count(), Receipt.objects.count()) == (0, 0)


def test_without_a_shift_the_sale_page_sends_back_to_the_counter(client, agent, claro_plan):
    client.force_login(agent)

    response = client.post(SALE_URL, _sale_form(claro_plan))

    assert response.status_code == 302
    assert response["Location"] == "/stores/pos/"
    assert Receipt.objects.count() == 0


def test_the_counter_makes_the_agent_choose_the_carrier(client, agent, open_shift):
    # given an agent at a counter that sells several carriers
    client.force_login(agent)

    # when the counter opens, and when a number is looked up without a carrier
    counter = client.get("/stores/pos/").content.decode()
    response = client.get("/stores/pos/sale/?msisdn=912345678&carrier=")

    # then no carrier is chosen for them, and the lookup asks for one
    assert '<option value="" selected>Choose the carrier</option>' in counter
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
