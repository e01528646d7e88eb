"""The PostgreSQL fast path of a CSV usage import: a block of whole lines is COPYed into a
session-local staging table, checked and deduplicated in SQL, and its new records are stored rated.

A line goes this way only when it has exactly the plain form `record_parse` would read to the same
values (`_line_pattern`: the cells in the header's order; a started_at such as
2025-03-01T13:00:00[.ffffff](Z|+hh:mm)); one regular expression run over the block finds the
others (quotes, spaces, other date forms, bad values, blank or overlong lines, broken encoding),
and each of those goes through `ingest.row_read`, which accepts it or gives the reason. Every
physical line keeps its number.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import IO

import phonenumbers
from django.db import connection

from vigencia.usage.ingest import (
    FUTURE,
    FUTURE_TOLERANCE,
    MAX_LINE_BYTES,
    NO_SMS,
    UNKNOWN_NUMBER,
    RecordIn,
    Rejected,
)

BLOCK_BYTES = 128 << 20  # one transaction; held in memory once (plus its tail while it is cut)
# A block of at least this many lines goes in two halves at once, on two connections (`block_halves`):
# below it the second connection and the split cost more than they save.
PARALLEL_LINES = 100_000
_STAGE = (
    "CREATE TEMP TABLE IF NOT EXISTS usage_import_stage (n bigserial, record_id text, msisdn text, "
    "kind text, started_at timestamptz, quantity bigint, destination text, charged_minor bigint, "
    "late boolean NOT NULL DEFAULT false, line_number bigint, content_hash text) ON COMMIT DELETE ROWS"
)
# Country calling codes by length (they are prefix-free): a number's code as phonenumbers reads it.
_CALLING_CODES = {
    size: sorted(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE if len(str(code)) == size)
    for size in (1, 2, 3)
}
# A day that exists in every year (29 February goes the slow way), and a plain ISO 8601 instant.
_DAY = rb"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
_INSTANT = (
    rb"2[0-9]{3}-" + _DAY + rb"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
    rb"(?:Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9])"
)
_CELLS = {
    "record_id": rb"[!#-+\--~]{1,64}",  # printable ASCII but comma and double quote
    "msisdn": rb"\+[1-9][0-9]{6,14}",
    "kind": rb"(?:voice|sms|data)",
    "started_at": _INSTANT,
    "quantity": rb"[0-9]{1,13}",
    "destination": rb"(?:\+?[0-9A-Za-z._-]{1,32})?",
    "charged_minor": rb"[0-9]{0,12}",  # more digits: the row reader says if it is too large
}


@cache
def _line_pattern(header: tuple[str, ...]) -> re.Pattern[bytes]:
    """A run of plain lines with the header's cells, matched possessively (no backtracking)."""
    return re.compile(rb"(?:" + rb",".join(_CELLS[name] for name in header) + rb"\n)++")


_LINES = """
CREATE TEMP TABLE usage_import_lines ON COMMIT DROP AS
SELECT DISTINCT ON (l.msisdn) l.msisdn, l.id AS line_id,
    CASE WHEN substr(l.msisdn, 2, 1) = ANY(%(cc1)s) THEN substr(l.msisdn, 2, 1)
        WHEN substr(l.msisdn, 2, 2) = ANY(%(cc2)s) THEN substr(l.msisdn, 2, 2)
        WHEN substr(l.msisdn, 2, 3) = ANY(%(cc3)s) THEN substr(l.msisdn, 2, 3)
        ELSE '' END AS calling_code
FROM lines_line l
WHERE l.removed_at IS NULL AND l.msisdn IN (SELECT DISTINCT msisdn FROM usage_import_stage)
ORDER BY l.msisdn, l.status = 'recycled', l.id
"""

