"""The set-based file import (PostgreSQL: COPY, checks and rating in SQL) gives exactly what the
row-by-row way gives: the same summary, records, ratings, charges, buckets and anomalies, for every
rounding rule, bucket order, overage, a credit in the middle of the file and every kind of bad row."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from typing import Any

import pytest
from django.db import connection, transaction

from tests.concurrency import race
from tests.factories import PlanFactory, UserFactory
from vigencia.core import clock
from vigencia.lines.models import Line
from vigencia.usage import import_sql, services
from vigencia.usage.ingest import COLUMNS, row_read, rows_read
from vigencia.usage.models import Anomaly, Bucket, Charge, Tariff, UsageRecord
from vigencia.usage.selectors import charges_of
from vigencia.usage.services import (
    bucket_credit_renewal,
    usage_file_import,
    usage_rate_pending,
    usage_records_ingest,
)

from .conftest import T0

HEADER = b"record_id,msisdn,kind,started_at,quantity,destination,charged_minor\n"
# 12:00Z is T0. Plain lines go the SQL way; the others (marked) through the row reader.
BODY = b"""r1,+51912345678,voice,2025-03-01T12:10:00+00:00,75,+51987654321,
r2,+51912345678,voice,2025-03-01T12:20:00Z,400,+8613800138000,
r3,+51912345678,data,2025-03-01T12:30:00.250000Z,5000000,,
r4,+51912345678,data,2025-03-01T12:40:00+00:00,20000000,,
r5,+51912345678,sms,2025-03-01T12:50:00+00:00,1,+51900000000,
r6,+51922222222,voice,2025-03-01T13:00:00+00:00,1000,+14155550100,
r7,+51922222222,sms,2025-03-01T13:00:01+00:00,1,,
r8,+51933333333,sms,2025-03-01T13:10:00+00:00,1,+447700900000,0
r9,+51944444444,voice,2025-03-01T13:20:00+00:00,30,,
r10,+51955555555,voice,2025-03-01T13:00:00+00:00,100,,
r11,+51955555555,voice,2025-03-01T15:00:00+00:00,100,,
r12,+51912345678,sms,2025-03-01T13:00:00.5Z,1,,
r13,+51912345678,sms,2025-03-01T08:00:00.5-05:00,1,,
r1,+51912345678,voice,2025-03-01T12:10:00+00:00,75,+51987654321,
r14,+51999999999,sms,2025-03-01T13:00:00+00:00,1,,
r15,+51912345678,sms,2030-01-01T00:00:00+00:00,1,,
r16,+51912345678,voice,2025-03-01T13:00:00+00:00,-5,,
r17,+51912345678,sms,2025-03-01 16:00:00+00:00,1,,
"r18","+51912345678","sms","2025-03-01T16:10:00+00:00","1","",""
r19,+51912345678,sms,2024-02-29T10:00:00Z,1,,
r20,+51933333333,sms,2025-03-01T13:40:00+00:00,1,,99
r21,+51912345678,sms,2025-03-01T16:20:00+00:00,1,+51\xef\xbc\x99,
r22,+51912345678,sms,2025-03-01T16:30:00+00:00,1,,\r

