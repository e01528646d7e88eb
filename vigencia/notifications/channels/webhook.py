"""Signed webhooks to the user's endpoint: POST JSON {id, kind, created_at, data}.

`Vigencia-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (the scheme of the other
signed callbacks of the platform) and `Vigencia-Event-Id`, the same on every retry of one event.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
from django.conf import settings

from vigencia.core import clock
from vigencia.notifications.channels import DeliveryError
from vigencia.notifications.models import Notification, WebhookEndpoint
from vigencia.notifications.rendering import Rendered

SIGNATURE_HEADER = "Vigencia-Signature"
EVENT_ID_HEADER = "Vigencia-Event-Id"


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_body(notification: Notification) -> bytes:
    payload = {
        "id": str(notification.event_id),
        "kind": notification.kind,
        "created_at": notification.created_at.isoformat(),
        "data": notification.context,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def deliver(notification: Notification, rendered: Rendered) -> None:
    endpoint = WebhookEndpoint.objects.filter(user_id=notification.user_id, active=True).first()
    if endpoint is None:
        raise DeliveryError("the user has no active webhook endpoint", permanent=True)
    body = webhook_body(notification)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Vigencia-Webhooks/1",
        EVENT_ID_HEADER: str(notification.event_id),
        SIGNATURE_HEADER: webhook_signature(
            secret=endpoint.secret, timestamp=int(clock.now().timestamp()), body=body
        ),
    }
    try:
        response = httpx.post(
            endpoint.url,
            content=body,
            headers=headers,
            timeout=settings.VIGENCIA_WEBHOOK_TIMEOUT_SECONDS,
            follow_redirects=False,
        )
    except httpx.HTTPError as error:
        raise DeliveryError(f"{type(error).__name__}: {error}")
    if not response.is_success:
        raise DeliveryError(f"the endpoint answered HTTP {response.status_code}")
