"""Payment services: creation, every transition, the illegal ones, refunds and the purpose handler."""

from __future__ import annotations

import pytest

from vigencia.core.errors import Conflict, InvalidInput
from vigencia.core.money import Money
from vigencia.core.transitions import IllegalTransition
from vigencia.payments.models import PAYMENT_TRANSITIONS, PaymentEvent, PaymentIntent, PaymentStatus
from vigencia.payments.services import (
    payment_cancel,
    payment_create,
    payment_fail,
    payment_process,
    payment_refund,
    payment_succeed,
)

pytestmark = pytest.mark.django_db

S = PaymentStatus


def _history(intent: PaymentIntent) -> list[tuple[str, str]]:
    return list(PaymentEvent.objects.filter(intent=intent).values_list("from_status", "to_status"))


def test_create_opens_an_intent_waiting_for_the_customer(make_intent, user):
    # when
    intent = make_intent(amount_minor=2590, return_url="/orders/7/")
    # then
    intent.refresh_from_db()
    assert intent.public_id.startswith("pay_")
    assert len(intent.public_id) == 28
    assert (intent.status, intent.provider, intent.method) == ("requires_action", "sandbox", "sandbox_card")
    assert intent.amount == Money(2590, "PEN")
    assert (intent.purpose, intent.purpose_id, intent.payer) == ("test", "T-1", user)
    assert intent.provider_reference.startswith("sb_pi_")
    assert intent.checkout_url == f"/payments/sandbox/checkout/{intent.public_id}/"
    assert intent.after_checkout_url == "/orders/7/"
    assert _history(intent) == [("", "requires_action")]