# The first row of each record id on a known line, unless the source has it already, as the row
# by row way takes them: future and unknown-number rows are rejected before, and file order is (n,
# late) (a row the row reader parsed comes after the plain line it follows). `_DEDUPE` drops the
# others; without it (a source with nothing stored yet) a repeated record id is left to the (source,
# record_id) index, and the block is then taken again with it (`services._import_block`).
# Ids go in (line, started_at, file order): the order rating reads the records in (so its sort
# finds them sorted and its results come in id order), and on the same line and instant (where
# duplicate content is found, the lower id being the original) file order, as the row by row way.
# The primary key and (line, started_at) indexes then take the rows in order. content_hash and
# destination_class as `ingest` and `services` make them: the epoch as the same double Python's
# timestamp() gives, rounded half to even as its "%.0f" does.
_NEW = """
CREATE TEMP TABLE usage_import_new ON COMMIT DROP AS
SELECT nextval((SELECT pg_get_serial_sequence('usage_usagerecord', 'id'))::regclass) AS id, f.*
FROM (
    SELECT s.record_id, m.line_id, s.kind, s.started_at, (s.started_at AT TIME ZONE %(tz)s)::date AS day,
        s.quantity, COALESCE(s.destination, '') AS destination,
        CASE WHEN s.kind <> 'data' AND s.destination LIKE '+%%'
            AND NOT starts_with(s.destination, '+' || m.calling_code)
            THEN 'international' ELSE 'national' END AS destination_class,
        s.charged_minor AS carrier_charged_minor,
        COALESCE(s.content_hash, md5(s.msisdn || '|' || s.kind || '|'
            || round(date_part('epoch', s.started_at))::bigint || '|' || s.quantity || '|'
            || COALESCE(s.destination, '')
        )) AS content_hash
    FROM usage_import_stage s JOIN usage_import_lines m ON m.msisdn = s.msisdn
    WHERE s.started_at <= %(latest)s {dedupe}
    ORDER BY m.line_id, s.started_at, s.n, s.late, s.line_number
) f
"""
_DEDUPE = """
    AND NOT EXISTS (
        SELECT 1 FROM (
            SELECT s.ctid AS at, row_number() OVER (
                PARTITION BY s.record_id ORDER BY s.n, s.late, s.line_number
            ) AS rank
            FROM usage_import_stage s JOIN usage_import_lines m ON m.msisdn = s.msisdn
            WHERE s.started_at <= %(latest)s AND s.record_id IN (
                SELECT record_id FROM usage_import_stage GROUP BY record_id HAVING count(*) > 1
            )
        ) later
        WHERE later.rank > 1 AND later.at = s.ctid
    )
    AND NOT EXISTS (
        SELECT 1 FROM usage_usagerecord u WHERE u.source = %(source)s AND u.record_id = s.record_id
    )
"""

_STORE_UNRATED = """
INSERT INTO usage_usagerecord (id, source, record_id, line_id, kind, started_at, quantity, destination,
    destination_class, carrier_charged_minor, content_hash, received_at, rated_quantity,
    in_bundle_quantity, price_minor, money_charged_minor, uncovered_minor, currency)
SELECT id, %(source)s, record_id, line_id, kind, started_at, quantity, destination, destination_class,
    carrier_charged_minor, content_hash, %(now)s, 0, 0, 0, 0, 0, ''
FROM usage_import_new ORDER BY id
"""

# The stored records on the days (of the display time zone) the block's lines have new records on,
# read before the block is stored: with the block itself they are all that duplicate detection and
# the day totals of spike detection need. One index range per line and day.
_NEIGHBOURS = """
CREATE TEMP TABLE usage_import_near ON COMMIT DROP AS
SELECT u.id, u.line_id, u.kind, u.started_at, u.quantity, u.content_hash, u.record_id
FROM (
    SELECT line_id, (day::timestamp AT TIME ZONE %(tz)s) AS since,
        ((day + 1)::timestamp AT TIME ZONE %(tz)s) AS until
    FROM (SELECT DISTINCT line_id, day FROM usage_import_new ORDER BY line_id, day) d
) t
JOIN usage_usagerecord u ON u.line_id = t.line_id AND u.started_at >= t.since AND u.started_at < t.until
"""

