"""Download my data: everything kept about the person, as a JSON file, and nobody else's."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from tests.conftest import ApiClient
from tests.factories import UserFactory
from vigencia.accounts.services import api_token_issue
from vigencia.core import clock
from vigencia.lines.services import line_add
from vigencia.notifications.models import TelegramChat
from vigencia.notifications.services import notification_send
from vigencia.orders.services import order_create
from vigencia.support.services import ticket_open

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture
def li(claro, fund_wallet):
    """A subscriber with a line, a wallet top-up, a renewal paid from it, a message, a ticket and a
    Telegram chat."""
    li = UserFactory(email="li@example.com", name="李伟", language="zh-hans", timezone="Asia/Shanghai")
    with clock.frozen(T0):
        line = line_add(owner=li, msisdn="+51 912 345 678", carrier=claro, nickname="妈妈")
        fund_wallet(li, 5000)
        order_create(payer=li, line=line, plan=claro.plans.get(code="max-10"), payment_method="wallet")
        notification_send(
            user=li,
            kind="message",
            context={"subject": "你好", "body": "b"},
            dedupe_key="k",
            channels=["email"],
        )
        ticket_open(subscriber=li, category="other", subject="充值问题", message="没有到账")
        TelegramChat.objects.create(user=li, chat_id=555, linked_at=clock.now())
    return li


def test_the_file_holds_the_persons_account_lines_renewals_wallet_messages_and_tickets(
    client: Client, li
) -> None:
    stranger = UserFactory(email="someone@example.com")
    line_add(owner=stranger, msisdn="+51 987 654 321", carrier=li.lines.get().carrier)
    client.force_login(li)

    with clock.frozen(T0):
        response = client.get("/accounts/data/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="vigencia-my-data.json"'
    assert "李伟" in response.content.decode()  # written as people read it, not \\u escapes
    data = json.loads(response.content)
    assert list(data) == [
        "exported_at",
        "account",
        "lines",
        "renewals",
        "wallet",
        "messages",
        "telegram",
        "tickets",
    ]
    assert data["account"] == {
        "email": "li@example.com",
        "name": "李伟",
        "phone": "",
        "language": "zh-hans",
        "timezone": "Asia/Shanghai",
        "joined": li.date_joined.isoformat(),
    }
    assert [(line["msisdn"], line["nickname"]) for line in data["lines"]] == [("+51912345678", "妈妈")]
    [renewal] = data["renewals"]
    assert (renewal["msisdn"], renewal["payment_method"], renewal["total"]) == (
        "+51912345678",
        "wallet",
        {"amount_minor": 1000, "currency": "PEN"},
    )
    assert [movement["amount"]["amount_minor"] for movement in data["wallet"]] == [5000, -1000]
    assert [(message["kind"], message["data"]["subject"]) for message in data["messages"]] == [
        ("message", "你好")
    ]
    assert data["telegram"] == {"chat_id": 555, "connected_at": T0.isoformat()}
    [ticket] = data["tickets"]
    assert (ticket["subject"], [message["body"] for message in ticket["messages"]]) == (
        "充值问题",
        ["没有到账"],
    )
    assert "someone@example.com" not in response.content.decode()
    assert "+51987654321" not in response.content.decode()


def test_the_download_needs_a_login() -> None:
    response = Client().get("/accounts/data/")

    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/accounts/data/")


def test_the_api_gives_the_same_data_as_the_portal(client: Client, li) -> None:
    client.force_login(li)
    api = ApiClient(api_token_issue(user=li)[1])

    with clock.frozen(T0):
        portal = json.loads(client.get("/accounts/data/").content)
        response = api.get("/api/v1/auth/me/data")

    assert response.status_code == 200
    assert response.json() == portal


def test_the_api_download_needs_a_token() -> None:
    response = ApiClient().get("/api/v1/auth/me/data")

    assert response.status_code == 401
