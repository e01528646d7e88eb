"""`vigencia carrier-sim`: a carrier aggregator API over real HTTP, with fault injection.

Speaks what the HTTP gateway client uses (operator lookup, products, transactions created with a
unique external id, confirm, status, lookup by external id) plus GET /stats, and POSTs a signed
callback (`Vigencia-Signature`, secret from VIGENCIA_CARRIER_SIM_SECRET) on every status change.
A simulated timeout hangs past the client's timeout and, half of the time, still applies the request
first, as a lost response does in real life; a simulated 5xx also applies it half of the time.
"""

from __future__ import annotations

import contextlib
import json
import queue
import random
import re
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vigencia.core.cli import number
from vigencia.core.signing import SIGNATURE_HEADER, signature_header
from vigencia.fulfilment.gateways.http import API_KEY_HEADER
from vigencia.fulfilment.gateways.simulator import CarrierSimulator, SimTopup, SimulatorInputError

_FINAL = {"COMPLETED", "DECLINED", "REVERSED"}
_CONFIRM = re.compile(r"^/transactions/([\w-]+)/confirm$")
_ONE = re.compile(r"^/transactions/([\w-]+)$")


class CallbackSender:
    """Delivers status callbacks in a background thread, optionally twice or in reverse order."""

    def __init__(self, *, url: str, secret: str, duplicate: bool, out_of_order: bool) -> None:
        self.url, self.secret, self.duplicate, self.out_of_order = url, secret, duplicate, out_of_order
        self.queue: queue.Queue[SimTopup | None] = queue.Queue()
        self.held: dict[str, list[SimTopup]] = {}
        self.thread = threading.Thread(target=self._run, name="callbacks", daemon=True)
        self.thread.start()

    def on_change(self, topup: SimTopup) -> None:
        self.queue.put(topup)

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while (topup := self.queue.get()) is not None:
                batch = [topup]
                if self.out_of_order:
                    # Hold each top-up's changes until it is final, then send them newest first.
                    self.held.setdefault(topup.id, []).append(topup)
                    if topup.status not in _FINAL:
                        continue
                    batch = list(reversed(self.held.pop(topup.id)))
                for item in batch:
                    for _copy in range(2 if self.duplicate else 1):
                        self._post(client, item)

    def _post(self, client: httpx.Client, topup: SimTopup) -> None:
        body = json.dumps(topup.as_json()).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(secret=self.secret, body=body, timestamp=int(time.time())),
        }
        with contextlib.suppress(httpx.HTTPError):  # best effort: the client polls as the fallback
            client.post(self.url, content=body, headers=headers)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], *, carrier: CarrierSimulator, options: dict[str, Any]
    ) -> None:
        super().__init__(address, SimulatorHandler)
        self.carrier = carrier
        self.options = options
        self.random = random.Random(options["seed"])  # noqa: S311 - fault injection, not security
        self.random_lock = threading.Lock()
        self.api_key = settings.VIGENCIA_CARRIER_API_KEY

    def roll(self) -> float:
        with self.random_lock:
            return self.random.random()


