"""Schemas every API router shares: the error body, money, input text that is safe to store and
currency codes."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator

from vigencia.core.errors import InvalidInput
from vigencia.core.money import CURRENCIES


class ErrorOut(Schema):
    """Every 4xx body: a stable machine code, a message in the caller's language, optional details."""

    code: str
    message: str
    details: Any = None


class MoneyOut(Schema):
    amount_minor: int
    currency: str


def _storable(value: str) -> str:
    # NUL and lone surrogates parse as JSON but PostgreSQL (and UTF-8) refuse them: a 500 otherwise.
    if "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value):
        raise ValueError("contains characters that are not allowed")
    return value


Text = Annotated[str, AfterValidator(_storable)]
"""A string field of a request body: any Unicode text except NUL and lone surrogates."""


def _currency(value: str) -> str:
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise ValueError("not an ISO 4217 currency code")
    return code


Currency = Annotated[str, AfterValidator(_currency)]
"""A currency code in a request (query or body): an ISO 4217 code, upper-cased (what `Money`
takes); anything else is a 422 like any invalid field."""


# The largest offset a list takes: beyond it no list has rows, and a bigger number overflows the
# database's 64-bit integers (a 500 instead of an answer).
MAX_OFFSET = 1_000_000_000


def page_slice(*, limit: int, offset: int) -> slice:
    """The rows `limit` and `offset` of a list query ask for; out of range is a 422 `invalid_pagination`."""
    if not (1 <= limit <= 200 and 0 <= offset <= MAX_OFFSET):
        raise InvalidInput(
            code="invalid_pagination", details={"limit": "1..200", "offset": f"0..{MAX_OFFSET}"}
        )
    return slice(offset, offset + limit)
