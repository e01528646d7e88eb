"""End to end against the real `vigencia carrier-sim` HTTP server, run in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.fulfilment.conftest import SECRET
from vigencia.core.money import Money
from vigencia.fulfilment.gateways import gateway_get
from vigencia.fulfilment.models import FulfilmentStatus, FulfilmentTransaction
from vigencia.fulfilment.services import fulfilment_reconcile, fulfilment_start

API_KEY = "test-aggregator-key"


@pytest.fixture
def carrier_sim(settings):
    """Start the simulator with the given flags; points the gateway settings at it. Returns its URL."""
    processes: list[subprocess.Popen] = []

    def start(*flags: str, timeout: float = 2.0) -> str:
        env = {**os.environ, "VIGENCIA_CARRIER_SIM_SECRET": SECRET, "VIGENCIA_CARRIER_API_KEY": API_KEY}
        process = subprocess.Popen(
            [sys.executable, "-m", "vigencia", "carrier-sim", "--port", "0", *flags],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        processes.append(process)
        line = process.stdout.readline()
        assert line.startswith("Carrier simulator listening on http://127.0.0.1:"), line
        url = line.rsplit(" ", 1)[1].strip()
        settings.VIGENCIA_CARRIER_GATEWAY = url
        settings.VIGENCIA_CARRIER_API_KEY = API_KEY
        settings.VIGENCIA_CARRIER_TIMEOUT_SECONDS = timeout
        return url

    yield start
    for process in processes:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()


def _start(n: int) -> FulfilmentTransaction:
    return fulfilment_start(
        external_id=f"order-{n}",
        reference=f"order:{n}",
        msisdn=f"+51990{n:06d}",
        carrier_code="claro-pe",
        plan_code="claro-10",
        amount=Money(1000, "PEN"),
    )


@pytest.mark.django_db
def test_200_top_ups_through_a_faulty_aggregator_end_final_and_none_is_topped_up_twice(
    carrier_sim, settings, run_tasks
):
    url = carrier_sim(
        "--timeout-rate", "0.1", "--error-rate", "0.1", "--decline-rate", "0.05", "--hang-ms", "600",
        "--seed", "7", timeout=0.25,
    )  # fmt: skip
    settings.VIGENCIA_FULFILMENT_RETRY_SECONDS = 0  # every open top-up is due at the next pass

    for n in range(200):
        _start(n)
    assert run_tasks() == 200
    passes = 0
    while FulfilmentTransaction.objects.exclude(status__in=["completed", "declined"]).exists():
        passes += 1
        assert passes <= 40, "reconciliation did not converge"
        fulfilment_reconcile()

    stats = httpx.get(f"{url}/stats").json()
    outcome = dict(FulfilmentTransaction.objects.values_list("external_id", "status"))
    completed = sorted(ext for ext, status in outcome.items() if status == FulfilmentStatus.COMPLETED)
    declined = sorted(ext for ext, status in outcome.items() if status == FulfilmentStatus.DECLINED)
    assert len(completed) + len(declined) == 200
    assert stats["double_topups"] == 0
    assert stats["topups_by_external_id"] == dict.fromkeys(completed, 1)
    assert declined, "a 5% decline rate over 200 top-ups declines some"
    assert sorted(ext for ext, count in stats["topups_by_external_id"].items() if count) == completed
    # The faults did happen: some top-ups needed more than one attempt.
    assert FulfilmentTransaction.objects.filter(attempts__gt=1).exists()


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.headers["Vigencia-Signature"], body))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_duplicate_and_out_of_order_callbacks_from_the_simulator_apply_once(carrier_sim, receiver, anon_api):
    carrier_sim(
        "--duplicate-callbacks",
        "--out-of-order-callbacks",
        "--callback-url",
        f"http://127.0.0.1:{receiver.server_port}/api/v1/fulfilment/callbacks/aggregator",
    )
    transaction = _start(1)
    gateway = gateway_get()
    created = gateway.create_transaction(
        external_id="order-1",
        msisdn=transaction.msisdn,
        operator="claro-pe",
        product="claro-10",
        amount=transaction.amount,
    )
    gateway.confirm_transaction(gateway_transaction_id=created.gateway_transaction_id)
    deadline = time.monotonic() + 10
    while len(receiver.received) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)

    import json

    assert [json.loads(body)["status"] for _header, body in receiver.received] == [
        "COMPLETED", "COMPLETED", "SUBMITTED", "SUBMITTED", "CONFIRMED", "CONFIRMED", "CREATED", "CREATED",
    ]  # fmt: skip
    for header, body in receiver.received:
        response = anon_api.post(
            "/api/v1/fulfilment/callbacks/aggregator",
            data=body,
            content_type="application/json",
            HTTP_VIGENCIA_SIGNATURE=header,
        )
        assert response.status_code == 200
        assert response.json() == {"external_id": "order-1", "status": "completed"}
    transaction.refresh_from_db()
    assert transaction.gateway_transaction_id == created.gateway_transaction_id
    assert (
        list(transaction.events.values_list("kind", flat=True))
        == ["started", "status_changed"] + ["late_status"] * 6
    )


@pytest.mark.django_db
def test_a_wrong_api_key_is_no_answer_not_a_decline(carrier_sim, settings):
    from vigencia.fulfilment.services import fulfilment_submit

    carrier_sim()
    settings.VIGENCIA_CARRIER_API_KEY = "wrong"
    transaction = _start(1)

    transaction = fulfilment_submit(transaction=transaction)

    assert transaction.status == FulfilmentStatus.CREATED
    assert transaction.last_error == "POST /transactions: HTTP 401"


def test_the_test_number_is_declined_by_the_simulator_server_too(carrier_sim) -> None:
    # Given the aggregator simulator server and the README's carrier-decline test number
    carrier_sim()
    gateway = gateway_get()

    # When a top-up to it is created and confirmed
    created = gateway.create_transaction(
        external_id="walk-decline-1",
        msisdn="+51999000002",
        operator="claro-pe",
        product="claro-pe-topup-1000",
        amount=Money(1000, "PEN"),
    )
    confirmed = gateway.confirm_transaction(gateway_transaction_id=created.gateway_transaction_id)

    # Then the carrier declined it
    assert (created.status, confirmed.status) == ("created", "declined")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "99999"], "argument --port: 99999 is out of range (from 0 to 65535)"),
        (["--decline-rate", "1.5"], "argument --decline-rate: 1.5 is out of range (from 0 to 1)"),
    ],
)
def test_bad_flags_are_a_usage_error(command_line, argv, message):
    status, out, err = command_line("carrier-sim", *argv)
    assert (status, out, err.splitlines()[-1]) == (2, "", f"vigencia carrier-sim: error: {message}")


def test_a_port_already_taken_is_a_clear_error(command_line):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, out, err = command_line("carrier-sim", "--port", str(port))
    assert (status, out, err) == (
        1,
        "",
        f"CommandError: Cannot listen on 127.0.0.1:{port}: Address already in use\n",
    )