# After rating (`rating_sql.rate_new`), what the block's records show: repeats of all of them (the
# same line, instant and content as a record with a lower id, the original), and what the records
# rated set-based show (those left to the record-by-record rater are looked at with it). Only the
# instants a new record shares with another record of its line can repeat: with another new one
# (next to it in the rating's window: `shares_instant`) or with a stored one. Few, and found without
# hashing the whole block.
_REPEATS = """
WITH shared AS (
    SELECT id, line_id, started_at, content_hash, record_id FROM usage_rate_result r
    WHERE shares_instant OR EXISTS (
        SELECT 1 FROM usage_import_near n WHERE n.line_id = r.line_id AND n.started_at = r.started_at
    )
), pool AS (
    SELECT id, line_id, started_at, content_hash, record_id FROM shared
    UNION ALL
    SELECT id, line_id, started_at, content_hash, record_id FROM usage_import_near n
    WHERE EXISTS (SELECT 1 FROM shared s WHERE s.line_id = n.line_id AND s.started_at = n.started_at)
), repeated AS (
    SELECT line_id, started_at, content_hash, min(id) AS first_id
    FROM pool GROUP BY line_id, started_at, content_hash HAVING count(*) > 1
)
SELECT n.id, n.record_id, n.line_id, first.record_id
FROM repeated d
JOIN shared n ON n.line_id = d.line_id AND n.started_at = d.started_at
    AND n.content_hash = d.content_hash AND n.id > d.first_id
JOIN pool first ON first.id = d.first_id
ORDER BY n.id
"""
_CHARGED_WRONGLY = """
SELECT id, record_id, line_id, inactive, day, status, carrier_charged_minor, price, currency
FROM usage_rate_result
WHERE rated AND (inactive OR carrier_charged_minor <> price)
ORDER BY id
"""
# The day totals of every (line, kind, day) the block has records on: the block's and the stored ones.
SPIKE_TOUCHED = """
SELECT line_id, kind, day, sum(quantity) AS total FROM (
    SELECT line_id, kind, day, quantity, true AS new FROM usage_import_new
    UNION ALL
    SELECT line_id, kind, (started_at AT TIME ZONE %(tz)s)::date, quantity, false FROM usage_import_near
) p
GROUP BY line_id, kind, day HAVING bool_or(new)
"""


def blocks(stream: IO[bytes], size: int = BLOCK_BYTES) -> Iterator[bytes | None]:
    """Whole lines about `size` bytes at a time; None for a line longer than a block (read to its
    end and dropped, never held whole)."""
    carry = b""
    while True:
        data = stream.read(size)
        if not data:
            if carry:
                yield carry
            return
        data = carry + data
        cut = data.rfind(b"\n") + 1
        if cut == 0 and len(data) > MAX_LINE_BYTES:
            while (piece := stream.readline(1 << 20)) and not piece.endswith(b"\n"):
                pass
            carry = b""
            yield None
            continue
        block, carry = data[:cut], data[cut:]
        del data  # one block in memory at a time
        if block:
            yield block


def lines_in(block: bytes) -> int:
    return block.count(b"\n") + (not block.endswith(b"\n"))


@dataclass
class Block:
    first_line: int
    plain: list[memoryview] = field(default_factory=list)  # the runs of plain lines, for COPY
    plain_first: list[int] = field(default_factory=list)  # the line number each run starts at
    # A half of a block (`block_halves`): the line number of each of its plain lines.
    numbers: list[int] | None = None
    others: list[tuple[int, bytes]] = field(default_factory=list)  # (line number, bytes) for row_read
    # What row_read made of the others: (records with the number of plain lines before each).
    parsed: list[tuple[int, int, RecordIn]] = field(default_factory=list)
    # After the check: rejected rows, good rows of known numbers, and how many of them are new.
    rejected: list[Rejected] = field(default_factory=list)
    known: int = 0
    new: int = 0

    def line_numbers(self, ordinals: list[int]) -> list[int]:
        """The line numbers of the plain lines at these 1-based positions (ascending)."""
        if self.numbers is not None:
            return [self.numbers[ordinal - 1] for ordinal in ordinals]
        skipped = [number for number, _raw in self.others]
        numbers = []
        shift = 0  # how many other lines come before
        for ordinal in ordinals:
            number = self.first_line + ordinal - 1 + shift
            while bisect_right(skipped, number) > shift:
                shift += 1
                number += 1
            numbers.append(number)
        return numbers


