"""`vigencia simulate`: a synthetic population of lines played through simulated time with the real
services — the keep-alive tick (lifecycle sweep, reminders, auto-renew), the order pipeline, the
in-process carrier simulator with injected faults, fulfilment reconciliation and the worker in burst
mode — one simulated day at a time. Everything runs in one transaction that is rolled back at the
end, so a simulation leaves the database as it found it.

Behaviours: `autorenew_funded` (auto-renew on, wallet holds enough for the whole horizon),
`autorenew_short` (auto-renew on, wallet for at most one or two renewals), `manual` (renews by hand
from the wallet when a 7- or 1-day reminder comes, 4 times in 5), `negligent` (never renews).
"""

from __future__ import annotations

import random
import time as timer
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings

from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier, Plan
from vigencia.core import clock
from vigencia.core.errors import DomainError
from vigencia.core.money import Money
from vigencia.ledger.services import account_system, account_wallet, ledger_post
from vigencia.lines.keepalive import keepalive_tick
from vigencia.lines.lifecycle import line_anchor
from vigencia.lines.models import AutoRenewSetting, Line, LineStatus, ReminderSent
from vigencia.lines.planner import keepalive_plan

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
    `progress(days_done)` is called after each simulated day. Writes nothing that survives."""
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
            override_settings(
                EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                VIGENCIA_CARRIER_GATEWAY="simulator",
            ),
            transaction.atomic(),
        ):
            _run(report, start=start, rng=random.Random(seed), progress=progress)  # noqa: S311 - a simulation, not secrets
            raise _Rollback
    except _Rollback:
        pass
    report.seconds = round(timer.perf_counter() - began, 2)
    return report


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=_LIMA)


def _run(
    report: SimulationReport, *, start: date, rng: random.Random, progress: Callable[[int], None] | None
) -> None:
    from vigencia.fulfilment.gateways.simulator import simulator
    from vigencia.fulfilment.services import fulfilment_reconcile
    from vigencia.orders.models import RenewalOrder

    simulator.reset()
    with clock.frozen(_noon(start)):
        population = _population(report, start=start, rng=rng)
    manual = {line_id for line_id, behaviour in population.items() if behaviour == "manual"}
    funded = [line_id for line_id, behaviour in population.items() if behaviour == "autorenew_funded"]
    report.funded_autorenew_lines = len(funded)
    report.by_behaviour = dict(Counter(population.values()))
    report.planner_optimal_cost = _planner_cost(funded, start=start, months=report.months)

    for offset in range(report.days):
        at = _noon(start + timedelta(days=offset))
        with clock.frozen(at):
            orders_before = RenewalOrder.objects.count()
            keepalive_tick(at=at)
            _manual_renewals(manual, at=at, rng=rng)
            new_orders = RenewalOrder.objects.count() - orders_before
            faults = sum(rng.random() < report.failure_rate for _ in range(new_orders))
            if faults:
                declines = faults // 2 + (faults % 2 if rng.random() < 0.5 else 0)
                simulator.decline_next(declines)
                simulator.fail_next(faults - declines, "timeout")
                report.carrier_faults += faults
            fulfilment_reconcile(now=at)
            _worker_burst()
        if progress is not None:
            progress(offset + 1)

    _collect(report, population, funded)
    simulator.reset()


def _worker_burst() -> None:
    # Inside the simulation's transaction the worker must keep the connection (as tests do).
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("worker", burst=True, verbosity=0)


def _population(report: SimulationReport, *, start: date, rng: random.Random) -> dict[int, str]:
    carriers = {carrier.code: carrier for carrier in Carrier.objects.filter(code__in=CARRIERS)}
    if len(carriers) != len(CARRIERS):
        raise ValueError("the demo catalog is needed: run `vigencia seed_demo` first")
    plans = {
        code: list(Plan.objects.filter(carrier=carrier, is_active=True)) for code, carrier in carriers.items()
    }
    tag = f"{report.seed}-{rng.randrange(10**9)}"
    users = User.objects.bulk_create(
        [
            User(email=f"sim-{tag}-{index}@example.invalid", name=f"Sim {index}")
            for index in range(report.lines)
        ],
        batch_size=2_000,
    )
    rows, behaviours = [], []
    for index, user in enumerate(users):
        code = rng.choice(CARRIERS)
        carrier = carriers[code]
        age = rng.randrange(0, (carrier.restrict_after_days or carrier.cutoff_after_days))
        rows.append(
            Line(
                owner=user,
                msisdn=f"+519{index:08d}",
                carrier=carrier,
                last_recharge_at=start - timedelta(days=age),
            )
        )
        behaviours.append(rng.choices(BEHAVIOURS, BEHAVIOUR_WEIGHTS)[0])
    created = Line.objects.bulk_create(rows, batch_size=2_000)
    settings_rows = []
    for line, behaviour in zip(created, behaviours, strict=True):
        carrier_plans = plans[line.carrier.code]
        plan = rng.choice(carrier_plans)
        if behaviour.startswith("autorenew"):
            settings_rows.append(AutoRenewSetting(line=line, enabled=True, plan=plan, days_before=3))
        renewals = report.months + 2 if behaviour in ("autorenew_funded", "manual") else rng.randrange(0, 2)
        amount = max(plan.price_minor for plan in carrier_plans) * renewals
        if amount:
            ledger_post(
                kind="wallet_topup",
                idempotency_key=f"simulate:{tag}:{line.owner_id}",
                postings=[
                    (
                        account_system(kind="psp_clearing", currency="PEN", key="simulation"),
                        Money(-amount, "PEN"),
                    ),
                    (account_wallet(user=line.owner, currency="PEN"), Money(amount, "PEN")),
                ],
            )
    AutoRenewSetting.objects.bulk_create(settings_rows, batch_size=2_000)
    return {line.pk: behaviour for line, behaviour in zip(created, behaviours, strict=True)}


def _manual_renewals(manual: set[int], *, at: datetime, rng: random.Random) -> None:
    from vigencia.orders.services import order_create

    reminded = (
        ReminderSent.objects.filter(sent_at=at, lead_days__lte=7, line_id__in=manual)
        .values_list("line_id", flat=True)
        .distinct()
    )
    for line in Line.objects.filter(pk__in=list(reminded)).select_related("owner", "carrier"):
        if rng.random() >= MANUAL_RENEW_CHANCE:
            continue
        plan = Plan.objects.filter(carrier=line.carrier, is_active=True).order_by("price_minor").first()
        if plan is None:
            continue
        try:
            order_create(payer=line.owner, line=line, plan=plan, payment_method="wallet")
        except DomainError:
            continue  # the wallet ran out: this subscriber does nothing more today


def _planner_cost(line_ids: list[int], *, start: date, months: int) -> dict[str, int]:
    """What the planner says keeping these lines active (the auto-renew goal) costs at the least."""
    cache: dict[tuple[int, date | None], int] = {}
    totals: Counter[str] = Counter()
    plans_by_carrier: dict[int, list[Plan]] = {}
    for line in Line.objects.filter(pk__in=line_ids).select_related("carrier"):
        anchor = line_anchor(line)
        key = (line.carrier_id, anchor)
        if key not in cache:
            carrier_plans = plans_by_carrier.setdefault(
                line.carrier_id, list(Plan.objects.filter(carrier=line.carrier, is_active=True))
            )
            try:
                result = keepalive_plan(
                    carrier=line.carrier,
                    start=start,
                    months=months,
                    goal="stay_active",
                    plans=carrier_plans,
                    state=anchor,
                )
                cache[key] = result.total.amount_minor
            except DomainError:
                cache[key] = 0
        totals[line.carrier.currency] += cache[key]
    return dict(totals)


def _collect(report: SimulationReport, population: dict[int, str], funded: list[int]) -> None:
    from vigencia.orders.models import RenewalOrder

    ids = list(population)
    lost = set(Line.objects.filter(pk__in=ids, status=LineStatus.RECYCLED).values_list("pk", flat=True))
    report.numbers_lost = len(lost)
    report.numbers_lost_funded_autorenew = len(lost.intersection(funded))
    orders = RenewalOrder.objects.filter(line_id__in=ids)
    completed = orders.filter(status="completed")
    report.renewals = completed.count()
    report.autorenewals = completed.filter(channel="auto_renew").count()
    report.renewal_failures = orders.exclude(status="completed").count()
    for row in completed.values("currency").annotate(spent=Sum("amount_minor")):
        report.total_cost[row["currency"]] = row["spent"]
    for row in completed.filter(line_id__in=funded).values("currency").annotate(spent=Sum("amount_minor")):
        report.autorenew_cost[row["currency"]] = row["spent"]
    report.reminders_sent = ReminderSent.objects.filter(line_id__in=ids).count()
