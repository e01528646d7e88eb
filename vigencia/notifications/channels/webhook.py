"""Signed webhooks to the user's endpoint: POST JSON {id, kind, created_at, data}.

`Vigencia-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (the scheme of the other
signed callbacks of the platform) and `Vigencia-Event-Id`, the same on every retry of one event.

A subscriber chooses the URL, so the platform must not be made to call its own network (server-side
request forgery): the endpoint's host is resolved when the connection is made, and unless every
address it has is public the webhook is refused for good; the connection goes to the address that was
checked, so a name cannot point elsewhere between the check and the call.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import typing
from functools import cache

import httpcore
import httpx
from django.conf import settings

from vigencia.core import clock
from vigencia.core.signing import SIGNATURE_HEADER, signature_header
from vigencia.notifications.channels import DeliveryError
from vigencia.notifications.models import Notification, WebhookEndpoint
from vigencia.notifications.rendering import Rendered

EVENT_ID_HEADER = "Vigencia-Event-Id"


def webhook_body(notification: Notification) -> bytes:
    payload = {
        "id": str(notification.event_id),
        "kind": notification.kind,
        "created_at": notification.created_at.isoformat(),
        "data": notification.context,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class NotPublic(httpcore.ConnectError):
    """The endpoint's host has an address that is not public."""


class _PublicOnly(httpcore.SyncBackend):
    """Connects only to public addresses: resolves the host itself, checks every address, and
    connects to the first (TLS still verifies the certificate for the URL's host name)."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except OSError as error:
            raise httpcore.ConnectError(f"{host}: {error}") from error
        private = [address for address in addresses if not address_is_public(str(address))]
        if private or not addresses:
            raise NotPublic(
                f"{host} resolves to an address that is not public: {', '.join(map(str, private))}"
            )
        return super().connect_tcp(str(addresses[0]), port, timeout, local_address, socket_options)


def address_is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local such as
    the cloud metadata address, reserved or multicast)."""
    return ipaddress.ip_address(address.split("%", 1)[0]).is_global


@cache
def _client(*, public_only: bool) -> httpx.Client:
    transport = httpx.HTTPTransport(trust_env=False)
    if public_only:
        # httpx builds the pool without a way to choose its network backend: the same pool, with one.
        transport._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=_PublicOnly()
        )
    return httpx.Client(transport=transport, follow_redirects=False, trust_env=False)


def deliver(notification: Notification, rendered: Rendered) -> None:
    endpoint = WebhookEndpoint.objects.filter(user_id=notification.user_id, active=True).first()
    if endpoint is None:
        raise DeliveryError("the user has no active webhook endpoint", permanent=True)
    body = webhook_body(notification)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Vigencia-Webhooks/1",
        EVENT_ID_HEADER: str(notification.event_id),
        SIGNATURE_HEADER: signature_header(
            secret=endpoint.secret, body=body, timestamp=int(clock.now().timestamp())
        ),
    }
    client = _client(public_only=not settings.VIGENCIA_WEBHOOK_ALLOW_INTERNAL_HOSTS)
    try:
        response = client.post(
            endpoint.url, content=body, headers=headers, timeout=settings.VIGENCIA_WEBHOOK_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as error:
        raise DeliveryError(
            f"{type(error).__name__}: {error}", permanent=isinstance(error.__cause__, NotPublic)
        )
    if not response.is_success:
        raise DeliveryError(f"the endpoint answered HTTP {response.status_code}")
