"""Reading usage files as a stream (CSV or JSONL), one physical line at a time, and checking each row.

A row that cannot be read (not UTF-8, too long, wrong types, negative or absurd amounts, a timestamp in
the future or before 2000) becomes a rejected row with its line number and reason; it never stops the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_noop

from vigencia.ledger.services import MAX_POSTING_MINOR
from vigencia.usage.models import UsageKind

COLUMNS = ("record_id", "msisdn", "kind", "started_at", "quantity", "destination", "charged_minor")
MAX_LINE_BYTES = 4096
MAX_QUANTITY = 10**13  # 10 TB of data in one record is already absurd
MAX_CHARGED_MINOR = MAX_POSTING_MINOR  # what one ledger posting may move
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # before it, a start time is a default, not a call
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_RECORD_ID = re.compile(r"^[\x21-\x7e]{1,64}$")
_DESTINATION = re.compile(r"^\+?[0-9A-Za-z.\-_]{1,32}$")
FUTURE_TOLERANCE = timedelta(minutes=5)
# A rejected row's reason is kept in English (the file import's report, the set-based import's SQL
# compares them); marked for translation, so that the API gives it in the caller's language.
# Reasons the set-based import (`import_sql`) gives too.
FUTURE = gettext_noop("started_at is in the future")
NO_SMS = gettext_noop("an SMS record counts at least 1 message")
UNKNOWN_NUMBER = gettext_noop("unknown number")
NOT_AN_OBJECT = gettext_noop("not a JSON object")


@dataclass(frozen=True, slots=True)
class RecordIn:
    record_id: str
    msisdn: str
    kind: str
    started_at: datetime
    quantity: int
    destination: str
    charged_minor: int | None

    @property
    def content_hash(self) -> str:
        """Same usage content under another record id hashes the same (duplicate detection)."""
        content = (
            f"{self.msisdn}|{self.kind}|{self.started_at.timestamp():.0f}|{self.quantity}|{self.destination}"
        )
        return hashlib.md5(content.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    reason: str


class RowError(ValueError):
    pass


_NOT_WHOLE = {
    "quantity": gettext_noop("quantity is not a whole number"),
    "charged_minor": gettext_noop("charged_minor is not a whole number"),
}


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise RowError(_NOT_WHOLE[name])
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]{1,40}", text):
        raise RowError(_NOT_WHOLE[name])
    return int(text)


def record_parse(row: dict[str, Any], *, now: datetime) -> RecordIn:
    """One row (CSV columns or JSONL keys) as a valid record, or RowError with the reason."""
    record_id = str(row.get("record_id") or "").strip()
    if not _RECORD_ID.match(record_id):
        raise RowError(gettext_noop("record_id is missing or not 1-64 printable characters"))
    msisdn = str(row.get("msisdn") or "").strip().replace(" ", "")
    if not _E164.match(msisdn):
        raise RowError(gettext_noop("msisdn is not an E.164 number"))
    kind = str(row.get("kind") or "").strip().lower()
    if kind not in UsageKind.values:
        raise RowError(gettext_noop("kind is not voice, sms or data"))
    raw_started = str(row.get("started_at") or "").strip()
    try:
        started_at = parse_datetime(raw_started)
    except ValueError:
        started_at = None
    if started_at is None:
        raise RowError(gettext_noop("started_at is not an ISO 8601 date and time"))
    if timezone.is_naive(started_at):
        raise RowError(gettext_noop("started_at has no UTC offset"))
    if started_at > now + FUTURE_TOLERANCE:
        raise RowError(FUTURE)
    if started_at < EARLIEST:
        raise RowError(gettext_noop("started_at is before 2000"))
    quantity = _int(row.get("quantity"), "quantity")
    if quantity < 0:
        raise RowError(gettext_noop("quantity is negative"))
    if quantity > MAX_QUANTITY:
        raise RowError(gettext_noop("quantity is too large"))
    if kind == UsageKind.SMS and quantity == 0:
        raise RowError(NO_SMS)
    destination = str(row.get("destination") or "").strip()
    if destination and not _DESTINATION.match(destination):
        raise RowError(gettext_noop("destination is not a number or name of up to 32 characters"))
    charged = row.get("charged_minor")
    charged_minor = None if charged is None or str(charged).strip() == "" else _int(charged, "charged_minor")
    if charged_minor is not None and charged_minor < 0:
        raise RowError(gettext_noop("charged_minor is negative"))
    if charged_minor is not None and charged_minor > MAX_CHARGED_MINOR:
        raise RowError(gettext_noop("charged_minor is too large"))
    return RecordIn(record_id, msisdn, kind, started_at, quantity, destination, charged_minor)


def _physical_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line; None for a line longer than MAX_LINE_BYTES (skipped to
    its end without holding it in memory)."""
    number = 0
    while True:
        chunk = stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = stream.readline(MAX_LINE_BYTES + 1)
            yield number, None
            continue
        yield number, chunk


