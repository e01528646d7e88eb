"""Telegram's Bot API on localhost, for the tests of the Telegram channel (notifications, browser)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class TelegramApi:
    """What the fake Bot API received: (method, JSON payload); `errors` {method: (status, description)}
    makes it answer as Telegram does when it refuses."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: dict[str, tuple[int, str]] = field(default_factory=dict)
    # What getUpdates hands out: those from the request's offset on (Telegram forgets the others).
    updates: list[dict[str, Any]] = field(default_factory=list)

    def sent(self) -> list[tuple[int, str]]:
        return [
            (payload["chat_id"], payload["text"]) for method, payload in self.calls if method == "sendMessage"
        ]


TELEGRAM_TOKEN = "123456:test-token"


@pytest.fixture
def telegram_api(settings) -> Iterator[TelegramApi]:
    """Telegram's Bot API on localhost (`POST /bot<token>/<method>`, JSON in and out), with the
    platform's bot configured to use it."""
    api = TelegramApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            prefix = f"/bot{TELEGRAM_TOKEN}/"
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
            method = self.path.removeprefix(prefix)
            if not self.path.startswith(prefix):
                status, answer = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            elif method in api.errors:
                status, description = api.errors[method]
                answer = {"ok": False, "error_code": status, "description": description}
            elif method == "getUpdates":
                api.calls.append((method, payload))
                if payload.get("offset") is not None:
                    api.updates = [u for u in api.updates if u["update_id"] >= payload["offset"]]
                status, answer = 200, {"ok": True, "result": api.updates[: payload.get("limit") or 100]}
            else:
                api.calls.append((method, payload))
                status, answer = 200, {"ok": True, "result": {"message_id": len(api.calls)}}
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.VIGENCIA_TELEGRAM_API_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.VIGENCIA_TELEGRAM_BOT_TOKEN = TELEGRAM_TOKEN
    settings.VIGENCIA_TELEGRAM_BOT_USERNAME = "VigenciaTestBot"
    settings.VIGENCIA_TELEGRAM_WEBHOOK_SECRET = "test-webhook-secret"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