r23,+51912345678,sms,2025-03-01T16:40:00+00:00,1,,,extra
r24,+51912345678,SMS,2025-03-01T16:50:00+00:00,007,,
r25,+51912345678,voice,2025-03-01T16:00:00+14:00,10,,
r26,+51912345678,sms,2025-02-30T10:00:00Z,1,,
r27,+51922222222,data,2025-03-01T13:05:00Z,3000000,,
r28,+51933333333,data,2025-03-01T13:15:00Z,1,,
h1,+51944444444,data,2025-02-20T12:00:00Z,10485760,,
h2,+51944444444,data,2025-02-21T12:00:00Z,10485760,,
h3,+51944444444,data,2025-02-22T12:00:00Z,10485760,,
h4,+51944444444,data,2025-02-23T12:00:00Z,10485760,,
h5,+51944444444,data,2025-02-24T12:00:00Z,10485760,,
h6,+51944444444,data,2025-02-25T12:00:00Z,10485760,,
h7,+51944444444,data,2025-02-26T12:00:00Z,10485760,,
h8,+51944444444,data,2025-02-27T12:00:00Z,10485760,,
big,+51944444444,data,2025-03-01T12:30:00Z,209715200,,
"""
# The lines the SQL way leaves to the row reader: a negative quantity, another date form, quotes,
# 29 February, non-ASCII, CR, a blank line, an extra cell, upper case, an offset beyond 13 h, a day
# that does not exist.
OTHERS = [b"r16", b"r17", b'"r18"', b"r19", b"r21", b"r22", b"", b"r23", b"r24", b"r25", b"r26"]


@pytest.fixture
def lines(plan, tariff):
    """Five lines: two credits on the first (earliest expiry first), overage per minute on the
    second, default rates on the third (valid only until the day before), no credit on the fourth
    (restricted, with a data spike), and a credit between the fifth line's two calls."""
    plan_b = PlanFactory(carrier=plan.carrier, validity_days=30, data_mb=1, minutes=10, sms=1, currency="PEN")
    Tariff.objects.create(
        plan=plan_b, money_credit_minor=300, voice_rounding="per_minute", data_step_kb=1, allows_overage=True
    )
    plan_c = PlanFactory(carrier=plan.carrier, validity_days=10, data_mb=0, minutes=1, sms=0, currency="PEN")
    user = UserFactory()
    made = [
        Line.objects.create(owner=user, msisdn=number, carrier=plan.carrier)
        for number in ("+51912345678", "+51922222222", "+51933333333", "+51944444444", "+51955555555")
    ]
    Line.objects.filter(pk=made[2].pk).update(valid_until=date(2025, 2, 28))
    Line.objects.filter(pk=made[3].pk).update(status="restricted")
    with clock.frozen(T0 - timedelta(days=10)):
        bucket_credit_renewal(line=made[0], plan=plan, reference="l1-a")
    with clock.frozen(T0 - timedelta(days=1)):
        bucket_credit_renewal(line=made[0], plan=plan, reference="l1-b")
        bucket_credit_renewal(line=made[1], plan=plan_b, reference="l2")
        bucket_credit_renewal(line=made[2], plan=plan_c, reference="l3")
    with clock.frozen(T0 + timedelta(hours=2)):
        bucket_credit_renewal(line=made[4], plan=plan, reference="l5")
    return made


def _state(summary: services.IngestSummary) -> dict[str, Any]:
    records = {
        r.record_id: (
            r.line_id,
            r.kind,
            r.started_at,
            r.quantity,
            r.destination,
            r.destination_class,
            r.carrier_charged_minor,
            r.content_hash,
            r.rated_at is not None,
            r.rated_quantity,
            r.in_bundle_quantity,
            r.price_minor,
            r.money_charged_minor,
            r.uncovered_minor,
            r.currency,
        )
        for r in UsageRecord.objects.all()
    }
    record_ids = dict(UsageRecord.objects.values_list("pk", "record_id"))
    return {
        "summary": (summary.accepted, summary.duplicates, summary.rejected_count),
        "rejected": sorted((row.line, row.reason) for row in summary.rejected),
        "records": records,
        "buckets": dict(Bucket.objects.values_list("pk", "remaining")),
        "charges": sorted(
            (record_ids[r], bucket, a) for r, bucket, a in charges_of(records=UsageRecord.objects.all())
        ),
        # and in which form: a record's one bucket on the record, Charge rows for splits
        "carried": sorted(
            UsageRecord.objects.exclude(charged_bucket=None).values_list("record_id", "charged_bucket")
        ),
        "charge_rows": sorted(Charge.objects.values_list("record__record_id", "bucket_id", "amount")),
        "anomalies": sorted(
            (a.line_id, a.kind, a.record.record_id if a.record else "", sorted(a.details.items()))
            for a in Anomaly.objects.select_related("record")
        ),
    }


def _run(import_file) -> dict[str, Any]:
    """Import in a savepoint, read everything, and roll it back for the next way."""
    with transaction.atomic(), clock.frozen(T0 + timedelta(hours=6)):
        state = _state(import_file(BytesIO(HEADER + BODY)))
        transaction.set_rollback(True)
    return state


def _file_import(stream):
    return usage_file_import(source="carrier", stream=stream, fmt="csv")


def _row_by_row(stream):
    summary = usage_records_ingest(
        source="carrier", rows=rows_read(stream, fmt="csv", now=clock.now()), enqueue_rating=False
    )
    usage_rate_pending()
    return summary