def csv_header(raw: bytes) -> list[str] | None:
    """A CSV header line's column names, if it is one this reader takes as is: the known columns,
    each once, the first five there."""
    try:
        cells = next(csv.reader([raw.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")]))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    names = [cell.strip().lower() for cell in cells]
    if len(set(names)) != len(names) or not set(COLUMNS[:5]) <= set(names) <= set(COLUMNS):
        return None
    return names


def rows_read(stream: IO[bytes], *, fmt: str, now: datetime) -> Iterator[tuple[int, RecordIn] | Rejected]:
    """Each line of a CSV (with header) or JSONL stream: (line number, record) or Rejected."""
    header: list[str] | None = None if fmt == "csv" else list(COLUMNS)
    for number, raw in _physical_lines(stream):
        if header is None and raw is not None:
            try:
                text = raw.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
            except UnicodeDecodeError:
                yield Rejected(number, "not valid UTF-8")
                continue
            if not text.strip():
                continue
            if "\x00" in text:
                yield Rejected(number, "contains a NUL character")
                continue
            try:
                header = [cell.strip().lower() for cell in next(csv.reader([text]))]
            except csv.Error:
                yield Rejected(number, "not valid CSV")
                continue
            missing = [c for c in COLUMNS[:5] if c not in header]
            if missing:
                yield Rejected(number, f"header lacks columns: {', '.join(missing)}")
                return
            continue
        item = row_read(number, raw, fmt=fmt, header=header or [], now=now)
        if item is not None:
            yield item


def row_read(
    number: int, raw: bytes | None, *, fmt: str, header: list[str], now: datetime
) -> tuple[int, RecordIn] | Rejected | None:
    """One physical line (None: longer than MAX_LINE_BYTES) after the header: (line number,
    record), Rejected, or None for a blank line."""
    if raw is None or len(raw.rstrip(b"\n")) > MAX_LINE_BYTES:
        return Rejected(number, f"line longer than {MAX_LINE_BYTES} bytes")
    try:
        text = raw.decode("utf-8").lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError:
        return Rejected(number, "not valid UTF-8")
    if not text.strip():
        return None
    if "\x00" in text:
        return Rejected(number, "contains a NUL character")
    try:
        if fmt == "csv":
            cells = next(csv.reader([text]))
            if len(cells) > len(header):
                raise RowError("more cells than columns")
            row: dict[str, Any] = dict(zip(header, cells, strict=False))
        else:
            loaded = json.loads(text)
            if not isinstance(loaded, dict):
                raise RowError(NOT_AN_OBJECT)
            row = loaded
        return number, record_parse(row, now=now)
    except (RowError, json.JSONDecodeError, csv.Error) as error:
        reason = str(error) if isinstance(error, RowError) else "not valid " + fmt.upper()
        return Rejected(number, reason)
