"""Signed callbacks, the same scheme as the payments webhooks: `Vigencia-Signature: t=<unix>,v1=<hex>`
where v1 is HMAC-SHA256 of "<t>.<raw body>"; a signature older than the tolerance is refused."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Vigencia-Signature"
TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    pass


def signature_header(*, body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_verify(*, body: bytes, header: str, secret: str, now: float | None = None) -> None:
    """Raise InvalidSignature unless `header` signs `body` with `secret` within the tolerance."""
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        raise InvalidSignature("no timestamp")
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp outside the tolerance")
    expected = signature_header(body=body, secret=secret, timestamp=timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise InvalidSignature("signature does not match")