def test_the_set_based_import_equals_the_row_by_row_way(lines, monkeypatch):
    # Given five lines with every kind of bucket set-up, and a file of good and bad rows
    # When it is imported the set-based way, the row-by-row way with set-based rating, and with
    # rating in Python only
    split = []
    monkeypatch.setattr(
        import_sql, "block_split", lambda *a, **k: split.append(result := block_split(*a, **k)) or result
    )
    fast = _run(_file_import)
    stored = _run(_row_by_row)
    monkeypatch.setattr(services.rating_sql, "rate_batch", lambda *, record_ids, now: record_ids)
    python_only = _run(_row_by_row)

    # Then all three agree on everything
    assert fast == stored == python_only
    assert fast["summary"] == (31, 1, 6)
    assert {kind for _line, kind, *_rest in fast["anomalies"]} == {
        "duplicate",
        "inactive_line",
        "charge_mismatch",
        "spike",
    }
    assert fast["rejected"] == [
        (16, "unknown number"),
        (17, "started_at is in the future"),
        (18, "quantity is negative"),
        (23, "destination is not a number or name of up to 32 characters"),
        (26, "more cells than columns"),
        (29, "started_at is not an ISO 8601 date and time"),
    ]
    records = fast["records"]
    # The call at 02:00Z (+14:00, read by the row reader) comes first on the earliest-expiring voice
    # bucket: 300 - 10 - 75 = 215 s left there for r2, the other 185 s from the second credit.
    assert sorted(amount for record_id, _bucket, amount in fast["charges"] if record_id == "r2") == [185, 215]
    # r2's split is two Charge rows; a record the bundle or the balance covered alone carries its bucket.
    assert [row for row in fast["charge_rows"] if row[0] == "r2"] == [
        row for row in fast["charges"] if row[0] == "r2"
    ]
    assert len(fast["carried"]) + len({row[0] for row in fast["charge_rows"]}) == len(
        {row[0] for row in fast["charges"]}
    )
    # Per started minute with overage: 1000 s is 17 minutes, 10 from the bundle, 7 international (+1)
    # at 150 = 1050: 300 from the balance, 750 below zero.
    assert records["r6"][9:14] == (1020, 600, 1050, 1050, 0)
    # Data in 10 KB steps: 5,000,000 bytes = 4883 KB -> 4890 KB.
    assert records["r3"][9:11] == (4890, 4890)
    # The exact half second hashes as Python formats it, so r13 (same instant at -05:00) repeats r12.
    assert records["r12"][7] == records["r13"][7]
    # And on PostgreSQL the plain lines went the SQL way, only the others through the row reader
    if split:
        assert [raw.split(b",")[0] for _number, raw in split[0].others] == OTHERS


block_split = import_sql.block_split
block_halves = import_sql.block_halves


