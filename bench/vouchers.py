"""Recharge codes on PostgreSQL: generate 1,000,000 codes (HMACs, bulk inserts and the CSV export),
then redemption latency under 16 concurrent clients. Not a test.

Goals: generation < 20 s; redemption p99 < 25 ms. Anchors, measured in the same run: for generation,
drawing the same number of PINs and computing their full HMAC-SHA256 one by one; for redemption, the
PIN lookup alone (one indexed SELECT by HMAC) by the same clients in the same way.

Each client is a process of its own (forked after set-up, with its own database connection) that
calls the redemption service as a web worker would (without HTTP, the token and the line lookup),
so the clients do not queue for one Python interpreter lock. One client alone gives the service
time and its CPU; then two ways of loading the service, each with its anchor:

- closed loop (the goal's figure): every client sends its next redemption as soon as it has the
  answer to the last, so the machine is saturated and latency is about clients / throughput;
- fixed offered rate (--rate, in total): each client sends on a fixed schedule, and a latency is
  counted from the request's scheduled start, so a request that had to wait for the one before it
  counts that wait (no coordinated omission).

It also prints the throughput the CPU of one redemption (Django and its PostgreSQL backend) leaves
the machine's cores, and how often a backend waited on a lock.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything .venv/bin/python bench/vouchers.py

The bench (re)creates its own database (--db) on the server DATABASE_URL points at and migrates it.
"""

from __future__ import annotations

import argparse
import hmac
import multiprocessing
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
from common import django_on_own_database, percentile

# Requests each client sends untimed first (its connection, the server's plan and buffer caches).
WARM_UP = 3
# A client: (user id, line id). A work factory, called in the client's process, returns what one
# request does with one PIN.
Client = tuple[int, int]
WorkFactory = Callable[[Client], Callable[[str], None]]


@dataclass
class Run:
    latencies: list[float]  # ms
    rate: float  # requests per second, all clients together
    client_cpu_ms: float  # per request, in the client processes
    server_cpu_ms: float  # per request, in their PostgreSQL backends (0 if not readable)
    lock_waits: int  # samples of pg_stat_activity that saw a backend waiting on a lock
    samples: int


class Report(NamedTuple):
    """What one client process sends back."""

    latencies: list[float]
    ended: float  # time.monotonic() after its last answer
    client_cpu: float  # seconds
    server_cpu: float  # seconds, its PostgreSQL backend's


