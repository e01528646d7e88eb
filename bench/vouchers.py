"""Recharge codes on PostgreSQL: generate 1,000,000 codes (HMACs, bulk inserts and the CSV export),
then redemption latency under 16 concurrent clients. Not a test.

Goals: generation < 20 s; redemption p99 < 25 ms. Anchors, measured in the same run: for generation,
drawing the same number of PINs and computing their full HMAC-SHA256 one by one; for redemption, the
PIN lookup alone (one indexed SELECT by HMAC) under the same concurrency.

The clients are threads of this one process: their Python work shares one interpreter lock, so the
throughput printed with the latencies tells how much of a latency is waiting for that lock and the
CPU (p50 near clients / throughput) rather than for a row lock.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything .venv/bin/python bench/vouchers.py

The bench (re)creates its own database (--db) on the server DATABASE_URL points at and migrates it.
"""

from __future__ import annotations

import argparse
import hmac
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent


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
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--redemptions", type=int, default=200, help="per client")
    parser.add_argument(
        "--db", default="vigencia_bench_vouchers", help="database to (re)create for the bench"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("DATABASE_URL must point at PostgreSQL (the bench creates its own database there)")
    os.environ["DATABASE_URL"] = recreate(url, args.db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vigencia.config.settings")
    os.environ.setdefault("VIGENCIA_VOUCHER_ACCOUNT_FAILURES", "1000000")
    os.environ.setdefault("VIGENCIA_VOUCHER_IP_FAILURES", "1000000")
    os.environ.setdefault("VIGENCIA_VOUCHER_GLOBAL_FAILURES", "1000000")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection

    from vigencia.accounts import roles
    from vigencia.accounts.models import User
    from vigencia.catalog import demo as catalog_demo
    from vigencia.catalog.models import Plan
    from vigencia.lines.services import line_add
    from vigencia.vouchers import exports, services
    from vigencia.vouchers.codes import pin_digest, pin_new
    from vigencia.vouchers.models import VoucherBatch, VoucherCode

    call_command("migrate", verbosity=0)
    catalog_demo.seed(StringIO())
    roles.roles_ensure()
    plan = Plan.objects.select_related("carrier").get(carrier__code="claro-pe", code="max-10")
    reseller = User.objects.create_user(email="bench-reseller@example.com", password="x" * 20)
    reseller.groups.add(Group.objects.get(name=roles.RESELLER))
    services.reseller_prepaid_credit(reseller=reseller, amount=plan.price * args.codes, reference="bench")

    # --- generation -------------------------------------------------------------------------------
    key = settings.VIGENCIA_VOUCHER_PIN_KEY.encode()
    started = time.perf_counter()
    for _ in range(args.codes):
        hmac.digest(key, pin_new().encode(), "sha256").hex()
    anchor_generate = time.perf_counter() - started

    pins: list[str] = []
    keep = args.clients * (args.redemptions + 20)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False) as stream:
        export: list[exports.BatchExport] = []

        def sink(batch: VoucherBatch, pairs: list[tuple[str, str]]) -> None:
            if not export:
                export.append(exports.BatchExport(stream, batch=batch))
            export[0].add(pairs)
            if len(pins) < keep:
                pins.extend(pin for _serial, pin in pairs[: keep - len(pins)])

        started = time.perf_counter()
        services.batch_create(plan=plan, count=args.codes, reseller=reseller, sink=sink)
        stream.flush()
        generate = time.perf_counter() - started
    size = Path(stream.name).stat().st_size
    Path(stream.name).unlink()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"generate {args.codes:,} codes (HMACs, inserts, {size / 1e6:.0f} MB CSV): {generate:.1f} s "
        f"(goal < 20 s) | anchor, HMACs alone: {anchor_generate:.1f} s "
        f"| ratio {generate / anchor_generate:.1f}x"
    )

    # --- redemption latency -------------------------------------------------------------------------
    clients = []
    for index in range(args.clients):
        user = User.objects.create_user(email=f"bench-{index}@example.com", password="x" * 20)
        clients.append((user, line_add(owner=user, msisdn=f"+5191{index:07d}", carrier=plan.carrier)))
    connection.close()

    def run_clients(work: Callable[[int, int], None]) -> tuple[list[float], float]:
        """Latencies (ms, without each client's first ten) and throughput (per second)."""
        samples: list[list[float]] = [[] for _ in range(args.clients)]
        barrier = threading.Barrier(args.clients)

        def client(index: int) -> None:
            try:
                barrier.wait()
                for turn in range(args.redemptions):
                    began = time.perf_counter()
                    work(index, turn)
                    samples[index].append((time.perf_counter() - began) * 1000)
            finally:
                connection.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rate = args.clients * args.redemptions / (time.perf_counter() - started)
        return [sample for per_client in samples for sample in per_client[10:]], rate

    def lookup(index: int, turn: int) -> None:
        VoucherCode.objects.filter(pin_digest=pin_digest(pins[index * args.redemptions + turn])).first()

    def redeem(index: int, turn: int) -> None:
        user, line = clients[index]
        services.voucher_redeem(
            pin=pins[index * args.redemptions + turn], redeemer=user, ip="10.0.0.1", line=line
        )

    anchor, anchor_rate = run_clients(lookup)
    redeemed, rate = run_clients(redeem)
    p50, p99 = percentile(redeemed, 0.5), percentile(redeemed, 0.99)
    a50, a99 = percentile(anchor, 0.5), percentile(anchor, 0.99)
    print(
        f"redeem, {args.clients} clients, {len(redeemed):,} redemptions: "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal p99 < 25 ms), mean {statistics.mean(redeemed):.1f} ms, "
        f"{rate:.0f}/s | anchor, PIN lookup alone: p50 {a50:.2f} ms, p99 {a99:.2f} ms, "
        f"{anchor_rate:.0f}/s | ratio p99 {p99 / a99:.0f}x"
    )


if __name__ == "__main__":
    main()
