"""Benchmark: ingest + rate + charge N usage records for M lines on PostgreSQL, against a plain COPY.

    DATABASE_URL=postgres://... .venv/bin/python bench/rating.py [--records 1000000] [--lines 100000]

Prints records/s of the pipeline (`usage_file_import`, as `vigencia usage import` runs it: COPY of
each block into staging, checks in SQL, records stored rated and charged, anomalies and alerts) and
the ratio to a plain COPY of the same file into a bare table. Not a test.

The bench (re)creates its own database (--db) on the server DATABASE_URL points at and migrates it.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import django_on_own_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--db", default="vigencia_bench_rating", help="database to (re)create for the bench")
    args = parser.parse_args()
    django_on_own_database(args.db)
    from django.db import DatabaseError, connection

    from vigencia.accounts.models import User
    from vigencia.catalog.models import Carrier, Plan
    from vigencia.core import clock
    from vigencia.lines.models import Line
    from vigencia.usage.models import Bucket, Credit
    from vigencia.usage.services import usage_file_import

    start = datetime(2025, 1, 1, tzinfo=UTC)
    owner, _ = User.objects.get_or_create(email="bench@bench.invalid")
    carrier, _ = Carrier.objects.get_or_create(
        code="bench", defaults={"name": "Bench", "country": "PE", "currency": "PEN", "cutoff_after_days": 270}
    )
    plan, _ = Plan.objects.get_or_create(
        carrier=carrier,
        code="bench",
        defaults={
            "name_en": "B",
            "name_es": "B",
            "name_zh_hans": "B",
            "price_minor": 1000,
            "currency": "PEN",
            "validity_days": 60,
            "data_mb": 1024,
            "minutes": 100,
            "sms": 100,
        },
    )
    numbers = [f"+5190{n:07d}" for n in range(args.lines)]
    existing = set(Line.objects.filter(owner=owner).values_list("msisdn", flat=True))
    Line.objects.bulk_create(
        [Line(owner=owner, carrier=carrier, msisdn=m) for m in numbers if m not in existing], batch_size=5000
    )
    line_ids = list(Line.objects.filter(owner=owner).values_list("pk", flat=True))
    have = set(Credit.objects.filter(line__owner=owner).values_list("line_id", flat=True))
    credits = Credit.objects.bulk_create(
        [
            Credit(line_id=i, plan=plan, reference=f"bench:{i}", credited_at=start)
            for i in line_ids
            if i not in have
        ],
        batch_size=5000,
    )
    Bucket.objects.bulk_create(
        [
            Bucket(
                line_id=c.line_id,
                credit=c,
                kind=k,
                currency="PEN" if k == "money" else "",
                initial=a,
                remaining=a,
                valid_from=start,
                expires_at=start + timedelta(days=60),
            )
            for c in credits
            for k, a in (("money", 1000), ("data", 1024 * 1024), ("voice", 6000), ("sms", 100))
        ],
        batch_size=5000,
    )
    # Every run starts from the same state: the usage of earlier runs on the bench lines goes, and
    # their buckets are full again.
    mine = "line_id IN (SELECT id FROM lines_line WHERE owner_id = %s)"
    with connection.cursor() as cursor:
        for statement in (
            f"DELETE FROM usage_anomaly WHERE {mine}",
            f"DELETE FROM usage_charge WHERE bucket_id IN (SELECT id FROM usage_bucket WHERE {mine})",
            f"DELETE FROM usage_usagerecord WHERE {mine}",
            f"UPDATE usage_bucket SET remaining = initial WHERE {mine} AND remaining <> initial",
        ):
            cursor.execute(statement, [owner.pk])
        cursor.execute("VACUUM ANALYZE usage_usagerecord, usage_charge, usage_bucket, usage_anomaly")
        # The set-up's own writes (a million records deleted) would otherwise bring a checkpoint, and
        # after it a full-page image of every page touched again, somewhere in the timed import.
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError:
            print("(no CHECKPOINT before the import: it needs the pg_checkpoint role)")
    source = f"bench-{time.time_ns()}"
    # A fresh seed per run: the same content again would (rightly) be flagged as duplicates.
    rng = random.Random(source)
    path = Path(tempfile.mkstemp(suffix=".csv")[1])
    with path.open("w") as handle:
        handle.write("record_id,msisdn,kind,started_at,quantity,destination,charged_minor\n")
        for n in range(args.records):
            kind = rng.choice(("voice", "sms", "data"))
            quantity = {"voice": rng.randint(1, 900), "sms": 1, "data": rng.randint(1, 50_000_000)}[kind]
            at = start + timedelta(seconds=rng.randint(0, 40 * 86400))
            handle.write(f"{n},{rng.choice(numbers)},{kind},{at.isoformat()},{quantity},+51987654321,\n")
    size_mb = path.stat().st_size / 1e6

    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS bench_bare; CREATE UNLOGGED TABLE bench_bare (record_id text, msisdn text, "
            "kind text, started_at timestamptz, quantity bigint, destination text, charged_minor bigint)"
        )
        began = time.perf_counter()
        with (
            path.open("rb") as stream,
            cursor.copy("COPY bench_bare FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while block := stream.read(1 << 20):
                copy.write(block)
        copy_seconds = time.perf_counter() - began
        cursor.execute("DROP TABLE bench_bare")

    began = time.perf_counter()
    with clock.frozen(start + timedelta(days=41)), path.open("rb") as stream:
        summary = usage_file_import(source=source, stream=stream, fmt="csv")
    total_seconds = time.perf_counter() - began
    path.unlink()

    pipeline_rate = args.records / total_seconds
    copy_rate = args.records / copy_seconds
    print(
        f"records: {args.records:,} for {args.lines:,} lines ({size_mb:.0f} MB CSV); "
        f"accepted {summary.accepted:,}, rated {summary.rated:,}"
    )
    print(f"plain COPY into a bare table: {copy_seconds:.2f} s = {copy_rate:,.0f} records/s")
    print(f"ingest + rate + charge: {total_seconds:.2f} s = {pipeline_rate:,.0f} records/s")
    print(f"ratio to plain COPY: {pipeline_rate / copy_rate:.3f} (goal >= 0.4; goal >= 100,000 records/s)")


if __name__ == "__main__":
    main()
