"""The operator's dashboard: the business at a glance, from the ledger and the order tables.

Money figures are the renewal sales of the last 30 days (order table) and ledger balances
(`ledger_totals`, the same sums `vigencia ledger verify` proves against the postings); counts come
from the orders, lines, fulfilment, payments and ticket tables.
Each figure has a key whose rows `figure_rows` lists (the page behind it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.core.money import Money
from vigencia.fulfilment.models import FINAL_STATUSES, FulfilmentTransaction
from vigencia.ledger.models import AccountKind, LedgerAccount
from vigencia.ledger.selectors import ledger_totals
from vigencia.lines.lifecycle import anchor_unknown, changes_between, line_timeline
from vigencia.lines.models import (
    AutoRenewRun,
    AutoRenewSetting,
    AutoRenewStatus,
    Line,
    LineEvent,
    LineEventKind,
    LineStatus,
)
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.selectors import line_recharge_by
from vigencia.orders.models import Channel, OrderStatus, RenewalOrder
from vigencia.payments.models import PaymentIntent, PaymentStatus
from vigencia.stores.selectors import WALK_IN_EMAIL
from vigencia.support.selectors import tickets_past_target

RENEWAL_DAYS = 14
AT_RISK_DAYS = 7
LOST_DAYS = 30
FAILED_PAYMENT_DAYS = 30
SALES_DAYS = 30

# Ledger kinds whose balance is shown, with the sign that makes the figure read as a positive amount
# (promotions expense is a source account: its balance is negative as money is spent).
LEDGER_FIGURES = {
    AccountKind.REVENUE: (1, _("Revenue")),
    AccountKind.WALLET: (1, _("Wallet float")),
    AccountKind.VOUCHER_LIABILITY: (1, _("Voucher liability")),
    AccountKind.CARRIER_PAYABLE: (1, _("Owed to carriers")),
    AccountKind.PROMOTIONS_EXPENSE: (-1, _("Spent on promotions")),
    AccountKind.REFUNDS: (-1, _("Refunded by support")),
}
# Rows behind a link that is not itself a figure.
DRILL_DOWNS = {"renewals": _("Renewals completed in the last 14 days")}
COUNT_FIGURES = {
    "lines_at_risk": _("Lines at risk (deadline within 7 days, not covered by a funded auto-renew)"),
    "numbers_lost": _("Numbers lost in the last 30 days"),
    "pending_fulfilments": _("Top-ups waiting for the carrier"),
    "failed_payments": _("Failed payments in the last 30 days"),
    "tickets_past_target": _("Open tickets past target"),
}


@dataclass(frozen=True)
class Figure:
    key: str
    label: Any
    value: int | Money


def _today(at: datetime) -> date:
    return at.astimezone(ZoneInfo(settings.VIGENCIA_DISPLAY_TIMEZONE)).date()


def lines_at_risk(*, at: datetime) -> QuerySet[Line]:
    """Live lines whose last day to recharge before their next status change (`line_recharge_by`
    before the first change, the eve of the next one after it, as the reminders count it) is within
    the next AT_RISK_DAYS days of the carrier's calendar, and that auto-renew will not save:
    auto-renew off, or on with a wallet that does not hold the plan's price, or given up on for this
    deadline. Walk-in numbers (sold at a counter, held by nobody here) are left out. One query, most
    urgent first; the carriers' rules become conditions on the lines' dates."""
    due, days_left = Q(pk__in=[]), []
    for carrier in Carrier.objects.order_by("pk"):
        today = at.astimezone(ZoneInfo(carrier.timezone)).date()
        end = today + timedelta(days=AT_RISK_DAYS)
        of_carrier = Q(carrier=carrier)
        # A line with no dates the rules count from has only the valid-until date its owner gave.
        known = Q(valid_until__isnull=False) & anchor_unknown(carrier)
        due |= of_carrier & (
            changes_between(carrier, today + timedelta(days=1), end + timedelta(days=1))
            | known & Q(valid_until__gte=today, valid_until__lte=end)
        )
        for days in range(AT_RISK_DAYS + 1):
            day = today + timedelta(days=days)
            on_day = changes_between(carrier, day + timedelta(days=1), day + timedelta(days=1))
            days_left.append(When(of_carrier & (on_day | known & Q(valid_until=day)), then=Value(days)))
    funded_wallet = LedgerAccount.objects.filter(
        kind=AccountKind.WALLET,
        owner=OuterRef("line__owner"),
        currency=OuterRef("plan__currency"),
        balance_minor__gte=OuterRef("plan__price_minor"),
    )
    covered = AutoRenewSetting.objects.filter(line=OuterRef("pk"), enabled=True).filter(Exists(funded_wallet))
    given_up = AutoRenewRun.objects.filter(
        line=OuterRef("pk"), status=AutoRenewStatus.FAILED, period__gte=_today(at)
    )
    return (
        Line.objects.filter(removed_at__isnull=True)
        .exclude(status=LineStatus.RECYCLED)
        .exclude(owner__email=WALK_IN_EMAIL)  # a number renewed at a counter: nobody to remind
        .filter(due)
        .filter(~Exists(covered) | Exists(given_up))
        .select_related("carrier", "owner")
        .order_by(Case(*days_left, default=Value(AT_RISK_DAYS + 1)), "pk")
    )


def figure_rows(key: str, *, at: datetime | None = None) -> QuerySet[Any]:
    """The rows behind a count figure (KeyError for an unknown key)."""
    at = at or clock.now()
    if key == "lines_at_risk":
        return lines_at_risk(at=at)
    if key == "numbers_lost":
        return (
            LineEvent.objects.select_related("line__carrier", "line__owner")
            .filter(
                kind=LineEventKind.STATUS_CHANGED,
                data__to=LineStatus.RECYCLED,
                at__gte=at - timedelta(days=LOST_DAYS),
            )
            .order_by("-at")
        )
    if key == "pending_fulfilments":
        return FulfilmentTransaction.objects.exclude(status__in=FINAL_STATUSES).order_by("created_at")
    if key == "failed_payments":
        return (
            PaymentIntent.objects.select_related("payer")
            .filter(status=PaymentStatus.FAILED, created_at__gte=at - timedelta(days=FAILED_PAYMENT_DAYS))
            .order_by("-created_at")
        )
    if key == "tickets_past_target":
        return tickets_past_target(at=at).order_by("resolution_due_at")
    if key.startswith("ledger:"):
        accounts = LedgerAccount.objects.select_related("owner")
        return accounts.filter(kind=key.split(":", 1)[1]).order_by("code")
    if key == "sales":
        return RenewalOrder.objects.filter(
            status=OrderStatus.COMPLETED, completed_at__gte=at - timedelta(days=SALES_DAYS)
        ).order_by("-completed_at")
    if key == "renewals":
        return RenewalOrder.objects.filter(
            status=OrderStatus.COMPLETED, completed_at__gte=at - timedelta(days=RENEWAL_DAYS)
        ).order_by("-completed_at")
    raise KeyError(key)


def _when(at: datetime | None) -> str:
    return date_format(localtime(at), "SHORT_DATETIME_FORMAT") if at else ""


def figure_row_text(row: Any) -> str:
    """One row behind a figure, as an operator reads it: who, what, how much, when."""
    if isinstance(row, Line):
        # The day that makes it at risk: the last one before its next status change (after a first
        # change has come, `line_recharge_by` is that change's eve, already past).
        upcoming = line_timeline(row).next_deadline
        deadline = upcoming.at - timedelta(days=1) if upcoming is not None else line_recharge_by(row)
        parts = [msisdn_display(row.msisdn), row.carrier.name, date_format(deadline) if deadline else ""]
        return " · ".join([*parts, row.owner.email])
    if isinstance(row, RenewalOrder):
        channel = str(row.get_channel_display())
        parts = [f"#{row.pk}", msisdn_display(row.msisdn), row.plan_name, str(row.total), channel]
        return " · ".join([*parts, _when(row.completed_at)])
    if isinstance(row, LedgerAccount):
        holder = row.owner.email if row.owner else row.code
        return " · ".join([str(row.get_kind_display()), holder, str(row.balance)])
    if isinstance(row, PaymentIntent):
        parts = [str(row.amount), str(row.get_method_display()), row.failure_message, row.payer.email]
        return " · ".join([part for part in parts if part] + [_when(row.created_at)])
    if isinstance(row, FulfilmentTransaction):
        money, status = Money(row.amount_minor, row.currency), str(row.get_status_display())
        parts = [msisdn_display(row.msisdn), row.carrier_code, row.plan_code, str(money), status]
        return " · ".join([*parts, _when(row.created_at)])
    if isinstance(row, LineEvent):
        line = row.line
        return " · ".join([msisdn_display(line.msisdn), line.carrier.name, _when(row.at), line.owner.email])
    return str(row)


def renewals_per_day(*, at: datetime | None = None) -> list[dict[str, Any]]:
    """Completed renewals per day (display timezone) and channel over the last 14 days, oldest first,
    every day present (zeros included)."""
    at = at or clock.now()
    today = _today(at)
    days = [today - timedelta(days=offset) for offset in range(RENEWAL_DAYS - 1, -1, -1)]
    counts = (
        RenewalOrder.objects.filter(
            status=OrderStatus.COMPLETED, completed_at__gte=at - timedelta(days=RENEWAL_DAYS)
        )
        .annotate(day=TruncDate("completed_at", tzinfo=ZoneInfo(settings.VIGENCIA_DISPLAY_TIMEZONE)))
        .values("day", "channel")
        .annotate(count=Count("id"))
    )
    table = {day: dict.fromkeys(Channel.values, 0) for day in days}
    for row in counts:
        if row["day"] in table:
            table[row["day"]][row["channel"]] = row["count"]
    return [{"day": day, **table[day], "total": sum(table[day].values())} for day in days]


def dashboard_figures(*, at: datetime | None = None) -> list[Figure]:
    """Every figure: ledger balances per kind and currency, then the counts."""
    at = at or clock.now()
    totals = ledger_totals()
    # What subscribers paid for the renewals completed lately, from the order table (the ledger's
    # revenue account holds only the margin over what the carriers are owed).
    sales = figure_rows("sales", at=at).values("currency").annotate(total=Sum("amount_minor"))
    figures = [
        Figure(
            key="sales", label=_("Renewal sales, last 30 days"), value=Money(row["total"], row["currency"])
        )
        for row in sales.order_by("currency")
    ] or [Figure(key="sales", label=_("Renewal sales, last 30 days"), value=Money(0, "PEN"))]
    for kind, (sign, label) in LEDGER_FIGURES.items():
        for currency, total in sorted(totals.get(kind, {"PEN": 0}).items()):
            figures.append(Figure(key=f"ledger:{kind}", label=label, value=Money(sign * total, currency)))
    for key, label in COUNT_FIGURES.items():
        figures.append(Figure(key=key, label=label, value=figure_rows(key, at=at).count()))
    return figures
