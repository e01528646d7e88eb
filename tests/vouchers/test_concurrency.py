"""Exactly one redemption per code, on PostgreSQL with real threads (each on its own connection).

The server allows 100 connections (shared with other test runs), so 200 threads race with at most
IN_FLIGHT connections open at once; every attempt still opens, uses and closes its own connection."""

import threading

import pytest
from django.db import connection

from vigencia.accounts.services import api_token_issue
from vigencia.ledger.models import LedgerTransaction
from vigencia.ledger.selectors import ledger_verify
from vigencia.orders.models import RenewalOrder
from vigencia.vouchers.models import VoucherCode

from ..conftest import ApiClient
from ..factories import UserFactory

IN_FLIGHT = 40

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"),
]


def test_200_concurrent_redemptions_of_one_pin_succeed_exactly_once(settings, claro, make_batch):
    # generous limits: this test is about the race, not about brute force
    settings.VIGENCIA_VOUCHER_LIMITS = {
        **settings.VIGENCIA_VOUCHER_LIMITS,
        "account": (1000, 900),
        "ip": (1000, 900),
    }
    made = make_batch(1)
    tokens = [api_token_issue(user=UserFactory())[1] for _ in range(200)]
    barrier = threading.Barrier(200)
    slots = threading.BoundedSemaphore(IN_FLIGHT)
    results: list = [None] * 200

    def run(index):
        client = ApiClient(tokens[index])
        barrier.wait()
        with slots:
            try:
                response = client.post_json(
                    "/api/v1/vouchers/redeem",
                    {"pin": made.pins[0], "msisdn": "987654321", "carrier": "claro-pe"},
                )
                results[index] = (response.status_code, response.json().get("code"))
            finally:
                connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _code in results).count(200) == 1
    assert {(status, code) for status, code in results if status != 200} == {(422, "voucher_invalid")}
    assert RenewalOrder.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="order_payment").count() == 1
    assert VoucherCode.objects.get().status == "redeemed"
    assert ledger_verify() == []