def test_a_later_file_repeating_stored_and_its_own_records_is_flagged_as_the_row_by_row_way(
    line, plan, tariff
):
    # Given a file with two calls at 13:00 (different content) imported and rated
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    first = b"a1,+51912345678,voice,2025-03-01T13:00:00Z,60,+51987654321,\n"
    first += b"a2,+51912345678,voice,2025-03-01T13:00:00Z,61,+51987654321,\n"
    # When a later file repeats a1 under another id, has a call at 14:00 twice (b2, b3) and one at
    # 14:00 with other content (b4), and one at an instant of its own
    later = b"b1,+51912345678,voice,2025-03-01T13:00:00Z,60,+51987654321,\n"
    later += b"b2,+51912345678,sms,2025-03-01T14:00:00Z,1,+51987654321,\n"
    later += b"b3,+51912345678,sms,2025-03-01T14:00:00Z,1,+51987654321,\n"
    later += b"b4,+51912345678,sms,2025-03-01T14:00:00Z,1,+51900000000,\n"
    later += b"b5,+51912345678,sms,2025-03-01T15:00:00Z,1,+51987654321,\n"

    def both(import_file):
        with transaction.atomic(), clock.frozen(T0 + timedelta(hours=6)):
            import_file(BytesIO(HEADER + first))
            state = _state(import_file(BytesIO(HEADER + later)))
            transaction.set_rollback(True)
        return state

    fast, stored = both(_file_import), both(_row_by_row)

    # Then both ways flag b1 (a repeat of the stored a1) and b3 (of b2), and nothing else
    assert fast == stored
    assert [(kind, record_id) for _line, kind, record_id, _details in fast["anomalies"]] == [
        ("duplicate", "b1"),
        ("duplicate", "b3"),
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the halves run on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_block_in_two_halves_at_once_equals_the_whole_block(lines, monkeypatch):
    # Given the file of every case (numbers ending in even and odd digits, bad rows in both halves),
    # imported whole (inside a transaction a block never goes in halves)
    whole = _run(_file_import)
    # When it is imported again from scratch, committed, with every block big enough for halves
    monkeypatch.setattr(import_sql, "PARALLEL_LINES", 1)
    halves = []
    monkeypatch.setattr(
        import_sql, "block_halves", lambda *a, **k: halves.append(result := block_halves(*a, **k)) or result
    )
    with clock.frozen(T0 + timedelta(hours=6)):
        in_halves = _state(_file_import(BytesIO(HEADER + BODY)))

    # Then it went in two halves, each with its lines' numbers, and everything is the same
    assert [len(part.numbers or []) for part in halves[0]] == [22, 6]
    assert in_halves == whole


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the halves run on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_a_file_at_once_in_halves_store_it_once(lines, monkeypatch):
    # Given what one import of the file stores
    whole = _run(_file_import)
    monkeypatch.setattr(import_sql, "PARALLEL_LINES", 1)

    def run(_index):
        with clock.frozen(T0 + timedelta(hours=6)):
            return _file_import(BytesIO(HEADER + BODY))

    # When two imports of it run at once, each in halves on two more connections
    summaries = race(2, run)

    # Then every record is stored and rated once, each row of each import counted once, and the
    # records, charges, buckets and anomalies are those of one import
    first, second = summaries
    assert (first.accepted + second.accepted, first.duplicates + second.duplicates) == (31, 33)
    assert {**_state(first), "summary": whole["summary"]} == whole


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the halves run on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_odd_half_failed_resumes_to_what_one_import_stores(lines, monkeypatch):
    # Given what one import of the file stores, and an import in halves whose odd half fails
    whole = _run(_file_import)
    monkeypatch.setattr(import_sql, "PARALLEL_LINES", 1)
    store = services._import_part

    def odd_half_fails(block, **options):
        if options["half"] == 1:
            raise ConnectionError("interrupted")
        store(block, **options)

    monkeypatch.setattr(services, "_import_part", odd_half_fails)
    with clock.frozen(T0 + timedelta(hours=6)), pytest.raises(ConnectionError):
        _file_import(BytesIO(HEADER + BODY))
    kept = UsageRecord.objects.count()
    monkeypatch.setattr(services, "_import_part", store)

    # When the import runs again
    with clock.frozen(T0 + timedelta(hours=6)):
        again = _file_import(BytesIO(HEADER + BODY))

    # Then the even half was kept, the rest is stored now, the kept records count as duplicates,
    # and everything is what one import stores
    assert 0 < kept < 31
    assert (again.accepted, again.duplicates) == (31 - kept, 1 + kept)
    assert {**_state(again), "summary": whole["summary"]} == whole


def test_a_record_id_on_numbers_of_both_halves_keeps_the_block_whole():
    # Given a block with one record id on a number of each half
    rows = b"x1,+51912345678,sms,2025-03-01T13:00:00Z,1,,\nx1,+51933333333,sms,2025-03-01T13:00:00Z,1,,\n"
    block = block_split(rows, header=list(COLUMNS), first_line=2)
    # When it is split in halves, then there are none: the first row of x1 in the file must win
    assert import_sql.block_halves(block, header=list(COLUMNS)) is None


def test_halves_keep_each_line_number_and_where_a_row_read_line_comes_among_the_plain_ones():
    # Given plain lines of even and odd numbers and, between them, a line only the row reader takes
    rows = (
        b"p1,+51912345678,sms,2025-03-01T13:00:00Z,1,,\n"
        b"p2,+51933333333,sms,2025-03-01T13:00:00Z,1,,\n"
        b'"q1",+51912345678,sms,2025-03-01T13:00:00Z,1,,\n'
        b"p3,+51912345678,sms,2025-03-01T13:00:00Z,1,,\n"
    )
    block = block_split(rows, header=list(COLUMNS), first_line=2)
    [(number, raw)] = block.others
    parsed = row_read(number, raw, fmt="csv", header=list(COLUMNS), now=T0 + timedelta(hours=6))
    assert isinstance(parsed, tuple)
    block.parsed.append((number, 2, parsed[1]))

    # When it is split in halves
    halves = import_sql.block_halves(block, header=list(COLUMNS))

    # Then each half has its plain lines' numbers, and q1 comes after the one plain line before it
    assert halves is not None
    even, odd = halves
    assert (even.numbers, [(n, before, r.record_id) for n, before, r in even.parsed]) == (
        [2, 5],
        [(4, 1, "q1")],
    )
    assert (odd.numbers, odd.parsed) == ([3], [])
    assert [bytes(run) for run in even.plain] == [rows.split(b"\n")[0] + b"\n" + rows.split(b"\n")[3] + b"\n"]
