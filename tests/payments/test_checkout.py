"""The hosted sandbox checkout, driven with the Django test client, then the worker delivers the webhook."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from vigencia.payments.models import PaymentIntent, WebhookEvent
from vigencia.payments.services import payment_fail

pytestmark = pytest.mark.django_db

CARD = {"expiry": "12/39", "cvc": "123"}


@pytest.fixture
def browser() -> Client:
    return Client()


def _state(intent: PaymentIntent) -> tuple[str, str]:
    intent.refresh_from_db()
    return intent.status, intent.failure_code


def test_the_card_page_shows_the_test_cards(make_intent, browser):
    intent = make_intent()
    response = browser.get(intent.checkout_url)
    assert response.status_code == 200
    html = response.content.decode()
    for number in ("4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0027 6000 3184"):
        assert number in html
    # CSP-safe: scripts only from files, no inline styles
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert "style=" not in html
    assert "<style" not in html


def test_the_page_is_translated(make_intent, browser):
    intent = make_intent()
    response = browser.get(intent.checkout_url, HTTP_ACCEPT_LANGUAGE="es")
    assert "Tarjetas de prueba" in response.content.decode()


def test_card_success(make_intent, browser, run_tasks, handled):
    intent = make_intent(return_url="/orders/1/")
    response = browser.post(intent.checkout_url, {"number": "4242 4242 4242 4242", **CARD})
    assert (response.status_code, response["Location"]) == (302, "/orders/1/")
    assert _state(intent) == ("processing", "")
    assert intent.method_details == {"brand": "visa", "last4": "4242"}
    assert handled == []
    assert run_tasks() == 1
    assert _state(intent) == ("succeeded", "")
    assert handled == [(intent.public_id, "succeeded")]
    assert run_tasks() == 0
    assert handled == [(intent.public_id, "succeeded")]


def test_card_declined(make_intent, browser, run_tasks, handled):
    intent = make_intent()
    response = browser.post(intent.checkout_url, {"number": "4000000000000002", **CARD})
    assert response["Location"] == intent.status_url
    run_tasks()
    assert _state(intent) == ("failed", "card_declined")
    assert handled == [(intent.public_id, "failed")]
    assert "did not go through" in browser.get(intent.status_url).content.decode()


@pytest.mark.parametrize(
    ("decision", "outcome"),
    [("approve", ("succeeded", "")), ("decline", ("failed", "authentication_failed"))],
)
def test_card_with_3ds(make_intent, browser, run_tasks, handled, decision, outcome):
    intent = make_intent()
    response = browser.post(intent.checkout_url, {"number": "4000 0027 6000 3184", **CARD})
    authorise_url = f"/payments/sandbox/checkout/{intent.public_id}/authorise/"
    assert response["Location"] == authorise_url
    assert _state(intent) == ("requires_action", "")
    assert browser.get(intent.checkout_url)["Location"] == authorise_url
    page = browser.get(authorise_url)
    assert "Authorise this payment" in page.content.decode()
    assert "3184" in page.content.decode()
    assert run_tasks() == 0
    response = browser.post(authorise_url, {"decision": decision})
    assert response["Location"] == intent.status_url
    assert _state(intent)[0] == "processing"
    run_tasks()
    assert _state(intent) == outcome
    assert handled == [(intent.public_id, outcome[0])]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"number": "4242 4242 4242 4241", **CARD}, "The card number is not valid."),
        ({"number": "5555 5555 5555 4444", **CARD}, "use one of the test card numbers"),
        ({"number": "4242424242424242", "expiry": "01/20", "cvc": "123"}, "The card has expired."),
        ({"number": "4242424242424242", "expiry": "13/39", "cvc": "123"}, "The expiry date is not valid."),
        ({"number": "4242424242424242", "expiry": "soon", "cvc": "123"}, "Write the expiry as MM/YY."),
        ({"number": "4242424242424242", "expiry": "12/39", "cvc": "1x"}, "The security code is not valid."),
        ({"number": "", **CARD}, "This field is required."),
    ],
)
def test_bad_card_input_is_a_form_error_and_nothing_happens(make_intent, browser, handled, form, error):
    intent = make_intent()
    response = browser.post(intent.checkout_url, form)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert _state(intent) == ("requires_action", "")
    assert intent.method_details == {}
    assert DBTaskResult.objects.count() == 0
    assert handled == []


@pytest.mark.parametrize(
    ("code", "outcome"), [("123456", ("succeeded", "")), ("000000", ("failed", "ewallet_declined"))]
)
def test_ewallet(make_intent, browser, run_tasks, handled, code, outcome):
    intent = make_intent(method="sandbox_ewallet")
    assert "123456" in browser.get(intent.checkout_url).content.decode()
    response = browser.post(intent.checkout_url, {"phone": "912 345 678", "code": code})
    assert response["Location"] == intent.status_url
    assert _state(intent)[0] == "processing"
    assert intent.method_details == {"phone_last3": "678"}
    run_tasks()
    assert _state(intent) == outcome
    assert handled == [(intent.public_id, outcome[0])]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"phone": "12", "code": "123456"}, "phone number is not valid"),
        ({"phone": "912345678", "code": "111111"}, "approval code is wrong"),
    ],
)
def test_ewallet_bad_input(make_intent, browser, handled, form, error):
    intent = make_intent(method="sandbox_ewallet")
    response = browser.post(intent.checkout_url, form)
    assert error in response.content.decode()
    assert _state(intent) == ("requires_action", "")
    assert DBTaskResult.objects.count() == 0


def test_paypal_approve(make_intent, browser, run_tasks, handled):
    intent = make_intent(method="sandbox_paypal", return_url="/orders/5/")
    response = browser.post(intent.checkout_url, {})
    paypal_url = f"/payments/sandbox/paypal/{intent.public_id}/"
    assert response["Location"] == paypal_url
    assert "PayPal (test)" in browser.get(paypal_url).content.decode()
    back = browser.post(paypal_url, {"decision": "approve"})
    assert back["Location"].startswith(f"/payments/sandbox/checkout/{intent.public_id}/paypal-return/?token=")
    assert _state(intent)[0] == "requires_action"
    final = browser.get(back["Location"])
    assert final["Location"] == "/orders/5/"
    assert _state(intent)[0] == "processing"
    run_tasks()
    assert _state(intent) == ("succeeded", "")
    assert handled == [(intent.public_id, "succeeded")]
    # the return link again (a reload) changes nothing
    assert browser.get(back["Location"])["Location"] == "/orders/5/"
    assert run_tasks() == 0
    assert handled == [(intent.public_id, "succeeded")]


def test_paypal_cancel(make_intent, browser, run_tasks, handled):
    intent = make_intent(method="sandbox_paypal")
    browser.post(intent.checkout_url, {})
    back = browser.post(f"/payments/sandbox/paypal/{intent.public_id}/", {"decision": "cancel"})
    assert browser.get(back["Location"])["Location"] == intent.status_url
    assert _state(intent)[0] == "canceled"
    assert run_tasks() == 0
    assert handled == [(intent.public_id, "canceled")]


def test_paypal_return_with_a_forged_token_is_400(make_intent, browser, handled):
    intent = make_intent(method="sandbox_paypal")
    browser.post(intent.checkout_url, {})
    response = browser.get(f"/payments/sandbox/checkout/{intent.public_id}/paypal-return/?token=forged")
    assert response.status_code == 400
    assert _state(intent)[0] == "requires_action"
    assert handled == []


def test_paypal_token_of_another_payment_is_400(make_intent, browser):
    first, second = make_intent(method="sandbox_paypal"), make_intent(method="sandbox_paypal")
    for intent in (first, second):
        browser.post(intent.checkout_url, {})
    back = browser.post(f"/payments/sandbox/paypal/{first.public_id}/", {"decision": "approve"})
    token = back["Location"].split("?", 1)[1]
    response = browser.get(f"/payments/sandbox/checkout/{second.public_id}/paypal-return/?{token}")
    assert response.status_code == 400
    assert _state(second)[0] == "requires_action"


def test_cancel_from_the_checkout_page(make_intent, browser, handled):
    intent = make_intent()
    response = browser.post(intent.checkout_url, {"cancel": "1"})
    assert response["Location"] == intent.status_url
    assert _state(intent)[0] == "canceled"
    assert handled == [(intent.public_id, "canceled")]


def test_a_decided_payment_sends_the_customer_on(make_intent, browser, run_tasks):
    intent = make_intent(return_url="/orders/3/")
    browser.post(intent.checkout_url, {"number": "4242424242424242", **CARD})
    run_tasks()
    again = browser.post(intent.checkout_url, {"number": "4242424242424242", **CARD})
    assert again["Location"] == "/orders/3/"
    assert WebhookEvent.objects.count() == 1


def test_an_unknown_payment_is_404(browser):
    assert browser.get("/payments/sandbox/checkout/pay_doesnotexist/").status_code == 404
    assert browser.get("/payments/pay_doesnotexist/").status_code == 404


def test_the_status_page(make_intent, browser):
    intent = make_intent()
    html = browser.get(intent.status_url).content.decode()
    assert intent.public_id in html
    assert "Continue to payment" in html


def test_with_test_mode_off_the_sandbox_pages_are_404_and_nothing_moves(
    make_intent, browser, settings, handled
):
    intent = make_intent()
    settings.VIGENCIA_SANDBOX_PAYMENTS = False
    response = browser.post(intent.checkout_url, {"number": "4242424242424242", **CARD})
    assert response.status_code == 404
    assert browser.get(f"/payments/sandbox/checkout/{intent.public_id}/authorise/").status_code == 404
    assert _state(intent) == ("requires_action", "")
    assert DBTaskResult.objects.count() == 0
    assert handled == []


@pytest.mark.parametrize(
    ("code", "language", "says"),
    [
        ("card_declined", "en", "Your bank declined the card."),
        ("insufficient_funds", "en", "The card does not have enough funds."),
        ("insufficient_funds", "es", "La tarjeta no tiene fondos suficientes."),
        ("expired_card", "zh-hans", "该卡已过期。"),
        ("do_not_honor", "en", "The payment was declined."),
    ],
)
def test_the_result_page_says_why_a_payment_failed_in_words_never_its_code(
    make_intent, browser, handled, code, language, says
):
    # given a payment the PSP declined with `code`
    intent = make_intent()
    payment_fail(intent=intent, code=code, message="Declined by issuer")

    # when the payer reads the checkout's result
    html = browser.get(intent.status_url, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # then the reason is in plain words in their language, never the code
    assert f'<p class="failure-reason">{says}</p>' in html
    assert code not in html
    assert "Declined by issuer" not in html


def test_the_result_page_of_a_canceled_payment_says_so(make_intent, browser, handled):
    intent = make_intent()
    browser.post(intent.checkout_url, {"cancel": "1"})

    html = browser.get(intent.status_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<p class="failure-reason">You canceled the payment.</p>' in html
