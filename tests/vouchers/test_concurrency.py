"""Exactly one redemption per code, and exact failure counts, on PostgreSQL with real threads (each
on its own connection).

The server allows 100 connections, shared with other test runs, so the 200 redemptions do not all
hold a connection at the same instant: all 200 threads are released together, but at most IN_FLIGHT
(40) of them are inside a request at any moment; every attempt opens, uses and closes its own
connection."""

import threading
from collections import Counter

import pytest
from django.db import connection

from tests.concurrency import race
from vigencia.accounts.services import api_token_issue
from vigencia.ledger.models import LedgerTransaction
from vigencia.ledger.selectors import ledger_verify
from vigencia.ledger.services import account_system
from vigencia.lines.services import line_add
from vigencia.orders.models import RenewalOrder
from vigencia.vouchers import services
from vigencia.vouchers.models import AttemptCounter, RedemptionAttempt, VoucherCode

from ..conftest import ApiClient
from ..factories import UserFactory

IN_FLIGHT = 40

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"),
]


def test_200_redemptions_of_one_pin_racing_40_at_a_time_succeed_exactly_once(settings, claro, make_batch):
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


def _attempt(user, pin, ip, line=None):
    try:
        services.voucher_redeem(pin=pin, redeemer=user, ip=ip, line=line)
        return "ok"
    except services.RateLimited:
        return "429"
    except services.VoucherInvalid:
        return "422"


def test_concurrent_failures_from_many_clients_are_all_counted_on_spread_rows(line):
    # given 24 clients, each with its own account and address
    users = [line.owner] + [UserFactory() for _ in range(23)]

    # when each sends 5 wrong PINs at the same time as the others
    answers = race(
        24, lambda i: [_attempt(users[i], "0000 0000 0000 0000", f"10.7.0.{i}", line) for _ in range(5)]
    )

    # then every failure is answered alike and counted, none lost to a race
    assert Counter(answer for per_client in answers for answer in per_client) == {"422": 120}
    assert RedemptionAttempt.objects.filter(outcome="invalid").count() == 120
    shards = AttemptCounter.objects.filter(scope="global")
    assert sum(shards.values_list("count", flat=True)) == 120
    # and the overall count is spread over several rows, so the clients did not queue on one
    assert shards.count() > 1
    assert set(AttemptCounter.objects.filter(scope="account").values_list("count", flat=True)) == {5}
    assert set(AttemptCounter.objects.filter(scope="ip").values_list("count", flat=True)) == {5}


def test_hammering_one_account_from_many_threads_locks_it(settings, user, line, make_batch):
    settings.VIGENCIA_VOUCHER_LIMITS = {**settings.VIGENCIA_VOUCHER_LIMITS, "account": (10, 900)}
    made = make_batch(1)

    # when 20 threads each try 3 wrong PINs for the same account at once
    answers = race(
        20, lambda i: [_attempt(user, "0000 0000 0000 0000", f"10.8.0.{i}", line) for _ in range(3)]
    )

    # then the limit holds: at least 10 failures were let through to be counted (a check and its count
    # are not one step, so threads already past the check add theirs), the rest were refused
    flat = Counter(answer for per_client in answers for answer in per_client)
    assert 10 <= flat["422"] <= 10 + 20
    assert flat["422"] + flat["429"] == 60
    # and the correct PIN is refused for this account while the window lasts
    assert _attempt(user, made.pins[0], "10.8.1.1", line) == "429"
    assert VoucherCode.objects.get().status == "active"


def test_many_codes_of_one_batch_redeemed_at_once_all_succeed_and_the_money_adds_up(claro, make_batch):
    # given 20 buyers, each with a code of the same batch (one liability account) for the same carrier
    made = make_batch(20)
    buyers = [UserFactory() for _ in range(20)]
    lines = [
        line_add(owner=buyer, msisdn=f"+5198765{index:04d}", carrier=claro)
        for index, buyer in enumerate(buyers)
    ]

    # when they all redeem at the same instant
    answers = race(20, lambda i: _attempt(buyers[i], made.pins[i], f"10.9.0.{i}", lines[i]))

    # then every one renews its line once, and the money adds up to the cent
    assert answers == ["ok"] * 20
    assert set(VoucherCode.objects.values_list("status", flat=True)) == {"redeemed"}
    assert RenewalOrder.objects.filter(channel="voucher").count() == 20
    liability = account_system(kind="voucher_liability", currency="PEN", key=made.batch.liability_key)
    assert liability.balance.amount_minor == 0
    assert (
        account_system(kind="carrier_payable", currency="PEN", key="claro-pe").balance.amount_minor == 20_000
    )
    assert ledger_verify() == []


def test_a_wallet_card_raced_by_20_accounts_credits_exactly_one_wallet(settings, claro, make_batch):
    # given one wallet card of S/ 20 and 20 accounts holding its PIN
    from vigencia.core.money import Money
    from vigencia.ledger.selectors import wallet_balances

    made = make_batch(1, plan=None, face=Money(2_000, "PEN"))
    users = [UserFactory() for _ in range(20)]

    # when all redeem it at the same instant, each on its own connection
    answers = race(20, lambda i: _attempt(users[i], made.pins[0], f"10.8.0.{i}"))

    # then one wallet holds S/ 20 and every other account got the one answer for used codes
    assert Counter(answers) == {"ok": 1, "422": 19}
    assert sorted(balance.amount_minor for balance in wallet_balances(users=users).values()) == [0] * 19 + [
        2_000
    ]
    assert LedgerTransaction.objects.filter(kind="voucher_wallet_credit").count() == 1
    assert ledger_verify() == []
