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

    response = client.post("/stores/pos/shift/open/", {"float_amount": "S/ 150,50"})

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
    assert '<dd class="pos-cash-sales">1 · S/\xa010.00</dd>' in counter


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


@pytest.mark.parametrize("typed", ["20", "20.00", "20,00", "S/ 20", "S/. 20", " 20 ", "s/20,0"])
def test_the_cash_tendered_is_read_as_agents_type_it(client, agent, open_shift, claro_plan, typed):
    # given a S/ 10 plan
    client.force_login(agent)

    # when the agent types S/ 20 tendered in any of the usual ways
    response = client.post(SALE_URL, _sale_form(claro_plan, tendered=typed))

    # then it is read as S/ 20.00 and S/ 10.00 is the change
    assert response.status_code == 302
    receipt = Receipt.objects.get()
    assert (receipt.tendered_minor, receipt.change_minor) == (2_000, 1_000)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Enter an amount in soles, such as 20 or 20.50."),
        ("-5", "Enter an amount in soles, such as 20 or 20.50."),
        ("1e9", "Enter an amount in soles, such as 20 or 20.50."),
        ("1e3", "Enter an amount in soles, such as 20 or 20.50."),
        ("20.001", "Enter an amount in soles, such as 20 or 20.50."),
        ("NaN", "Enter an amount in soles, such as 20 or 20.50."),
        ("1,000.00", "Enter an amount in soles, such as 20 or 20.50."),
        ("200000", "Enter an amount of at most S/ 100,000.00."),
        (
            "5000",
            "The cash tendered (S/\xa05,000.00) is more than the price (S/\xa010.00) plus S/\xa0200.00, "
            "the largest change the counter gives; check the amount.",
        ),
    ],
)
def test_junk_or_absurd_cash_tendered_is_refused(client, agent, open_shift, claro_plan, typed, message):
    client.force_login(agent)

    response = client.post(SALE_URL, _sale_form(claro_plan, tendered=typed))

    assert response.status_code == 422
    assert message in response.content.decode()
    assert (RenewalOrder.objects.count(), Receipt.objects.count()) == (0, 0)


def test_the_error_about_the_amount_is_in_the_agents_language(client, agent, open_shift, claro_plan):
    client.force_login(agent)

    response = client.post(SALE_URL, _sale_form(claro_plan, tendered="abc"), HTTP_ACCEPT_LANGUAGE="es")

    assert "Ingrese un monto en soles, como 20 o 20.50." in response.content.decode()


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