def test_without_return_url_the_customer_lands_on_the_status_page(make_intent):
    intent = make_intent()
    assert intent.after_checkout_url == f"/payments/{intent.public_id}/"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"method": "cash"}, "invalid_method"),
        ({"amount_minor": 0}, "invalid_amount"),
        ({"amount_minor": -100}, "invalid_amount"),
        ({"return_url": "https://evil.example/steal"}, "invalid_return_url"),
        ({"return_url": "//evil.example/steal"}, "invalid_return_url"),
        ({"return_url": "javascript:alert(1)"}, "invalid_return_url"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(make_intent, kwargs, code):
    with pytest.raises(InvalidInput) as refused:
        make_intent(**kwargs)
    assert refused.value.code == code
    assert PaymentIntent.objects.count() == 0
    assert PaymentEvent.objects.count() == 0


def test_create_refuses_an_empty_purpose(user):
    with pytest.raises(InvalidInput) as refused:
        payment_create(
            payer=user, amount=Money(100, "PEN"), method="sandbox_card", purpose="", purpose_id="1"
        )
    assert refused.value.code == "invalid_purpose"
    assert PaymentIntent.objects.count() == 0


def test_the_transition_table_is_exactly_the_documented_one():
    allowed = {
        (source, target) for source, targets in PAYMENT_TRANSITIONS.allowed.items() for target in targets
    }
    assert allowed == {
        (S.REQUIRES_ACTION, S.PROCESSING),
        (S.REQUIRES_ACTION, S.FAILED),
        (S.REQUIRES_ACTION, S.CANCELED),
        (S.PROCESSING, S.SUCCEEDED),
        (S.PROCESSING, S.FAILED),
        (S.PROCESSING, S.CANCELED),
        (S.SUCCEEDED, S.REFUNDED),
    }


def test_success_path_records_every_step_and_calls_the_handler_once(make_intent, handled):
    intent = make_intent()
    payment_process(intent=intent)
    payment_succeed(intent=intent, provider_reference="ch_123")
    intent.refresh_from_db()
    assert (intent.status, intent.provider_reference) == ("succeeded", "ch_123")
    assert _history(intent) == [
        ("", "requires_action"),
        ("requires_action", "processing"),
        ("processing", "succeeded"),
    ]
    assert handled == [(intent.public_id, "succeeded")]


@pytest.mark.parametrize("processing_first", [False, True])
def test_fail_keeps_the_reason_and_calls_the_handler(make_intent, handled, processing_first):
    intent = make_intent()
    if processing_first:
        payment_process(intent=intent)
    payment_fail(intent=intent, code="card_declined", message="Declined")
    intent.refresh_from_db()
    assert (intent.status, intent.failure_code, intent.failure_message) == (
        "failed",
        "card_declined",
        "Declined",
    )
    assert handled == [(intent.public_id, "failed")]


@pytest.mark.parametrize("processing_first", [False, True])
def test_cancel_calls_the_handler(make_intent, handled, processing_first):
    intent = make_intent()
    if processing_first:
        payment_process(intent=intent)
    payment_cancel(intent=intent)
    intent.refresh_from_db()
    assert intent.status == "canceled"
    assert handled == [(intent.public_id, "canceled")]


def _at(make_intent, status: str) -> PaymentIntent:
    intent = make_intent()
    steps = {
        S.REQUIRES_ACTION: [],
        S.PROCESSING: [payment_process],
        S.SUCCEEDED: [payment_process, payment_succeed],
        S.FAILED: [lambda *, intent: payment_fail(intent=intent, code="x", message="x")],
        S.CANCELED: [payment_cancel],
        S.REFUNDED: [payment_process, payment_succeed, payment_refund],
    }[status]
    for step in steps:
        step(intent=intent)
    assert intent.status == status
    return intent


MOVES = {
    S.PROCESSING: payment_process,
    S.SUCCEEDED: payment_succeed,
    S.FAILED: lambda *, intent: payment_fail(intent=intent, code="x", message="x"),
    S.CANCELED: payment_cancel,
    S.REFUNDED: payment_refund,
}
ILLEGAL = [
    (source, target) for source in S.values for target in MOVES if not PAYMENT_TRANSITIONS.can(source, target)
]


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_illegal_transitions_are_refused_and_change_nothing(make_intent, handled, source, target):
    intent = _at(make_intent, source)
    events, calls = PaymentEvent.objects.count(), list(handled)
    with pytest.raises(Conflict):
        MOVES[target](intent=intent)
    intent.refresh_from_db()
    assert intent.status == source
    assert PaymentEvent.objects.count() == events
    assert handled == calls


def test_a_stale_copy_cannot_move_a_payment_twice(make_intent, handled):
    intent = make_intent()
    payment_process(intent=intent)
    stale = PaymentIntent.objects.get(pk=intent.pk)
    payment_succeed(intent=intent)
    with pytest.raises(IllegalTransition):
        payment_fail(intent=stale, code="late", message="late")
    assert handled == [(intent.public_id, "succeeded")]


def test_refund_in_full_by_default(make_intent):
    intent = _at(make_intent, S.SUCCEEDED)
    payment_refund(intent=intent)
    intent.refresh_from_db()
    assert (intent.status, intent.refunded) == ("refunded", Money(1500, "PEN"))
    last = PaymentEvent.objects.filter(intent=intent).last()
    assert last is not None
    assert last.data["amount_minor"] == 1500
    assert last.data["refund_reference"].startswith("sb_re_")


def test_partial_refund(make_intent):
    intent = _at(make_intent, S.SUCCEEDED)
    payment_refund(intent=intent, amount=Money(500, "PEN"))
    intent.refresh_from_db()
    assert (intent.status, intent.refunded_minor) == ("refunded", 500)


@pytest.mark.parametrize("amount", [Money(1501, "PEN"), Money(0, "PEN"), Money(-1, "PEN"), Money(100, "USD")])
def test_refund_of_a_wrong_amount_is_refused_and_writes_nothing(make_intent, amount):
    intent = _at(make_intent, S.SUCCEEDED)
    events = PaymentEvent.objects.count()
    with pytest.raises(InvalidInput) as refused:
        payment_refund(intent=intent, amount=amount)
    assert refused.value.code == "invalid_refund_amount"
    intent.refresh_from_db()
    assert (intent.status, intent.refunded_minor) == ("succeeded", 0)
    assert PaymentEvent.objects.count() == events


def test_refund_twice_is_a_conflict(make_intent):
    intent = _at(make_intent, S.SUCCEEDED)
    payment_refund(intent=intent, amount=Money(500, "PEN"))
    with pytest.raises(Conflict) as refused:
        payment_refund(intent=intent, amount=Money(500, "PEN"))
    assert refused.value.code == "already_refunded"
    intent.refresh_from_db()
    assert intent.refunded_minor == 500


def test_a_purpose_without_handler_is_skipped(user, settings):
    settings.VIGENCIA_PAYMENT_HANDLERS = {}
    intent = payment_create(
        payer=user, amount=Money(100, "PEN"), method="sandbox_card", purpose="other", purpose_id="1"
    )
    payment_cancel(intent=intent)
    assert intent.status == "canceled"


def test_a_failing_handler_rolls_the_transition_back(make_intent, settings):
    settings.VIGENCIA_PAYMENT_HANDLERS = {"test": "builtins.print"}  # print() rejects `intent=`
    intent = make_intent()
    with pytest.raises(TypeError):
        payment_cancel(intent=intent)
    intent.refresh_from_db()
    assert intent.status == "requires_action"
    assert PaymentEvent.objects.filter(intent=intent).count() == 1


def test_with_test_mode_off_no_sandbox_payment_is_opened(make_intent, settings):
    settings.VIGENCIA_SANDBOX_PAYMENTS = False
    with pytest.raises(InvalidInput) as refused:
        make_intent()
    assert refused.value.code == "method_unavailable"
    assert PaymentIntent.objects.count() == 0