def block_split(block: bytes, *, header: list[str], first_line: int) -> Block:
    """The block's plain lines and the others, numbered; one possessive match per run of plain lines."""
    if not block.endswith(b"\n"):
        block += b"\n"
    run = _line_pattern(tuple(header))
    result = Block(first_line=first_line)
    view = memoryview(block)
    number, position = first_line, 0
    while position < len(block):
        match = run.match(block, position)
        stop = match.end() if match else position
        if stop > position:
            result.plain.append(view[position:stop])
            result.plain_first.append(number)
            number += block.count(b"\n", position, stop)
        if stop < len(block):
            end = block.index(b"\n", stop)
            result.others.append((number, block[stop:end]))
            number += 1
            stop = end + 1
        position = stop
    return result


def block_halves(block: Block, *, header: list[str]) -> tuple[Block, Block] | None:
    """After `block_split` and the row reader: the block's good lines in two halves by number (the
    parity of its last digit: every line of a number, so its records, day totals and repeats, in
    the same half, and the same halves whoever imports the file), each keeping its lines' numbers
    and file order. None when a record id is in both halves: the block then goes whole, where the
    first row of a record id in file order is the one kept."""
    msisdn_at, id_at = header.index("msisdn"), header.index("record_id")
    cut = max(msisdn_at, id_at) + 1
    lines: tuple[list[bytes], list[bytes]] = ([], [])
    numbers: tuple[list[int], list[int]] = ([], [])
    ids: tuple[set[bytes], set[bytes]] = (set(), set())
    for run_first, run in zip(block.plain_first, block.plain, strict=True):
        for number, line in enumerate(bytes(run).split(b"\n")[:-1], start=run_first):
            cells = line.split(b",", cut)
            half = cells[msisdn_at][-1] & 1
            lines[half].append(line)
            numbers[half].append(number)
            ids[half].add(cells[id_at])
    parsed: tuple[list[tuple[int, int, RecordIn]], list[tuple[int, int, RecordIn]]] = ([], [])
    for number, _plain_before, record in block.parsed:
        half = ord(record.msisdn[-1]) & 1
        parsed[half].append((number, bisect_right(numbers[half], number), record))
        ids[half].add(record.record_id.encode())
    if not ids[0].isdisjoint(ids[1]):
        return None
    even, odd = (
        Block(
            first_line=block.first_line,
            plain=[memoryview(b"\n".join(lines[half]) + b"\n")] if lines[half] else [],
            numbers=numbers[half],
            parsed=parsed[half],
        )
        for half in (0, 1)
    )
    return even, odd


