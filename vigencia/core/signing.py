"""The platform's one scheme for signed HTTP bodies, Stripe's: the payments webhooks, the carrier's
callbacks and the webhooks to users' endpoints all carry
`Vigencia-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. A signature is valid
only within the tolerance of its timestamp, so a captured request cannot be replayed later."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Vigencia-Signature"
TOLERANCE_SECONDS = 300


def signature_header(*, secret: str, body: bytes, timestamp: int) -> str:
    """The header's value that signs `body` with `secret` at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_valid(*, secret: str, body: bytes, header: str | None, now: float) -> bool:
    """Whether `header` signs `body` with `secret` at a timestamp within the tolerance of `now`, on
    either side. Any v1 of the header may match (a secret being rotated); a missing or malformed
    header is simply not valid."""
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature_header(secret=secret, body=body, timestamp=timestamp).split("v1=", 1)[1].encode()
    # Bytes, not str: compare_digest refuses str with other than ASCII, and a header may carry any.
    return any(hmac.compare_digest(expected, candidate.encode()) for candidate in parts.get("v1", []))
