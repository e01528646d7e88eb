"""Usage reads: a line's balances, tariffs, statements with their daily series, anomalies."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, QuerySet, Sum
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.core.errors import InvalidInput
from vigencia.core.money import Money
from vigencia.lines.models import Line
from vigencia.usage.models import (
    Anomaly,
    Bucket,
    BucketKind,
    Charge,
    Credit,
    Tariff,
    UsageKind,
    UsageRecord,
)


def tariff_for(plan: Plan | None) -> Tariff:
    """The plan's tariff, or the default rates (unsaved) when the operator set none."""
    if plan is None:
        return Tariff()
    try:
        return Tariff.objects.get(plan=plan)
    except Tariff.DoesNotExist:
        return Tariff(plan=plan)


def line_plan(line: Line) -> Plan | None:
    """The plan usage is rated with: the plan of the line's latest renewal credit."""
    credit = Credit.objects.filter(line=line).select_related("plan").order_by("-credited_at", "-id").first()
    return credit.plan if credit else None


def bucket_list(*, line: Line, at: datetime | None = None) -> QuerySet[Bucket]:
    """The line's live buckets (not expired at `at`), the one consumed first first."""
    at = at or clock.now()
    return Bucket.objects.filter(line=line, expires_at__gt=at, valid_from__lte=at).order_by(
        "expires_at", "id"
    )


def balance_totals(*, line: Line, at: datetime | None = None) -> dict[str, int]:
    """Remaining per bucket kind (money minor units, data KB, voice seconds, SMS)."""
    totals = dict.fromkeys(BucketKind.values, 0)
    for row in bucket_list(line=line, at=at).values("kind").annotate(total=Sum("remaining")):
        totals[row["kind"]] = row["total"] or 0
    return totals


def month_spend_minor(*, line: Line, at: datetime | None = None) -> int:
    """Out-of-bundle spending in the calendar month of `at` (platform timezone)."""
    tz = ZoneInfo(settings.VIGENCIA_DISPLAY_TIMEZONE)
    local = (at or clock.now()).astimezone(tz)
    start = datetime.combine(local.date().replace(day=1), time.min, tzinfo=tz)
    total = UsageRecord.objects.filter(
        line=line, started_at__gte=start, started_at__lte=at or clock.now()
    ).aggregate(total=Sum("price_minor"))["total"]
    return int(total or 0)


def charges_of(*, records: QuerySet[UsageRecord]) -> list[tuple[int, int, int]]:
    """(record pk, bucket pk, amount) of what the records' current ratings took from buckets, by
    record and bucket: a record that took everything from one bucket names it (`charged_bucket`),
    the others have Charge rows (those a re-rating reversed are not current)."""
    carried = records.filter(charged_bucket__isnull=False).values_list(
        "pk", "charged_bucket_id", F("in_bundle_quantity") + F("money_charged_minor")
    )
    pieces = Charge.objects.filter(record__in=records, reversed_by__isnull=True).values_list(
        "record_id", "bucket_id", "amount"
    )
    return sorted([*carried, *pieces])


def anomaly_list(*, line: Line) -> QuerySet[Anomaly]:
    return Anomaly.objects.filter(line=line).select_related("record", "resolved_by")


def anomaly_resolver(anomaly: Anomaly) -> str | None:
    """Who resolved it, as the line's holder is told: the back-office person's name, or nobody
    (a staff member's email is not the holder's to see)."""
    person = anomaly.resolved_by
    return (person.name or None) if person is not None else None


@dataclass
class KindTotal:
    kind: str
    records: int = 0
    quantity: int = 0  # raw: seconds, count, bytes
    rated_quantity: int = 0
    in_bundle_quantity: int = 0
    price_minor: int = 0


