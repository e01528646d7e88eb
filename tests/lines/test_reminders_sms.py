"""The Jasmin HTTP SMS gateway adapter, against a fake Jasmin (httpx.MockTransport)."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from vigencia.notifications.channels import DeliveryError
from vigencia.notifications.channels.jasmin import JasminSmsGateway


def _gateway(settings, status: int, body: str, seen: list[dict[str, list[str]]]) -> JasminSmsGateway:
    settings.VIGENCIA_JASMIN_URL = "http://jasmin.test:1401"
    settings.VIGENCIA_JASMIN_USERNAME = "vigencia"
    settings.VIGENCIA_JASMIN_PASSWORD = "secret"
    settings.VIGENCIA_JASMIN_SENDER = "Vigencia"

    def handle(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == "http://jasmin.test:1401/send"
        seen.append(parse_qs(request.content.decode()))
        return httpx.Response(status, text=body)

    return JasminSmsGateway(client=httpx.Client(transport=httpx.MockTransport(handle)))


def test_a_message_is_posted_to_send_with_credentials_and_unicode(settings):
    seen: list[dict[str, list[str]]] = []
    gateway = _gateway(settings, 200, 'Success "07033084-5cfd-4812-90a4-e4d24ffb6e3d"', seen)

    gateway.send(to="+51912345678", text="Recarga antes del 7 de junio · 充值", reference="evt-1")

    assert seen == [
        {
            "username": ["vigencia"],
            "password": ["secret"],
            "to": ["51912345678"],
            "content": ["Recarga antes del 7 de junio · 充值"],
            "coding": ["8"],
            "from": ["Vigencia"],
        }
    ]


@pytest.mark.parametrize(
    ("status", "body", "permanent"),
    [
        (400, 'Error "Mandatory argument [to] is not found."', True),
        (412, 'Error "Cannot charge submit_sm"', True),
        (403, 'Error "Authentication failure for username:vigencia"', False),
        (500, "Internal error", False),
    ],
)
def test_a_refusal_raises_delivery_error_permanent_or_retried(settings, status, body, permanent):
    gateway = _gateway(settings, status, body, [])

    with pytest.raises(DeliveryError) as error:
        gateway.send(to="+51912345678", text="hola", reference="evt-1")

    assert error.value.permanent is permanent
    assert str(status) in str(error.value)


def test_no_answer_is_retried(settings):
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    gateway = JasminSmsGateway(client=httpx.Client(transport=httpx.MockTransport(fail)))

    with pytest.raises(DeliveryError) as error:
        gateway.send(to="+51912345678", text="hola", reference="evt-1")

    assert error.value.permanent is False
