"""Wallet-paid renewals over HTTP against `vigencia serve` on PostgreSQL, then a burst worker.

Prints renewals/s, p50/p99 latency, and the ratio to pgbench's built-in tpcb-like transactions/s
measured on the same server in the same run, and the same request in-process (one client, Django's
test client: time, CPU and queries per renewal, the steadier figure on a shared machine). Not a
test: figures vary by machine; the ratio less so.

    .venv/bin/python bench/renewal_http.py --clients 8 --requests 50
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from common import ROOT, recreate

VIGENCIA = str(ROOT / ".venv" / "bin" / "vigencia")
PG = "postgres://postgres@127.0.0.1:5432"


def cpu_seconds(*, under: int | None = None, titled: str | None = None) -> float:
    """CPU time (user + system) used so far by the processes under `under` (that process and its
    descendants), or by those whose title contains `titled` (PostgreSQL's backends show their
    database there), read from /proc (Linux)."""
    processes: dict[int, tuple[int, str, float]] = {}  # pid -> (parent, title, seconds)
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat, title = (entry / "stat").read_text(), (entry / "cmdline").read_text()
        except OSError:
            continue  # gone
        fields = stat[stat.rindex(")") + 2 :].split()
        processes[int(entry.name)] = (int(fields[1]), title, (int(fields[11]) + int(fields[12])) / tick)
    if titled is not None:
        return sum(seconds for _parent, title, seconds in processes.values() if titled in title)
    total, todo = 0.0, [under]
    while todo:
        pid = todo.pop()
        total += processes.get(pid, (0, "", 0.0))[2]  # type: ignore[arg-type]
        todo += [child for child, (parent, _title, _seconds) in processes.items() if parent == pid]
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pgbench_tps(db: str, clients: int, seconds: int) -> float:
    recreate(PG, db)
    subprocess.run(
        ["pgbench", "-i", "-s", "1", "-q", "-h", "127.0.0.1", "-U", "postgres", db],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [
            "pgbench",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(seconds),
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            db,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([0-9.]+)", out)
    assert match, out
    return float(match.group(1))


def prepare(env: dict[str, str], clients: int, requests: int) -> list[tuple[str, int, int]]:
    """Users with a line and a wallet funded for every request; returns (token, line_id, plan_id)."""
    script = f"""
import django, json
django.setup()
from vigencia.accounts.services import api_token_issue
from vigencia.catalog.models import Carrier, Plan
from vigencia.core.money import Money
from vigencia.ledger.services import account_system, account_wallet, ledger_post
from vigencia.lines.services import line_add
from tests.factories import UserFactory
claro = Carrier.objects.get(code="claro-pe"); plan = Plan.objects.get(carrier=claro, code="max-5")
rows = []
for i in range({clients}):
    user = UserFactory(email=f"bench{{i}}@example.com")
    line = line_add(owner=user, msisdn=f"+5191{{i:07d}}", carrier=claro)
    amount = Money(plan.price_minor * {requests}, "PEN")
    ledger_post(kind="wallet_topup", idempotency_key=f"bench-fund-{{i}}", postings=[
        (account_system(kind="psp_clearing", currency="PEN", key="sandbox"), -amount),
        (account_wallet(user=user), amount)])
    rows.append((api_token_issue(user=user)[1], line.pk, plan.pk))
