"""Wallet cards: batches worth a face value instead of a plan, redeemed into the wallet of whoever
redeems one (issue 5: "a batch: plan (or a face value credited to the wallet)")."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile

import pytest
from django.core.management import call_command
from django.test import Client

from vigencia.core.money import Money
from vigencia.ledger.selectors import wallet_balance
from vigencia.ledger.services import account_system
from vigencia.notifications.models import Notification
from vigencia.orders.models import RenewalOrder
from vigencia.vouchers import services
from vigencia.vouchers.codes import pin_display
from vigencia.vouchers.models import AttemptCounter, VoucherBatch, VoucherCode

from ..conftest import ApiClient

pytestmark = pytest.mark.django_db

S20 = Money(2_000, "PEN")


def _redeem(api, pin, **body):
    return api.post_json("/api/v1/vouchers/redeem", {"pin": pin, **body}, REMOTE_ADDR="10.1.1.1")


def test_a_wallet_card_credits_the_wallet_of_who_redeems_it_once(api, user, make_batch):
    # given two wallet cards of S/ 20 sold to a reseller
    made = make_batch(2, plan=None, face=S20)
    assert account_system(
        kind="voucher_liability", currency="PEN", key=made.batch.liability_key
    ).balance == Money(4_000, "PEN")

    # when a subscriber with no line redeems one by its PIN alone
    first = _redeem(api, pin_display(made.pins[0]))
    again = _redeem(api, made.pins[0])

    # then S/ 20 is in their wallet, the code is used, and no renewal order exists
    assert first.status_code == 200, first.content
    assert first.json() == {
        "kind": "wallet_credit",
        "credited": {"amount_minor": 2_000, "currency": "PEN"},
        "balance": {"amount_minor": 2_000, "currency": "PEN"},
    }
    assert wallet_balance(user=user) == S20
    code = VoucherCode.objects.get(serial=made.serials[0])
    assert (code.status, code.redeemed_by, code.order_id) == ("redeemed", user, None)
    assert RenewalOrder.objects.count() == 0
    assert account_system(
        kind="voucher_liability", currency="PEN", key=made.batch.liability_key
    ).balance == Money(2_000, "PEN")
    assert list(Notification.objects.filter(user=user).values_list("kind", flat=True)) == ["wallet_topped_up"]
    # and a second redemption gets the one answer for every unusable code
    assert (again.status_code, again.json()["code"]) == (422, "voucher_invalid")
    assert wallet_balance(user=user) == S20


def test_a_wallet_card_given_with_a_line_still_goes_to_the_wallet(api, user, line, make_batch):
    made = make_batch(1, plan=None, face=S20)

    response = _redeem(api, made.pins[0], line_id=line.pk)

    assert response.json()["kind"] == "wallet_credit"
    assert wallet_balance(user=user) == S20
    assert RenewalOrder.objects.count() == 0


def test_a_plans_code_without_a_line_is_refused_and_stays_unused_and_uncounted(api, make_batch):
    made = make_batch(1)

    response = _redeem(api, made.pins[0])

    assert (response.status_code, response.json()["code"]) == (422, "line_required")
    assert VoucherCode.objects.get().status == "active"
    assert not AttemptCounter.objects.exists()


def test_half_a_gift_is_refused_before_the_pin_is_read(api, make_batch):
    made = make_batch(1, plan=None, face=S20)

    response = _redeem(api, made.pins[0], msisdn="+51 912 345 678")

    assert (response.status_code, response.json()["code"]) == (422, "line_required")
    assert VoucherCode.objects.get().status == "active"


def test_at_a_counter_a_wallet_card_is_refused_and_stays_unused(make_batch, user, reseller):
    made = make_batch(1, plan=None, face=S20)

    with pytest.raises(services.InvalidInput) as refused:
        services.voucher_redeem(pin=made.pins[0], redeemer=reseller, ip=None, holder=user, channel="pos")

    assert refused.value.code == "wallet_card_online_only"
    assert VoucherCode.objects.get().status == "active"
    assert wallet_balance(user=user) == Money(0, "PEN")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"plan": None, "face": Money(2_000, "USD")}, "invalid_currency"),
        ({"plan": None, "face": Money(1, "PEN")}, "invalid_amount"),
        ({"plan": None, "face": Money(10_000_000, "PEN")}, "invalid_amount"),
        ({"plan": None}, "plan_or_value"),
        ({"face": S20}, "plan_or_value"),
    ],
)
def test_bad_wallet_cards_are_refused_and_nothing_is_written(make_batch, reseller, kwargs, code):
    with pytest.raises(services.InvalidInput) as refused:
        make_batch(1, **kwargs)

    assert refused.value.code == code
    assert not VoucherBatch.objects.exists()
    assert services.reseller_prepaid_account(reseller=reseller, currency="PEN").balance == Money(
        100_000, "PEN"
    )


def test_a_reseller_buys_wallet_cards_by_api_and_their_export_names_no_plan(reseller, plan):
    _row, key = services.reseller_api_key_issue(user=reseller, name="shop")
    api = ApiClient(key)

    response = api.post_json(
        "/api/v1/reseller/batches",
        {"face_value": {"amount_minor": 2_000, "currency": "pen"}, "count": 2},
        HTTP_IDEMPOTENCY_KEY="w1",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["plan_id"], body["plan_code"], body["face_value"]) == (
        None,
        None,
        {"amount_minor": 2_000, "currency": "PEN"},
    )
    assert api.get("/api/v1/reseller/balance").json()["balance"] == {
        "amount_minor": 96_000,
        "currency": "PEN",
    }
    export = zipfile.ZipFile(io.BytesIO(api.post(f"/api/v1/reseller/batches/{body['id']}/export").content))
    rows = list(csv.DictReader(io.StringIO(export.read("codes.csv").decode())))
    assert [(r["plan_code"], r["plan_name"], r["face_value_minor"]) for r in rows] == [
        ("", "Wallet card", "2000")
    ] * 2
    assert export.read("cards.pdf").startswith(b"%PDF")


def test_a_batch_by_api_with_both_a_plan_and_a_value_is_refused(reseller, plan):
    _row, key = services.reseller_api_key_issue(user=reseller, name="shop")

    response = ApiClient(key).post_json(
        "/api/v1/reseller/batches",
        {"plan_id": plan.pk, "face_value": {"amount_minor": 2_000, "currency": "PEN"}, "count": 2},
        HTTP_IDEMPOTENCY_KEY="w2",
        HTTP_ACCEPT_LANGUAGE="es",
    )

    assert (response.status_code, response.json()["code"]) == (422, "plan_or_value")
    assert not VoucherBatch.objects.exists()


def test_the_cli_generates_wallet_cards(tmp_path, reseller, plan):
    out = tmp_path / "cards.csv"

    call_command(
        "vouchers", "generate", "--wallet", "20", "--count", "3", "--reseller", reseller.email,
        "--out", str(out), "--no-progress",
    )  # fmt: skip

    batch = VoucherBatch.objects.get()
    assert (batch.plan, batch.face) == (None, S20)
    assert [row["face_value_minor"] for row in csv.DictReader(out.open())] == ["2000"] * 3


def test_a_subscriber_redeems_a_wallet_card_in_the_portal_and_lands_on_the_wallet(user, make_batch):
    made = make_batch(1, plan=None, face=S20)
    browser = Client()
    browser.force_login(user)

    response = browser.post(
        "/vouchers/redeem/", {"pin": pin_display(made.pins[0])}, HTTP_ACCEPT_LANGUAGE="es", follow=True
    )

    assert response.redirect_chain == [("/wallet/", 302)]
    assert "Listo: S/\xa020.00 ya está en tu billetera." in response.content.decode()
    assert "Tarjeta de billetera" in response.content.decode()  # the wallet's history says where it came from


def test_a_reseller_buys_wallet_cards_on_the_stock_page(reseller, plan):
    browser = Client()
    browser.force_login(reseller)
    page = browser.get("/vouchers/reseller/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Or wallet cards worth" in page

    body = {"face_value": "20.00", "currency": "PEN", "count": "2", "idempotency_key": str(uuid.uuid4())}
    response = browser.post("/vouchers/reseller/buy/", body, HTTP_ACCEPT_LANGUAGE="en", follow=True)

    batch = VoucherBatch.objects.get()
    assert (batch.plan, batch.face, batch.count) == (None, S20, 2)
    listed = response.content.decode()
    assert f"<td>{batch.pk}</td><td>Wallet credit S/\xa020.00</td><td>2</td>" in listed
