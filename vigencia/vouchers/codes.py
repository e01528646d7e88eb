"""Serials and PINs: how they are drawn, written for people, read back and fingerprinted.

A serial is public: six digits of batch, seven of position, one Luhn check digit (python-stdnum), so a
mistyped serial is caught before any lookup. A PIN is secret: 16 digits from `secrets` (10¹⁶ PINs, at
least 10⁹ times the ten million codes that may ever be live at once), stored only as its HMAC-SHA256
truncated to 128 bits, in a uuid column: 16 fixed bytes compared bytewise keep the unique index that
finds a PIN a third of the size of 64 hex characters, and cheap to fill with a million new codes.
"""

from __future__ import annotations

import hmac
import re
import secrets
import struct
import uuid

from django.conf import settings
from stdnum import luhn

PIN_DIGITS = 16
_PIN_SPACE = 10**PIN_DIGITS
_SEPARATORS = re.compile(r"[\s\-.]")
MAX_BATCH_ID = 999_999
MAX_BATCH_SIZE = 9_999_999
# A batch made while someone waits (the API, the pages); bigger batches are the operator's CLI.
ONLINE_MAX_COUNT = 100_000


def pin_new() -> str:
    return f"{secrets.randbelow(_PIN_SPACE):0{PIN_DIGITS}d}"


# Uniform draws from 64 random bits: values at or above the largest multiple of 10¹⁶ are dropped.
_UNBIASED_LIMIT = (2**64 // _PIN_SPACE) * _PIN_SPACE


def pins_new(count: int) -> list[str]:
    """`count` PINs at once (the same distribution as pin_new, one urandom read per chunk)."""
    pins: list[str] = []
    while len(pins) < count:
        wanted = count - len(pins) + 8
        values = struct.unpack(f">{wanted}Q", secrets.token_bytes(8 * wanted))
        pins += [f"{value % _PIN_SPACE:016d}" for value in values if value < _UNBIASED_LIMIT]
    return pins[:count]


def pin_digest(pin: str) -> uuid.UUID:
    """The HMAC-SHA256 of a clean PIN under settings.VIGENCIA_VOUCHER_PIN_KEY, its first 128 bits."""
    key = settings.VIGENCIA_VOUCHER_PIN_KEY.encode()
    return uuid.UUID(bytes=hmac.digest(key, pin.encode(), "sha256")[:16])


def pins_digest(pins: list[str]) -> list[str]:
    """pin_digest of many PINs, in hex: the keyed HMAC state is set up once and copied for each PIN."""
    keyed = hmac.new(settings.VIGENCIA_VOUCHER_PIN_KEY.encode(), digestmod="sha256")
    digests = []
    for pin in pins:
        mac = keyed.copy()
        mac.update(pin.encode())
        digests.append(mac.digest()[:16].hex())
    return digests


def pin_clean(raw: object) -> str | None:
    """The PIN's digits, as people type them (with spaces or dashes), or None if it cannot be a PIN."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    digits = _SEPARATORS.sub("", raw)
    if len(digits) != PIN_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def pin_display(pin: str) -> str:
    """Grouped by four for people: 1234 5678 9012 3456."""
    return " ".join(pin[i : i + 4] for i in range(0, len(pin), 4))


def serial_make(*, batch_id: int, index: int) -> str:
    base = f"{batch_id:06d}{index:07d}"
    return base + luhn.calc_check_digit(base)


def _luhn_sums(digits: int) -> list[int]:
    """The Luhn sums (mod 10) of every number of `digits` digits whose last digit is doubled."""
    sums = [0]
    for position in range(digits):  # from the right: even positions are doubled
        weights = [(2 * d) // 10 + (2 * d) % 10 if position % 2 == 0 else d for d in range(10)]
        sums = [(weight + low) % 10 for weight in weights for low in sums]
    return sums


# The check digit of every serial of a batch from two small tables (the index's high three and low
# four digits, both ending on a doubled position) instead of a Luhn run per serial.
_HIGH, _LOW = _luhn_sums(3), _luhn_sums(4)


def serials_make(*, batch_id: int, start: int, stop: int) -> list[str]:
    """serial_make(batch_id=batch_id, index=i) for i in range(start, stop), at once."""
    prefix = f"{batch_id:06d}"
    prefix_sum = luhn.checksum(prefix + "0" * 8)  # the prefix's share, zeros where the index goes
    return [
        f"{prefix}{i:07d}{-(prefix_sum + _HIGH[i // 10_000] + _LOW[i % 10_000]) % 10}"
        for i in range(start, stop)
    ]


def serial_clean(raw: object) -> str | None:
    """The serial's digits if they form a serial with a valid check digit, else None."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    digits = _SEPARATORS.sub("", raw)
    if len(digits) != 14 or not digits.isascii() or not digits.isdigit() or not luhn.is_valid(digits):
        return None
    return digits


def serial_display(serial: str) -> str:
    return f"{serial[:6]}-{serial[6:13]}-{serial[13:]}"
