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

from dataclasses import dataclass
from datetime import date, datetime, timedelta
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
from vigencia.core.errors import Conflict, InvalidInput
from vigencia.core.money import Money
from vigencia.lines.lifecycle import TimelineEvent, line_timeline
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

UPCOMING_NOTICE_DAYS = 2
DAYS_BEFORE_MIN, DAYS_BEFORE_MAX = 2, 60
MAX_ATTEMPTS = 20
_RETRYABLE = {"insufficient_funds", "carrier_declined"}


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


def autorenew_next(line: Line, setting: AutoRenewSetting, *, today: date) -> AutoRenewPlan | None:
    """The next auto-renewal of a line, or None (no known deadline). A line already restricted or cut
    off is renewed at once. Pure."""
    deadline = line_timeline(line, today=today).next_deadline
    if deadline is None:
        return None
    overdue = line.status != LineStatus.ACTIVE or any(
        event.kind != "notice" and event.at <= today for event in line_timeline(line, today=today).events
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


def _notify_failed(line: Line, setting: AutoRenewSetting, period: date, code: str) -> None:
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
    _notify(line, key=f"{period.isoformat()}:failed:{code}", subject=subject, body=body)


def _claim(line: Line, *, period: date, plan: Plan) -> None:
    """This period's run exists afterwards: inserted now, or kept as an earlier run or another
    scheduler left it (ON CONFLICT DO NOTHING on the unique (line, period))."""
    AutoRenewRun.objects.bulk_create(
        [AutoRenewRun(line=line, period=period, plan=plan)], ignore_conflicts=True
    )


def autorenew_attempt(*, line: Line, setting: AutoRenewSetting, period: date) -> str:
    """Renew `line` for the period ending at `period` once: claim its run (unique (line, period)),
    lock the run row, and create the wallet-paid order unless the run already has one that is
    going or done. Returns what happened: "ordered", "in_progress", "waiting", "failed:<code>".
    Safe to call any number of times, concurrently too."""
    from vigencia.orders.models import OrderStatus, RenewalOrder
    from vigencia.orders.services import order_create

    _claim(line, period=period, plan=setting.plan)
    now = clock.now()
    with transaction.atomic():
        run = AutoRenewRun.objects.select_for_update().get(line=line, period=period)
        if run.status == AutoRenewStatus.ORDERED:
            order_status = (
                RenewalOrder.objects.filter(pk=run.order_id or 0).values_list("status", flat=True).first()
            )
            if order_status not in (OrderStatus.FAILED, OrderStatus.REFUNDED, OrderStatus.CANCELED):
                return "in_progress"
            # The carrier declined and the money went back to the wallet: a new order now (the
            # periodic job's interval is the wait between attempts), until the attempts run out.
            if run.attempts >= MAX_ATTEMPTS:
                AUTORENEW_TRANSITIONS.apply(
                    run, field="status", target=AutoRenewStatus.FAILED, failure_code="carrier_declined"
                )
                _notify_failed(line, setting, period, "carrier_declined")
                return "failed:carrier_declined"
            AUTORENEW_TRANSITIONS.apply(
                run, field="status", target=AutoRenewStatus.PENDING, failure_code="carrier_declined"
            )
        if run.status == AutoRenewStatus.FAILED:
            return f"failed:{run.failure_code}"
        if run.next_attempt_at is not None and run.next_attempt_at > now:
            return "waiting"
        attempts = run.attempts + 1
        try:
            with transaction.atomic():
                order = order_create(
                    payer=line.owner,
                    line=line,
                    plan=setting.plan,
                    payment_method="wallet",
                    channel="auto_renew",
                )
        except (InvalidInput, Conflict) as error:
            code = (
                "plan_not_on_sale" if error.code in ("plan_not_on_sale", "plan_wrong_carrier") else error.code
            )
            retry = code in _RETRYABLE and attempts < MAX_ATTEMPTS
            AutoRenewRun.objects.filter(pk=run.pk).update(
                attempts=attempts,
                failure_code=code[:60],
                next_attempt_at=now + _backoff(attempts) if retry else None,
                updated_at=now,
            )
            if not retry:
                AUTORENEW_TRANSITIONS.apply(run, field="status", target=AutoRenewStatus.FAILED)
            _notify_failed(line, setting, period, code)
            return f"failed:{code}"
        AUTORENEW_TRANSITIONS.apply(
            run,
            field="status",
            target=AutoRenewStatus.ORDERED,
            order_id=order.pk,
            attempts=attempts,
            plan=setting.plan,
            next_attempt_at=None,
            updated_at=now,
        )
    return "ordered"


def autorenew_sweep(*, at: datetime | None = None) -> dict[str, int]:
    """Run auto-renew as of `at` (default now) for every line that has it on: send the upcoming
    notices that are due and renew the lines whose charge day has come (see `autorenew_attempt`).
    Candidates are read set-based per carrier. Idempotent; returns counts per outcome."""
    at = at or clock.now()
    counts: dict[str, int] = {}
    with clock.frozen(at):
        enabled = AutoRenewSetting.objects.filter(enabled=True, line__removed_at__isnull=True)
        for carrier in Carrier.objects.filter(pk__in=enabled.values("line__carrier_id")).order_by("pk"):
            today = at.astimezone(ZoneInfo(carrier.timezone)).date()
            for outcome in _sweep_carrier(carrier, today=today):
                key = outcome.split(":")[0]
                counts[key] = counts.get(key, 0) + 1
    return counts


def _sweep_carrier(carrier: Carrier, *, today: date) -> list[str]:
    settings_qs = AutoRenewSetting.objects.filter(
        enabled=True, line__carrier=carrier, line__removed_at__isnull=True
    ).exclude(line__status=LineStatus.RECYCLED)
    longest = settings_qs.aggregate(longest=Max("days_before"))["longest"]
    if longest is None:
        return []
    window = _span_window(carrier, _shift(today, 1), _shift(today, longest + UPCOMING_NOTICE_DAYS))
    lines = (
        Line.objects.filter(pk__in=settings_qs.values("line_id"))
        .filter(window | ~Q(status=LineStatus.ACTIVE))
        .select_related("owner", "autorenew_setting__plan")
        .order_by("pk")
    )
    outcomes = []
    upcoming = []
    for line in lines:
        line.carrier = carrier
        setting = line.autorenew_setting
        setting.plan.carrier = carrier
        plan = autorenew_next(line, setting, today=today)
        if plan is None:
            continue
        if not plan.overdue and today < plan.charge_on:
            if today >= _shift(plan.charge_on, -UPCOMING_NOTICE_DAYS):
                upcoming.append((line, setting, plan))
                outcomes.append("upcoming")
            continue
        outcomes.append(autorenew_attempt(line=line, setting=setting, period=plan.deadline.at))
    _notify_upcoming(upcoming)
    return outcomes
