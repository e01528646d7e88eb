"""The set-based auto-renew path (`autorenew_attempt_many` -> `order_create_many` ->
`fulfilment_submit_many` -> `order_fulfilment_settled_many`) against the one-order-at-a-time path
(`autorenew_attempt` per line, each order through `order_create` as the API makes it): on the same
population they leave exactly the same rows, states, ledger and notices."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction

from tests.concurrency import race
from tests.factories import UserFactory
from tests.lines.keepalive_helpers import fund, lima
from vigencia.catalog.models import Carrier, Plan
from vigencia.core import clock
from vigencia.fulfilment.models import FulfilmentTransaction
from vigencia.ledger.models import LedgerAccount, LedgerTransaction
from vigencia.lines import autorenew
from vigencia.lines.autorenew import autorenew_attempt, autorenew_attempt_many, autorenew_set, autorenew_sweep
from vigencia.lines.models import AutoRenewRun, Line, LineEvent, LineStatus
from vigencia.notifications.models import Notification
from vigencia.orders import services as order_services
from vigencia.orders.models import OrderEvent, RenewalOrder
from vigencia.usage.models import Bucket

D0 = date(2026, 3, 2)  # the last recharge; Claro restricts on D0 + 61
RESTRICTED_ON = D0 + timedelta(days=61)
CHARGE_ON = RESTRICTED_ON - timedelta(days=3)


class _Rollback(Exception):
    pass


def _line(owner, index: int, plan: Plan, **dates: Any) -> Line:
    line = Line.objects.create(
        owner=owner,
        msisdn=f"+5191234{index:04d}",
        carrier=plan.carrier,
        **({"last_recharge_at": D0} | dates),
    )
    autorenew_set(line=line, enabled=True, plan=plan, days_before=3)
    return line


@pytest.fixture
def population(demo_catalog) -> list[Line]:
    """Lines whose auto-renewal goes every way: funded; two lines of one owner whose wallet pays for
    one; an owner without a wallet; a plan retired after auto-renew was set; a line already
    restricted (renewed at once and active again); a line of another carrier."""
    claro = Carrier.objects.get(code="claro-pe")
    plan = Plan.objects.get(carrier=claro, code="max-10")
    retired = Plan.objects.filter(carrier=claro).exclude(pk=plan.pk).first()
    assert retired is not None
    funded, shared, broke, other = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    fund(funded, 5000)
    fund(shared, 1000)
    fund(other, 5000)
    lines = [
        _line(funded, 1, plan),
        _line(shared, 2, plan),
        _line(shared, 3, plan),
        _line(broke, 4, plan),
        _line(funded, 5, retired),
        _line(funded, 6, plan, last_recharge_at=D0 - timedelta(days=10)),
        _line(other, 7, Plan.objects.filter(carrier__code="movistar-pe").order_by("price_minor").first()),
    ]
    Plan.objects.filter(pk=retired.pk).update(is_active=False)
    Line.objects.filter(pk=lines[5].pk).update(status=LineStatus.RESTRICTED)
    return lines


def _snapshot(lines: list[Line]) -> dict[str, Any]:
    """Everything the renewals wrote, with ids replaced by the numbers they belong to."""
    number = {line.pk: line.msisdn for line in lines}
    # An order is named by its line's number and its rank among that line's orders.
    orders: dict[int, str] = {}
    for order in RenewalOrder.objects.order_by("pk"):
        rank = sum(name.startswith(number[order.line_id]) for name in orders.values())
        orders[order.pk] = f"{number[order.line_id]}#{rank}"
    users = {line.owner_id: line.owner.email for line in lines}

    def plain(text: str) -> str:
        text = re.sub(r"order[:-](\d+)", lambda m: f"order:{orders.get(int(m[1]), m[1])}", text)
        text = re.sub(r"wallet:(\d+):", lambda m: f"wallet:{users.get(int(m[1]), m[1])}:", text)
        text = re.sub(r"/orders/(\d+)/", lambda m: f"/orders/{orders.get(int(m[1]), m[1])}/", text)
        return re.sub(r"(autorenew|line):(\d+):", lambda m: f"{m[1]}:{number.get(int(m[2]), m[2])}:", text)

    return {
        "lines": sorted(
            (line.msisdn, line.status, line.valid_until, line.last_recharge_at)
            for line in Line.objects.filter(pk__in=number)
        ),
        "line_events": [
            (number[event.line_id], event.kind, plain(str(event.data)))
            for event in LineEvent.objects.filter(line_id__in=number).order_by("line_id", "id")
        ],
        "runs": sorted(
            (
                number[run.line_id],
                run.period,
                run.status,
                run.attempts,
                run.failure_code,
                run.next_attempt_at,
                run.plan_id,
                orders.get(run.order_id or 0),
            )
            for run in AutoRenewRun.objects.all()
        ),
        "orders": sorted(
            (
                orders[order.pk],
                order.payer.email,
                order.channel,
                order.payment_method,
                order.status,
                order.amount_minor,
                order.discount_minor,
                order.currency,
                order.plan_code,
                order.plan_name,
                order.validity_days,
                order.valid_until_before,
                order.valid_until_after,
                order.failure_code,
                order.failure_message,
            )
            for order in RenewalOrder.objects.select_related("payer")
        ),
        "order_events": sorted(
            (
                orders[order_id],
                [
                    (event.kind, event.from_status, event.to_status, event.at)
                    for event in OrderEvent.objects.filter(order_id=order_id).order_by("id")
                ],
            )
            for order_id in orders
        ),
        "ledger": sorted(
            (
                entry.kind,
                plain(entry.idempotency_key),
                entry.memo,
                plain(entry.reference),
                entry.created_at,
                tuple(
                    (plain(p.account.code), p.amount_minor, p.currency) for p in entry.postings.order_by("id")
                ),
            )
            for entry in LedgerTransaction.objects.prefetch_related("postings__account")
            if entry.kind != "wallet_topup"
        ),
        "balances": sorted(
            (plain(account.code), account.balance_minor) for account in LedgerAccount.objects.all()
        ),
        "topups": sorted(
            (
                plain(topup.external_id),
                plain(topup.reference),
                topup.status,
                topup.attempts,
                topup.last_error,
                topup.amount_minor,
                topup.plan_code,
                topup.next_check_at,
                topup.completed_at,
                bool(topup.gateway_transaction_id),
                tuple((event.kind, plain(str(event.data))) for event in topup.events.order_by("id")),
            )
            for topup in FulfilmentTransaction.objects.all()
        ),
        "buckets": sorted(
            (
                number[bucket.line_id],
                plain(bucket.credit.reference),
                bucket.kind,
                bucket.initial,
                bucket.expires_at,
            )
            for bucket in Bucket.objects.select_related("credit")
        ),
        "notifications": sorted(
            (
                notification.user.email,
                notification.kind,
                notification.channel,
                plain(notification.dedupe_key),
                plain(str({k: v for k, v in notification.context.items() if k != "order_id"})),
                notification.status,
            )
            for notification in Notification.objects.select_related("user")
        ),
    }


def _play(lines: list[Line], simulator, run_tasks, *, monkeypatch=None) -> dict[str, Any]:
    """Two days of auto-renew (the charge day, with the carrier declining one top-up, and the day
    after), the worker after each; returns the snapshot and rolls everything back."""
    snapshot: dict[str, Any] = {}
    try:
        with transaction.atomic():
            simulator.reset()
            simulator.decline_next(1)
            for day in (CHARGE_ON, CHARGE_ON + timedelta(days=1)):
                autorenew_sweep(at=lima(day))
                with clock.frozen(lima(day)):
                    run_tasks()
            snapshot.update(_snapshot(lines))
            raise _Rollback
    except _Rollback:
        pass
    return snapshot


def test_the_batch_path_writes_exactly_what_one_line_at_a_time_writes(
    population, simulator, run_tasks, monkeypatch
):
    # given the same population played twice: through the batch path, then one line at a time
    batched = _play(population, simulator, run_tasks)

    def one_order_at_a_time(*, orders, channel):
        return [order_services._order_create_or_refusal(item, channel=channel) for item in orders]

    def one_line_at_a_time(*, attempts, batch=autorenew.autorenew_attempt_many):
        return [batch(attempts=[attempt])[0] for attempt in attempts]

    monkeypatch.setattr(order_services, "order_create_many", one_order_at_a_time)
    monkeypatch.setattr(autorenew, "autorenew_attempt_many", one_line_at_a_time)
    single = _play(population, simulator, run_tasks)

    # then every row, state, ledger transaction and notice is the same
    assert batched["orders"], "the population renewed nothing"
    for part in single:
        assert batched[part] == single[part], part
    # and the population went every way
    statuses = {row[2] for row in batched["runs"]}
    assert statuses == {"ordered", "pending", "failed"}
    assert {row[4] for row in batched["orders"]} == {"completed", "refunded"}
    assert {row[4] for row in batched["runs"] if row[4]} >= {"insufficient_funds", "plan_not_on_sale"}


def test_running_the_batch_again_orders_nothing_more(population, simulator):
    # given the due lines of the charge day
    with clock.frozen(lima(CHARGE_ON)):
        due = [(line, line.autorenew_setting, RESTRICTED_ON) for line in population[:3]]
        first = autorenew_attempt_many(attempts=due)

        # when the same batch runs again
        again = autorenew_attempt_many(attempts=due)

    # then the first ordered what the wallets paid for and the second nothing
    assert first == ["ordered", "ordered", "failed:insufficient_funds"]
    assert again == ["in_progress", "in_progress", "waiting"]
    assert RenewalOrder.objects.count() == 2
    assert AutoRenewRun.objects.count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL")
def test_concurrent_batches_and_single_attempts_charge_each_line_once(demo_catalog, simulator):
    # given 30 funded lines (three per owner) due on the charge day
    plan = Plan.objects.get(carrier__code="claro-pe", code="max-10")
    lines = []
    for owner_index in range(10):
        owner = UserFactory()
        fund(owner, 2000)  # two renewals: the third line of each owner must fail
        lines += [_line(owner, owner_index * 3 + index, plan) for index in range(3)]
    due = [(line, line.autorenew_setting, RESTRICTED_ON) for line in lines]

    # when three batches and three single attempts run at once
    def work(index: int) -> object:
        with clock.frozen(lima(CHARGE_ON)):
            if index < 3:
                return autorenew_attempt_many(attempts=due)
            line, setting, period = due[(index - 3) * 13]
            return autorenew_attempt(line=line, setting=setting, period=period)

    results = race(6, work)

    # then nothing failed, each line was ordered at most once and each wallet paid twice
    assert not [result for result in results if isinstance(result, Exception)], results
    assert RenewalOrder.objects.count() == 20
    assert sorted(set(RenewalOrder.objects.values_list("line_id", flat=True))) == sorted(
        RenewalOrder.objects.values_list("line_id", flat=True)
    )
    assert set(LedgerAccount.objects.filter(kind="wallet").values_list("balance_minor", flat=True)) == {0}
    assert AutoRenewRun.objects.filter(status="ordered").count() == 20
