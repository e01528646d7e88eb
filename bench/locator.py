"""The store locator over 10,000 stores on PostgreSQL: nearest-10 queries from random points.

Prints p50/p99 of `store_nearest` (bounding box on the indexed lat/lng, haversine ranking, open state
and next opening for each result) and the same figures for its anchor, a plain primary-key lookup of
one store measured in the same run, with their ratio. Goal: p99 < 10 ms. Not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything .venv/bin/python bench/locator.py

The bench (re)creates its own database (--db) on the server DATABASE_URL points at, migrates it, loads
the demo catalog and generates stores: two thirds spread over Lima, the rest over Peru, each with
hours, carriers and services like the demo's.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # noon in Lima


def recreate(url: str, db: str) -> str:
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    return urlunsplit(parts._replace(path=f"/{db}"))


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--db", default="vigencia_bench_locator", help="database to (re)create for the bench")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must point at PostgreSQL (the bench creates its own database there)")
    os.environ["DATABASE_URL"] = recreate(url, args.db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigencia.config.settings")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from vigencia.catalog import demo as catalog_demo
    from vigencia.catalog.models import Carrier
    from vigencia.stores.demo import LATE, LUNCH, MALL, OFFICE, STREET
    from vigencia.stores.hours import hours_parse
    from vigencia.stores.models import OpeningHours, Service, Store, StoreService
    from vigencia.stores.selectors import store_nearest

    call_command("migrate", verbosity=0)
    catalog_demo.seed(StringIO())
    rng = random.Random(10_000)
    peru_carriers = list(Carrier.objects.filter(country="PE"))
    patterns = [hours_parse(text) for text in (OFFICE, MALL, STREET, LATE, LUNCH)]

    def where() -> tuple[float, float]:
        if rng.random() < 2 / 3:
            return rng.uniform(-12.25, -11.90), rng.uniform(-77.15, -76.90)  # metropolitan Lima
        return rng.uniform(-18.0, -3.5), rng.uniform(-81.0, -69.0)  # anywhere in Peru

    started = time.perf_counter()
    with transaction.atomic():
        stores = Store.objects.bulk_create(
            [
                Store(
                    code=f"B-{number}",
                    name=f"Bench store {number}",
                    address=f"Av. Bench {number}",
                    district="Bench",
                    city="Lima",
                    latitude=lat,
                    longitude=lng,
                )
                for number, (lat, lng) in enumerate(where() for _ in range(args.stores))
            ],
            batch_size=2_000,
        )
        Through = Store.carriers.through
        Through.objects.bulk_create(
            [
                Through(store_id=store.pk, carrier_id=carrier.pk)
                for store in stores
                for carrier in rng.sample(peru_carriers, rng.randint(1, len(peru_carriers)))
            ],
            batch_size=5_000,
        )
        StoreService.objects.bulk_create(
            [
                StoreService(store=store, service=service)
                for store in stores
                for service in rng.sample(Service.values, rng.randint(1, len(Service.values)))
            ],
            batch_size=5_000,
        )
        OpeningHours.objects.bulk_create(
            [
                OpeningHours(store=store, weekday=day, opens=opens, closes=closes)
                for store in stores
                for day, opens, closes in rng.choice(patterns)
            ],
            batch_size=5_000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"{args.stores:,} stores generated in {time.perf_counter() - started:.1f} s")

    points = [where() for _ in range(args.queries)]
    pks = [store.pk for store in stores]

    def timed(call) -> list[float]:  # type: ignore[no-untyped-def]
        for _ in range(50):  # warm the connection, caches and plans
            call()
        samples = []
        for _ in range(args.queries):
            begin = time.perf_counter()
            call()
            samples.append((time.perf_counter() - begin) * 1000)
        return samples

    point_iter = iter(points * 2)
    nearest = timed(lambda: store_nearest(lat=(p := next(point_iter))[0], lng=p[1], limit=args.limit, at=AT))
    pk_iter = iter(rng.choices(pks, k=args.queries + 50))
    lookup = timed(lambda: Store.objects.get(pk=next(pk_iter)))

    rows = [(f"nearest-{args.limit}", nearest), ("pk lookup (anchor)", lookup)]
    print(f"{'query':<22}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, samples in rows:
        print(
            f"{name:<22}{percentile(samples, 0.5):>10.2f}{percentile(samples, 0.99):>10.2f}"
            f"{statistics.fmean(samples):>10.2f}"
        )
    p99 = percentile(nearest, 0.99)
    print(
        f"ratio nearest/pk: p50 {percentile(nearest, 0.5) / percentile(lookup, 0.5):.1f}x, "
        f"p99 {p99 / percentile(lookup, 0.99):.1f}x"
    )
    print(f"goal p99 < 10 ms: {'met' if p99 < 10 else 'NOT met'} ({p99:.2f} ms)")


if __name__ == "__main__":
    main()
