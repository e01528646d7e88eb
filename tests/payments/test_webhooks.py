"""Inbound webhooks: signature and freshness, stored once, handled once, in any order."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from django.db import connection

from vigencia.core import clock
from vigencia.payments.models import PaymentEvent, PaymentIntent, WebhookEvent
from vigencia.payments.services import payment_process, webhook_receive

from .conftest import event_for, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def processing(make_intent) -> PaymentIntent:
    intent = make_intent()
    payment_process(intent=intent)
    return intent


def test_a_valid_event_is_stored_and_applied(processing, deliver, handled):
    response = deliver(event_for(processing, "payment.succeeded", "evt_1", provider_reference="ch_9"))
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    processing.refresh_from_db()
    assert (processing.status, processing.provider_reference) == ("succeeded", "ch_9")
    row = WebhookEvent.objects.get()
    assert (row.provider, row.event_id, row.type, row.outcome) == (
        "sandbox",
        "evt_1",
        "payment.succeeded",
        "applied",
    )
    assert row.handled_at is not None
    assert handled == [(processing.public_id, "succeeded")]


def test_the_same_event_ten_times_is_applied_once(processing, deliver, handled):
    event = event_for(processing, "payment.succeeded", "evt_dup")
    answers = [deliver(event).json() for _ in range(10)]
    assert answers == [{"received": True, "duplicate": False}] + [{"received": True, "duplicate": True}] * 9
    assert WebhookEvent.objects.count() == 1
    assert PaymentEvent.objects.filter(intent=processing, to_status="succeeded").count() == 1
    assert handled == [(processing.public_id, "succeeded")]


def test_shuffled_duplicates_and_late_events_never_move_a_payment_backwards(processing, deliver, handled):
    events = [
        event_for(processing, "payment.processing", "evt_p"),
        event_for(processing, "payment.succeeded", "evt_s"),
        event_for(processing, "payment.failed", "evt_f", failure_code="card_declined"),
    ]
    deliveries = [events[1]] + [random.Random(7).choice(events) for _ in range(20)]
    random.Random(11).shuffle(deliveries[1:])
    for event in deliveries:
        assert deliver(event).status_code == 200
    processing.refresh_from_db()
    assert processing.status == "succeeded"
    assert handled == [(processing.public_id, "succeeded")]
    outcomes = dict(WebhookEvent.objects.values_list("event_id", "outcome"))
    assert outcomes["evt_s"] == "applied"
    assert {outcomes.get("evt_p", "ignored"), outcomes.get("evt_f", "ignored")} == {"ignored"}


def test_processing_after_succeeded_is_recorded_and_ignored(processing, deliver, handled):
    deliver(event_for(processing, "payment.succeeded", "evt_s"))
    response = deliver(event_for(processing, "payment.processing", "evt_p"))
    assert response.status_code == 200
    processing.refresh_from_db()
    assert processing.status == "succeeded"
    late = WebhookEvent.objects.get(event_id="evt_p")
    assert (late.outcome, late.handled_at is not None) == ("ignored", True)
    assert "payment is no longer processing" in late.note or "cannot go from succeeded" in late.note


def test_succeeded_before_processing_still_gets_there(make_intent, deliver, handled):
    intent = make_intent()
    deliver(event_for(intent, "payment.succeeded", "evt_s"))
    intent.refresh_from_db()
    assert intent.status == "succeeded"
    assert list(PaymentEvent.objects.filter(intent=intent).values_list("to_status", flat=True)) == [
        "requires_action",
        "processing",
        "succeeded",
    ]


def test_an_event_with_another_amount_is_ignored(processing, deliver, handled):
    event = event_for(processing, "payment.succeeded", "evt_s")
    event["data"]["amount_minor"] = 1
    assert deliver(event).status_code == 200
    processing.refresh_from_db()
    assert processing.status == "processing"
    assert WebhookEvent.objects.get().outcome == "ignored"
    assert handled == []


def test_refunded_event_moves_a_paid_payment_to_refunded(processing, deliver):
    deliver(event_for(processing, "payment.succeeded", "evt_s"))
    deliver(event_for(processing, "payment.refunded", "evt_r", amount_refunded_minor=700))
    processing.refresh_from_db()
    assert (processing.status, processing.refunded_minor) == ("refunded", 700)


def test_an_event_for_an_unknown_payment_is_recorded_and_ignored(deliver):
    response = deliver({"id": "evt_x", "type": "payment.succeeded", "data": {"payment_id": "pay_nope"}})
    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == "ignored"


@pytest.mark.parametrize(
    "signature",
    ["", "garbage", "t=abc,v1=00", "v1=deadbeef", "t=1,v1=" + "0" * 64],
)
def test_a_bad_signature_is_400_and_stores_nothing(processing, deliver, handled, signature):
    response = deliver(event_for(processing, "payment.succeeded", "evt_bad"), signature=signature)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert WebhookEvent.objects.count() == 0
    processing.refresh_from_db()
    assert processing.status == "processing"
    assert handled == []


def test_a_signature_with_another_secret_is_400(processing, deliver, handled):
    response = deliver(event_for(processing, "payment.succeeded", "evt_bad"), secret="not-the-secret")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
    assert WebhookEvent.objects.count() == 0
    assert handled == []


def test_a_tampered_body_is_400(processing, anon_api):
    body, header = signed(event_for(processing, "payment.failed", "evt_t"))
    tampered = body.replace(b"payment.failed", b"payment.succeeded")
    response = anon_api.generic(
        "POST",
        "/api/v1/payments/webhooks/sandbox",
        tampered,
        content_type="application/json",
        HTTP_VIGENCIA_SIGNATURE=header,
    )
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(("age", "status"), [(301, 400), (-301, 400), (299, 200), (-299, 200)])
def test_timestamps_are_accepted_within_300_seconds(processing, deliver, age, status):
    now = clock.now()
    with clock.frozen(now):
        response = deliver(event_for(processing, "payment.succeeded", "evt_t"), at=int(now.timestamp()) - age)
    assert response.status_code == status
    assert WebhookEvent.objects.count() == (1 if status == 200 else 0)


def test_a_stale_event_is_refused_at_the_injected_clock(processing, deliver):
    event = event_for(processing, "payment.succeeded", "evt_t")
    sent_at = int(clock.now().timestamp())
    with clock.frozen(clock.now() + timedelta(minutes=6)):
        response = deliver(event, at=sent_at)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    "event",
    [
        {"id": "evt_1", "type": "charge.dispute", "data": {"payment_id": "pay_x"}},
        {"id": "evt_1", "type": "payment.succeeded"},
        {"id": "", "type": "payment.succeeded", "data": {"payment_id": "pay_x"}},
        ["not", "an", "object"],
    ],
)
def test_an_authentic_event_we_do_not_understand_is_422_and_stores_nothing(deliver, event):
    response = deliver(event)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_event")
    assert WebhookEvent.objects.count() == 0


def test_a_body_that_is_not_json_is_422(anon_api):
    body, header = b"\xff\xfe not json", None
    from django.conf import settings

    from vigencia.core.signing import signature_header

    header = signature_header(
        secret=settings.VIGENCIA_SANDBOX_WEBHOOK_SECRET, body=body, timestamp=int(clock.now().timestamp())
    )
    response = anon_api.generic(
        "POST",
        "/api/v1/payments/webhooks/sandbox",
        body,
        content_type="application/json",
        HTTP_VIGENCIA_SIGNATURE=header,
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_event")


def test_an_unknown_provider_is_404(deliver, anon_api):
    response = anon_api.post("/api/v1/payments/webhooks/stripe", data=b"{}", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (404, "unknown_provider")
    assert WebhookEvent.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and unique inserts need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_same_event_from_ten_threads_is_handled_once(make_intent, handled):
    intent = make_intent()
    payment_process(intent=intent)
    body, header = signed(event_for(intent, "payment.succeeded", "evt_race"))
    barrier = threading.Barrier(10)
    results: list[bool] = []
    errors: list[BaseException] = []

    def deliver_once() -> None:
        try:
            barrier.wait()
            _row, handled_now = webhook_receive(
                provider="sandbox", headers={"Vigencia-Signature": header}, body=body
            )
            results.append(handled_now)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * 9 + [True]
    assert WebhookEvent.objects.count() == 1
    assert PaymentEvent.objects.filter(intent=intent, to_status="succeeded").count() == 1
    assert handled == [(intent.public_id, "succeeded")]
