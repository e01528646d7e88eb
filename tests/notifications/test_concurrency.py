"""Races, proven on PostgreSQL with real threads: a row is sent once, a key makes one set of rows."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from tests.concurrency import race
from tests.factories import UserFactory
from vigencia.notifications.channels import email as email_channel
from vigencia.notifications.models import Notification
from vigencia.notifications.services import notification_deliver, notification_send

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="races need PostgreSQL"),
]


def test_eight_workers_on_one_row_send_it_once(monkeypatch):
    # given one pending row and a slow mail server that counts what it is given
    user = UserFactory()
    [row] = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k"
    )
    sent: list[int] = []

    def slow_deliver(notification, rendered) -> None:
        time.sleep(0.2)
        sent.append(notification.pk)

    monkeypatch.setattr(email_channel, "deliver", slow_deliver)

    # when eight workers run its task at once
    results = race(8, lambda _index: notification_deliver(notification_id=row.pk))

    # then one of them sent it, once; the others found it claimed
    assert sorted(results, key=str) == [None] * 7 + ["sent"]
    assert sent == [row.pk]
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)


def test_concurrent_sends_with_one_key_write_one_row_and_one_task():
    # given a first caller whose transaction is still open when a second caller asks the same
    user = UserFactory()
    first_inserted = threading.Event()

    def first(_index: int) -> list[int]:
        with transaction.atomic():
            rows = notification_send(
                user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k"
            )
            first_inserted.set()
            time.sleep(0.3)
        return [notification.pk for notification in rows]

    def second(_index: int) -> list[int]:
        first_inserted.wait(5)
        rows = notification_send(
            user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k"
        )
        return [notification.pk for notification in rows]

    # when both run
    results = race(2, lambda index: (first, second)[index](index))

    # then the second waited on the unique index and answered the first's row
    assert results[0] == results[1]
    assert Notification.objects.count() == 1
    assert DBTaskResult.objects.count() == 1


def test_a_telegram_link_sent_from_eight_chats_at_once_connects_one(telegram_api):
    # given a link to connect a person's Telegram
    from vigencia.notifications.models import TelegramChat
    from vigencia.notifications.telegram import telegram_link_start, telegram_update_receive

    user = UserFactory()
    token = telegram_link_start(user=user).rsplit("=", 1)[1]

    # when eight chats send the bot /start with it at once
    def start(index: int) -> str:
        update = {"message": {"chat": {"id": 1000 + index, "type": "private"}, "text": f"/start {token}"}}
        return telegram_update_receive(update)

    results = race(8, start)

    # then one chat is connected, and only that one was told so
    assert sorted(results) == ["link_refused"] * 7 + ["linked"]
    chat_id = TelegramChat.objects.get(user=user).chat_id
    assert chat_id == 1000 + results.index("linked")
    assert [chat for chat, text in telegram_api.sent() if text.startswith("Connected")] == [chat_id]
    assert len(telegram_api.sent()) == 8
