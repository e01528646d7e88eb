"""Auto-renew: a line's chosen plan bought from its owner's wallet `days_before` its next deadline,
through the one order pipeline (`order_create(channel="auto_renew")`).

- Exactly once per line and period (the deadline renewed before): an `AutoRenewRun` row, unique on
  (line, period), is claimed before anything is charged; its row lock serialises attempts.
- Before: an "upcoming charge" notice `UPCOMING_NOTICE_DAYS` before the charge day, saying whether
  the wallet holds enough. After: the pipeline's own renewal notice (succeeded, or failed and
  refunded, after which the run tries again). On failure here (wallet short, plan no longer on
  sale): a notice with the way to act (top-up link or plan choice), once per period, while at least
  `days_before` days are left to do it by hand.
- Transient failures (wallet short, the carrier declined) are retried with backoff until the deadline
  has moved or MAX_ATTEMPTS is reached; a retired plan is not retried until the owner changes the
  setting.

Orders sit above lines in the dependency order; this module is the one place lines calls into
them, lazily, as the order pipeline's auto-renew channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.urls import NoReverseMatch, reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from vigencia.catalog.models import Carrier, Plan
from vigencia.catalog.selectors import plan_list_on_sale
from vigencia.core import clock
from vigencia.core.errors import Conflict, DomainError, InvalidInput
from vigencia.core.money import Money
from vigencia.lines.lifecycle import Timeline, TimelineEvent, line_timeline
from vigencia.lines.models import (
    AUTORENEW_TRANSITIONS,
    AutoRenewRun,
    AutoRenewSetting,
    AutoRenewStatus,
    Line,
    LineStatus,
)
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.reminders import _shift, _span_window

if TYPE_CHECKING:
    from vigencia.notifications.services import NotificationRequest

UPCOMING_NOTICE_DAYS = 2
DAYS_BEFORE_MIN, DAYS_BEFORE_MAX = 2, 60
MAX_ATTEMPTS = 20
_RETRYABLE = {"insufficient_funds", "carrier_declined"}
AUTORENEW_BATCH = 500  # due lines of a carrier ordered together (one transaction each)


def _backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` failed ones: 1, 2, 4 ... hours, at most a day."""
    return timedelta(hours=min(2 ** max(attempts - 1, 0), 24))


def autorenew_set(*, line: Line, enabled: bool, plan: Plan | None, days_before: int) -> AutoRenewSetting:
    """Turn auto-renew on or off for a line, with the plan to buy and how many days before the
    deadline. Validates everything first (InvalidInput 422, Conflict 409 for a lost number; nothing
    written); idempotent (one row per line). A failed run of the current period is tried again."""
    if (
        isinstance(days_before, bool)
        or not isinstance(days_before, int)
        or not (DAYS_BEFORE_MIN <= days_before <= DAYS_BEFORE_MAX)
    ):
        raise InvalidInput(
            _("Days before the deadline must be from %(min)d to %(max)d.")
            % {"min": DAYS_BEFORE_MIN, "max": DAYS_BEFORE_MAX},
            code="invalid_days_before",
            details={"field": "days_before"},
        )
    if plan is None:
        raise InvalidInput(_("Choose a plan."), code="plan_not_found", details={"field": "plan_id"})
    if plan.carrier_id != line.carrier_id:
        raise InvalidInput(
            _("This plan is not sold by the line's carrier."),
            code="plan_wrong_carrier",
            details={"field": "plan_id"},
        )
    if enabled and not plan_list_on_sale(carrier=line.carrier).filter(pk=plan.pk).exists():
        raise InvalidInput(
            _("This plan is not on sale."), code="plan_not_on_sale", details={"field": "plan_id"}
        )
    if enabled and line.status == LineStatus.RECYCLED:
        raise Conflict(
            _("This number has been reassigned by the carrier; it cannot be renewed."), code="line_recycled"
        )
    with transaction.atomic():
        setting, _created = AutoRenewSetting.objects.update_or_create(
            line=line, defaults={"enabled": enabled, "plan": plan, "days_before": days_before}
        )
        if enabled:
            # The owner acted: a run given up on (plan retired, too many tries) may try again.
            for run in AutoRenewRun.objects.select_for_update().filter(
                line=line, status=AutoRenewStatus.FAILED
            ):
                AUTORENEW_TRANSITIONS.apply(
                    run, field="status", target=AutoRenewStatus.PENDING, next_attempt_at=None, attempts=0
                )
    line.autorenew_setting = setting
    return setting


@dataclass(frozen=True)
class AutoRenewPlan:
    """When a line's auto-renewal happens: the deadline it renews before, and the day it charges."""

    deadline: TimelineEvent
    charge_on: date
    overdue: bool


