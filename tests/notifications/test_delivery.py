"""Delivery: real SMTP, a signed webhook to a local server, the SMS file gateway, retries with
backoff, and a row never sent twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import UserFactory
from tests.notifications.conftest import RENEWAL_CONTEXT, tasks_of
from vigencia.notifications.channels import webhook
from vigencia.notifications.models import Notification, NotificationStatus
from vigencia.notifications.services import (
    notification_deliver,
    notification_requeue_stale,
    notification_send,
    webhook_endpoint_set,
)

pytestmark = pytest.mark.django_db


def _events(notification: Notification) -> list[str]:
    return list(notification.events.values_list("kind", flat=True))


def test_email_goes_through_a_real_smtp_server_in_the_users_language(spanish_user, smtp_server, run_tasks):
    # given a renewal notification for a Spanish-speaking user
    [row] = notification_send(
        user=spanish_user, kind="renewal_succeeded", context=RENEWAL_CONTEXT, dedupe_key="order:42:ok"
    )

    # when the worker runs
    assert run_tasks() == 1

    # then the SMTP server received one message, in Spanish, with a text and an HTML part
    [(recipients, message)] = smtp_server.messages
    assert recipients == ["ana@example.com"]
    assert message["To"] == "ana@example.com"
    # Django folds an encoded subject onto a continuation line; the parser keeps the fold's space.
    assert message["Subject"].lstrip() == "Tu línea +51 912 345 678 está renovada hasta el 5 de enero de 2026"
    assert message["X-Vigencia-Event-Id"] == str(row.event_id)
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")  # SMTP's CRLF
    assert text == (
        "Tu línea +51 912 345 678 de Claro se renovó con Recarga 10 por S/ 10.00. "
        "El plan es válido hasta el 5 de enero de 2026.\n\n"
        "Comprobante: http://127.0.0.1:8000/orders/42/receipt/\n"
    )
    assert "Ver el comprobante" in message.get_body(preferencelist=("html",)).get_content()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error, row.claimed_until) == ("sent", 1, "", None)
    assert row.sent_at is not None
    assert _events(row) == ["queued", "sent"]


def test_the_language_is_the_users_at_delivery(chinese_user, run_tasks):
    notification_send(
        user=chinese_user,
        kind="wallet_topped_up",
        context={"amount": "S/ 20.00", "balance": "S/ 35.50"},
        dedupe_key="t",
    )

    run_tasks()

    assert [message.subject for message in mail.outbox] == ["您的钱包已充值 S/ 20.00"]
    assert mail.outbox[0].body == "我们已向您的 Vigencia 钱包充值 S/ 20.00。当前余额为 S/ 35.50。\n"


def test_a_webhook_is_posted_signed_to_the_users_endpoint(user, webhook_receiver, run_tasks, frozen_clock):
    # given an endpoint and a notification for it
    _endpoint, secret = webhook_endpoint_set(user=user, url=webhook_receiver.url)
    at = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    with frozen_clock(at):
        rows = notification_send(user=user, kind="renewal_succeeded", context=RENEWAL_CONTEXT, dedupe_key="k")
        # when the worker runs (at the same instant)
        run_tasks()

    # then the receiver got one POST per event, and the signature proves the body
    assert [row.channel for row in rows] == ["email", "webhook"]
    webhook_row = next(row for row in rows if row.channel == "webhook")
    [(headers, body)] = webhook_receiver.requests
    assert headers["Content-Type"] == "application/json"
    assert headers["Vigencia-Event-Id"] == str(webhook_row.event_id)
    timestamp = int(at.timestamp())
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["Vigencia-Signature"] == f"t={timestamp},v1={expected}"
    assert json.loads(body) == {
        "id": str(webhook_row.event_id),
        "kind": "renewal_succeeded",
        "created_at": "2026-01-05T15:00:00+00:00",
        "data": RENEWAL_CONTEXT,
    }
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_a_failing_endpoint_is_retried_with_backoff_then_failed(
    user, webhook_receiver, run_tasks, frozen_clock
):
    # given an endpoint that answers 500, and a clock a day ahead so that every retry waits
    webhook_receiver.status = 500
    webhook_endpoint_set(user=user, url=webhook_receiver.url)
    at = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    with frozen_clock(at):
        [row] = notification_send(
            user=user,
            kind="message",
            context={"subject": "s", "body": "b"},
            dedupe_key="k",
            channels=["webhook"],
        )
        run_tasks()

    # when each retry comes due, it runs at its time: 1 min, 5 min, 30 min, 2 h, 6 h after the last
    for wait in (60, 300, 1800, 7200, 21600):
        row.refresh_from_db()
        assert (row.status, row.last_error) == ("pending", "the endpoint answered HTTP 500")
        [retry] = DBTaskResult.objects.filter(status="READY")
        assert retry.run_after == at + timedelta(seconds=wait)
        assert row.next_attempt_at == at + timedelta(seconds=wait)
        at = retry.run_after
        DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
        with frozen_clock(at):
            run_tasks()

    # then after six attempts the row failed for good, and nothing else is scheduled
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 6, None)
    assert row.last_error == "the endpoint answered HTTP 500"
    assert len(webhook_receiver.requests) == 6
    assert DBTaskResult.objects.filter(status="READY").count() == 0
    assert _events(row) == ["queued", *["attempt_failed"] * 5, "failed"]


def test_a_recovering_endpoint_gets_the_same_event_id_on_the_retry(user, webhook_receiver, run_tasks):
    webhook_receiver.status = 503
    webhook_endpoint_set(user=user, url=webhook_receiver.url)
    [row] = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k", channels=["webhook"]
    )
    run_tasks()
    webhook_receiver.status = 204
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())

    run_tasks()

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert [headers["Vigencia-Event-Id"] for headers, _body in webhook_receiver.requests] == [
        str(row.event_id)
    ] * 2


def test_an_unreachable_smtp_server_is_retried(user, settings, run_tasks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    [row] = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k"
    )

    run_tasks()

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("ConnectionRefusedError")
    assert len(tasks_of()) == 2


def test_a_webhook_without_an_endpoint_fails_at_once(user, run_tasks):
    # given a webhook notification whose endpoint was removed before delivery
    [row] = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k", channels=["webhook"]
    )

    run_tasks()

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (
        "failed",
        1,
        "the user has no active webhook endpoint",
    )
    assert DBTaskResult.objects.filter(status="READY").count() == 0


def _resolve(monkeypatch, name: str, address: str) -> None:
    """Make `name` resolve to `address` (no DNS here), as a customer's DNS record would."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        return real(address if host == name else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _webhook_to(user, url: str) -> Notification:
    webhook_endpoint_set(user=user, url=url)
    [row] = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k", channels=["webhook"]
    )
    return row


