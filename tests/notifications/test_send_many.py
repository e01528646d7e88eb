"""notification_send_many and notification_deliver_many: the outbox and its delivery for many
notifications at once, with the same guarantees as one by one and a fixed number of queries."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.factories import UserFactory
from tests.notifications.conftest import tasks_of
from vigencia.core.errors import Conflict, InvalidInput
from vigencia.notifications.models import Notification, NotificationEvent, WebhookEndpoint
from vigencia.notifications.services import (
    NotificationRequest,
    notification_deliver_many,
    notification_send,
    notification_send_many,
)

pytestmark = pytest.mark.django_db

MESSAGE = {"subject": "s", "body": "b"}


def _requests(users, prefix: str = "k") -> list[NotificationRequest]:
    return [
        NotificationRequest(user=user, kind="message", context=MESSAGE, dedupe_key=f"{prefix}:{index}")
        for index, user in enumerate(users)
    ]


def test_many_are_written_in_a_fixed_number_of_queries_with_one_delivery_task_per_batch(
    django_assert_max_num_queries,
):
    # given 30 subscribers, one with an active webhook endpoint
    users = UserFactory.create_batch(30)
    WebhookEndpoint.objects.create(user=users[0], url="https://example.com/hook", secret="s")

    # when a notification is sent to each at once
    with django_assert_max_num_queries(8):
        rows = notification_send_many(_requests(users))

    # then one row per channel (email, and webhook for the first), each queued, one delivery task
    assert [(row.user_id, row.channel) for row in rows] == [
        (users[0].pk, "email"),
        (users[0].pk, "webhook"),
        *((user.pk, "email") for user in users[1:]),
    ]
    assert NotificationEvent.objects.filter(kind="queued").count() == 31
    [task] = tasks_of("notification_deliver_many_task")
    assert task.args_kwargs["args"] == [[row.pk for row in rows]]


def test_a_repeated_key_writes_nothing_more_and_returns_the_first_rows(user, other_user):
    # given a key already sent one by one
    [first] = notification_send(user=user, kind="message", context=MESSAGE, dedupe_key="k:0")

    # when the same key comes again in a batch, with a new one
    rows = notification_send_many(_requests([user, other_user]))

    # then the first key's row is returned as it was, and only the new key is written
    assert rows[0].pk == first.pk
    assert Notification.objects.count() == 2
    assert Notification.objects.filter(dedupe_key="k:0").count() == 1


def test_bad_input_anywhere_in_the_batch_writes_nothing(user, other_user):
    # given a batch whose last request has an unknown kind
    requests = [
        *_requests([user]),
        NotificationRequest(user=other_user, kind="nonsense", context=MESSAGE, dedupe_key="bad"),
    ]

    # when / then
    with pytest.raises(InvalidInput):
        notification_send_many(requests)
    assert Notification.objects.count() == 0


def test_a_key_of_someone_else_is_a_conflict_and_writes_nothing(user, other_user):
    notification_send(user=other_user, kind="message", context=MESSAGE, dedupe_key="k:0")

    with pytest.raises(Conflict):
        notification_send_many(_requests([user]))
    assert Notification.objects.count() == 1


def test_deliver_many_sends_each_once_and_marks_them_sent(settings):
    # given 5 queued emails
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    users = UserFactory.create_batch(5)
    rows = notification_send_many(_requests(users))

    # when they are delivered together, twice (a retried task)
    first = notification_deliver_many(notification_ids=[row.pk for row in rows])
    again = notification_deliver_many(notification_ids=[row.pk for row in rows])

    # then each was sent once
    assert first == {"sent": 5, "retrying": 0, "failed": 0}
    assert again == {"sent": 0, "retrying": 0, "failed": 0}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(user.email for user in users)
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}
    assert NotificationEvent.objects.filter(kind="sent").count() == 5


def test_deliver_many_sends_a_failing_row_the_way_of_a_single_delivery(settings):
    # given two queued webhooks, one user without an endpoint (a permanent failure)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    good, bad = UserFactory.create_batch(2)
    rows = notification_send_many(
        [
            NotificationRequest(
                user=good, kind="message", context=MESSAGE, dedupe_key="a", channels=["email"]
            ),
            NotificationRequest(
                user=bad, kind="message", context=MESSAGE, dedupe_key="b", channels=["webhook"]
            ),
        ]
    )

    # when
    counts = notification_deliver_many(notification_ids=[row.pk for row in rows])

    # then the email went, the webhook failed for good with its reason
    assert counts == {"sent": 1, "retrying": 0, "failed": 1}
    assert dict(Notification.objects.values_list("dedupe_key", "status")) == {"a": "sent", "b": "failed"}
    assert len(mail.outbox) == 1
