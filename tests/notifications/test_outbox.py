"""notification_send: one row per channel, idempotent by dedupe key, only with the caller's commit."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from tests.factories import UserFactory
from tests.notifications.conftest import RENEWAL_CONTEXT, tasks_of
from vigencia.core.errors import Conflict, InvalidInput
from vigencia.notifications.models import Notification, NotificationEvent, WebhookEndpoint
from vigencia.notifications.services import notification_send

pytestmark = pytest.mark.django_db


def test_send_writes_one_email_row_and_enqueues_its_delivery(user):
    # when
    rows = notification_send(
        user=user, kind="renewal_succeeded", context=RENEWAL_CONTEXT, dedupe_key="order:42:ok"
    )

    # then
    assert [(row.channel, row.status, row.attempts) for row in rows] == [("email", "pending", 0)]
    assert rows[0].context == RENEWAL_CONTEXT
    assert [task.args_kwargs["args"] for task in tasks_of()] == [[rows[0].pk]]
    assert list(NotificationEvent.objects.values_list("kind", flat=True)) == ["queued"]


def test_an_active_webhook_endpoint_adds_the_webhook_channel(user, other_user):
    WebhookEndpoint.objects.create(user=user, url="https://example.com/hook", secret="s")
    WebhookEndpoint.objects.create(user=other_user, url="https://example.com/hook", secret="s", active=False)

    mine = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k1"
    )
    theirs = notification_send(
        user=other_user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k2"
    )

    assert [row.channel for row in mine] == ["email", "webhook"]
    assert [row.channel for row in theirs] == ["email"]
    assert len(tasks_of()) == 3


def test_a_repeat_returns_the_same_rows_and_sends_nothing_more(user):
    first = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k"
    )

    again = notification_send(
        user=user,
        kind="message",
        context={"subject": "s", "body": "b"},
        dedupe_key="k",
        channels=["email", "sms"],
    )

    assert [row.pk for row in again] == [row.pk for row in first]
    assert Notification.objects.count() == 1
    assert len(tasks_of()) == 1


def test_a_key_used_for_someone_else_is_a_conflict(user, other_user):
    notification_send(user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k")

    with pytest.raises(Conflict) as error:
        notification_send(
            user=other_user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k"
        )

    assert error.value.code == "dedupe_key_reused"
    assert Notification.objects.filter(user=other_user).count() == 0


def test_a_rolled_back_transaction_leaves_no_row_and_no_task(user):
    # given a caller whose transaction fails after it asked for a notification
    def order_that_fails() -> None:
        with transaction.atomic():
            notification_send(
                user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k"
            )
            raise RuntimeError("the order failed after all")

    with pytest.raises(RuntimeError):
        order_that_fails()

    # then nothing exists to be sent
    assert Notification.objects.count() == 0
    assert NotificationEvent.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"kind": "birthday", "context": {}}, "unknown_notification_kind"),
        ({"kind": "message", "context": {"subject": "only a subject"}}, "invalid_context"),
        ({"kind": "message", "context": ["not", "a", "dict"]}, "invalid_context"),
        ({"kind": "message", "context": {"subject": "s", "body": object()}}, "invalid_context"),
        ({"kind": "message", "context": {"subject": "s", "body": float("nan")}}, "invalid_context"),
        (
            {"kind": "renewal_succeeded", "context": {**RENEWAL_CONTEXT, "valid_until": "5/1/2026"}},
            "invalid_context",
        ),
        (
            {"kind": "renewal_succeeded", "context": {**RENEWAL_CONTEXT, "valid_until": 20260105}},
            "invalid_context",
        ),
        (
            {"kind": "message", "context": {"subject": "s", "body": "b"}, "channels": ["fax"]},
            "unknown_channel",
        ),
        ({"kind": "message", "context": {"subject": "s", "body": "b"}, "channels": []}, "unknown_channel"),
        (
            {"kind": "message", "context": {"subject": "s", "body": "b"}, "dedupe_key": " "},
            "invalid_dedupe_key",
        ),
        (
            {"kind": "message", "context": {"subject": "s", "body": "b"}, "dedupe_key": "k" * 201},
            "invalid_dedupe_key",
        ),
    ],
)
def test_bad_input_is_invalid_and_writes_nothing(user, kwargs, code):
    kwargs = {"dedupe_key": "k", **kwargs}

    with pytest.raises(InvalidInput) as error:
        notification_send(user=user, **kwargs)

    assert error.value.code == code
    assert Notification.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


def test_explicit_channels_are_kept_once_each(db):
    user = UserFactory(phone="+51912345678")

    rows = notification_send(
        user=user,
        kind="message",
        context={"subject": "s", "body": "b"},
        dedupe_key="k",
        channels=["sms", "sms"],
    )

    assert [row.channel for row in rows] == ["sms"]