@dataclass
class Statement:
    line: Line
    date_from: date
    date_to: date
    currency: str
    totals: dict[str, KindTotal]
    days: list[date]
    daily: dict[str, list[int]]  # kind -> per day: data KB, voice seconds, SMS
    records: list[UsageRecord] = field(default_factory=list)

    @property
    def price_total(self) -> Money:
        return Money(sum(total.price_minor for total in self.totals.values()), self.currency)


MAX_STATEMENT_DAYS = 366
DEFAULT_STATEMENT_DAYS = 30
EARLIEST_STATEMENT_DATE = date(2000, 1, 1)  # no usage record starts before it (ingest.EARLIEST)
STATEMENT_DAYS_AHEAD = 366  # a period may end up to a year from today, not in the year 9999


def statement_period(*, date_from: str | None, date_to: str | None, today: date) -> tuple[date, date]:
    """The period a statement covers, from the dates a person or a client gave (YYYY-MM-DD, either
    may be absent: the 30 days up to `date_to`, or up to today). InvalidInput, with a code, for a
    date that is none (`invalid_date`), one before 2000 or more than a year ahead
    (`period_out_of_range`), or a period that ends before it starts or lasts more than 366 days
    (`invalid_period`)."""
    latest = today + timedelta(days=STATEMENT_DAYS_AHEAD)
    given: dict[str, date | None] = {}
    for field_name, raw in (("from", date_from), ("to", date_to)):
        value = (raw or "").strip()
        try:
            parsed = date.fromisoformat(value) if value else None
        except ValueError:
            parsed = None
        if value and (parsed is None or len(value) != 10):
            message = (
                _("The start date is not a date; write it as YYYY-MM-DD.")
                if field_name == "from"
                else _("The end date is not a date; write it as YYYY-MM-DD.")
            )
            raise InvalidInput(message, code="invalid_date", details={"field": field_name})
        if parsed is not None and not EARLIEST_STATEMENT_DATE <= parsed <= latest:
            raise InvalidInput(
                _("Statements cover %(earliest)s to %(latest)s; choose dates between them.")
                % {"earliest": date_format(EARLIEST_STATEMENT_DATE), "latest": date_format(latest)},
                code="period_out_of_range",
                details={
                    "field": field_name,
                    "earliest": EARLIEST_STATEMENT_DATE.isoformat(),
                    "latest": latest.isoformat(),
                },
            )
        given[field_name] = parsed
    end = given["to"] or today
    start = given["from"] or max(end - timedelta(days=DEFAULT_STATEMENT_DAYS - 1), EARLIEST_STATEMENT_DATE)
    if start > end or (end - start).days >= MAX_STATEMENT_DAYS:
        raise InvalidInput(
            _("The period must start before it ends and last at most 366 days."), code="invalid_period"
        )
    return start, end


def statement_build(*, line: Line, date_from: date, date_to: date) -> Statement:
    """Totals by kind, the daily series and the records of a line between two dates (inclusive, in
    the platform's timezone)."""
    tz = ZoneInfo(settings.VIGENCIA_DISPLAY_TIMEZONE)
    start = datetime.combine(date_from, time.min, tzinfo=tz)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
    records = list(
        UsageRecord.objects.filter(line=line, started_at__gte=start, started_at__lt=end).order_by(
            "started_at", "id"
        )
    )
    days = [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    index = {day: n for n, day in enumerate(days)}
    totals = {kind: KindTotal(kind) for kind in UsageKind.values}
    daily: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for kind in UsageKind.values:
        daily[kind] = [0] * len(days)
    for record in records:
        total = totals[record.kind]
        total.records += 1
        total.quantity += record.quantity
        total.rated_quantity += record.rated_quantity
        total.in_bundle_quantity += record.in_bundle_quantity
        total.price_minor += record.price_minor
        amount = -(-record.quantity // 1024) if record.kind == UsageKind.DATA else record.quantity
        daily[record.kind][index[record.started_at.astimezone(tz).date()]] += amount
    return Statement(line, date_from, date_to, line.carrier.currency, totals, days, dict(daily), records)