def block_check(block: Block, *, header: list[str], now: datetime) -> None:
    """COPY the plain lines into staging and check them; fills the block's rejected rows and the
    count of good rows of known numbers. `block_new` then picks the new records."""
    latest = now + FUTURE_TOLERANCE
    with connection.cursor() as cursor:
        # The block's sorts and hashes in memory; no JIT: compiling each big statement costs more
        # than it saves; and hash joins: the block's joins take whole temp tables (not analysed),
        # where a merge join's sorts only cost.
        cursor.execute("SET LOCAL work_mem = '512MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute(_STAGE)
        cursor.execute("SELECT setval(pg_get_serial_sequence('usage_import_stage', 'n'), 1, false)")
        with cursor.copy(f"COPY usage_import_stage ({', '.join(header)}) FROM STDIN (FORMAT csv)") as copy:  # type: ignore[attr-defined]
            for run in block.plain:
                copy.write(run)
        staged = cursor.rowcount + len(block.parsed)
        with cursor.copy(
            "COPY usage_import_stage (n, late, line_number, record_id, msisdn, kind, started_at, quantity, "
            "destination, charged_minor, content_hash) FROM STDIN"
        ) as copy:  # type: ignore[attr-defined]
            for number, plain_before, record in block.parsed:
                copy.write_row(
                    (
                        plain_before,
                        True,
                        number,
                        record.record_id,
                        record.msisdn,
                        record.kind,
                        record.started_at,
                        record.quantity,
                        record.destination,
                        record.charged_minor,
                        record.content_hash,
                    )
                )
        cursor.execute(_LINES, {f"cc{size}": codes for size, codes in _CALLING_CODES.items()})
        # As record_parse: a future instant, then an SMS of no message, are the reason before an
        # unknown number (the rows the row reader parsed were checked for both already).
        cursor.execute(
            "SELECT n, line_number, CASE WHEN started_at > %(latest)s THEN %(future)s "
            "WHEN kind = 'sms' AND quantity = 0 THEN %(no_sms)s ELSE %(unknown)s END "
            "FROM usage_import_stage s WHERE started_at > %(latest)s OR (kind = 'sms' AND quantity = 0) "
            "OR NOT EXISTS (SELECT 1 FROM usage_import_lines m WHERE m.msisdn = s.msisdn) ORDER BY n, late",
            {"latest": latest, "future": FUTURE, "no_sms": NO_SMS, "unknown": UNKNOWN_NUMBER},
        )
        bad = cursor.fetchall()
        if any(reason == NO_SMS for _n, _number, reason in bad):
            # The picking of new records leaves out future and unknown-number rows by itself.
            cursor.execute("DELETE FROM usage_import_stage WHERE kind = 'sms' AND quantity = 0")
        plain = [(n, reason) for n, number, reason in bad if number is None]
        for number, (_n, reason) in zip(block.line_numbers([n for n, _r in plain]), plain, strict=True):
            block.rejected.append(Rejected(number, reason))
        block.rejected += [Rejected(number, reason) for _n, number, reason in bad if number is not None]
        block.known = staged - len(bad)


def block_new(block: Block, *, source: str, now: datetime, tz: str, dedupe: bool) -> None:
    """After `block_check`: put the block's new records in `usage_import_new` (ids assigned, not yet
    stored) and count them. Without `dedupe` every good row is taken as new: right only when the
    source has no records stored, and as long as no record id repeats in the block (the insert then
    fails on the (source, record_id) index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _NEW.format(dedupe=_DEDUPE if dedupe else ""),
            {"source": source, "latest": now + FUTURE_TOLERANCE, "tz": tz},
        )
        block.new = cursor.rowcount


def block_store_unrated(*, source: str, now: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_STORE_UNRATED, {"source": source, "now": now})


def block_neighbours(*, tz: str) -> None:
    """Read the stored records on the block's lines and days; call before the block is stored."""
    with connection.cursor() as cursor:
        cursor.execute(_NEIGHBOURS, {"tz": tz})
        cursor.execute("ANALYZE usage_import_near")


@dataclass
class Flagged:
    """What a block's rated records show, as `services.anomalies_detect` reads it from stored ones."""

    repeats: list[tuple[int, str, int, str]]  # (record pk, record id, line, the first's record id)
    inactive: list[tuple[int, str, int, date, str]]  # (record pk, record id, line, local day, status)
    # (record pk, record id, line, carrier's charge, price, currency)
    mismatched: list[tuple[int, str, int, int, int, str]]


def block_flagged() -> Flagged:
    """After `block_neighbours`, and the block rated (`rating_sql.rate_new`): its repeats, and its
    set-based rated records used on an inactive line or charged otherwise by the carrier."""
    with connection.cursor() as cursor:
        cursor.execute(_REPEATS)
        flagged = Flagged(repeats=cursor.fetchall(), inactive=[], mismatched=[])
        cursor.execute(_CHARGED_WRONGLY)
        for pk, record_id, line_id, inactive, day, status, carrier, price, currency in cursor.fetchall():
            if inactive:
                flagged.inactive.append((pk, record_id, line_id, day, status))
            if carrier is not None and carrier != price:
                flagged.mismatched.append((pk, record_id, line_id, carrier, price, currency))
    return flagged


def block_done() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS usage_import_lines, usage_import_new, usage_import_near")
        cursor.execute("TRUNCATE usage_import_stage")
