"""`vigencia simulate`: a synthetic population of lines played through simulated time with the real
services — the keep-alive tick (lifecycle sweep, reminders, auto-renew), the order pipeline, the
in-process carrier simulator with injected faults, fulfilment reconciliation and the worker in burst
mode. Everything runs in one transaction that is rolled back at the end, so a simulation leaves the
database as it found it (on an SQLite file, a private copy of it, so the running server is not
locked out meanwhile).

Time is event-driven: the clock jumps from one day on which something may be due to the next (a
status change, a reminder's lead time, an auto-renew charge or its notice, a retry, a top-up to
reconcile), read from the lines' dates in the database after each tick; the days in between pass
with nothing to do. Each tick runs at noon in Lima.

Behaviours: `autorenew_funded` (auto-renew on with the plan the keep-alive planner picks, wallet holds
enough for the whole horizon), `autorenew_short` (the same, wallet for at most one renewal),
`manual` (renews by hand from the wallet with the cheapest plan when a 7- or 1-day reminder comes,
4 times in 5), `negligent` (never renews).
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import time as timer
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, astuple, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast
from unittest import mock
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Max, Min, QuerySet, Sum
from django.test import override_settings

from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier, Plan
from vigencia.catalog.selectors import plan_list_on_sale
from vigencia.core import clock
from vigencia.core.errors import DomainError
from vigencia.core.money import Money
from vigencia.ledger.models import AccountKind, LedgerAccount, wallet_code
from vigencia.ledger.services import account_system, ledger_post
from vigencia.lines.autorenew import UPCOMING_NOTICE_DAYS
from vigencia.lines.keepalive import keepalive_tick
from vigencia.lines.lifecycle import carrier_life_spans, line_anchor
from vigencia.lines.models import (
    DEFAULT_REMINDER_LEAD_DAYS,
    AutoRenewRun,
    AutoRenewSetting,
    AutoRenewStatus,
    Line,
    LineStatus,
    ReminderSent,
    ReminderSetting,
)
from vigencia.lines.planner import KeepalivePlan, keepalive_plan

CARRIERS = ("claro-pe", "movistar-pe", "entel-pe", "bitel-pe")
BEHAVIOURS: tuple[str, ...] = ("autorenew_funded", "autorenew_short", "manual", "negligent")
BEHAVIOUR_WEIGHTS: tuple[float, ...] = (0.4, 0.1, 0.3, 0.2)
MANUAL_RENEW_CHANCE = 0.8
_LIMA = ZoneInfo("America/Lima")


@dataclass
class SimulationReport:
    lines: int
    months: int
    days: int
    failure_rate: float
    seed: int
    numbers_lost: int = 0
    numbers_lost_funded_autorenew: int = 0
    funded_autorenew_lines: int = 0
    renewals: int = 0
    autorenewals: int = 0
    renewal_failures: int = 0
    carrier_faults: int = 0
    total_cost: dict[str, int] = field(default_factory=dict)
    autorenew_cost: dict[str, int] = field(default_factory=dict)
    planner_optimal_cost: dict[str, int] = field(default_factory=dict)
    reminders_sent: int = 0
    ticks: int = 0  # simulated days on which something was due (the others are skipped)
    seconds: float = 0.0
    by_behaviour: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class _Rollback(Exception):
    pass


def simulate(
    *,
    lines: int,
    months: int,
    failure_rate: float,
    seed: int,
    start: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimulationReport:
    """Play `lines` synthetic lines for `months` months from `start` (default today); `failure_rate`
    of the carrier top-ups fail (half declined, half lost in a timeout and reconciled later).
    `progress(days_done)` is called after each tick. Writes nothing that survives."""
    if lines < 1 or months < 1 or not 0 <= failure_rate < 1:
        raise ValueError("lines >= 1, months >= 1 and 0 <= failure_rate < 1")
    start = start or clock.today()
    end = start + relativedelta(months=months)
    report = SimulationReport(
        lines=lines, months=months, days=(end - start).days, failure_rate=failure_rate, seed=seed
    )
    began = timer.perf_counter()
    try:
        with (
            private_database(connection),
            override_settings(
                EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                VIGENCIA_CARRIER_GATEWAY="simulator",
            ),
            transaction.atomic(),
        ):
            _run(report, start=start, end=end, rng=random.Random(seed), progress=progress)  # noqa: S311 - a simulation, not secrets
            raise _Rollback
    except _Rollback:
        pass
    report.seconds = round(timer.perf_counter() - began, 2)
    return report


@contextmanager
def private_database(db: BaseDatabaseWrapper) -> Iterator[None]:
    """On an SQLite file, play on a private copy of it: the simulation's one long write transaction
    would otherwise lock the file, and `make run`'s web server and worker beside it would fail with
    "database is locked" (the worker exits, and the whole `make run` with it). PostgreSQL's readers
    and writers are not blocked by it, an in-memory database is private already, and inside an open
    transaction (a test) the copy would not see its rows: those run where they are."""
    if db.vendor != "sqlite" or cast(Any, db).is_in_memory_db() or db.in_atomic_block:
        yield
        return
    live = db.settings_dict["NAME"]
    with tempfile.TemporaryDirectory(prefix="vigencia-simulate-") as scratch:
        copy = Path(scratch) / "simulation.sqlite3"
        with closing(sqlite3.connect(live)) as source, closing(sqlite3.connect(copy)) as target:
            source.backup(target)
        db.close()
        db.settings_dict["NAME"] = str(copy)
        try:
            yield
        finally:
            db.close()
            db.settings_dict["NAME"] = live


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=_LIMA)


@dataclass
class _Population:
    tag: str  # every simulated line's nickname starts with "sim-<tag>:"
    behaviours: dict[int, str]
    cheapest: dict[int, Plan]  # per carrier: what a subscriber renewing by hand buys

    def lines(self, behaviour: str | None = None) -> QuerySet[Line]:
        if behaviour is None:
            return Line.objects.filter(nickname__startswith=f"sim-{self.tag}:")
        return Line.objects.filter(nickname=f"sim-{self.tag}:{behaviour}")


def _run(
    report: SimulationReport,
    *,
    start: date,
    end: date,
    rng: random.Random,
    progress: Callable[[int], None] | None,
) -> None:
    from vigencia.fulfilment.gateways.simulator import simulator
    from vigencia.fulfilment.services import fulfilment_reconcile

    simulator.reset()
    simulator.fault_rate(report.failure_rate, random.Random(rng.random()))  # noqa: S311 - not secrets
    with clock.frozen(_noon(start)):
        population = _population(report, start=start, rng=rng)
    report.funded_autorenew_lines = sum(1 for b in population.behaviours.values() if b == "autorenew_funded")
    report.by_behaviour = dict(Counter(population.behaviours.values()))

    seen_reminder = ReminderSent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    day = start
    _analyze()
    while day < end:
        at = _noon(day)
        with clock.frozen(at):
            keepalive_tick(at=at)
            seen_reminder = _manual_renewals(population, after=seen_reminder, rng=rng)
            fulfilment_reconcile(now=at)
            _worker_burst()
            report.ticks += 1
            if report.ticks & (report.ticks - 1) == 0:  # each time the rows written have doubled
                _analyze()
            day = _next_due_day(day, until=end)
        if progress is not None:
            progress((day - start).days)

    report.carrier_faults = simulator.faults_injected
    _collect(report, population)
    simulator.reset()


def _analyze() -> None:
    """Refresh PostgreSQL's planner statistics, as autovacuum does in a live database. Inside the
    simulation's one transaction it never runs, and tables that grew from empty would keep their
    look-ups of many keys (`dedupe_key IN (...)`, say) planned as scans of the whole table."""
    if connection.vendor == "postgresql":
        # The project's tables only: ANALYZE of the shared catalogs would hold their lock, for
        # the whole simulation, against every other database's ANALYZE and autovacuum of them.
        tables = connection.introspection.django_table_names(only_existing=True)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in tables))


def _worker_burst() -> None:
    # Inside the simulation's transaction the worker must keep the connection (as tests do).
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("worker", burst=True, verbosity=0)
    # The emails were delivered (to memory): a long run must not keep them all.
    mail.outbox = []


def _next_due_day(today: date, *, until: date) -> date:
    """The first day after `today` (at most `until`) on which anything may be due, from what the
    database holds now: a live line's next status change, less each reminder lead time and each
    auto-renew charge day (with its upcoming notice); an auto-renewal waiting to retry, or an overdue
    line with auto-renew on (tried again every day); a top-up waiting to be reconciled. A superset of
    the days the services act on, never fewer."""
    overdue = AutoRenewSetting.objects.filter(
        enabled=True,
        line__removed_at__isnull=True,
        line__status__in=[LineStatus.RESTRICTED, LineStatus.SUSPENDED],
    )
    if overdue.exists():  # auto-renew retries an overdue line on every run
        return today + timedelta(days=1)
    leads = set(DEFAULT_REMINDER_LEAD_DAYS)
    for row in ReminderSetting.objects.values_list("lead_days", flat=True).distinct():
        leads.update(row)
    renew_before = AutoRenewSetting.objects.filter(enabled=True).aggregate(longest=Max("days_before"))[
        "longest"
    ]
    # From the charge day's upcoming notice up to the deadline, every day may retry a renewal.
    offsets = sorted({0, *leads, *range((renew_before + UPCOMING_NOTICE_DAYS + 1) if renew_before else 0)})
    tomorrow = today + timedelta(days=1)
    best = min(until, _first_waiting_day(today))
    live = Line.objects.filter(removed_at__isnull=True).exclude(status=LineStatus.RECYCLED)
    for carrier in Carrier.objects.filter(pk__in=live.values("carrier_id")):
        spans = {
            days
            for has_balance in (False, True)
            for days in astuple(carrier_life_spans(carrier, has_balance=has_balance))
            if days is not None
        }
        columns = ("last_recharge_at", "valid_until", "last_chargeable_use_at")
        for dates in live.filter(carrier=carrier).values_list(*columns).distinct():
            if best <= tomorrow:  # nothing comes sooner
                return best
            anchor = line_anchor(Line(carrier=carrier, **dict(zip(columns, dates, strict=True))))
            if anchor is None:
                continue
            for days in spans:
                # The change comes `ahead` days from today; the first day after today that is an
                # offset before it is the one of the largest offset under `ahead`.
                ahead = (anchor - today).days + days + 1
                below = bisect_left(offsets, ahead)
                if below:
                    best = min(best, today + timedelta(days=ahead - offsets[below - 1]))
    return best


def _first_waiting_day(today: date) -> date:
    """The first tick (from tomorrow on) at which an auto-renewal waiting to retry, or a top-up
    waiting to be reconciled, is due; date.max if none is waiting."""
    from vigencia.fulfilment.models import FINAL_STATUSES, FulfilmentTransaction

    waiting = [
        AutoRenewRun.objects.filter(status=AutoRenewStatus.PENDING).aggregate(at=Min("next_attempt_at"))[
            "at"
        ],
        FulfilmentTransaction.objects.exclude(status__in=FINAL_STATUSES).aggregate(at=Min("next_check_at"))[
            "at"
        ],
    ]
    first = date.max
    for at in waiting:
        if at is not None:
            local = at.astimezone(_LIMA)
            due = local.date() if local.time() <= time(12, 0) else local.date() + timedelta(days=1)
            first = min(first, max(due, today + timedelta(days=1)))
    return first


def _population(report: SimulationReport, *, start: date, rng: random.Random) -> _Population:
    carriers = {carrier.code: carrier for carrier in Carrier.objects.filter(code__in=CARRIERS)}
    if len(carriers) != len(CARRIERS):
        raise ValueError("the demo catalog is needed: run `vigencia seed_demo` first")
    plans = {code: list(plan_list_on_sale(carrier=carrier)) for code, carrier in carriers.items()}
    tag = f"{report.seed}-{rng.randrange(10**9)}"
    users = User.objects.bulk_create(
        [
            User(email=f"sim-{tag}-{index}@example.invalid", name=f"Sim {index}")
            for index in range(report.lines)
        ],
        batch_size=2_000,
    )
    rows = []
    for index, user in enumerate(users):
        carrier = carriers[rng.choice(CARRIERS)]
        age = rng.randrange(0, (carrier.restrict_after_days or carrier.cutoff_after_days))
        behaviour = rng.choices(BEHAVIOURS, BEHAVIOUR_WEIGHTS)[0]
        rows.append(
            Line(
                owner=user,
                msisdn=f"+519{index:08d}",
                carrier=carrier,
                nickname=f"sim-{tag}:{behaviour}",
                last_recharge_at=start - timedelta(days=age),
            )
        )
    created = Line.objects.bulk_create(rows, batch_size=2_000)
    behaviours = {line.pk: line.nickname.split(":", 1)[1] for line in created}

    # Auto-renew with the plan a subscriber following the planner would choose: the first step of
    # the cheapest schedule that keeps the line active (the deadline auto-renew renews before).
    planned: dict[tuple[int, date | None], KeepalivePlan | None] = {}
    settings_rows, funds = [], []
    for line in created:
        carrier_plans = plans[line.carrier.code]
        behaviour = behaviours[line.pk]
        key = (line.carrier_id, line_anchor(line))
        if key not in planned:
            try:
                planned[key] = keepalive_plan(
                    carrier=line.carrier,
                    start=start,
                    months=report.months,
                    goal="stay_active",
                    plans=carrier_plans,
                    state=key[1],
                )
            except DomainError:
                planned[key] = None
        schedule = planned[key]
        if behaviour.startswith("autorenew"):
            plan = schedule.steps[0].plan if schedule and schedule.steps else min(carrier_plans, key=_price)
            settings_rows.append(AutoRenewSetting(line=line, enabled=True, plan=plan, days_before=3))
        if behaviour == "autorenew_funded" and schedule is not None:
            cost = report.planner_optimal_cost
            cost[line.carrier.currency] = cost.get(line.carrier.currency, 0) + schedule.total.amount_minor
        renewals = report.months + 2 if behaviour in ("autorenew_funded", "manual") else rng.randrange(0, 2)
        amount = max(plan.price_minor for plan in carrier_plans) * renewals
        if amount:
            funds.append((line.owner, Money(amount, line.carrier.currency)))
    AutoRenewSetting.objects.bulk_create(settings_rows, batch_size=2_000)
    _fund_wallets(funds, tag=tag)
    return _Population(
        tag=tag,
        behaviours=behaviours,
        cheapest={carrier.pk: min(plans[code], key=_price) for code, carrier in carriers.items()},
    )


def _price(plan: Plan) -> tuple[int, int]:
    return (plan.price_minor, -plan.validity_days)


def _fund_wallets(funds: list[tuple[User, Money]], *, tag: str) -> None:
    """Each subscriber's wallet topped up as a card payment would (PSP clearing -> wallet), a
    thousand wallets per balanced ledger transaction."""
    wallets = LedgerAccount.objects.bulk_create(
        [
            LedgerAccount(
                code=wallet_code(user_id=user.pk, currency=money.currency),
                kind=AccountKind.WALLET,
                currency=money.currency,
                owner=user,
            )
            for user, money in funds
        ],
        batch_size=2_000,
    )
    for first in range(0, len(funds), 1_000):
        chunk = list(zip(wallets[first : first + 1_000], funds[first : first + 1_000], strict=True))
        by_currency: dict[str, int] = {}
        for _wallet, (_user, money) in chunk:
            by_currency[money.currency] = by_currency.get(money.currency, 0) + money.amount_minor
        ledger_post(
            kind="wallet_topup",
            idempotency_key=f"simulate:{tag}:{first}",
            postings=[
                *(
                    (
                        account_system(kind="psp_clearing", currency=currency, key="simulation"),
                        Money(-total, currency),
                    )
                    for currency, total in by_currency.items()
                ),
                *((wallet, money) for wallet, (_user, money) in chunk),
            ],
        )


def _manual_renewals(population: _Population, *, after: int, rng: random.Random) -> int:
    """Subscribers who renew by hand do so, 4 times in 5, when a 7- or 1-day reminder reaches them;
    returns the last reminder seen."""
    from vigencia.orders.services import WalletOrder, order_create_many

    reminded = list(
        ReminderSent.objects.filter(pk__gt=after)
        .order_by("pk")
        .values_list("pk", "line_id", "lead_days", "line__nickname")
    )
    line_ids = sorted(
        {
            line_id
            for _pk, line_id, lead_days, nickname in reminded
            if lead_days <= 7 and nickname == f"sim-{population.tag}:manual"
        }
    )
    renewing = [
        line
        for line in Line.objects.filter(pk__in=line_ids).select_related("owner", "carrier").order_by("pk")
        if rng.random() < MANUAL_RENEW_CHANCE
    ]
    # The day's subscribers renew together, as that many `order_create` calls would; one whose
    # wallet ran out gets its refusal back and does nothing more today.
    order_create_many(
        orders=[WalletOrder(line.owner, line, population.cheapest[line.carrier_id]) for line in renewing],
        channel="online",
    )
    return reminded[-1][0] if reminded else after


def _collect(report: SimulationReport, population: _Population) -> None:
    from vigencia.orders.models import RenewalOrder

    lines = population.lines()
    lost = lines.filter(status=LineStatus.RECYCLED)
    report.numbers_lost = lost.count()
    report.numbers_lost_funded_autorenew = lost.filter(
        nickname=f"sim-{population.tag}:autorenew_funded"
    ).count()
    orders = RenewalOrder.objects.filter(line__in=lines)
    completed = orders.filter(status="completed")
    report.renewals = completed.count()
    report.autorenewals = completed.filter(channel="auto_renew").count()
    report.renewal_failures = orders.exclude(status="completed").count()
    for row in completed.values("currency").annotate(spent=Sum("amount_minor")):
        report.total_cost[row["currency"]] = row["spent"]
    funded = completed.filter(line__in=population.lines("autorenew_funded"))
    for row in funded.values("currency").annotate(spent=Sum("amount_minor")):
        report.autorenew_cost[row["currency"]] = row["spent"]
    report.reminders_sent = ReminderSent.objects.filter(line__in=lines).count()
