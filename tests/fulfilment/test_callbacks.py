"""POST /api/v1/fulfilment/callbacks/{gateway}: signed status callbacks from the gateway."""

from __future__ import annotations

import json
import time

import pytest

from tests.fulfilment import handlers
from tests.fulfilment.conftest import SECRET
from vigencia.core.signing import signature_header
from vigencia.fulfilment.models import FulfilmentEvent, FulfilmentStatus

pytestmark = pytest.mark.django_db

URL = "/api/v1/fulfilment/callbacks/simulator"


def _body(status: str, external_id: str = "order-42", topup_id: str = "sim-000001") -> bytes:
    return json.dumps({"id": topup_id, "external_id": external_id, "status": status}).encode()


def _post(client, body: bytes, *, secret: str = SECRET, timestamp: int | None = None, url: str = URL):
    at = int(time.time()) if timestamp is None else timestamp
    header = signature_header(body=body, secret=secret, timestamp=at)
    return client.post(url, data=body, content_type="application/json", HTTP_VIGENCIA_SIGNATURE=header)


def test_a_signed_callback_moves_the_top_up(start, anon_api):
    transaction = start()

    response = _post(anon_api, _body("COMPLETED"))

    assert response.status_code == 200
    assert response.json() == {"external_id": "order-42", "status": "completed"}
    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.COMPLETED
    assert transaction.gateway_transaction_id == "sim-000001"
    assert handlers.CALLS == [("order-42", "completed")]


@pytest.mark.parametrize(
    "sign",
    [
        lambda body: signature_header(body=body, secret="not-the-secret", timestamp=int(time.time())),
        lambda body: signature_header(body=body + b" ", secret=SECRET, timestamp=int(time.time())),
        lambda body: signature_header(body=body, secret=SECRET, timestamp=int(time.time()) - 301),
        lambda body: "t=abc,v1=00",
        lambda body: f"t={int(time.time())},v1=é",
        lambda body: "",
    ],
    ids=["wrong-secret", "other-body", "too-old", "garbage", "not-ascii", "missing"],
)
def test_a_callback_with_a_bad_signature_is_refused_and_changes_nothing(start, anon_api, sign):
    transaction = start()
    body = _body("COMPLETED")

    response = anon_api.post(
        URL, data=body, content_type="application/json", HTTP_VIGENCIA_SIGNATURE=sign(body)
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.CREATED
    assert list(FulfilmentEvent.objects.values_list("kind", flat=True)) == ["started"]
    assert handlers.CALLS == []


def test_duplicate_callbacks_apply_once(start, anon_api):
    start()

    responses = [_post(anon_api, _body("COMPLETED")) for _copy in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert FulfilmentEvent.objects.filter(kind="status_changed").count() == 1
    assert handlers.CALLS == [("order-42", "completed")]


def test_out_of_order_callbacks_never_move_backwards(start, anon_api):
    transaction = start()

    for status in ["COMPLETED", "SUBMITTED", "CONFIRMED", "CREATED"]:
        assert _post(anon_api, _body(status)).json()["status"] == "completed"

    transaction.refresh_from_db()
    assert transaction.status == FulfilmentStatus.COMPLETED
    assert list(transaction.events.values_list("kind", flat=True)) == [
        "started",
        "status_changed",
        "late_status",
        "late_status",
        "late_status",
    ]


def test_a_callback_for_an_unknown_top_up_is_404(start, anon_api):
    start()

    response = _post(anon_api, _body("COMPLETED", external_id="order-999"))

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_transaction"


def test_a_callback_for_another_gateway_is_404(start, anon_api):
    start()

    response = _post(anon_api, _body("COMPLETED"), url="/api/v1/fulfilment/callbacks/aggregator")

    assert response.status_code == 404
    assert response.json()["code"] == "unknown_gateway"


def test_a_callback_for_another_gateway_transaction_is_409(start, anon_api):
    start()
    _post(anon_api, _body("CONFIRMED", topup_id="sim-000001"))

    response = _post(anon_api, _body("COMPLETED", topup_id="sim-000777"))

    assert response.status_code == 409
    assert response.json()["code"] == "gateway_transaction_mismatch"


@pytest.mark.parametrize(
    "body",
    [b"not json", b"\xff\xfe", b"[]", b'{"id": "sim-1", "external_id": "order-42", "status": "LOST"}', b"{}"],
)
def test_a_signed_callback_that_is_not_a_transaction_is_422(start, anon_api, body):
    start()

    response = _post(anon_api, body)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_callback"


def test_the_error_message_speaks_the_callers_language(start, anon_api):
    start()
    body = _body("COMPLETED")

    response = anon_api.post(
        URL, data=body, content_type="application/json", HTTP_VIGENCIA_SIGNATURE="", HTTP_ACCEPT_LANGUAGE="es"
    )

    assert response.status_code == 400
    assert response.json()["message"] == "La firma de la notificación no es válida."
