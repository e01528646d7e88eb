"""Real servers on localhost for the channels: an SMTP server (aiosmtpd) and a webhook receiver."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.factories import UserFactory

RENEWAL_CONTEXT = {
    "order_id": 42,
    "msisdn": "+51912345678",
    "msisdn_display": "+51 912 345 678",
    "carrier_name": "Claro",
    "plan_name": "Recarga 10",
    "amount": "S/ 10.00",
    "valid_until": "2026-01-05",
    "receipt_url": "http://127.0.0.1:8000/orders/42/receipt/",
}
FAILED_CONTEXT = {
    "order_id": 43,
    "msisdn_display": "+51 912 345 678",
    "plan_name": "Recarga 10",
    "amount": "S/ 10.00",
    "reason": "declined",
    "refunded": True,
    "wallet_url": "http://127.0.0.1:8000/wallet/",
}


@pytest.fixture(autouse=True)
def _notification_settings(settings, tmp_path) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.VIGENCIA_NOTIFICATION_BACKOFF_SECONDS = [60, 300, 1800, 7200, 21600]
    settings.VIGENCIA_NOTIFICATION_MAX_ATTEMPTS = 6
    settings.VIGENCIA_WEBHOOK_TIMEOUT_SECONDS = 2
    # The test receivers listen on 127.0.0.1; the guard against internal hosts has its own tests.
    settings.VIGENCIA_WEBHOOK_ALLOW_INTERNAL_HOSTS = True
    settings.VIGENCIA_SMS_GATEWAY = "vigencia.notifications.channels.sms.FileSmsGateway"
    settings.VIGENCIA_SMS_DIR = tmp_path / "sms"


@pytest.fixture
def spanish_user(db):
    return UserFactory(language="es", email="ana@example.com")


@pytest.fixture
def chinese_user(db):
    return UserFactory(language="zh-hans", email="li@example.com", phone="+51912345678")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp_server(settings) -> Iterator[_Inbox]:
    """A real SMTP server on a free localhost port, with Django's SMTP backend pointed at it."""
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield inbox
    finally:
        controller.stop()


@dataclass
class WebhookReceiver:
    url: str
    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local HTTP server (stdlib, in a thread) that records each POST and answers `status`."""
    receiver = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.requests.append((dict(self.headers.items()), body))
            self.send_response(receiver.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/vigencia"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def tasks_of(path_suffix: str = "notification_deliver_task") -> list[Any]:
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.filter(task_path__endswith=path_suffix).order_by("enqueued_at", "id"))


def json_body(body: bytes) -> dict[str, Any]:
    return json.loads(body)