def backend_cpu(pid: int) -> float:
    """CPU seconds a (local) PostgreSQL backend has used, or 0 if its /proc entry cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_main(
    make_work: WorkFactory,
    client: Client,
    pins: Sequence[str],
    interval: float | None,
    phase: float,
    ready: Any,
    start: Any,
    results: Any,
) -> None:
    """One client process: warm up, wait for the common start, send its requests (back to back, or
    the k-th at start + (k + phase) * interval) and report latencies and CPU."""
    from django.db import connection

    work = make_work(client)
    for pin in pins[:WARM_UP]:
        work(pin)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    server_cpu, client_cpu = backend_cpu(backend), time.process_time()
    ready.wait()
    ready.wait()  # the parent has written the start instant between the two
    began = start.value
    time.sleep(max(0.0, began - time.monotonic()))
    latencies = []
    for turn, pin in enumerate(pins[WARM_UP:]):
        if interval is None:
            scheduled = time.monotonic()
        else:
            scheduled = began + (turn + phase) * interval
            time.sleep(max(0.0, scheduled - time.monotonic()))
        work(pin)
        latencies.append((time.monotonic() - scheduled) * 1000)
    ended = time.monotonic()
    results.put(Report(latencies, ended, time.process_time() - client_cpu, backend_cpu(backend) - server_cpu))
    connection.close()


def run_clients(
    url: str,
    clients: list[Client],
    pins: list[list[str]],
    make_work: WorkFactory,
    *,
    interval: float | None,
) -> Run:
    """Run one client process per client (forked: they share the set-up), all starting together,
    while a thread samples pg_stat_activity for backends waiting on a lock."""
    from django.db import connections

    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    ready, start, results = context.Barrier(len(clients) + 1), context.Value("d", 0.0), context.Queue()
    processes = [
        context.Process(
            target=client_main,
            args=(make_work, client, pins[index], interval, index / len(clients), ready, start, results),
            daemon=True,
        )
        for index, client in enumerate(clients)
    ]
    for process in processes:
        process.start()
    waits, samples, stop = [0], [0], threading.Event()

    def sample() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.wait(0.02):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                ).fetchone()
                waits[0] += bool(row and row[0])
                samples[0] += 1

    # Timeouts: a client that fails leaves the others waiting for it, and the bench stops.
    ready.wait(timeout=300)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start.value = began = time.monotonic() + 0.05
    ready.wait(timeout=60)
    reports: list[Report] = [results.get(timeout=1800) for _ in processes]
    stop.set()
    sampler.join()
    for process in processes:
        process.join()
    latencies = [latency for report in reports for latency in report.latencies]
    return Run(
        latencies=latencies,
        rate=len(latencies) / (max(report.ended for report in reports) - began),
        client_cpu_ms=sum(report.client_cpu for report in reports) * 1000 / len(latencies),
        server_cpu_ms=sum(report.server_cpu for report in reports) * 1000 / len(latencies),
        lock_waits=waits[0],
        samples=samples[0],
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--redemptions", type=int, default=200, help="per client and way of loading")
    parser.add_argument(
        "--rate", type=float, default=50.0, help="offered redemptions per second, all clients together"
    )
    parser.add_argument(
        "--db", default="vigencia_bench_vouchers", help="database to (re)create for the bench"
    )
    args = parser.parse_args()

    bench_url = django_on_own_database(
        args.db,
        VIGENCIA_VOUCHER_ACCOUNT_FAILURES="1000000",
        VIGENCIA_VOUCHER_IP_FAILURES="1000000",
        VIGENCIA_VOUCHER_GLOBAL_FAILURES="1000000",
    )
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db import connection

    from vigencia.accounts import roles
    from vigencia.accounts.models import User
    from vigencia.catalog import demo as catalog_demo
    from vigencia.catalog.models import Plan
    from vigencia.ledger.selectors import ledger_verify
    from vigencia.lines.models import Line
    from vigencia.lines.services import line_add
    from vigencia.vouchers import exports, services
    from vigencia.vouchers.codes import pin_digest, pin_new
    from vigencia.vouchers.models import VoucherBatch, VoucherCode

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
    keep = (2 * args.clients + 1) * (args.redemptions + WARM_UP)
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
        # The bench's own tables only: a database-wide ANALYZE also takes the shared catalogs and
        # waits behind any other database's session analysing them.
        cursor.execute("ANALYZE vouchers_vouchercode, vouchers_voucherbatch, vouchers_attemptcounter")
    print(
        f"generate {args.codes:,} codes (HMACs, inserts, {size / 1e6:.0f} MB CSV): {generate:.1f} s "
        f"(goal < 20 s) | anchor, HMACs alone: {anchor_generate:.1f} s "
        f"| ratio {generate / anchor_generate:.1f}x"
    )

    # --- redemption latency -------------------------------------------------------------------------
    clients = []
    for index in range(args.clients):
        user = User.objects.create_user(email=f"bench-{index}@example.com", password="x" * 20)
        clients.append((user.pk, line_add(owner=user, msisdn=f"+5191{index:07d}", carrier=plan.carrier).pk))
    per_client = args.redemptions + WARM_UP
    closed_pins = [pins[i * per_client : (i + 1) * per_client] for i in range(args.clients)]
    paced_pins = [
        pins[(args.clients + i) * per_client : (args.clients + i + 1) * per_client]
        for i in range(args.clients)
    ]
    solo_pins = [pins[2 * args.clients * per_client : (2 * args.clients + 1) * per_client]]

    def lookup(_client: Client) -> Callable[[str], None]:
        def work(pin: str) -> None:
            VoucherCode.objects.filter(pin_digest=pin_digest(pin)).first()

        return work

    def redeem(client: Client) -> Callable[[str], None]:
        user = User.objects.get(pk=client[0])
        line = Line.objects.select_related("carrier").get(pk=client[1])

        def work(pin: str) -> None:
            services.voucher_redeem(pin=pin, redeemer=user, ip="10.0.0.1", line=line)

        return work

    interval = args.clients / args.rate
    solo_anchor = run_clients(bench_url, clients[:1], solo_pins, lookup, interval=None)
    solo = run_clients(bench_url, clients[:1], solo_pins, redeem, interval=None)
    closed_anchor = run_clients(bench_url, clients, closed_pins, lookup, interval=None)
    closed = run_clients(bench_url, clients, closed_pins, redeem, interval=None)
    paced_anchor = run_clients(bench_url, clients, paced_pins, lookup, interval=interval)
    paced = run_clients(bench_url, clients, paced_pins, redeem, interval=interval)

    def figures(run: Run) -> str:
        return (
            f"p50 {percentile(run.latencies, 0.5):.1f} ms, p99 {percentile(run.latencies, 0.99):.1f} ms, "
            f"{run.rate:.0f}/s"
        )

    def ratio(run: Run, anchor: Run) -> str:
        return f"ratio p99 {percentile(run.latencies, 0.99) / percentile(anchor.latencies, 0.99):.1f}x"

    def cpu(run: Run) -> str:
        return f"Django {run.client_cpu_ms:.1f} ms + PostgreSQL {run.server_cpu_ms:.1f} ms"

    print(
        f"redeem, one client alone: {figures(solo)}, CPU per redemption {cpu(solo)} "
        f"| anchor, PIN lookup alone: {figures(solo_anchor)} | {ratio(solo, solo_anchor)}"
    )
    print(
        f"redeem, closed loop ({args.clients} client processes, each sending its next request when it has "
        f"its answer; the goal's figure): {len(closed.latencies):,} redemptions: {figures(closed)} "
        f"(goal p99 < 25 ms) | anchor, PIN lookup alone, same clients: {figures(closed_anchor)} "
        f"| {ratio(closed, closed_anchor)}"
    )
    print(
        f"redeem, fixed offered rate {args.rate:.0f}/s ({args.clients} client processes; latency from each "
        f"request's scheduled start, so time spent behind schedule counts): {figures(paced)} "
        f"| anchor at the same rate: {figures(paced_anchor)} | {ratio(paced, paced_anchor)}"
    )
    cores = os.cpu_count() or 1
    ceiling = cores * 1000 / (solo.client_cpu_ms + solo.server_cpu_ms)
    print(
        f"ceiling: at {solo.client_cpu_ms + solo.server_cpu_ms:.1f} ms CPU per redemption, {cores} cores "
        f"doing nothing else fit at most {ceiling:.0f}/s, so {args.clients} clients that never pause wait "
        f"at least {args.clients / ceiling * 1000:.0f} ms each on average (Little's law); in the closed "
        f"loop a redemption took {cpu(closed)} of CPU (load average now {os.getloadavg()[0]:.1f})"
    )
    print(
        f"row-lock waits while redeeming: {closed.lock_waits + paced.lock_waits} of "
        f"{closed.samples + paced.samples} samples of pg_stat_activity saw a backend waiting on a lock"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM vouchers_vouchercode WHERE status = 'redeemed' AND order_id IS NOT NULL"
        )
        redeemed = cursor.fetchone()[0]
    expected = (2 * args.clients + 1) * per_client
    print(f"codes redeemed {redeemed:,} (expected {expected:,}); ledger verify: {ledger_verify() or 'ok'}")


if __name__ == "__main__":
    main()