print(json.dumps(rows))
"""
    return [tuple(row) for row in run_json(env, script)]


def run_json(env: dict[str, str], script: str) -> Any:
    """Run a Python script in the project's venv; its last printed line is JSON."""
    out = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", script],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def in_process(env: dict[str, str], row: tuple[str, int, int], renewals: int) -> dict[str, float]:
    """The same request through Django's test client in one process, one at a time: wall and CPU
    time per renewal and the queries of one. Steadier than HTTP figures on a shared machine."""
    script = f"""
import django, json, time
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
token, line_id, plan_id = {list(row)!r}
client = Client(HTTP_AUTHORIZATION=f"Bearer {{token}}")
body = json.dumps({{"line_id": line_id, "plan_id": plan_id, "payment_method": "wallet"}})
def renew(key):
    response = client.post("/api/v1/orders", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
renew("in-process-warm-up")
with CaptureQueriesContext(connection) as queries:
    renew("in-process-counted")
counted = len(queries)  # read now: the next request clears the connection's query log
wall, cpu = time.perf_counter(), time.process_time()
for n in range({renewals}):
    renew(f"in-process-{{n}}")
wall, cpu = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
print(json.dumps({{"ms": wall / {renewals}, "cpu_ms": cpu / {renewals}, "queries": counted}}))
"""
    return run_json(env, script)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=50, help="renewals per client")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--db", default="vigencia_bench", help="database to create (dropped first)")
    args = parser.parse_args()

    db = args.db
    recreate(PG, db)
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db}",
        "DJANGO_SETTINGS_MODULE": "vigencia.config.settings",
        "VIGENCIA_SECURE_COOKIES": "0",
        "VIGENCIA_LOG_LEVEL": "WARNING",
        "VIGENCIA_CONN_MAX_AGE": "60",
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([VIGENCIA, "migrate", "-v0"], env=env, check=True)
    subprocess.run([VIGENCIA, "seed_demo", "-v0"], env=env, check=True, capture_output=True)
    in_process_renewals = 100
    *rows, solo = prepare(env, args.clients + 1, max(args.requests, in_process_renewals + 2))

    port = free_port()
    server = subprocess.Popen(
        [
            VIGENCIA,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        latencies: list[float] = []
        failures: list[int] = []
        lock = threading.Lock()
        start = threading.Barrier(len(rows) + 1)

        def client(token: str, line_id: int, plan_id: int, index: int) -> None:
            # http.client on one kept-alive connection: the load generator shares the server's
            # cores, so it must cost as little as possible per request.
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            body = json.dumps({"line_id": line_id, "plan_id": plan_id, "payment_method": "wallet"})
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

            def send(method: str, path: str, **extra: str) -> http.client.HTTPResponse:
                # The server closes a connection idle past its keep-alive time; reconnect and send
                # again (a renewal with the same Idempotency-Key, so never twice).
                for attempt in range(3):
                    try:
                        connection.request(
                            method, path, body if method == "POST" else None, {**headers, **extra}
                        )
                        response = connection.getresponse()
                        response.read()
                        return response
                    except (ConnectionError, http.client.HTTPException):
                        connection.close()
                        if attempt == 2:
                            raise
                raise AssertionError("unreachable")

            send("GET", "/api/v1/wallet")  # warm-up: the server thread's URLs and database connection
            start.wait()
            for n in range(args.requests):
                began = time.perf_counter()
                response = send("POST", "/api/v1/orders", **{"Idempotency-Key": f"b{index}-{n}"})
                elapsed = time.perf_counter() - began
                with lock:
                    if response.status == 201:
                        latencies.append(elapsed)
                    else:
                        failures.append(response.status)
            connection.close()

        threads = [threading.Thread(target=client, args=(*row, i)) for i, row in enumerate(rows)]
        for thread in threads:
            thread.start()
        backends = f": postgres {db} "  # in the title of this database's PostgreSQL backends
        server_cpu, postgres_cpu = cpu_seconds(under=server.pid), cpu_seconds(titled=backends)
        start.wait()
        started, client_cpu, load_before = time.perf_counter(), time.process_time(), os.getloadavg()[0]
        for thread in threads:
            thread.join()
        http_seconds = time.perf_counter() - started
        # The load generator's own CPU (all its threads): it shares the cores with the server.
        client_cpu, load_after = time.process_time() - client_cpu, os.getloadavg()[0]
        server_cpu = cpu_seconds(under=server.pid) - server_cpu
        postgres_cpu = cpu_seconds(titled=backends) - postgres_cpu
    finally:
        server.terminate()
        server.wait(10)

    solo_figures = in_process(env, solo, in_process_renewals)

    started = time.perf_counter()
    subprocess.run([VIGENCIA, "worker", "--burst", "-v0"], env=env, check=True)
    worker_seconds = time.perf_counter() - started
    verify = subprocess.run(
        [VIGENCIA, "ledger", "verify"], env=env, capture_output=True, text=True
    ).stdout.strip()

    tps = pgbench_tps(f"{db}_pgbench", args.clients, args.pgbench_seconds)
    rate = len(latencies) / http_seconds
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"clients                 {args.clients} (server: {args.workers} workers x {args.threads} threads)")
    print(f"renewals created        {len(latencies)} (failed: {len(failures)} {sorted(set(failures))})")
    print(f"renewals/s (HTTP)       {rate:.1f}")
    print(f"latency p50 / p99       {quantiles[49] * 1000:.1f} ms / {quantiles[98] * 1000:.1f} ms")
    client_ms = client_cpu * 1000 / max(len(latencies), 1)
    print(f"load generator CPU      {client_ms:.2f} ms per renewal")
    server_ms, postgres_ms = (
        seconds * 1000 / max(len(latencies), 1) for seconds in (server_cpu, postgres_cpu)
    )
    print(f"server CPU              {server_ms:.2f} ms per renewal, PostgreSQL backends {postgres_ms:.2f}")
    print(f"load average            {load_before:.1f} -> {load_after:.1f} during the HTTP run")
    ms, cpu_ms, queries = solo_figures["ms"], solo_figures["cpu_ms"], solo_figures["queries"]
    print(f"in-process (1 client)   {ms:.1f} ms per renewal, {cpu_ms:.1f} ms CPU, {queries:.0f} queries")
    fulfilled = len(latencies) + in_process_renewals + 2
    rate_worker = fulfilled / worker_seconds
    print(f"burst worker            {worker_seconds:.1f} s for {fulfilled} fulfilments ({rate_worker:.1f}/s)")
    print(f"pgbench tpcb-like tps   {tps:.1f}")
    print(f"ratio renewals/pgbench  {rate / tps:.3f}   (goal >= 0.25; p99 goal < 100 ms)")
    print(f"ledger verify           {verify}")
    sys.exit(0 if verify == "ok" else 1)


if __name__ == "__main__":
    main()
