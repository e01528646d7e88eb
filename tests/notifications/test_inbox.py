"""The Messages page: what Vigencia told a person, one entry per message whatever the channels,
newest first, in the reader's language, paged; nobody sees another's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from tests.factories import UserFactory
from vigencia.core import clock
from vigencia.notifications.models import Notification, NotificationStatus
from vigencia.notifications.services import notification_send

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _send(user, n: int, *, channels=("email",), at=T0) -> None:
    with clock.frozen(at + timedelta(minutes=n)):
        notification_send(
            user=user,
            kind="wallet_topped_up",
            context={"amount": f"S/ {n}.00", "balance": f"S/ {10 * n}.00"},
            dedupe_key=f"test:{user.pk}:{n}",
            channels=list(channels),
        )


def _subjects(response) -> list[str]:
    return [message.subject for message in response.context["inbox"]]


def test_one_entry_per_message_newest_first_with_how_each_channel_fared(client: Client) -> None:
    ana = UserFactory(phone="+51912345678")
    _send(ana, 1)
    _send(ana, 2, channels=("email", "sms"))
    Notification.objects.filter(channel="sms").update(status=NotificationStatus.FAILED)
    client.force_login(ana)

    response = client.get("/messages/")

    assert response.status_code == 200
    inbox = response.context["inbox"]
    assert [(message.at, message.deliveries) for message in inbox] == [
        (T0 + timedelta(minutes=2), [("email", "pending"), ("sms", "failed")]),
        (T0 + timedelta(minutes=1), [("email", "pending")]),
    ]
    html = response.content.decode()
    assert "SMS: not delivered" in html
    assert "S/ 2.00" in inbox[0].text


def test_each_channel_is_named_telegram_included(client: Client) -> None:
    ana = UserFactory(phone="+51912345678")
    _send(ana, 1, channels=("email", "sms", "webhook", "telegram"))
    Notification.objects.update(status=NotificationStatus.SENT)
    client.force_login(ana)

    html = client.get("/messages/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    for name in ("Correo electrónico", "SMS", "Webhook", "Telegram"):
        assert f'<span class="badge ok">{name}: enviado</span>' in html


def test_messages_are_shown_in_the_readers_language(client: Client) -> None:
    ana = UserFactory(language="en")
    _send(ana, 1)
    client.force_login(ana)

    english = client.get("/messages/", HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get("/messages/")

    assert _subjects(english) == ["Your wallet was topped up with S/ 1.00"]
    assert _subjects(chinese) == ["您的钱包已充值 S/ 1.00"]
    assert "<h1>消息</h1>" in chinese.content.decode()


def test_pages_of_twenty_and_a_page_past_the_end_shows_the_last(client: Client) -> None:
    ana = UserFactory()
    for n in range(25):
        _send(ana, n)
    client.force_login(ana)

    first = client.get("/messages/")
    second = client.get("/messages/?page=2")
    past = client.get("/messages/?page=99")
    junk = client.get("/messages/?page=junk")

    assert len(first.context["inbox"]) == 20
    assert [message.at for message in second.context["inbox"]] == [
        T0 + timedelta(minutes=n) for n in range(4, -1, -1)
    ]
    assert _subjects(past) == _subjects(second)
    assert _subjects(junk) == _subjects(first)
    assert "Page 1 of 2" in first.content.decode()


def test_nobody_sees_anothers_messages_and_the_page_needs_a_login(client: Client) -> None:
    ana, bruno = UserFactory(), UserFactory()
    _send(ana, 1)

    assert client.get("/messages/").status_code == 302
    client.force_login(bruno)
    response = client.get("/messages/")

    assert response.context["inbox"] == []
    assert "No messages yet." in response.content.decode()


def test_a_message_of_a_kind_no_longer_known_is_listed_without_failing(client: Client) -> None:
    ana = UserFactory()
    _send(ana, 1)
    Notification.objects.update(kind="retired_kind")
    client.force_login(ana)

    response = client.get("/messages/")

    assert response.status_code == 200
    assert _subjects(response) == ["A message that can no longer be shown"]