def test_a_webhook_host_whose_name_points_inside_the_platform_is_refused_for_good(
    user, webhook_receiver, run_tasks, settings, monkeypatch
):
    # given the guard on, and an endpoint whose public-looking name resolves to the loopback address
    settings.VIGENCIA_WEBHOOK_ALLOW_INTERNAL_HOSTS = False
    _resolve(monkeypatch, "hooks.customer.test", "127.0.0.1")
    port = webhook_receiver.url.split(":")[2].split("/")[0]
    row = _webhook_to(user, f"http://hooks.customer.test:{port}/hooks/vigencia")

    run_tasks()

    # then nothing reached the internal server and the row failed without retries
    row.refresh_from_db()
    assert webhook_receiver.requests == []
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == (
        "ConnectError: hooks.customer.test resolves to an address that is not public: 127.0.0.1"
    )
    assert DBTaskResult.objects.filter(status="READY").count() == 0


def test_a_webhook_connects_to_the_address_its_name_was_checked_at(
    user, webhook_receiver, run_tasks, settings, monkeypatch
):
    # given the guard on, a name that resolves to the receiver, and (for this test only) that
    # address counted as public
    settings.VIGENCIA_WEBHOOK_ALLOW_INTERNAL_HOSTS = False
    _resolve(monkeypatch, "hooks.customer.test", "127.0.0.1")
    monkeypatch.setattr(webhook, "address_is_public", lambda address: address == "127.0.0.1")
    port = webhook_receiver.url.split(":")[2].split("/")[0]
    row = _webhook_to(user, f"http://hooks.customer.test:{port}/hooks/vigencia")

    run_tasks()

    # then it was delivered there, under the endpoint's own host name
    row.refresh_from_db()
    assert row.status == "sent"
    [(headers, _body)] = webhook_receiver.requests
    assert headers["Host"] == f"hooks.customer.test:{port}"


def test_sms_goes_to_the_dev_gateways_file(chinese_user, settings, run_tasks):
    [row] = notification_send(
        user=chinese_user,
        kind="message",
        context={"subject": "号码已受限", "body": "请充值。"},
        dedupe_key="k",
        channels=["sms"],
    )

    run_tasks()

    [line] = (settings.VIGENCIA_SMS_DIR / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    sms = json.loads(line)
    assert (sms["to"], sms["text"], sms["reference"]) == (
        "+51912345678",
        "号码已受限\n请充值。",
        str(row.event_id),
    )


def test_sms_to_a_user_without_a_phone_fails_and_writes_no_file(user, settings, run_tasks):
    [row] = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k", channels=["sms"]
    )

    run_tasks()

    row.refresh_from_db()
    assert (row.status, row.last_error) == ("failed", "the user has no phone number")
    assert not (settings.VIGENCIA_SMS_DIR / "outbox.jsonl").exists()


def test_a_row_claimed_by_another_worker_is_not_sent_again(user):
    # given a row another worker is sending right now
    [row] = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k"
    )
    Notification.objects.filter(pk=row.pk).update(
        claimed_until=timezone.now() + timedelta(minutes=5), attempts=1
    )

    # when a duplicate task runs, nothing is sent
    assert notification_deliver(notification_id=row.pk) is None
    assert mail.outbox == []
    assert notification_requeue_stale() == 0


def test_a_claim_that_ran_out_is_requeued_and_sent(user, run_tasks):
    # given a worker that died mid-send (its claim has expired)
    [row] = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k"
    )
    DBTaskResult.objects.all().delete()
    Notification.objects.filter(pk=row.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1), attempts=1
    )

    assert notification_requeue_stale() == 1
    run_tasks()

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_a_sent_row_is_never_sent_twice(user, run_tasks):
    [row] = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="k"
    )
    run_tasks()

    assert notification_deliver(notification_id=row.pk) is None
    assert notification_deliver(notification_id=10**9) is None
    assert len(mail.outbox) == 1
    assert Notification.objects.get(pk=row.pk).status == NotificationStatus.SENT


def test_no_users_notification_leaks_to_another(db, run_tasks):
    first, second = UserFactory(email="a@example.com"), UserFactory(email="b@example.com")
    notification_send(user=first, kind="message", context={"subject": "for a", "body": "x"}, dedupe_key="a")
    notification_send(user=second, kind="message", context={"subject": "for b", "body": "y"}, dedupe_key="b")

    run_tasks()

    assert sorted((message.to[0], message.subject) for message in mail.outbox) == [
        ("a@example.com", "for a"),
        ("b@example.com", "for b"),
    ]