class SimulatorHandler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.options["verbosity"] > 1:
            super().log_message(format, *args)

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a simulated timeout): its answer is lost

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path == "/stats" and method == "GET":
            return self._send(200, self.server.carrier.stats())
        if self.server.api_key and self.headers.get(API_KEY_HEADER) != self.server.api_key:
            return self._send(401, {"code": "unauthorized", "message": "missing or wrong API key"})
        options = self.server.options
        if options["latency_ms"]:
            time.sleep(options["latency_ms"] / 1000)
        roll = self.server.roll()
        if roll < options["timeout_rate"]:
            if self.server.roll() < 0.5:
                self._route(method, url.path, query, raw)  # applied, but the answer comes too late
            time.sleep(options["hang_ms"] / 1000)
            return self._send(504, {"code": "timeout"})
        if roll < options["timeout_rate"] + options["error_rate"]:
            if self.server.roll() < 0.5:
                self._route(method, url.path, query, raw)
            return self._send(503, {"code": "unavailable", "message": "simulated error"})
        status, payload = self._route(method, url.path, query, raw)
        self._send(status, payload)

    def _route(self, method: str, path: str, query: dict[str, str], raw: bytes) -> tuple[int, Any]:
        carrier = self.server.carrier
        if method == "GET" and path == "/operators/detect":
            operator = carrier.detect_operator(query.get("msisdn", ""))
            if operator is None:
                return 404, {"code": "operator_not_found"}
            return 200, {"operator": operator}
        if method == "GET" and path == "/products":
            return 200, {"products": carrier.products(query.get("operator", ""))}
        if method == "GET" and path == "/transactions":
            found = carrier.find(query.get("external_id", ""))
            return 200, {"transactions": [found.as_json()] if found else []}
        if method == "POST" and path == "/transactions":
            return self._create(raw)
        if method == "POST" and (match := _CONFIRM.match(path)):
            if carrier.get(match[1]) is None:
                return 404, {"code": "not_found"}
            decline = self.server.roll() < self.server.options["decline_rate"]
            return 200, carrier.confirm(match[1], decline=decline).as_json()
        if method == "GET" and (match := _ONE.match(path)):
            topup = carrier.get(match[1])
            return (200, topup.as_json()) if topup else (404, {"code": "not_found"})
        return 404, {"code": "not_found"}

    def _create(self, raw: bytes) -> tuple[int, Any]:
        try:
            body = json.loads(raw)
            topup, created = self.server.carrier.create(
                external_id=str(body["external_id"]),
                msisdn=str(body["msisdn"]),
                operator=str(body["operator"]),
                product=str(body["product"]),
                amount_minor=body["amount"]["amount_minor"],
                currency=str(body["amount"]["currency"]),
            )
        except (ValueError, KeyError, TypeError, SimulatorInputError) as exc:
            return 400, {"code": "invalid", "message": str(exc)}
        if not created:
            return 409, {"code": "duplicate_external_id", "transaction": topup.as_json()}
        return 201, topup.as_json()


class Command(BaseCommand):
    help = "Run a carrier aggregator simulator over HTTP, with fault injection, until SIGTERM or Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        rate = number(float, low=0, high=1)
        parser.add_argument(
            "--port", type=number(int, low=0, high=65535), default=8090, help="0 picks a free port (printed)."
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--latency-ms", type=number(int, low=0), default=0)
        parser.add_argument("--timeout-rate", type=rate, default=0.0)
        parser.add_argument("--error-rate", type=rate, default=0.0)
        parser.add_argument("--decline-rate", type=rate, default=0.0)
        parser.add_argument(
            "--hang-ms", type=number(int, low=0), default=15000, help="How long a simulated timeout hangs."
        )
        parser.add_argument("--duplicate-callbacks", action="store_true")
        parser.add_argument("--out-of-order-callbacks", action="store_true")
        parser.add_argument("--callback-url", default="")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        sender = None
        if options["callback_url"]:
            sender = CallbackSender(
                url=options["callback_url"],
                secret=settings.VIGENCIA_CARRIER_CALLBACK_SECRET,
                duplicate=options["duplicate_callbacks"],
                out_of_order=options["out_of_order_callbacks"],
            )
        carrier = CarrierSimulator(on_change=sender.on_change if sender else None)
        try:
            server = SimulatorServer((options["host"], options["port"]), carrier=carrier, options=options)
        except OSError as error:  # the port is taken, or the host is not this machine's
            if sender is not None:
                sender.stop()
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {error.strerror or error}"
            ) from error
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: stop.set())
        thread = threading.Thread(target=server.serve_forever, name="carrier-sim", daemon=True)
        thread.start()
        self.stdout.write(f"Carrier simulator listening on http://{options['host']}:{server.server_port}")
        self.stdout.flush()
        stop.wait()
        server.shutdown()
        server.server_close()
        if sender is not None:
            sender.stop()
        self.stdout.write(
            f"Carrier simulator stopped: {json.dumps(carrier.stats()['double_topups'])} double top-ups"
        )