def autorenew_next(
    line: Line, setting: AutoRenewSetting, *, today: date, timeline: Timeline | None = None
) -> AutoRenewPlan | None:
    """The next auto-renewal of a line, or None (no known deadline). A line already restricted or cut
    off is renewed at once. Pure; `timeline` is the line's on `today` when the caller has it already."""
    if timeline is None:
        timeline = line_timeline(line, today=today)
    deadline = timeline.next_deadline
    if deadline is None:
        return None
    overdue = line.status != LineStatus.ACTIVE or any(
        event.kind != "notice" and event.at <= today for event in timeline.events
    )
    charge_on = _shift(deadline.at, -setting.days_before)
    return AutoRenewPlan(deadline=deadline, charge_on=today if overdue else charge_on, overdue=overdue)


def _absolute(name: str, *args: object, fallback: str = "lines:dashboard") -> str:
    try:
        path = reverse(name, args=args)
    except NoReverseMatch:
        path = reverse(fallback)
    return settings.SITE_URL.rstrip("/") + path


def _notify(line: Line, *, key: str, subject: str, body: str) -> None:
    from vigencia.notifications.services import notification_send

    notification_send(
        user=line.owner,
        kind="message",
        context={"subject": subject, "body": body},
        dedupe_key=f"autorenew:{line.pk}:{key}",
    )


def _values(line: Line, plan: Plan, when: date) -> dict[str, object]:
    return {
        "number": msisdn_display(line.msisdn),
        "plan": plan.name,
        "price": plan.price.format(),
        "date": formats.date_format(when, "DATE_FORMAT"),
        "wallet_url": _absolute("orders:wallet"),
        "renew_url": _absolute("orders:renew", line.pk),
        "settings_url": _absolute("lines:detail", line.pk),
    }


def _notify_upcoming(items: list[tuple[Line, AutoRenewSetting, AutoRenewPlan]]) -> None:
    """The "upcoming charge" notices of a carrier's lines, together: their wallets read in one query
    and the notices sent through `notification_send_many`."""
    from vigencia.ledger.selectors import wallet_balances
    from vigencia.notifications.services import NotificationRequest, notification_send_many

    if not items:
        return
    balances: dict[int, Money] = {}
    for currency in {setting.plan.currency for _line, setting, _plan in items}:
        owners = [line.owner for line, setting, _plan in items if setting.plan.currency == currency]
        balances.update(wallet_balances(users=owners, currency=currency))
    requests = []
    for line, setting, plan in items:
        balance = balances[line.owner_id]
        with translation.override(line.owner.language):
            values = _values(line, setting.plan, plan.charge_on)
            subject = _("Auto-renew of %(number)s on %(date)s") % values
            body = (
                _("On %(date)s we will renew %(number)s with %(plan)s for %(price)s from your wallet.")
                % values
            )
            if balance.amount_minor < setting.plan.price_minor:
                values["balance"] = balance.format()
                body += (
                    "\n\n"
                    + _(
                        "Your wallet holds %(balance)s: top it up before then or the renewal will fail: "
                        "%(wallet_url)s"
                    )
                    % values
                )
            body += "\n\n" + _("Change or turn off auto-renew: %(settings_url)s") % values
        requests.append(
            NotificationRequest(
                user=line.owner,
                kind="message",
                context={"subject": subject, "body": body},
                dedupe_key=f"autorenew:{line.pk}:{plan.deadline.at.isoformat()}:upcoming",
            )
        )
    notification_send_many(requests)


def _failed_notice(line: Line, setting: AutoRenewSetting, period: date, code: str) -> NotificationRequest:
    from vigencia.notifications.services import NotificationRequest

    with translation.override(line.owner.language):
        values = _values(line, setting.plan, period)
        subject = _("Auto-renew of %(number)s failed") % values
        if code == "insufficient_funds":
            body = (
                _(
                    "Your wallet does not hold %(price)s to renew %(number)s with %(plan)s. Top it up and we "
                    "will try again, or renew by hand before %(date)s: %(wallet_url)s"
                )
                % values
            )
        elif code == "plan_not_on_sale":
            body = (
                _(
                    "%(plan)s is no longer on sale, so %(number)s was not renewed. Choose another plan for "
                    "auto-renew, or renew by hand before %(date)s: %(settings_url)s"
                )
                % values
            )
        else:
            body = (
                _("%(number)s could not be renewed. Renew it by hand before %(date)s: %(renew_url)s") % values
            )
    return NotificationRequest(
        user=line.owner,
        kind="message",
        context={"subject": subject, "body": body},
        dedupe_key=f"autorenew:{line.pk}:{period.isoformat()}:failed:{code}",
    )


