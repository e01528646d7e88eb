"""Benchmark `vigencia simulate`: wall time of a population through simulated time with the real
services, the database queries it took (a figure that does not depend on the machine's load), and the
ratio to the issue's goal (100,000 lines x 24 months in 60 s on this 2-core machine).

    DATABASE_URL=postgres://... .venv/bin/python bench/simulate.py --lines 1000 --months 24

The bench (re)creates its own database (--db) on the server DATABASE_URL points at, migrates it and
loads the demo catalog. The simulation itself is rolled back.
"""

from __future__ import annotations

import argparse
from io import StringIO

from common import django_on_own_database

GOAL_LINE_DAYS_PER_SECOND = 100_000 * 731 / 60


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--failure-rate", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--db", default="vigencia_bench_simulate", help="database to (re)create for the bench"
    )
    args = parser.parse_args()
    django_on_own_database(args.db)
    from django.db import connection

    from vigencia.catalog import demo

    demo.seed(StringIO())
    from vigencia.lines.simulate import simulate

    queries = 0

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        report = simulate(
            lines=args.lines, months=args.months, failure_rate=args.failure_rate, seed=args.seed
        )
    line_days = report.lines * report.days
    rate = line_days / report.seconds
    print(f"lines: {report.lines}, days: {report.days}, seconds: {report.seconds}")
    print(
        f"renewals: {report.renewals}, reminders: {report.reminders_sent}, lost (funded auto-renew): "
        f"{report.numbers_lost_funded_autorenew}"
    )
    print(f"ticks (days with something due): {report.ticks}")
    per_renewal = queries / max(report.renewals, 1)
    print(f"queries: {queries:,} ({queries / line_days:.2f} per line-day, {per_renewal:.0f} per renewal)")
    print(f"line-days per second: {rate:,.0f}")
    print(f"seconds per simulated day: {report.seconds / report.days:.3f}")
    print(f"ratio to the goal (100,000 lines x 24 months in 60 s): {rate / GOAL_LINE_DAYS_PER_SECOND:.4f}")


if __name__ == "__main__":
    main()
