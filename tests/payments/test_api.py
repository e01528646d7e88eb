"""/api/v1/payments/{id} and the test-mode helpers."""

from __future__ import annotations

import pytest

from vigencia.payments.models import PaymentEvent

pytestmark = pytest.mark.django_db


def test_the_payer_reads_a_payment(make_intent, api):
    intent = make_intent(amount_minor=2500)
    response = api.get(f"/api/v1/payments/{intent.public_id}")
    assert response.status_code == 200
    assert response.json() == {
        "id": intent.public_id,
        "status": "requires_action",
        "amount": {"amount_minor": 2500, "currency": "PEN"},
        "method": "sandbox_card",
        "purpose": "test",
        "purpose_id": "T-1",
        "checkout_url": f"http://testserver/payments/sandbox/checkout/{intent.public_id}/",
        "failure_code": "",
        "refunded": {"amount_minor": 0, "currency": "PEN"},
    }


def test_another_user_gets_404_and_anonymous_401(make_intent, other_api, anon_api):
    intent = make_intent()
    response = other_api.get(f"/api/v1/payments/{intent.public_id}")
    assert (response.status_code, response.json()["code"]) == (404, "payment_not_found")
    assert anon_api.get(f"/api/v1/payments/{intent.public_id}").status_code == 401


def test_helper_succeed_moves_through_processing_and_calls_the_handler(make_intent, api, handled):
    intent = make_intent()
    response = api.post_json(f"/api/v1/test-helpers/payments/{intent.public_id}/succeed")
    assert (response.status_code, response.json()["status"]) == (200, "succeeded")
    assert list(PaymentEvent.objects.filter(intent=intent).values_list("to_status", flat=True)) == [
        "requires_action",
        "processing",
        "succeeded",
    ]
    assert handled == [(intent.public_id, "succeeded")]


def test_helper_fail(make_intent, api, handled):
    intent = make_intent()
    response = api.post_json(f"/api/v1/test-helpers/payments/{intent.public_id}/fail")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["failure_code"]) == ("failed", "card_declined")
    assert handled == [(intent.public_id, "failed")]


def test_helper_on_a_decided_payment_is_409(make_intent, api, handled):
    intent = make_intent()
    api.post_json(f"/api/v1/test-helpers/payments/{intent.public_id}/succeed")
    response = api.post_json(f"/api/v1/test-helpers/payments/{intent.public_id}/fail")
    assert (response.status_code, response.json()["code"]) == (409, "illegal_transition")
    assert handled == [(intent.public_id, "succeeded")]


@pytest.mark.parametrize("action", ["succeed", "fail"])
def test_helpers_only_for_the_payer(make_intent, other_api, anon_api, handled, action):
    intent = make_intent()
    assert (
        other_api.post_json(f"/api/v1/test-helpers/payments/{intent.public_id}/{action}").status_code == 404
    )
    assert anon_api.post_json(f"/api/v1/test-helpers/payments/{intent.public_id}/{action}").status_code == 401
    intent.refresh_from_db()
    assert intent.status == "requires_action"
    assert handled == []


@pytest.mark.parametrize("action", ["succeed", "fail"])
def test_helpers_are_404_when_sandbox_payments_are_off(make_intent, api, settings, handled, action):
    intent = make_intent()
    settings.VIGENCIA_SANDBOX_PAYMENTS = False
    response = api.post_json(f"/api/v1/test-helpers/payments/{intent.public_id}/{action}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    intent.refresh_from_db()
    assert intent.status == "requires_action"
    assert handled == []


def test_the_webhook_endpoint_is_in_the_openapi_schema(anon_api):
    paths = anon_api.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/payments/webhooks/{provider}" in paths
    assert "/api/v1/test-helpers/payments/{payment_id}/succeed" in paths


@pytest.mark.parametrize("action", ["succeed", "fail"])
def test_helpers_off_are_404_to_a_caller_without_a_token_too(make_intent, anon_api, settings, action):
    # given the sandbox turned off
    intent = make_intent()
    settings.VIGENCIA_SANDBOX_PAYMENTS = False

    # when someone without a token calls a helper
    response = anon_api.post_json(f"/api/v1/test-helpers/payments/{intent.public_id}/{action}")

    # then it is not there, rather than asking for a login
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_helpers_off_are_left_out_of_the_openapi_schema_and_the_docs(anon_api, settings):
    settings.VIGENCIA_SANDBOX_PAYMENTS = False

    paths = anon_api.get("/api/v1/openapi.json").json()["paths"]

    assert [path for path in paths if "test-helpers" in path] == []
    assert "/api/v1/payments/webhooks/{provider}" in paths
