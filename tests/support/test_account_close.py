"""Closing one's own account: what goes (lines, open checkouts, tokens, webhook, personal data), what
stays (orders, payments, ledger), and what stops it (a wrong password, money still moving or left in
the wallet, a role on the platform)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.conftest import ApiClient
from tests.factories import PASSWORD, UserFactory
from vigencia.accounts import roles
from vigencia.accounts.models import ApiToken, User
from vigencia.accounts.services import api_token_issue
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput, PermissionDenied
from vigencia.lines.models import Line, LineEvent
from vigencia.lines.services import line_add
from vigencia.notifications.models import TelegramChat, WebhookEndpoint
from vigencia.notifications.services import notification_deliver, notification_send, webhook_endpoint_set
from vigencia.orders.models import OrderStatus, RenewalOrder
from vigencia.orders.services import order_create
from vigencia.payments.models import PaymentIntent
from vigencia.support.services import account_close

pytestmark = pytest.mark.django_db

CLOSE = "/accounts/close/"


@pytest.fixture
def ana(claro) -> User:
    """A subscriber with two lines, an API token, a webhook, a Telegram chat and a card checkout left
    unpaid."""
    ana = UserFactory(email="ana@example.com", name="Ana", phone="+51912345678")
    first = line_add(owner=ana, msisdn="+51 912 345 678", carrier=claro)
    line_add(owner=ana, msisdn="+51 987 654 321", carrier=claro)
    api_token_issue(user=ana)
    webhook_endpoint_set(user=ana, url="https://example.com/hooks/vigencia")
    TelegramChat.objects.create(user=ana, chat_id=555, linked_at=clock.now())
    order_create(payer=ana, line=first, plan=claro.plans.get(code="max-10"), payment_method="sandbox_card")
    return ana


def _state(ana: User) -> tuple[object, ...]:
    """What closing would change: the person, their live lines, tokens and webhook, and their
    orders' and payments' states."""
    ana.refresh_from_db()
    return (
        (ana.email, ana.name, ana.phone, ana.is_active, ana.has_usable_password()),
        list(Line.objects.filter(owner=ana, removed_at__isnull=True).values_list("msisdn", flat=True)),
        ApiToken.objects.filter(user=ana, revoked_at__isnull=True).count(),
        WebhookEndpoint.objects.filter(user=ana).count(),
        TelegramChat.objects.filter(user=ana).count(),
        list(RenewalOrder.objects.filter(payer=ana).values_list("status", flat=True)),
        list(PaymentIntent.objects.filter(payer=ana).values_list("status", flat=True)),
    )


def test_closing_erases_the_person_and_stops_everything_but_keeps_the_records(ana) -> None:
    order = RenewalOrder.objects.get(payer=ana)

    account_close(user=ana, password=PASSWORD)

    ana.refresh_from_db()
    assert (ana.email, ana.name, ana.phone, ana.is_active) == (
        f"closed-{ana.pk}@closed.invalid",
        "",
        "",
        False,
    )
    assert not ana.has_usable_password()
    assert Line.objects.filter(owner=ana, removed_at__isnull=True).count() == 0
    assert LineEvent.objects.filter(line__owner=ana, kind="removed").count() == 2
    assert ApiToken.objects.filter(user=ana, revoked_at__isnull=True).count() == 0
    assert not WebhookEndpoint.objects.filter(user=ana).exists()
    assert not TelegramChat.objects.filter(user=ana).exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED  # the unpaid checkout
    assert PaymentIntent.objects.get(payer=ana).status == "canceled"
    # the same email may sign up again
    assert UserFactory(email="ana@example.com").pk != ana.pk


def test_nothing_reaches_a_closed_account(ana) -> None:
    [pending] = notification_send(
        user=ana, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k", channels=["email"]
    )

    account_close(user=ana, password=PASSWORD)

    assert notification_deliver(notification_id=pending.pk) == "failed"
    pending.refresh_from_db()
    assert pending.last_error == "the account is inactive (closed)"


@pytest.mark.parametrize(
    ("given", "error", "code"),
    [
        ("wrong_password", InvalidInput, "wrong_password"),
        ("money_in_the_wallet", Conflict, "wallet_not_empty"),
        ("a_renewal_on_its_way", Conflict, "money_in_flight"),
        ("a_reseller", PermissionDenied, "not_a_subscriber_account"),
    ],
)
def test_closing_is_refused_and_changes_nothing(ana, fund_wallet, given, error, code) -> None:
    password = PASSWORD
    if given == "wrong_password":
        password = "not-the-password"
    elif given == "money_in_the_wallet":
        fund_wallet(ana, 1250)
    elif given == "a_renewal_on_its_way":
        RenewalOrder.objects.filter(payer=ana).update(status=OrderStatus.FULFILLING)
    elif given == "a_reseller":
        ana.groups.add(Group.objects.get_or_create(name=roles.RESELLER)[0])

    before = _state(ana)

    with pytest.raises(error) as refused:
        account_close(user=ana, password=password)

    assert refused.value.code == code
    assert _state(ana) == before
    assert before[0] == ("ana@example.com", "Ana", "+51912345678", True, True)
    assert before[1:4] == (["+51912345678", "+51987654321"], 1, 1)


def test_the_wallet_message_says_how_much_is_left(ana, fund_wallet) -> None:
    fund_wallet(ana, 1250)

    with pytest.raises(Conflict) as refused:
        account_close(user=ana, password=PASSWORD)

    assert str(refused.value.message) == (
        "Your wallet still holds S/\xa012.50. Use it for a renewal, or ask support to refund it, "
        "then close the account."
    )


def test_closing_from_the_portal_logs_out_and_the_login_and_token_stop_working(ana) -> None:
    token = api_token_issue(user=ana)[1]
    client = Client()
    client.force_login(ana)

    page = client.get(CLOSE)
    wrong = client.post(CLOSE, {"password": "not-it"})
    closed = client.post(CLOSE, {"password": PASSWORD}, follow=True)

    assert page.status_code == 200
    assert "Close my account for good" in page.content.decode()
    assert (wrong.status_code, list(wrong.context["form"].errors)) == (200, ["password"])
    assert closed.redirect_chain == [("/", 302)]
    assert "Your account is closed." in closed.content.decode()
    assert client.get("/lines/").status_code == 302  # logged out
    login = Client().post("/accounts/login/", {"username": "ana@example.com", "password": PASSWORD})
    assert (login.status_code, "_auth_user_id" in login.client.session) == (200, False)
    assert ApiClient(token).get("/api/v1/auth/me").status_code == 401


def test_the_close_page_needs_a_login() -> None:
    response = Client().get(CLOSE)

    assert (response.status_code, response.url) == (302, f"/accounts/login/?next={CLOSE}")


def test_closing_by_api_ends_the_token_and_erases_the_person(ana) -> None:
    api = ApiClient(api_token_issue(user=ana)[1])

    response = api.post_json("/api/v1/auth/me/close", {"password": PASSWORD})

    assert (response.status_code, response.content) == (204, b"")
    ana.refresh_from_db()
    assert (ana.email, ana.is_active) == (f"closed-{ana.pk}@closed.invalid", False)
    assert api.get("/api/v1/auth/me").status_code == 401
    assert ApiToken.objects.filter(user=ana, revoked_at__isnull=True).count() == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"password": "not-the-password"}, 422, "wrong_password"),
        ({}, 422, "invalid"),
        ({"password": 12}, 422, "invalid"),
    ],
)
def test_closing_by_api_with_a_bad_body_is_refused_and_changes_nothing(ana, body, status, code) -> None:
    api = ApiClient(api_token_issue(user=ana)[1])
    before = _state(ana)

    response = api.post_json("/api/v1/auth/me/close", body)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert _state(ana) == before


def test_closing_by_api_with_money_in_the_wallet_is_a_conflict(ana, fund_wallet) -> None:
    fund_wallet(ana, 1250)
    User.objects.filter(pk=ana.pk).update(language="es")  # the API answers in the account's language
    api = ApiClient(api_token_issue(user=ana)[1])
    before = _state(ana)

    response = api.post_json("/api/v1/auth/me/close", {"password": PASSWORD})

    assert (response.status_code, response.json()["code"]) == (409, "wallet_not_empty")
    assert response.json()["message"].startswith("Tu billetera todavía tiene S/\xa012.50.")
    assert _state(ana) == before
