"""Schemas every API router shares: the error body, money, input text that is safe to store and
currency codes."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator


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
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise ValueError("not a three-letter ISO 4217 currency code")
    return code


Currency = Annotated[str, AfterValidator(_currency)]
"""A currency code in a request (query or body): three ASCII letters, upper-cased (what `Money`
takes); anything else is a 422 like any invalid field."""
