"""The lifecycle sweep over 1,000,000 lines on PostgreSQL: 1% due versus 0.1% due.

Prints both sweep times and their ratio. The anchor is the 0.1% run: a set-based sweep costs what the
due lines cost, so 10x the due lines should cost well under 10x the time, and nothing like a scan per
line. Goal: < 5 s with 1% due. Not a test: figures vary by machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything .venv/bin/python bench/sweep.py --lines 1000000

The bench (re)creates its own database (--db) on the server DATABASE_URL points at, migrates it, loads
the demo catalog and generates the lines with INSERT ... SELECT generate_series.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

from common import django_on_own_database

AT = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # noon in Lima; already 2 December in Asia


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--db", default="vigencia_bench_sweep", help="database to (re)create for the bench")
    parser.add_argument("--notify", action="store_true", help="time the notification hook too")
    args = parser.parse_args()

    django_on_own_database(args.db)
    from django.db import connection

    from vigencia.accounts.models import User
    from vigencia.catalog import demo
    from vigencia.catalog.models import Carrier
    from vigencia.lines.lifecycle import _notify_transitions, carrier_life_spans, lifecycle_sweep

    demo.seed(StringIO())
    owner = User.objects.create_user("bench@example.com", "bench-password-123")
    carriers = list(Carrier.objects.order_by("pk"))

    # Every line is fresh (its anchor yesterday in its carrier's zone); `make_due` moves a share of
    # them to an anchor whose cut-off (not number loss) is due.
    started = time.perf_counter()
    per_carrier = args.lines // len(carriers)
    with connection.cursor() as cursor:
        for index, carrier in enumerate(carriers):
            today = AT.astimezone(ZoneInfo(carrier.timezone)).date()
            fresh = today - timedelta(days=1)
            cursor.execute(
                """
                INSERT INTO lines_line (created_at, updated_at, owner_id, msisdn, carrier_id, nickname, iccid,
                                        status, last_recharge_at, valid_until)
                SELECT now(), now(), %(owner)s, '+519' || lpad(i::text, 8, '0'), %(carrier)s, '', '',
                       'active', %(fresh)s, %(fresh)s::date + %(cutoff)s::int
                FROM generate_series(%(first)s::int, %(last)s::int) AS i
                """,
                {
                    "owner": owner.pk,
                    "carrier": carrier.pk,
                    "fresh": fresh,
                    "cutoff": carrier.cutoff_after_days,
                    "first": index * per_carrier,
                    "last": (index + 1) * per_carrier - 1,
                },
            )
        cursor.execute("VACUUM ANALYZE lines_line")
    total = per_carrier * len(carriers)
    print(f"{total:,} lines generated in {time.perf_counter() - started:.1f} s")

    def make_due(every: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM lines_lineevent")
            cursor.execute("UPDATE lines_line SET status = 'active' WHERE status <> 'active'")
            for carrier in carriers:
                today = AT.astimezone(ZoneInfo(carrier.timezone)).date()
                fresh = today - timedelta(days=1)
                due = today - timedelta(days=carrier_life_spans(carrier).suspended + 1)
                cursor.execute(
                    "UPDATE lines_line SET last_recharge_at = CASE WHEN id %% %s = 0 THEN %s ELSE %s END, "
                    "valid_until = CASE WHEN id %% %s = 0 THEN %s::date ELSE %s::date END + %s "
                    "WHERE carrier_id = %s AND (id %% %s = 0 OR last_recharge_at <> %s)",
                    [
                        every,
                        due,
                        fresh,
                        every,
                        due,
                        fresh,
                        carrier.cutoff_after_days,
                        carrier.pk,
                        every,
                        fresh,
                    ],
                )
            cursor.execute("VACUUM ANALYZE lines_line")
            cursor.execute("SELECT count(*) FROM lines_line WHERE id %% %s = 0", [every])
            return int(cursor.fetchone()[0])

    def timed_sweep(every: int) -> tuple[int, float]:
        due = make_due(every)
        started = time.perf_counter()
        counts = lifecycle_sweep(at=AT, notify=_notify_transitions if args.notify else None)
        elapsed = time.perf_counter() - started
        moved = sum(counts.values())
        assert moved == due, (moved, due)
        return moved, elapsed

    lifecycle_sweep(at=AT, notify=None)  # warm caches and connections
    moved_rare, rare = timed_sweep(1000)
    moved_common, common = timed_sweep(100)
    print(f"sweep, 0.1% due: {moved_rare:>7,} lines moved in {rare:.3f} s")
    print(f"sweep, 1%   due: {moved_common:>7,} lines moved in {common:.3f} s  (goal < 5 s)")
    print(f"ratio 1% / 0.1%: {common / rare:.2f} (10x the due lines; cost follows due lines, not all lines)")


if __name__ == "__main__":
    main()
