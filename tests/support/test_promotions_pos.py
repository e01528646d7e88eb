"""Promotions at the store counter: the same order pipeline applies a code (or an automatic campaign)
to a POS sale, the cash is checked against the price after it, the change and the drawer agree, and a
code that does not apply says why and sells nothing."""

from datetime import timedelta

import pytest

from tests.conftest import ApiClient
from vigencia.accounts.services import api_token_issue
from vigencia.catalog.models import Promotion
from vigencia.core import clock
from vigencia.ledger.selectors import ledger_totals
from vigencia.orders.models import RenewalOrder
from vigencia.stores.models import Receipt

pytestmark = pytest.mark.django_db


def _promotion(**fields):
    now = clock.now()
    return Promotion.objects.create(
        **{
            "name": "Counter",
            "kind": "fixed_off",
            "amount_off_minor": 200,
            "currency": "PEN",
            "starts_at": now - timedelta(days=1),
            "ends_at": now + timedelta(days=1),
            **fields,
        }
    )


@pytest.fixture
def counter(cashier):
    _row, token = api_token_issue(user=cashier)
    return ApiClient(token)


def _sell(counter, plan, key, **changes):
    body = {
        "msisdn": "+51 912 345 678",
        "carrier": "claro-pe",
        "plan_id": plan.pk,
        "id_document": {"type": "dni", "number": "10117410-2"},
        "payment": {"method": "cash", "tendered_minor": 900},
        **changes,
    }
    return counter.post_json("/api/v1/pos/sales", body, HTTP_IDEMPOTENCY_KEY=key)


def test_a_store_code_takes_two_soles_off_the_cash_price_once(counter, line, plan):
    # given a S/ 2.00-off code for store sales, usable once
    _promotion(code="TIENDA2", channels=["store"], max_uses=1)

    # when the cashier sells the S/ 10 plan with it, taking S/ 9.00 in cash
    sold = _sell(counter, plan, "a", promo_code="tienda2")

    # then S/ 8.00 is charged, S/ 1.00 is the change, the drawer takes 8 and promotions expense 2
    assert sold.status_code == 201, sold.content
    order = RenewalOrder.objects.get()
    assert (order.channel, order.amount_minor, order.discount_minor) == ("store", 800, 200)
    assert Receipt.objects.get().change_minor == 100
    totals = ledger_totals()
    assert totals["cash_drawer"] == {"PEN": -800}
    assert totals["promotions_expense"] == {"PEN": -200}
    assert totals["carrier_payable"] == {"PEN": 1000}

    # and the second use is refused with its reason, selling nothing
    again = _sell(counter, plan, "b", promo_code="TIENDA2")
    assert (again.status_code, again.json()["code"]) == (422, "promo_limit_reached")
    assert (RenewalOrder.objects.count(), Receipt.objects.count()) == (1, 1)


@pytest.mark.parametrize(
    ("fields", "tendered", "code"),
    [
        ({"code": "ONLINE2", "channels": ["online"]}, 900, "promo_other_channel"),
        ({"code": "ONLINE2", "ends_at": clock.now() - timedelta(hours=1)}, 900, "promo_expired"),
        ({"code": "ONLINE2"}, 700, "tendered_too_low"),
    ],
)
def test_a_code_that_does_not_apply_or_too_little_cash_sells_nothing(
    counter, line, plan, fields, tendered, code
):
    _promotion(
        **{"starts_at": clock.now() - timedelta(days=2), **fields},
    )

    refused = _sell(
        counter, plan, "k", promo_code="online2", payment={"method": "cash", "tendered_minor": tendered}
    )

    assert (refused.status_code, refused.json()["code"]) == (422, code)
    assert (RenewalOrder.objects.count(), Receipt.objects.count()) == (0, 0)
    assert Promotion.objects.get().uses_count == 0


def test_an_automatic_store_campaign_applies_on_the_pos_page_and_the_receipt_shows_the_price_paid(
    client, cashier, line, plan
):
    _promotion(code="", name="Counter week", channels=["store"])
    client.force_login(cashier)
    page = client.get("/stores/pos/sale/", {"msisdn": "912345678", "carrier": "claro-pe"})
    assert 'name="promo_code"' in page.content.decode()

    response = client.post(
        "/stores/pos/sale/?msisdn=912345678&carrier=claro-pe",
        {
            "plan": plan.pk,
            "id_type": "dni",
            "id_number": "10117410-2",
            "payment": "cash",
            "tendered": "10.00",
            "promo_code": "",
            "idempotency_key": "00000000-0000-0000-0000-00000000000a",
        },
    )

    receipt = Receipt.objects.get()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert (receipt.order.amount_minor, receipt.change_minor) == (800, 200)
    shown = client.get(response["Location"]).content.decode()
    assert "S/\xa08.00" in shown
    assert "S/\xa02.00" in shown
