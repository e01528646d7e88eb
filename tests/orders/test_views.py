"""The renewal in the portal: choose a plan, review and pay, follow the order, receipt, history, wallet.

Every page is the subscriber's own (another's line or order is a 404), bad input writes nothing, and a
double-submitted form buys once."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.core.models import IdempotencyRecord
from vigencia.ledger.models import LedgerTransaction
from vigencia.ledger.selectors import wallet_balance
from vigencia.lines.services import line_add
from vigencia.notifications.models import Notification
from vigencia.orders.models import RenewalOrder, WalletTopup
from vigencia.payments.models import PaymentIntent
from vigencia.payments.services import payment_fail

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other_line(other_user, claro):
    return line_add(owner=other_user, msisdn="+51 987 654 321", carrier=claro)


def _pay(client, line, plan, method, key=None, **extra):
    data = {"payment_method": method, "promo_code": "", "idempotency_key": str(key or uuid.uuid4()), **extra}
    return client.post(f"/renew/{line.pk}/{plan.pk}/", data)


def _nothing_written() -> None:
    assert RenewalOrder.objects.count() == 0
    assert PaymentIntent.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0


# -- choose a plan ---------------------------------------------------------------------------------


def test_choose_lists_the_carriers_plans_with_the_new_valid_until(client, user, claro):
    # given a Claro line valid for 20 more days
    valid_until = clock.today() + timedelta(days=20)
    line = line_add(owner=user, msisdn="+51 912 345 678", carrier=claro, valid_until=valid_until)

    # when the subscriber opens its renewal page
    response = client.get(f"/renew/{line.pk}/")

    # then every plan on sale links to its review, with the date it moves the deadline to
    assert response.status_code == 200
    plans = list(Plan.objects.filter(carrier=claro, is_active=True).order_by("price_minor"))
    links = re.findall(r'href="/renew/\d+/(\d+)/"', response.content.decode())
    assert sorted(int(pk) for pk in links) == sorted(plan.pk for plan in plans)
    seven_days = valid_until + timedelta(days=7)
    assert (
        f"new valid until {seven_days:%b}. {seven_days.day}, {seven_days.year}" in response.content.decode()
    )


def test_pages_of_another_users_line_are_not_found(client, other_line, plan):
    assert client.get(f"/renew/{other_line.pk}/").status_code == 404
    assert client.get(f"/renew/{other_line.pk}/{plan.pk}/").status_code == 404
    assert _pay(client, other_line, plan, "wallet").status_code == 404
    _nothing_written()


def test_a_plan_of_another_carrier_or_unknown_is_not_found(client, line, demo_catalog):
    foreign = Plan.objects.exclude(carrier=line.carrier).first()
    assert client.get(f"/renew/{line.pk}/{foreign.pk}/").status_code == 404
    assert _pay(client, line, foreign, "wallet").status_code == 404
    assert client.get(f"/renew/{line.pk}/999999/").status_code == 404
    _nothing_written()


def test_anonymous_visitors_are_sent_to_log_in(line, plan):
    anonymous = Client()
    for path in (f"/renew/{line.pk}/", f"/renew/{line.pk}/{plan.pk}/", "/orders/", "/wallet/"):
        response = anonymous.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"


# -- review and pay --------------------------------------------------------------------------------


def test_review_offers_only_what_can_be_paid_online(client, line, plan):
    response = client.get(f"/renew/{line.pk}/{plan.pk}/")

    assert response.status_code == 200
    methods = re.findall(r'name="payment_method" value="([a-z_]+)"', response.content.decode())
    assert methods == ["wallet", "sandbox_card", "sandbox_ewallet", "sandbox_paypal"]
    assert "Pay S/\xa010.00" in response.content.decode()


def test_wallet_renewal_goes_to_the_order_page_and_completes(
    client, user, line, plan, fund_wallet, run_tasks
):
    # given S/ 25.00 in the wallet
    fund_wallet(user, 2500)

    # when the subscriber pays the S/ 10 plan from the wallet
    response = _pay(client, line, plan, "wallet")

    # then they follow the order, charged at once
    order = RenewalOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.pk}/"
    assert wallet_balance(user=user).amount_minor == 1500
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Paid. Sending the recharge to the carrier…" in page
    assert f'data-follow-url="/orders/{order.pk}/status/"' in page
    assert client.get(f"/orders/{order.pk}/status/").json() == {"status": "fulfilling", "final": False}

    # and when the worker runs, the page shows the new valid-until and the receipt
    run_tasks()
    valid_until = clock.today() + timedelta(days=7)
    assert client.get(f"/orders/{order.pk}/status/").json() == {"status": "completed", "final": True}
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Done! Your line is renewed." in page
    assert (
        f"+51 912 345 678 is now valid until {valid_until:%b}. {valid_until.day}, {valid_until.year}." in page
    )
    assert "data-follow-url" not in page
    receipt = client.get(f"/orders/{order.pk}/receipt/")
    assert receipt.status_code == 200
    assert f"R-{order.pk:08d}" in receipt.content.decode()
    assert "orders/orders.css" in receipt.content.decode()  # with its print stylesheet


def test_double_submit_of_one_form_buys_once(client, user, line, plan, fund_wallet):
    # given one rendered form (one idempotency key) sent twice, as a double tap does
    fund_wallet(user, 2500)
    key = uuid.uuid4()

    first = _pay(client, line, plan, "wallet", key=key)
    second = _pay(client, line, plan, "wallet", key=key)

    # then one order is bought and both answers lead to it
    order = RenewalOrder.objects.get()
    assert first["Location"] == second["Location"] == f"/orders/{order.pk}/"
    assert wallet_balance(user=user).amount_minor == 1500
    assert LedgerTransaction.objects.filter(kind="order_payment").count() == 1


def test_the_same_form_sent_again_with_other_choices_writes_nothing_new(
    client, user, line, plan, fund_wallet
):
    # given a card order made from a form (the back button then keeps its key)
    fund_wallet(user, 2500)
    key = uuid.uuid4()
    _pay(client, line, plan, "sandbox_card", key=key)

    # when the same form is sent with the wallet chosen
    response = _pay(client, line, plan, "wallet", key=key)

    # then it asks to check the choices, offers a fresh key, and nothing else was bought
    assert response.status_code == 200
    page = response.content.decode()
    assert "This page was already sent with other choices. Check them and try again." in page
    assert str(key) not in page
    assert RenewalOrder.objects.count() == 1
    assert wallet_balance(user=user).amount_minor == 2500


def test_card_renewal_goes_to_the_sandbox_checkout(client, line, plan):
    response = _pay(client, line, plan, "sandbox_card")

    order = RenewalOrder.objects.get()
    intent = PaymentIntent.objects.get(public_id=order.payment_id)
    assert response["Location"] == f"/payments/sandbox/checkout/{intent.public_id}/"
    assert order.status == "pending_payment"
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "This renewal is waiting for you to pay." in page
    assert f'href="/payments/sandbox/checkout/{intent.public_id}/"' in page


def test_a_wallet_without_funds_explains_and_writes_nothing(client, user, line, plan, fund_wallet):
    # given S/ 5.00 in the wallet, short of the S/ 10 plan
    fund_wallet(user, 500)
    transactions = LedgerTransaction.objects.count()

    response = _pay(client, line, plan, "wallet")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page
    assert 'href="/wallet/">Top up your wallet</a>' in page
    _nothing_written()
    assert LedgerTransaction.objects.count() == transactions
    assert wallet_balance(user=user).amount_minor == 500


@pytest.mark.parametrize(
    "data",
    [
        {"payment_method": "cash", "idempotency_key": str(uuid.UUID(int=1))},
        {"payment_method": "voucher", "idempotency_key": str(uuid.UUID(int=2))},
        {"payment_method": "wallet", "idempotency_key": "not-a-uuid"},
        {"payment_method": "wallet"},
        {"payment_method": "sandbox_card", "idempotency_key": str(uuid.UUID(int=3)), "promo_code": "x" * 41},
        {},
    ],
)
def test_bad_checkout_input_is_a_form_error_and_writes_nothing(client, line, plan, data):
    response = client.post(f"/renew/{line.pk}/{plan.pk}/", data)

    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    _nothing_written()


def test_an_unknown_promotion_code_is_a_form_error_and_writes_nothing(client, line, plan):
    response = _pay(client, line, plan, "sandbox_card", promo_code="NOPE")

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    _nothing_written()


# -- the result: declined card, carrier decline ----------------------------------------------------


def test_a_declined_card_says_so_and_charges_nothing(client, user, line, plan, run_tasks):
    _pay(client, line, plan, "sandbox_card")
    order = RenewalOrder.objects.get()

    # when the subscriber pays with the declined test card
    response = client.post(
        f"/payments/sandbox/checkout/{order.payment_id}/",
        {"number": "4000 0000 0000 0002", "expiry": "12/40", "cvc": "123"},
    )
    assert response["Location"] == f"/orders/{order.pk}/"
    run_tasks()

    # then the order page says nothing was charged and why
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "The payment did not go through. Nothing was charged." in page
    assert "Your bank declined the card." in page
    assert client.get(f"/orders/{order.pk}/receipt/").status_code == 404
    assert wallet_balance(user=user).amount_minor == 0
    assert LedgerTransaction.objects.count() == 0
    assert Notification.objects.filter(user=user).count() == 0


def test_the_readmes_carrier_decline_number_ends_with_the_card_payment_back_in_the_wallet(
    client, user, claro, plan, run_tasks
):
    # given the line the README gives for trying a carrier decline, added in the portal
    client.post(
        "/lines/add/",
        {"carrier": claro.pk, "msisdn": "+51 999 000 002", "nickname": "", "last_recharge_at": ""},
    )
    line = user.lines.get()
    valid_until = line.valid_until

    # when it is renewed with the succeeding test card
    _pay(client, line, plan, "sandbox_card")
    order = RenewalOrder.objects.get()
    client.post(
        f"/payments/sandbox/checkout/{order.payment_id}/",
        {"number": "4242 4242 4242 4242", "expiry": "12/40", "cvc": "123"},
    )
    run_tasks()

    # then the carrier declined, the S/ 10.00 paid is in the wallet, the line is unchanged, and the
    # page and a message say so
    order.refresh_from_db()
    line.refresh_from_db()
    assert (order.status, order.failure_code) == ("refunded", "carrier_declined")
    assert line.valid_until == valid_until
    assert wallet_balance(user=user).amount_minor == 1000
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "The carrier could not renew this line." in page
    assert "We returned S/\xa010.00 to your wallet." in page
    assert list(Notification.objects.filter(user=user).values_list("kind", flat=True)) == ["renewal_failed"]


def test_a_declined_e_wallet_payment_is_not_called_a_card(client, user, line, plan, run_tasks):
    _pay(client, line, plan, "sandbox_ewallet")
    order = RenewalOrder.objects.get()

    # when the subscriber declines in the Yape-style app (approval code 000000)
    client.post(f"/payments/sandbox/checkout/{order.payment_id}/", {"phone": "912 345 678", "code": "000000"})
    run_tasks()

    # then the order page names the e-wallet, not a bank card, and nothing was charged
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "The payment did not go through. Nothing was charged." in page
    assert "The payment was declined in your e-wallet app." in page
    assert "Your bank declined the card." not in page
    assert wallet_balance(user=user).amount_minor == 0
    assert LedgerTransaction.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "says"),
    [
        ("sandbox_card", "Your bank declined the card."),
        ("sandbox_ewallet", "The payment was declined in your e-wallet app."),
        ("sandbox_paypal", "PayPal declined the payment."),
    ],
)
def test_a_payment_the_test_helper_fails_is_explained_by_its_method(
    client, api, user, line, plan, run_tasks, method, says
):
    # given a renewal waiting for its payment
    body = api.post_json(
        "/api/v1/orders",
        {"line_id": line.pk, "plan_id": plan.pk, "payment_method": method},
        HTTP_IDEMPOTENCY_KEY="k-1",
    ).json()

    # when the test helper fails it, as a PSP's test mode does
    api.post_json(f"/api/v1/test-helpers/payments/{body['payment']['id']}/fail")
    run_tasks()

    # then the order page gives the reason of that method
    page = client.get(f"/orders/{body['id']}/").content.decode()
    assert says in page
    assert RenewalOrder.objects.get().status == "canceled"


def test_a_carrier_decline_shows_the_money_back_in_the_wallet(
    client, user, line, plan, fund_wallet, run_tasks, simulator
):
    # given S/ 10.00 in the wallet and a carrier that declines the next top-up
    fund_wallet(user, 1000)
    simulator.decline_next(1)

    _pay(client, line, plan, "wallet")
    run_tasks()

    order = RenewalOrder.objects.get()
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "The carrier could not renew this line." in page
    assert "We returned S/\xa010.00 to your wallet." in page
    assert wallet_balance(user=user).amount_minor == 1000
    wallet = client.get("/wallet/").content.decode()
    assert "Refund of a renewal" in wallet
    assert "+S/\xa010.00" in wallet
    assert list(Notification.objects.filter(user=user).values_list("kind", flat=True)) == ["renewal_failed"]


# -- orders of others, history ---------------------------------------------------------------------


def test_another_users_order_is_not_found(client, other_user, other_line, plan, fund_wallet, run_tasks):
    fund_wallet(other_user, 1000)
    other = Client()
    other.force_login(other_user)
    _pay(other, other_line, plan, "wallet")
    run_tasks()
    order = RenewalOrder.objects.get()
    assert order.status == "completed"

    for path in ("", "status/", "receipt/"):
        assert client.get(f"/orders/{order.pk}/{path}").status_code == 404
    assert client.get("/orders/999999/").status_code == 404
    assert f"/orders/{order.pk}/" not in client.get("/orders/").content.decode()


def test_history_lists_own_renewals_newest_first(client, user, line, plan, fund_wallet, run_tasks):
    fund_wallet(user, 2500)
    _pay(client, line, plan, "wallet")
    _pay(client, line, plan, "sandbox_card")
    run_tasks()
    wallet_order, card_order = RenewalOrder.objects.order_by("pk")

    page = client.get("/orders/").content.decode()

    links = re.findall(r'class="order-link" href="/orders/(\d+)/"', page)
    assert links == [str(card_order.pk), str(wallet_order.pk)]
    assert f'href="/orders/{wallet_order.pk}/receipt/"' in page
    assert f'href="/orders/{card_order.pk}/receipt/"' not in page


def test_a_long_history_comes_a_page_at_a_time(client, user, line, plan, monkeypatch):
    # given three unpaid card renewals, and pages of two
    monkeypatch.setattr("vigencia.orders.views.HISTORY_PAGE", 2)
    for _ in range(3):
        _pay(client, line, plan, "sandbox_card")
    newest_first = [str(pk) for pk in RenewalOrder.objects.order_by("-pk").values_list("pk", flat=True)]

    # when the history is read, then its older page
    first = client.get("/orders/").content.decode()
    older = client.get("/orders/?page=2").content.decode()

    # then every renewal is on one page, newest first, and the pages link to each other
    assert re.findall(r'class="order-link" href="/orders/(\d+)/"', first) == newest_first[:2]
    assert re.findall(r'class="order-link" href="/orders/(\d+)/"', older) == newest_first[2:]
    assert '<a class="button" href="?page=2">Older</a>' in first
    assert '<a class="button" href="?page=1">Newer</a>' in older


def test_the_result_page_speaks_the_subscribers_language(client, user, line, plan, fund_wallet, run_tasks):
    fund_wallet(user, 1000)
    _pay(client, line, plan, "wallet")
    run_tasks()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    page = client.get(f"/orders/{RenewalOrder.objects.get().pk}/").content.decode()

    assert "完成！您的号码已续费。" in page
    assert "收据" in page


# -- wallet ----------------------------------------------------------------------------------------


def _topup(client, amount="50", method="sandbox_card", key=None):
    return client.post(
        "/wallet/", {"amount": amount, "payment_method": method, "idempotency_key": str(key or uuid.uuid4())}
    )


def test_wallet_top_up_goes_to_checkout_then_credits_the_wallet(client, user, run_tasks):
    # when the subscriber tops up S/ 50 by card
    response = _topup(client)

    topup = WalletTopup.objects.get()
    assert response["Location"] == f"/payments/sandbox/checkout/{topup.payment_id}/"
    page = client.get("/wallet/").content.decode()
    assert "Top-ups in progress" in page
    assert f'href="/payments/sandbox/checkout/{topup.payment_id}/">Pay now</a>' in page

    # and pays with the test card that succeeds
    response = client.post(
        f"/payments/sandbox/checkout/{topup.payment_id}/",
        {"number": "4242 4242 4242 4242", "expiry": "12/40", "cvc": "123"},
    )
    assert response["Location"] == f"/wallet/?topup={topup.pk}"
    assert 'data-follow-page="1"' in client.get("/wallet/").content.decode()  # follows until credited
    run_tasks()

    # then the wallet shows the balance and the movement
    page = client.get("/wallet/").content.decode()
    assert wallet_balance(user=user).amount_minor == 5000
    assert '<strong class="price wallet-balance">S/\xa050.00</strong>' in page
    assert "Top-ups in progress" not in page
    assert "data-follow-page" not in page
    assert "+S/\xa050.00" in page


def test_a_double_submitted_top_up_starts_one_payment(client):
    key = uuid.uuid4()

    first = _topup(client, key=key)
    second = _topup(client, key=key)

    assert first["Location"] == second["Location"]
    assert WalletTopup.objects.count() == 1
    assert PaymentIntent.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "method"),
    [
        ("4.99", "sandbox_card"),
        ("1000.01", "sandbox_card"),
        ("abc", "sandbox_card"),
        ("10.001", "sandbox_card"),
        ("50", "wallet"),
        ("50", "cash"),
        ("", "sandbox_card"),
    ],
)
def test_bad_top_ups_are_form_errors_and_write_nothing(client, amount, method):
    response = _topup(client, amount=amount, method=method)

    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert WalletTopup.objects.count() == 0
    assert PaymentIntent.objects.count() == 0


def test_a_form_without_its_key_asks_to_send_again_with_a_fresh_one(client, line, plan):
    response = client.post(f"/renew/{line.pk}/{plan.pk}/", {"payment_method": "sandbox_card"})

    page = response.content.decode()
    assert "This page has expired. Check your choices and send it again." in page
    fresh = re.search(r'name="idempotency_key" value="([0-9a-f-]{36})"', page)
    assert fresh is not None
    _nothing_written()


def test_the_wallet_history_writes_a_payment_with_its_sign_before_the_symbol(
    client, user, line, plan, fund_wallet, run_tasks
):
    # given S/ 50.00 in the wallet, and a renewal paid from it
    fund_wallet(user, 5000)
    _pay(client, line, plan, "wallet")
    run_tasks()

    # when the subscriber opens the wallet
    page = client.get("/wallet/").content.decode()

    # then the renewal reads -S/ 10.00, as a credit reads +S/ 50.00
    assert "-S/\xa010.00" in page
    assert "S/\xa0-10.00" not in page


def _card(client, topup, number: str):
    return client.post(
        f"/payments/sandbox/checkout/{topup.payment_id}/", {"number": number, "expiry": "12/40", "cvc": "123"}
    )


def test_back_from_the_checkout_the_wallet_follows_then_tells_the_top_up_succeeded(client, user, run_tasks):
    # given a S/ 50 top-up paid with the card that succeeds
    _topup(client)
    topup = WalletTopup.objects.get()
    back = _card(client, topup, "4242 4242 4242 4242")["Location"]

    # when the subscriber is back on the wallet while the PSP confirms, then once it has
    waiting = client.get(back, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    run_tasks()
    done = client.get(back, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # then the page said it was confirming (following), and now that it is in the wallet
    assert back == f"/wallet/?topup={topup.pk}"
    assert "We are confirming your top-up of S/\xa050.00…" in waiting
    assert 'data-follow-page="1"' in waiting
    assert "<strong>Your top-up of S/\xa050.00 is in your wallet.</strong>" in done
    assert "data-follow-page" not in done


@pytest.mark.parametrize(
    ("language", "says", "why"),
    [
        (
            "en",
            "Your top-up of S/\xa050.00 did not go through. Nothing was charged.",
            "Your bank declined the card.",
        ),
        ("es", "Tu recarga de S/\xa050.00 no se realizó. No se cobró nada.", "Tu banco rechazó la tarjeta."),
    ],
)
def test_a_declined_top_up_is_told_with_its_reason_in_words(client, user, run_tasks, language, says, why):
    # given a top-up paid with the card that is declined
    _topup(client)
    topup = WalletTopup.objects.get()
    back = _card(client, topup, "4000 0000 0000 0002")["Location"]
    run_tasks()

    # when the subscriber is back on the wallet
    page = client.get(back, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # then it says the top-up failed and why, never the PSP's code, and nothing was credited
    assert f"<strong>{says}</strong>" in page
    assert f'<p class="failure-reason">{why}</p>' in page
    assert "card_declined" not in page
    assert wallet_balance(user=user).amount_minor == 0


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999999999999999", "１", "²"])
def test_the_wallet_ignores_a_top_up_that_is_not_the_persons_own_or_no_id(client, other_user, value):
    # given someone else's top-up
    other = Client()
    other.force_login(other_user)
    _topup(other)
    theirs = WalletTopup.objects.get()

    # when the subscriber opens the wallet with its id, or with no id at all
    for query in (f"?topup={theirs.pk}", f"?topup={value}"):
        response = client.get(f"/wallet/{query}")

        # then the page answers without telling anything of it
        assert response.status_code == 200
        assert response.context["topup_result"] is None


def test_a_payment_declined_for_lack_of_funds_says_so_in_words_not_its_code(client, api, user, line, plan):
    # given a card renewal whose payment the PSP declines for insufficient funds
    body = api.post_json(
        "/api/v1/orders",
        {"line_id": line.pk, "plan_id": plan.pk, "payment_method": "sandbox_card"},
        HTTP_IDEMPOTENCY_KEY="k-funds",
    ).json()
    payment_fail(
        intent=PaymentIntent.objects.get(public_id=body["payment"]["id"]),
        code="insufficient_funds",
        message="insufficient_funds",
    )

    # when the subscriber opens the order in Chinese
    page = client.get(f"/orders/{body['id']}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    # then the reason is in words, never the PSP's code
    assert "卡内余额不足。" in page
    assert "insufficient_funds" not in page


def test_the_wallet_page_shows_money_held_in_other_currencies(client, user, fund_wallet):
    # given soles and pounds in the wallet (a UK renewal refunded, say), and nothing in yuan
    fund_wallet(user, 2_000)
    fund_wallet(user, 350, "GBP")
    client.force_login(user)

    page = client.get("/wallet/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<strong class="price wallet-balance">S/\xa020.00</strong>' in page
    assert '<p class="muted wallet-other">Also in your wallet: £\xa03.50</p>' in page
