"""The store locator over 10,000 stores on PostgreSQL: nearest-10 queries from random points.

Prints p50/p99 of the nearest-10 query alone (the one SQL statement: a GiST nearest-neighbour index
walk with each store's carriers, services, hours and holidays), of `store_nearest` (that query, then
open state and next opening for each result), and of `GET /api/v1/stores` end to end in-process
(Django's test client: middleware, parsing, JSON), and the same figures for the anchor, a plain
primary-key lookup of one store measured in the same run, with their ratios. Goal: p99 < 10 ms.
Not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything .venv/bin/python bench/locator.py

The bench (re)creates its own database (--db) on the server DATABASE_URL points at, migrates it, loads
the demo catalog and generates stores: two thirds spread over Lima, the rest over Peru, each with
hours, carriers and services like the demo's.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from io import StringIO

from common import django_on_own_database, percentile

AT = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # noon in Lima


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--db", default="vigencia_bench_locator", help="database to (re)create for the bench")
    args = parser.parse_args()

    django_on_own_database(args.db)
    from django.db import connection, transaction
    from django.test import Client

    from vigencia.catalog import demo as catalog_demo
    from vigencia.catalog.models import Carrier
    from vigencia.stores import selectors
    from vigencia.stores.demo import LATE, LUNCH, MALL, OFFICE, STREET
    from vigencia.stores.hours import hours_parse
    from vigencia.stores.models import OpeningHours, Service, Store, StoreService

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

    first, last = selectors._holiday_window(AT)

    def sql_alone(lat: float, lng: float) -> None:
        params = {"first": first, "last": last, "point": selectors._earth_point(lat, lng)}
        params |= {"carrier": None, "service": None, "batch": args.limit}
        with connection.cursor() as cursor:
            cursor.execute(selectors._nearest_sql(), params)
            cursor.fetchall()

    client = Client()

    def http(lat: float, lng: float) -> None:
        response = client.get("/api/v1/stores", {"lat": lat, "lng": lng, "limit": args.limit})
        if response.status_code != 200 or len(response.json()) != args.limit:
            sys.exit(f"GET /api/v1/stores answered {response.status_code}: {response.content[:200]!r}")

    def over_points(call):  # type: ignore[no-untyped-def]
        point_iter = iter(points * 2)
        return lambda: call(*next(point_iter))

    rows = [
        (f"nearest-{args.limit} SQL alone", timed(over_points(sql_alone))),
        (
            "store_nearest",
            timed(
                over_points(
                    lambda lat, lng: selectors.store_nearest(lat=lat, lng=lng, limit=args.limit, at=AT)
                )
            ),
        ),
        ("GET /api/v1/stores", timed(over_points(http))),
    ]
    pk_iter = iter(rng.choices(pks, k=args.queries + 50))
    lookup = timed(lambda: Store.objects.get(pk=next(pk_iter)))

    print(f"{'query':<28}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}{'p50/pk':>9}{'p99/pk':>9}")
    for name, samples in [*rows, ("pk lookup (anchor)", lookup)]:
        print(
            f"{name:<28}{percentile(samples, 0.5):>10.2f}{percentile(samples, 0.99):>10.2f}"
            f"{statistics.fmean(samples):>10.2f}"
            f"{percentile(samples, 0.5) / percentile(lookup, 0.5):>8.1f}x"
            f"{percentile(samples, 0.99) / percentile(lookup, 0.99):>8.1f}x"
        )
    p99 = percentile(rows[1][1], 0.99)
    print(f"goal p99 < 10 ms (store_nearest): {'met' if p99 < 10 else 'NOT met'} ({p99:.2f} ms)")


if __name__ == "__main__":
    main()