def _notify_failed(line: Line, setting: AutoRenewSetting, period: date, code: str) -> None:
    from vigencia.notifications.services import notification_send

    notice = _failed_notice(line, setting, period, code)
    notification_send(
        user=notice.user, kind=notice.kind, context=notice.context, dedupe_key=notice.dedupe_key
    )


def _claim(attempts: Sequence[tuple[Line, AutoRenewSetting, date]]) -> None:
    """Each period's run exists afterwards: inserted now, or kept as an earlier run or another
    scheduler left it (ON CONFLICT DO NOTHING on the unique (line, period))."""
    AutoRenewRun.objects.bulk_create(
        [AutoRenewRun(line=line, period=period, plan=setting.plan) for line, setting, period in attempts],
        ignore_conflicts=True,
        batch_size=1_000,
    )


def _before_ordering(
    run: AutoRenewRun, *, line: Line, setting: AutoRenewSetting, order_status: str | None, now: datetime
) -> str | None:
    """What a locked run says before anything is charged: the outcome if there is nothing to order
    now ("in_progress", "waiting", "failed:<code>"), else None (the run is pending and due). A run
    whose order the carrier declined is made pending again, or failed once it is out of attempts."""
    from vigencia.orders.models import OrderStatus

    if run.status == AutoRenewStatus.ORDERED:
        if order_status not in (OrderStatus.FAILED, OrderStatus.REFUNDED, OrderStatus.CANCELED):
            return "in_progress"
        # The carrier declined and the money went back to the wallet: a new order now (the periodic
        # job's interval is the wait between attempts), until the attempts run out.
        if run.attempts >= MAX_ATTEMPTS:
            AUTORENEW_TRANSITIONS.apply(
                run, field="status", target=AutoRenewStatus.FAILED, failure_code="carrier_declined"
            )
            _notify_failed(line, setting, run.period, "carrier_declined")
            return "failed:carrier_declined"
        AUTORENEW_TRANSITIONS.apply(
            run, field="status", target=AutoRenewStatus.PENDING, failure_code="carrier_declined"
        )
    if run.status == AutoRenewStatus.FAILED:
        return f"failed:{run.failure_code}"
    if run.next_attempt_at is not None and run.next_attempt_at > now:
        return "waiting"
    return None


def _failure_code(error: DomainError) -> str:
    return "plan_not_on_sale" if error.code in ("plan_not_on_sale", "plan_wrong_carrier") else error.code


def _failed(run: AutoRenewRun, *, code: str, attempts: int, now: datetime) -> None:
    """Record a failed try on the run in memory (written by `apply_many`): retried with backoff
    while retryable and attempts are left, else failed for good."""
    retry = code in _RETRYABLE and attempts < MAX_ATTEMPTS
    run.attempts, run.failure_code, run.updated_at = attempts, code[:60], now
    run.next_attempt_at = now + _backoff(attempts) if retry else None
    if not retry:
        run.status = AutoRenewStatus.FAILED


def autorenew_attempt(*, line: Line, setting: AutoRenewSetting, period: date) -> str:
    """Renew `line` for the period ending at `period` once: claim its run (unique (line, period)),
    lock the run row, and create the wallet-paid order unless the run already has one that is
    going or done. Returns what happened: "ordered", "in_progress", "waiting", "failed:<code>".
    Safe to call any number of times, concurrently too."""
    return autorenew_attempt_many(attempts=[(line, setting, period)])[0]


