"""Idempotency-Key for API writes (Stripe semantics), by a unique constraint rather than a check.

Same key + same body -> the stored response; same key + another body -> 422 and nothing written.
Concurrent duplicates block on the unique index until the first request commits, then replay its
response. A request that fails with a domain error rolls back with its record, so a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vigencia.core.errors import InvalidInput
from vigencia.core.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class _KeyTaken(Exception):
    """The (owner, key) record exists already."""


def _fingerprint(scope: str, payload: Any) -> str:
    canonical = json.dumps([scope, payload], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> tuple[int, Any]:
    if record.fingerprint != fingerprint:
        raise InvalidInput(
            _("This Idempotency-Key was already used with a different request."),
            code="idempotency_key_reused",
        )
    # A record is only ever visible with its response: both are written in the one transaction.
    assert record.status_code is not None
    return record.status_code, record.response


def idempotent(
    *, owner_id: int, key: str | None, scope: str, payload: Any, action: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    """Run `action` (returning status and a JSON-able body) at most once per (owner, key)."""
    key = (key or "").strip()
    if not key:
        raise InvalidInput(
            _("Send an Idempotency-Key header with this request."), code="idempotency_key_required"
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            _("The Idempotency-Key is too long or not printable."), code="idempotency_key_invalid"
        )
    fingerprint = _fingerprint(scope, payload)
    # The record is inserted first, without a look-up or a savepoint of its own: the common request
    # is new, and a key already taken fails the insert, which rolls this whole block back.
    try:
        with transaction.atomic():
            try:
                record = IdempotencyRecord.objects.create(
                    owner_id=owner_id, key=key, scope=scope, fingerprint=fingerprint
                )
            except IntegrityError as taken:
                raise _KeyTaken from taken
            status, body = action()
            IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=status, response=body)
            return status, body
    except _KeyTaken:
        # Another request with this key committed first (a concurrent one waited on the unique index
        # until it did): answer what it answered.
        return _replay(IdempotencyRecord.objects.get(owner_id=owner_id, key=key), fingerprint)
