"""The pipeline under faults: a flaky carrier aggregator, and a worker killed mid-fulfilment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tests.fulfilment.test_carrier_sim import API_KEY, carrier_sim  # noqa: F401 (fixture)
from vigencia.core import clock
from vigencia.fulfilment.models import FulfilmentTransaction
from vigencia.fulfilment.services import fulfilment_reconcile
from vigencia.ledger.selectors import wallet_balance
from vigencia.lines.services import line_add
from vigencia.orders.models import OrderStatus, RenewalOrder
from vigencia.orders.services import order_create


@pytest.mark.django_db
def test_500_orders_through_a_carrier_failing_20_percent_all_end_completed_or_refunded(
    carrier_sim,  # noqa: F811
    settings,
    user,
    claro,
    plan,
    fund_wallet,
    run_tasks,
):
    # given an aggregator where 10% of calls time out and 10% fail (half of those still top up), 5% decline
    url = carrier_sim(
        "--timeout-rate", "0.1", "--error-rate", "0.1", "--decline-rate", "0.05", "--hang-ms", "200",
        "--seed", "11", timeout=0.1,
    )  # fmt: skip
    settings.VIGENCIA_FULFILMENT_RETRY_SECONDS = 0
    fund_wallet(user, 500 * plan.price_minor)
    lines = [line_add(owner=user, msisdn=f"+5191{n:07d}", carrier=claro) for n in range(50)]

    # when 500 wallet-paid renewals go through the pipeline, then reconciliation until nothing is open
    for n in range(500):
        order_create(payer=user, line=lines[n % 50], plan=plan, payment_method="wallet")
    run_tasks()
    for _pass in range(40):
        if not FulfilmentTransaction.objects.exclude(status__in=["completed", "declined"]).exists():
            break
        fulfilment_reconcile()
    run_tasks()

    # then every order is final, each top-up happened at most once, and declined money is back
    statuses = {
        status: RenewalOrder.objects.filter(status=status).count()
        for status in (OrderStatus.COMPLETED, OrderStatus.REFUNDED)
    }
    assert statuses[OrderStatus.COMPLETED] + statuses[OrderStatus.REFUNDED] == 500
    assert statuses[OrderStatus.REFUNDED] > 0
    stats = httpx.get(f"{url}/stats").json()
    assert stats["double_topups"] == 0
    completed_ids = {
        f"order-{pk}" for pk in RenewalOrder.objects.filter(status="completed").values_list("pk", flat=True)
    }
    assert {key for key, count in stats["topups_by_external_id"].items() if count} == completed_ids
    assert wallet_balance(user=user).amount_minor == statuses[OrderStatus.REFUNDED] * plan.price_minor


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a separate worker process needs a shared database"
)
def test_a_worker_killed_mid_fulfilment_completes_the_order_once_after_restart(
    carrier_sim,  # noqa: F811
    settings,
    user,
    claro,
    plan,
    fund_wallet,
):
    # given a wallet-paid order and an aggregator that takes 3 s to answer
    url = carrier_sim("--latency-ms", "3000", timeout=10)
    fund_wallet(user, plan.price_minor)
    line = line_add(owner=user, msisdn="+51912345678", carrier=claro)
    order = order_create(payer=user, line=line, plan=plan, payment_method="wallet")
    db = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "VIGENCIA_CARRIER_GATEWAY": url,
        "VIGENCIA_CARRIER_API_KEY": API_KEY,
        "VIGENCIA_CARRIER_TIMEOUT_SECONDS": "10",
    }

    # when a worker picks the fulfilment up and is killed while the carrier is answering
    worker = subprocess.Popen([sys.executable, "-m", "vigencia", "worker"], env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not DBTaskResult.objects.filter(status="RUNNING").exists():
        time.sleep(0.05)
    time.sleep(0.5)  # inside the gateway call, which takes 3 s
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLING

    # and the system comes back: reconciliation asks the carrier what happened
    with clock.frozen(clock.now() + timedelta(hours=1)):
        fulfilment_reconcile()

    # then the order completed exactly once
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert httpx.get(f"{url}/stats").json()["topups_by_external_id"] == {f"order-{order.pk}": 1}
    assert RenewalOrder.objects.filter(status="completed").count() == 1