def autorenew_attempt_many(*, attempts: Sequence[tuple[Line, AutoRenewSetting, date]]) -> list[str]:
    """`autorenew_attempt` for many (line, setting, period) at once, each line at most once, with the
    same outcomes, rows, ledger and notices as that many attempts one after the other. Set-based: the
    runs are claimed in one insert (unique (line, period), ON CONFLICT DO NOTHING) and locked in one
    query in primary-key order, so a concurrent sweep waits and then finds them ordered; the due ones
    are ordered together through `order_create_many` (one wallet lock query, one balanced ledger
    transaction per order, the top-ups started together); the runs are written back in one UPDATE
    and the failure notices sent together. Safe to call any number of times, concurrently too."""
    from vigencia.notifications.services import notification_send_many
    from vigencia.orders.models import RenewalOrder
    from vigencia.orders.services import WalletOrder, order_create_many

    if not attempts:
        return []
    _claim(attempts)
    now = clock.now()
    outcomes: list[str] = []
    with transaction.atomic():
        wanted = {(line.pk, period) for line, _setting, period in attempts}
        runs = {
            (run.line_id, run.period): run
            for run in AutoRenewRun.objects.select_for_update()
            .filter(line_id__in={line_id for line_id, _period in wanted}, period__in={p for _l, p in wanted})
            .order_by("pk")
            if (run.line_id, run.period) in wanted
        }
        order_statuses = dict(
            RenewalOrder.objects.filter(
                pk__in=[run.order_id for run in runs.values() if run.order_id is not None]
            ).values_list("pk", "status")
        )
        due: list[tuple[int, Line, AutoRenewSetting, AutoRenewRun, str]] = []
        for index, (line, setting, period) in enumerate(attempts):
            run = runs[(line.pk, period)]
            settled = _before_ordering(
                run, line=line, setting=setting, order_status=order_statuses.get(run.order_id or 0), now=now
            )
            outcomes.append(settled or "ordered")
            if settled is None:
                due.append((index, line, setting, run, run.status))
        results = order_create_many(
            orders=[
                WalletOrder(line.owner, line, setting.plan) for _index, line, setting, _run, _status in due
            ],
            channel="auto_renew",
        )
        notices = []
        by_status: dict[str, list[AutoRenewRun]] = {}
        for (index, line, setting, run, status), result in zip(due, results, strict=True):
            attempt = run.attempts + 1
            if isinstance(result, DomainError):
                code = _failure_code(result)
                _failed(run, code=code, attempts=attempt, now=now)
                notices.append(_failed_notice(line, setting, run.period, code))
                outcomes[index] = f"failed:{code}"
            else:
                run.status, run.order_id, run.attempts, run.plan = (
                    AutoRenewStatus.ORDERED,
                    result.pk,
                    attempt,
                    setting.plan,
                )
                run.next_attempt_at, run.updated_at = None, now
            by_status.setdefault(status, []).append(run)
        for status, group in by_status.items():
            AUTORENEW_TRANSITIONS.apply_many(
                group,
                field="status",
                source=status,
                fields=[
                    "status",
                    "order_id",
                    "attempts",
                    "plan",
                    "next_attempt_at",
                    "failure_code",
                    "updated_at",
                ],
            )
        notification_send_many(notices)
    return outcomes


def autorenew_sweep(*, at: datetime | None = None) -> dict[str, int]:
    """Run auto-renew as of `at` (default now) for every line that has it on: send the upcoming
    notices that are due and renew the lines whose charge day has come (see `autorenew_attempt`).
    Set-based across carriers: the candidates of every carrier are read in one query (each carrier's
    own window, in its own timezone's today), the due ones renewed AUTORENEW_BATCH at a time in
    (carrier, line) order and the upcoming notices sent together. Idempotent; returns counts per
    outcome."""
    at = at or clock.now()
    counts: dict[str, int] = {}
    with clock.frozen(at):
        for outcome in _sweep(at):
            key = outcome.split(":")[0]
            counts[key] = counts.get(key, 0) + 1
    return counts


def _sweep(at: datetime) -> list[str]:
    enabled = AutoRenewSetting.objects.filter(enabled=True, line__removed_at__isnull=True).exclude(
        line__status=LineStatus.RECYCLED
    )
    longest = dict(
        enabled.values("line__carrier_id")
        .annotate(longest=Max("days_before"))
        .values_list("line__carrier_id", "longest")
    )
    if not longest:
        return []
    carriers = {carrier.pk: carrier for carrier in Carrier.objects.filter(pk__in=longest)}
    today = {pk: at.astimezone(ZoneInfo(carrier.timezone)).date() for pk, carrier in carriers.items()}
    candidates = Q(pk__in=[])
    for pk, carrier in carriers.items():
        window = _span_window(
            carrier, _shift(today[pk], 1), _shift(today[pk], longest[pk] + UPCOMING_NOTICE_DAYS)
        )
        candidates |= Q(carrier_id=pk) & (window | ~Q(status=LineStatus.ACTIVE))
    lines = (
        Line.objects.filter(pk__in=enabled.values("line_id"))
        .filter(candidates)
        .select_related("owner", "autorenew_setting__plan")
        .order_by("carrier_id", "pk")
    )
    outcomes = []
    upcoming = []
    due = []
    for line in lines:
        line.carrier = carriers[line.carrier_id]
        setting = line.autorenew_setting
        setting.plan.carrier = line.carrier
        day = today[line.carrier_id]
        plan = autorenew_next(line, setting, today=day)
        if plan is None:
            continue
        if not plan.overdue and day < plan.charge_on:
            if day >= _shift(plan.charge_on, -UPCOMING_NOTICE_DAYS):
                upcoming.append((line, setting, plan))
                outcomes.append("upcoming")
            continue
        due.append((line, setting, plan.deadline.at))
    for first in range(0, len(due), AUTORENEW_BATCH):
        outcomes += autorenew_attempt_many(attempts=due[first : first + AUTORENEW_BATCH])
    _notify_upcoming(upcoming)
    return outcomes
