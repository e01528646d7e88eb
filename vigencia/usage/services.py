"""Usage writes: renewal credits, the expiry sweep, ingestion, batched rating, re-rating, alerts and
anomalies. Every write that touches buckets locks them in primary-key order (no deadlocks)."""

from __future__ import annotations

import contextvars
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Any, NamedTuple
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest, Least, TruncDate
from django.utils import translation
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput
from vigencia.core.money import Money
from vigencia.lines.models import Line, LineStatus
from vigencia.lines.numbers import msisdn_display
from vigencia.usage import import_sql, rating_sql, tasks
from vigencia.usage.ingest import (
    MAX_LINE_BYTES,
    UNKNOWN_NUMBER,
    RecordIn,
    Rejected,
    csv_header,
    row_read,
    rows_read,
)
from vigencia.usage.models import (
    AlertRule,
    Anomaly,
    AnomalyKind,
    Bucket,
    BucketKind,
    Charge,
    Credit,
    DestinationClass,
    Rerating,
    Tariff,
    UsageKind,
    UsageRecord,
)
from vigencia.usage.rating import rate_one
from vigencia.usage.selectors import balance_totals, month_spend_minor, tariff_for

logger = logging.getLogger(__name__)

INTEGRATOR = "integrator"
OPERATOR = "operator"
MAX_REJECTED_KEPT = 1000
RATING_BATCH = 20_000


def _notify(*, user: User, subject: str, body: str, dedupe_key: str) -> None:
    """Through the notifications outbox, once per dedupe key."""
    from vigencia.notifications.services import notification_send

    notification_send(
        user=user, kind="message", context={"subject": subject, "body": body}, dedupe_key=dedupe_key
    )


# --- buckets ---------------------------------------------------------------------------------------


def _clean_reference(reference: str) -> str:
    reference = reference.strip()
    if not reference or len(reference) > 120:
        raise InvalidInput(_("A credit needs a reference of 1 to 120 characters."), code="invalid_reference")
    return reference


def _credit_buckets(credit: Credit, tariff: Tariff, *, bonus_data_mb: int) -> list[Bucket]:
    """The buckets (unsaved) a renewal credit fills: data (KB, with a promotion's bonus data), voice
    (seconds), SMS and the tariff's balance, each expiring after the plan's validity."""
    plan, now = credit.plan, credit.credited_at
    amounts = {
        BucketKind.MONEY: tariff.money_credit_minor,
        BucketKind.DATA: (plan.data_mb + bonus_data_mb) * 1024,
        BucketKind.VOICE: plan.minutes * 60,
        BucketKind.SMS: plan.sms,
    }
    return [
        Bucket(
            line_id=credit.line_id,
            credit=credit,
            kind=kind,
            currency=plan.currency if kind == BucketKind.MONEY else "",
            initial=amount,
            remaining=amount,
            valid_from=now,
            expires_at=now + timedelta(days=plan.validity_days),
        )
        for kind, amount in amounts.items()
        if amount > 0
    ]


def bucket_credit_renewal(*, line: Line, plan: Plan, reference: str, bonus_data_mb: int = 0) -> Credit:
    """Credit a completed renewal to the line: data (KB, with a promotion's bonus data), voice
    (seconds), SMS and the tariff's balance, each expiring after the plan's validity; the balance
    first pays any overage debt the line owes. Idempotent by
    `reference`: a second call with the same reference returns the first credit and credits nothing."""
    reference = _clean_reference(reference)
    existing = Credit.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            credit = Credit.objects.create(line=line, plan=plan, reference=reference, credited_at=clock.now())
            buckets = Bucket.objects.bulk_create(
                _credit_buckets(credit, tariff_for(plan), bonus_data_mb=bonus_data_mb)
            )
            money = next((b for b in buckets if b.kind == BucketKind.MONEY), None)
            if money is not None:
                _debt_settle(credit=credit, money=money)
            alerts_check(line_ids=[line.pk])
    except IntegrityError:
        # A concurrent call with the same reference committed first.
        return Credit.objects.get(reference=reference)
    return credit


class RenewalCredit(NamedTuple):
    """One renewal for `bucket_credit_renewal_many` (the arguments of `bucket_credit_renewal`)."""

    line: Line
    plan: Plan
    reference: str
    bonus_data_mb: int = 0


def bucket_credit_renewal_many(*, credits: Sequence[RenewalCredit]) -> list[Credit]:
    """`bucket_credit_renewal` for many renewals at once: one query finds the references credited
    already (their credits are returned, nothing more is written), the new credits and their buckets
    are inserted in bulk, the overage debt is settled for the lines that owe any (found in one
    query), and the alert thresholds of all the lines are checked once at the end. If a concurrent
    call credits one of the same references first, each is credited by `bucket_credit_renewal`."""
    wanted = [item._replace(reference=_clean_reference(item.reference)) for item in credits]
    existing = {
        credit.reference: credit
        for credit in Credit.objects.filter(reference__in=[item.reference for item in wanted])
    }
    new = list({item.reference: item for item in wanted if item.reference not in existing}.values())
    tariffs: dict[int, Tariff] = {}
    now = clock.now()
    try:
        with transaction.atomic():
            created = Credit.objects.bulk_create(
                [
                    Credit(line=item.line, plan=item.plan, reference=item.reference, credited_at=now)
                    for item in new
                ],
                batch_size=1_000,
            )
            buckets = []
            for credit, item in zip(created, new, strict=True):
                if item.plan.pk not in tariffs:
                    tariffs[item.plan.pk] = tariff_for(item.plan)
                buckets += _credit_buckets(credit, tariffs[item.plan.pk], bonus_data_mb=item.bonus_data_mb)
            Bucket.objects.bulk_create(buckets, batch_size=2_000)
            owing = set(
                Bucket.objects.filter(
                    line_id__in={item.line.pk for item in new}, kind=BucketKind.MONEY, remaining__lt=0
                ).values_list("line_id", flat=True)
            )
            for bucket in buckets:
                if bucket.kind == BucketKind.MONEY and bucket.line_id in owing:
                    _debt_settle(credit=bucket.credit, money=bucket)
            if new:
                alerts_check(line_ids=sorted({item.line.pk for item in new}))
    except IntegrityError:
        return [
            bucket_credit_renewal(
                line=item.line, plan=item.plan, reference=item.reference, bonus_data_mb=item.bonus_data_mb
            )
            for item in wanted
        ]
    by_reference = {**existing, **{credit.reference: credit for credit in created}}
    return [by_reference[item.reference] for item in wanted]


def _debt_settle(*, credit: Credit, money: Bucket) -> None:
    """Pay the line's overage debt (money buckets below zero, the oldest first) from a new money
    bucket, as far as it goes; the amount is recorded on the credit."""
    debts = list(
        Bucket.objects.filter(line_id=credit.line_id, kind=BucketKind.MONEY, remaining__lt=0)
        .order_by("pk")
        .select_for_update()
    )
    settled = 0
    for debt in sorted(debts, key=lambda b: (b.expires_at, b.pk)):
        pay = min(-debt.remaining, money.remaining - settled)
        if pay <= 0:
            break
        Bucket.objects.filter(pk=debt.pk).update(remaining=F("remaining") + pay)
        settled += pay
    if settled:
        Bucket.objects.filter(pk=money.pk).update(remaining=F("remaining") - settled)
        Credit.objects.filter(pk=credit.pk).update(debt_settled_minor=settled)
        credit.debt_settled_minor = settled


def bucket_expire_sweep(*, at: datetime | None = None) -> int:
    """Remove what is left in every bucket expired by `at`, recording the amount and instant on the
    bucket (a money bucket's overage debt is kept). Set-based and idempotent: a bucket expires
    once. Returns how many buckets expired."""
    at = at or clock.now()
    with transaction.atomic():
        due = Bucket.objects.filter(expires_at__lte=at, expired_at__isnull=True)
        line_ids = list(due.values_list("line_id", flat=True).distinct())
        # What is left expires; an overage debt (below zero) stays owed on the bucket.
        count = due.update(
            expired_amount=Greatest(F("remaining"), 0), remaining=Least(F("remaining"), 0), expired_at=at
        )
        if line_ids:
            alerts_check(line_ids=line_ids)
    return count


# --- ingestion -------------------------------------------------------------------------------------


@dataclass
class IngestSummary:
    accepted: int = 0
    duplicates: int = 0
    rejected_count: int = 0
    rejected: list[Rejected] = field(default_factory=list)  # the first MAX_REJECTED_KEPT
    rated: int = 0  # by the import itself (a file import rates as it stores)

    def reject(self, row: Rejected) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REJECTED_KEPT:
            self.rejected.append(row)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected_count,
            "rejected_rows": [{"line": row.line, "reason": row.reason} for row in self.rejected],
        }


class _LineIndex:
    """msisdn -> (line id, country calling code), loaded a chunk at a time and kept for the run."""

    def __init__(self) -> None:
        self.known: dict[str, tuple[int, str] | None] = {}

    def resolve(self, msisdns: set[str]) -> None:
        missing = [number for number in msisdns if number not in self.known]
        if not missing:
            return
        for number in missing:
            self.known[number] = None
        # One rule for a number that several users registered (nobody proves they hold a number):
        # its usage belongs to the first live registration, so registering someone else's number
        # later shows nothing of theirs; a line that lost its number yields to any other.
        for msisdn, line_id in (
            Line.objects.filter(msisdn__in=missing, removed_at__isnull=True)
            .order_by("msisdn", Case(When(status=LineStatus.RECYCLED, then=1), default=0), "id")
            .values_list("msisdn", "id")
        ):
            if self.known[msisdn] is not None:
                continue
            try:
                calling_code = str(phonenumbers.parse(msisdn).country_code)
            except phonenumbers.NumberParseException:
                calling_code = ""
            self.known[msisdn] = (line_id, calling_code)


def _destination_class(destination: str, calling_code: str) -> str:
    if destination.startswith("+") and not destination.startswith(f"+{calling_code}"):
        return DestinationClass.INTERNATIONAL
    return DestinationClass.NATIONAL


_STAGING_COLUMNS = (
    "source",
    "record_id",
    "line_id",
    "kind",
    "started_at",
    "quantity",
    "destination",
    "destination_class",
    "carrier_charged_minor",
    "content_hash",
    "received_at",
)


def _source_lock(source: str, *, half: int | None = None) -> None:
    """Serialise the writers of one source until the transaction ends: what is new is then exact.
    The two halves of a file import's block (`import_sql.block_halves`: no number and no record id
    in both) share the source's lock, and each half is serialised with the same half of any other
    import of the source."""
    with connection.cursor() as cursor:
        if half is None:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('usage-source:' || %s))", [source])
            return
        cursor.execute(
            "SELECT pg_advisory_xact_lock_shared(hashtext('usage-source:' || %s)), "
            "pg_advisory_xact_lock(hashtext('usage-source:' || %s || ':' || %s))",
            [source, source, half],
        )


def _insert_postgresql(source: str, rows: list[tuple[Any, ...]]) -> int:
    """COPY into a session-local staging table, then insert what is new: exact counts even when two
    imports of the same file race."""
    columns = ", ".join(_STAGING_COLUMNS)
    _source_lock(source)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS usage_staging (source text, record_id text, line_id bigint, "
            "kind text, started_at timestamptz, quantity bigint, destination text, destination_class text, "
            "carrier_charged_minor bigint, content_hash text, received_at timestamptz) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY usage_staging ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO usage_usagerecord ({columns}, rated_quantity, in_bundle_quantity, price_minor, "  # noqa: S608 - fixed column names, no input
            f"money_charged_minor, uncovered_minor, currency) SELECT {columns}, 0, 0, 0, 0, 0, '' "
            "FROM usage_staging ON CONFLICT (source, record_id) DO NOTHING"
        )
        inserted: int = cursor.rowcount
        cursor.execute("TRUNCATE usage_staging")
    return inserted


def _insert_generic(source: str, rows: list[tuple[Any, ...]]) -> int:
    ids = [row[1] for row in rows]
    existing = set(
        UsageRecord.objects.filter(source=source, record_id__in=ids).values_list("record_id", flat=True)
    )
    new = [
        UsageRecord(**dict(zip(_STAGING_COLUMNS, row, strict=True))) for row in rows if row[1] not in existing
    ]
    UsageRecord.objects.bulk_create(new, ignore_conflicts=True, batch_size=2000)
    return len(new)


def _ingest_chunk(
    *,
    source: str,
    chunk: list[tuple[int, RecordIn]],
    lines: _LineIndex,
    summary: IngestSummary,
    enqueue_rating: bool,
) -> None:
    lines.resolve({record.msisdn for _number, record in chunk})
    now = clock.now()
    rows: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for number, record in chunk:
        known = lines.known.get(record.msisdn)
        if known is None:
            summary.reject(Rejected(number, UNKNOWN_NUMBER))
            continue
        if record.record_id in seen:
            summary.duplicates += 1
            continue
        seen.add(record.record_id)
        line_id, calling_code = known
        rows.append(
            (
                source,
                record.record_id,
                line_id,
                record.kind,
                record.started_at,
                record.quantity,
                record.destination,
                _destination_class(record.destination, calling_code)
                if record.kind != UsageKind.DATA
                else "national",
                record.charged_minor,
                record.content_hash,
                now,
            )
        )
    if not rows:
        return
    with transaction.atomic():
        inserted = (
            _insert_postgresql(source, rows)
            if connection.vendor == "postgresql"
            else _insert_generic(source, rows)
        )
        if inserted and enqueue_rating:
            tasks.usage_rate_task.enqueue()
    summary.accepted += inserted
    summary.duplicates += len(rows) - inserted


def usage_records_ingest(
    *,
    source: str,
    rows: Iterable[tuple[int, RecordIn] | Rejected],
    chunk_size: int = 5000,
    on_chunk: Callable[[IngestSummary], None] | None = None,
    enqueue_rating: bool = True,
) -> IngestSummary:
    """Store checked records (from a file or the API). Idempotent by (source, record id): running
    it again, or after an interruption, stores nothing twice and counts those rows as duplicates.
    Each chunk commits on its own, so an interrupted import keeps what it stored; each chunk that
    stored something enqueues the rating task in its transaction (unless the caller rates itself)."""
    source = _source_checked(source)
    summary = IngestSummary()
    lines = _LineIndex()
    chunk: list[tuple[int, RecordIn]] = []
    for item in rows:
        if isinstance(item, Rejected):
            summary.reject(item)
            continue
        chunk.append(item)
        if len(chunk) >= chunk_size:
            _ingest_chunk(
                source=source, chunk=chunk, lines=lines, summary=summary, enqueue_rating=enqueue_rating
            )
            chunk = []
            if on_chunk:
                on_chunk(summary)
    if chunk:
        _ingest_chunk(source=source, chunk=chunk, lines=lines, summary=summary, enqueue_rating=enqueue_rating)
        if on_chunk:
            on_chunk(summary)
    return summary


def _source_checked(source: str) -> str:
    source = source.strip()
    if not source or len(source) > 60:
        raise InvalidInput(_("The source must be 1 to 60 characters."), code="invalid_source")
    return source


def usage_file_import(
    *,
    source: str,
    stream: IO[bytes],
    fmt: str,
    rate: bool = True,
    on_chunk: Callable[[IngestSummary], None] | None = None,
) -> IngestSummary:
    """Import a CSV or JSONL usage file: every row stored once or reported (line number and
    reason); idempotent and resumable like `usage_records_ingest`. With `rate`, every record is
    rated and charged before it returns; without, the rating task is enqueued.

    On PostgreSQL a CSV file takes the set-based way, a block of lines per transaction: COPY into
    staging, checks and deduplication in SQL, the new records stored already rated (`import_sql`,
    `rating_sql`); only the lines not in the plain form go through the row reader first. Outside a
    transaction a big block goes in two halves by number at once, on two connections (both cores
    of the database server). Anywhere else (SQLite, JSONL, an unusual header) row by row through
    `usage_records_ingest`."""
    source = _source_checked(source)
    now = clock.now()
    header = None
    if connection.vendor == "postgresql" and fmt == "csv":
        header = csv_header(stream.readline(MAX_LINE_BYTES + 1))
        if header is None:
            stream.seek(0)
    if header is None:
        summary = usage_records_ingest(
            source=source,
            rows=rows_read(stream, fmt=fmt, now=now),
            on_chunk=on_chunk,
            enqueue_rating=not rate,
        )
    else:
        summary = IngestSummary()
        number = 2  # the header is line 1
        for block in import_sql.blocks(stream):
            if block is None:
                summary.reject(Rejected(number, f"line longer than {MAX_LINE_BYTES} bytes"))
                number += 1
                continue
            _import_block(
                source=source,
                data=block,
                header=header,
                first_line=number,
                summary=summary,
                rate=rate,
                now=now,
            )
            number += import_sql.lines_in(block)
            if on_chunk:
                on_chunk(summary)
    if rate:
        summary.rated += usage_rate_pending()
    return summary


def _import_block(
    *,
    source: str,
    data: bytes,
    header: list[str],
    first_line: int,
    summary: IngestSummary,
    rate: bool,
    now: datetime,
) -> None:
    """One block in one transaction (an interrupted import keeps the blocks it finished); a big
    block outside a transaction in two halves at once, each in its own transaction on its own
    connection (an interruption may keep one half: the import resumes as after any block)."""
    block = import_sql.block_split(data, header=header, first_line=first_line)
    # The lines SQL does not take: row_read accepts them (they join the plain ones in SQL) or says
    # why not.
    for index, (number, raw) in enumerate(block.others):
        item = row_read(number, raw, fmt="csv", header=header, now=now)
        if isinstance(item, Rejected):
            block.rejected.append(item)
        elif item is not None:
            block.parsed.append((number, number - first_line - index, item[1]))
    halves = None
    if not connection.in_atomic_block and import_sql.lines_in(data) >= import_sql.PARALLEL_LINES:
        halves = import_sql.block_halves(block, header=header)
    parts: Sequence[import_sql.Block] = (block,)
    if halves is None:
        _import_part(block, source=source, header=header, rate=rate, now=now, half=None)
    else:
        parts = halves
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = [
                pool.submit(
                    contextvars.copy_context().run,  # the clock (frozen in tests and benchmarks)
                    _import_part_on_own_connection,
                    part,
                    source=source,
                    header=header,
                    rate=rate,
                    now=now,
                    half=half,
                )
                for half, part in enumerate(halves)
            ]
        for future in done:
            future.result()
    rejected = block.rejected + [row for part in parts if part is not block for row in part.rejected]
    for part in parts:
        summary.accepted += part.new
        summary.rated += part.new if rate else 0
        summary.duplicates += part.known - part.new
    for row in sorted(rejected, key=lambda row: row.line):
        summary.reject(row)


def _import_part_on_own_connection(part: import_sql.Block, **options: Any) -> None:
    """A half in a worker thread: Django gives the thread its own connection, closed when done."""
    try:
        _import_part(part, **options)
    finally:
        connection.close()


def _import_part(
    block: import_sql.Block, *, source: str, header: list[str], rate: bool, now: datetime, half: int | None
) -> None:
    """Check and store a block (or a half of one) in one transaction."""
    tz = settings.VIGENCIA_DISPLAY_TIMEZONE
    with transaction.atomic():
        _source_lock(source, half=half)
        import_sql.block_check(block, header=header, now=now)
        # A source with nothing stored needs no look-up of what it has, nor (the (source, record_id)
        # index says so) a search for record ids that repeat in the block: rare, checked if so.
        stored = UsageRecord.objects.filter(source=source).exists()
        try:
            with transaction.atomic():
                _import_block_store(block, source=source, rate=rate, now=now, tz=tz, dedupe=stored)
        except IntegrityError as error:
            constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
            if stored or constraint != "usage_record_once_per_source":
                raise
            _import_block_store(block, source=source, rate=rate, now=now, tz=tz, dedupe=True)
        import_sql.block_done()


def _import_block_store(
    block: import_sql.Block, *, source: str, rate: bool, now: datetime, tz: str, dedupe: bool
) -> None:
    import_sql.block_new(block, source=source, now=now, tz=tz, dedupe=dedupe)
    if block.new and rate:
        _import_block_rate(source=source, now=now)
    elif block.new:
        import_sql.block_store_unrated(source=source, now=now)
        tasks.usage_rate_task.enqueue()


def _import_block_rate(*, source: str, now: datetime) -> None:
    """Store the block's new records rated and charged, then flag what they show and check the
    alerts of their lines; what the set-based rater leaves goes record by record."""
    tz = settings.VIGENCIA_DISPLAY_TIMEZONE
    import_sql.block_neighbours(tz=tz)
    left = rating_sql.rate_new(source=source, now=now)
    if left:
        _rate_one_by_one(list(_records_in(left)), now)
    flagged = import_sql.block_flagged()
    spikes = _spike_rows_sql(import_sql.SPIKE_TOUCHED, {})
    line_ids = rating_sql.rate_done()
    _anomalies_store(
        _anomalies_found(
            repeats=flagged.repeats, inactive=flagged.inactive, mismatched=flagged.mismatched, spikes=spikes
        )
    )
    if left:
        anomalies_detect(record_ids=left)  # what the records rated one by one show
    alerts_check(line_ids=line_ids)


# --- rating ----------------------------------------------------------------------------------------

_RECORD_RESULT_FIELDS = (
    "rated_at",
    "rated_quantity",
    "in_bundle_quantity",
    "price_minor",
    "money_charged_minor",
    "uncovered_minor",
    "currency",
    "charged_bucket",
)


def _rate_one_by_one(records: list[UsageRecord], now: datetime) -> None:
    """Rate records in started_at order against their lines' buckets (locked, pk order), one by
    one in memory, and write the results in bulk. The exact reference the set-based rater follows;
    used on SQLite and for the lines that rater hands back."""
    records.sort(key=lambda r: (r.started_at, r.pk))
    line_ids = {r.line_id for r in records}
    plan_of: dict[int, int] = {}
    for line_id, plan_id in (
        Credit.objects.filter(line_id__in=line_ids)
        .order_by("line_id", "credited_at", "id")
        .values_list("line_id", "plan_id")
    ):
        plan_of[line_id] = plan_id  # the latest wins
    plans = Plan.objects.in_bulk(set(plan_of.values()))
    tariffs = {t.plan_id: t for t in Tariff.objects.filter(plan_id__in=plans)}
    currencies = dict(Line.objects.filter(pk__in=line_ids).values_list("pk", "carrier__currency"))
    default_tariff = Tariff()
    buckets: dict[int, dict[str, list[Bucket]]] = defaultdict(lambda: defaultdict(list))
    # Money buckets at or below zero still take overage.
    for bucket in (
        Bucket.objects.filter(Q(remaining__gt=0) | Q(kind=BucketKind.MONEY, expired_at__isnull=True))
        .filter(line_id__in=line_ids)
        .order_by("pk")
        .select_for_update()
    ):
        buckets[bucket.line_id][bucket.kind].append(bucket)
    for kinds in buckets.values():
        for group in kinds.values():
            group.sort(key=lambda b: (b.expires_at, b.pk))
    touched: dict[int, Bucket] = {}
    charges: list[Charge] = []
    for record in records:
        plan_id = plan_of.get(record.line_id, 0)  # 0: the line has no credit yet
        tariff = tariffs.get(plan_id) if plan_id else None
        if tariff is None:
            tariff = Tariff(plan=plans[plan_id]) if plan_id else default_tariff
        rated = rate_one(
            kind=record.kind,
            quantity=record.quantity,
            destination_class=record.destination_class,
            at=record.started_at,
            tariff=tariff,
            buckets=buckets[record.line_id],
        )
        record.rated_at = now
        record.rated_quantity = rated.rated_quantity
        record.in_bundle_quantity = rated.in_bundle_quantity
        record.price_minor = rated.price_minor
        record.money_charged_minor = rated.money_charged_minor
        record.uncovered_minor = rated.uncovered_minor
        record.currency = plans[plan_id].currency if plan_id else currencies[record.line_id]
        touched.update((bucket.pk, bucket) for bucket, _amount in rated.charges)
        # One bucket took it all: the record names it (as the set-based rater does); else Charge rows.
        record.charged_bucket_id = rated.charges[0][0].pk if len(rated.charges) == 1 else None
        if len(rated.charges) > 1:
            charges += [Charge(record_id=record.pk, bucket_id=b.pk, amount=a) for b, a in rated.charges]
    UsageRecord.objects.bulk_update(records, _RECORD_RESULT_FIELDS, batch_size=1000)
    Bucket.objects.bulk_update(list(touched.values()), ["remaining"], batch_size=1000)
    Charge.objects.bulk_create(charges, batch_size=5000)


def _rate_records(record_ids: list[int], *, now: datetime | None = None) -> None:
    """Rate and charge a batch, then look for anomalies and crossed alerts. On PostgreSQL the batch
    is rated set-based (`rating_sql`), and only the lines that model does not cover one by one.
    Call inside a transaction, with the records locked."""
    if not record_ids:
        return
    now = now or clock.now()
    if connection.vendor == "postgresql":
        rest = rating_sql.rate_batch(record_ids=record_ids, now=now)
    else:
        rest = record_ids
    if rest:
        _rate_one_by_one(list(_records_in(rest)), now)
    alerts_check(line_ids=anomalies_detect(record_ids=record_ids))


def usage_rate_pending(*, batch_size: int = RATING_BATCH, max_batches: int | None = None) -> int:
    """Rate unrated records, oldest first, a batch per transaction. Safe to run in parallel: on
    PostgreSQL each batch skips records another rater has locked. Returns how many were rated."""
    rated = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            query = UsageRecord.objects.filter(rated_at__isnull=True).order_by("started_at", "id")
            if connection.vendor == "postgresql":
                query = query.select_for_update(skip_locked=True, of=("self",))
            record_ids = list(query.values_list("pk", flat=True)[:batch_size])
            _rate_records(record_ids)
        rated += len(record_ids)
        batches += 1
        if len(record_ids) < batch_size:
            break
    return rated


def usage_rerate(
    *,
    actor: User | None,
    reason: str,
    period_from: datetime,
    period_to: datetime,
    line: Line | None = None,
    plan: Plan | None = None,
) -> Rerating:
    """Rate again every record of a period (of one line, or of lines whose latest credit is `plan`,
    or all) after a tariff correction: earlier charges are reversed into their buckets and marked
    with this audit row, then the records are rated afresh. Locks the records and their buckets."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the period is re-rated."), code="reason_required")
    if period_from >= period_to:
        raise InvalidInput(_("The period must end after it starts."), code="invalid_period")
    with transaction.atomic():
        query = UsageRecord.objects.filter(
            started_at__gte=period_from, started_at__lt=period_to, rated_at__isnull=False
        )
        if line is not None:
            query = query.filter(line=line)
        if plan is not None:
            query = query.filter(line__usage_credits__plan=plan).distinct()
        records = list(query.order_by("pk").select_for_update(of=("self",)))
        audit = Rerating.objects.create(
            actor=actor,
            reason=reason[:300],
            line=line,
            plan=plan,
            period_from=period_from,
            period_to=period_to,
            records=len(records),
            price_before_minor=sum(r.price_minor for r in records),
        )
        live = Charge.objects.filter(record__in=[r.pk for r in records], reversed_by__isnull=True)
        back = dict(live.values("bucket_id").annotate(total=Sum("amount")).values_list("bucket_id", "total"))
        # A charge the record carries (one bucket took it all) becomes a reversed Charge row: the
        # audit keeps what every rating before took, in one form.
        carried = [
            Charge(
                record_id=r.pk,
                bucket_id=r.charged_bucket_id,
                amount=r.in_bundle_quantity + r.money_charged_minor,
                reversed_by=audit,
            )
            for r in records
            if r.charged_bucket_id is not None
        ]
        for charge in carried:
            back[charge.bucket_id] = back.get(charge.bucket_id, 0) + charge.amount
        for bucket in Bucket.objects.filter(pk__in=back).order_by("pk").select_for_update():
            # A bucket the sweep already emptied gets its expired amount back too; the sweep below
            # expires again whatever the new rating leaves.
            Bucket.objects.filter(pk=bucket.pk).update(
                remaining=F("remaining") + F("expired_amount") + back[bucket.pk],
                expired_amount=0,
                expired_at=None,
            )
        live.update(reversed_by=audit)
        Charge.objects.bulk_create(carried, batch_size=5000)
        record_ids = [r.pk for r in records]
        _rate_records(record_ids)
        audit.price_after_minor = (
            UsageRecord.objects.filter(pk__in=record_ids).aggregate(total=Sum("price_minor"))["total"] or 0
        )
        audit.save(update_fields=["price_after_minor"])
        bucket_expire_sweep()
    return audit


# --- alerts ----------------------------------------------------------------------------------------

ALERT_FIELDS = ("data_below_mb", "money_below_minor", "monthly_spend_above_minor", "expiring_within_days")


def alert_rule_set(*, line: Line, **thresholds: int | None) -> AlertRule:
    """Replace the line's thresholds (None, or not given, switches one off). A changed threshold re-arms."""
    return _alert_rule_write(line, thresholds, partial=False)


def alert_rule_change(*, line: Line, **thresholds: int | None) -> AlertRule:
    """Change only the thresholds given (None switches one off); the others stay as they are."""
    return _alert_rule_write(line, thresholds, partial=True)


def _alert_rule_write(line: Line, thresholds: dict[str, int | None], *, partial: bool) -> AlertRule:
    unknown = set(thresholds) - set(ALERT_FIELDS)
    if unknown:
        raise InvalidInput(
            _("Unknown alert setting."), code="invalid_alert", details={"fields": sorted(unknown)}
        )
    for name, value in thresholds.items():
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 10**12
        ):
            raise InvalidInput(
                _("A threshold must be a whole number of 0 or more."),
                code="invalid_threshold",
                details={"field": name},
            )
    if thresholds.get("expiring_within_days") is not None and thresholds["expiring_within_days"] > 366:  # type: ignore[operator]
        raise InvalidInput(
            _("Warn at most 366 days ahead."),
            code="invalid_threshold",
            details={"field": "expiring_within_days"},
        )
    with transaction.atomic():
        rule, _created = AlertRule.objects.select_for_update().get_or_create(line=line)
        flags = {
            "data_below_mb": "data_fired",
            "money_below_minor": "money_fired",
            "monthly_spend_above_minor": "spend_fired",
            "expiring_within_days": "expiring_fired",
        }
        for name in ALERT_FIELDS:
            if partial and name not in thresholds:
                continue
            value = thresholds.get(name)
            if getattr(rule, name) != value:
                setattr(rule, name, value)
                setattr(rule, flags[name], False)
        rule.save()
        alerts_check(line_ids=[line.pk])
    return rule


def _alert_messages(rule: AlertRule, at: datetime) -> dict[str, tuple[bool, str]]:
    """flag -> (crossed now?, message) for the thresholds that are set."""
    line = rule.line
    totals = balance_totals(line=line, at=at)
    currency = line.carrier.currency
    checks: dict[str, tuple[bool, str]] = {}
    if rule.data_below_mb is not None:
        left_mb = totals[BucketKind.DATA] // 1024
        checks["data_fired"] = (
            totals[BucketKind.DATA] < rule.data_below_mb * 1024,
            _("Line %(number)s has %(left)s MB of data left.")
            % {"number": msisdn_display(line.msisdn), "left": left_mb},
        )
    if rule.money_below_minor is not None:
        checks["money_fired"] = (
            totals[BucketKind.MONEY] < rule.money_below_minor,
            _("Line %(number)s has %(left)s of balance left.")
            % {"number": msisdn_display(line.msisdn), "left": Money(totals[BucketKind.MONEY], currency)},
        )
    if rule.monthly_spend_above_minor is not None:
        spent = month_spend_minor(line=line, at=at)
        checks["spend_fired"] = (
            spent > rule.monthly_spend_above_minor,
            _("Line %(number)s spent %(spent)s beyond its bundles this month.")
            % {"number": msisdn_display(line.msisdn), "spent": Money(spent, currency)},
        )
    if rule.expiring_within_days is not None:
        soon = (
            Bucket.objects.filter(
                line=line,
                remaining__gt=0,
                expires_at__gt=at,
                expires_at__lte=at + timedelta(days=rule.expiring_within_days),
            )
            .order_by("expires_at", "id")
            .first()
        )
        checks["expiring_fired"] = (
            soon is not None,
            _("A %(kind)s bucket of line %(number)s expires on %(date)s.")
            % {
                "kind": soon.get_kind_display() if soon else "",
                "number": msisdn_display(line.msisdn),
                "date": f"{soon.expires_at:%Y-%m-%d}" if soon else "",
            },
        )
    return checks


def alerts_check(*, line_ids: Iterable[int]) -> int:
    """Notify each threshold crossed since its last notice, once (dedupe key + flag), and re-arm
    those back on the safe side. Locks the rules. Returns how many notices were sent."""
    sent = 0
    at = clock.now()
    with transaction.atomic():
        rules = (
            AlertRule.objects.filter(line_id__in=_any_of(list(line_ids)))
            .select_related("line__carrier", "line__owner")
            .order_by("pk")
            .select_for_update(of=("self",))
        )
        for rule in rules:
            owner = rule.line.owner
            with translation.override(owner.language):
                checks = _alert_messages(rule, at)
                changed = []
                for flag, (crossed, message) in checks.items():
                    if crossed and not getattr(rule, flag):
                        _notify(
                            user=owner,
                            subject=_("Vigencia alert for %(number)s")
                            % {"number": msisdn_display(rule.line.msisdn)},
                            body=message,
                            dedupe_key=f"usage-alert:{rule.pk}:{flag}:{at.isoformat()}",
                        )
                        sent += 1
                    if crossed != getattr(rule, flag):
                        setattr(rule, flag, crossed)
                        changed.append(flag)
            if changed:
                rule.save(update_fields=changed)
    return sent


# --- anomalies -------------------------------------------------------------------------------------

SPIKE_FACTOR = 5
SPIKE_HISTORY_DAYS = 28
SPIKE_MIN_HISTORY_DAYS = 7
SPIKE_FLOOR = {UsageKind.DATA: 50 * 1024 * 1024, UsageKind.VOICE: 30 * 60, UsageKind.SMS: 50}


EXPIRED = "expired"  # an inactive-line anomaly's state when the line was active but past its valid-until


def anomaly_explain(anomaly: Anomaly) -> str:
    """The anomaly in plain words, in the active language."""
    d = anomaly.details
    if anomaly.kind == AnomalyKind.DUPLICATE:
        return (
            _(
                "Record %(record)s repeats record %(first)s: same number, kind, time, quantity and destination under another id."  # noqa: E501
            )
            % d
        )
    if anomaly.kind == AnomalyKind.INACTIVE_LINE:
        state = d.get("state", "")
        if state == EXPIRED:
            state = _("past its valid-until date")
        elif state in LineStatus.values:
            state = LineStatus(state).label
        return _("Record %(record)s was used and charged on %(date)s while the line was %(state)s.") % {
            **d,
            "state": state,
        }
    if anomaly.kind == AnomalyKind.CHARGE_MISMATCH:
        return _("Record %(record)s: the carrier charged %(carrier)s but the plan's rates give %(ours)s.") % d
    return (
        _(
            "On %(date)s the line used %(amount)s of %(kind)s, more than %(factor)s times its daily average of %(average)s."  # noqa: E501
        )
        % d
    )


def _format_usage(kind: str, amount: int) -> str:
    if kind == UsageKind.DATA:
        return f"{amount // (1024 * 1024)} MB"
    if kind == UsageKind.VOICE:
        return f"{amount // 60} min"
    return f"{amount} SMS"


def _any_of(ids: list[int]) -> list[int] | RawSQL:
    """Ids for an `__in` lookup; on PostgreSQL as one array parameter, not one per id."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (ids,))
    return ids


def _records_in(record_ids: list[int]) -> QuerySet[UsageRecord]:
    return UsageRecord.objects.filter(pk__in=_any_of(record_ids))


def anomalies_detect(*, record_ids: list[int], line_ids: list[int] | None = None) -> list[int]:
    """Flag duplicates by content, use charged on a line that was not active, carrier charges that
    differ from the rating, and daily spikes against the line's history: one query for the first
    three and one for spikes, each returning only what is flagged. Idempotent (unique key per line,
    kind and record or day); notifies the subscriber and the operators of new ones. Returns the
    batch's line ids (given when the caller knows them)."""
    if not record_ids:
        return []
    tz = ZoneInfo(settings.VIGENCIA_DISPLAY_TIMEZONE)
    batch = _records_in(record_ids)
    # Duplicates: the first record with some content is the original; every other one is flagged.
    # Same content means the same number (so line) and instant: the (line, started_at) index finds it.
    earlier = UsageRecord.objects.filter(
        line_id=OuterRef("line_id"),
        started_at=OuterRef("started_at"),
        content_hash=OuterRef("content_hash"),
        pk__lt=OuterRef("pk"),
    )
    charged = Q(rated_quantity__gt=0) | Q(carrier_charged_minor__gt=0)
    inactive = charged & (~Q(line__status=LineStatus.ACTIVE) | Q(line__valid_until__lt=F("day")))
    mismatched = Q(carrier_charged_minor__isnull=False) & ~Q(carrier_charged_minor=F("price_minor"))
    flagged = list(
        batch.annotate(day=TruncDate("started_at", tzinfo=tz), repeated=Exists(earlier))
        .annotate(inactive=ExpressionWrapper(inactive, output_field=BooleanField()))
        .filter(Q(repeated=True) | Q(inactive=True) | mismatched)
        .select_related("line")
        .order_by("pk")
    )
    repeats = [record for record in flagged if record.repeated]  # type: ignore[attr-defined]
    firsts: dict[tuple[int, datetime, str], str] = {}
    for line_id, started_at, content_hash, record_id in (
        UsageRecord.objects.filter(
            line_id__in={r.line_id for r in repeats},
            started_at__in={r.started_at for r in repeats},
            content_hash__in={r.content_hash for r in repeats},
        )
        .order_by("-pk")
        .values_list("line_id", "started_at", "content_hash", "record_id")
        if repeats
        else []
    ):
        firsts[(line_id, started_at, content_hash)] = record_id  # the lowest id comes last and wins
    if line_ids is None:
        line_ids = sorted(set(batch.values_list("line_id", flat=True)))
    _anomalies_store(
        _anomalies_found(
            repeats=[
                (r.pk, r.record_id, r.line_id, firsts[(r.line_id, r.started_at, r.content_hash)])
                for r in repeats
            ],
            inactive=[
                (r.pk, r.record_id, r.line_id, r.day, r.line.status)  # type: ignore[attr-defined]
                for r in flagged
                if r.inactive  # type: ignore[attr-defined]
            ],
            mismatched=[
                (r.pk, r.record_id, r.line_id, r.carrier_charged_minor, r.price_minor, r.currency)
                for r in flagged
                if r.carrier_charged_minor is not None and r.carrier_charged_minor != r.price_minor
            ],
            spikes=_spike_rows(record_ids, line_ids, tz),
        )
    )
    return line_ids


def _anomalies_found(
    *,
    repeats: list[tuple[int, str, int, str]],
    inactive: list[tuple[int, str, int, date, str]],
    mismatched: list[tuple[int, str, int, int, int, str]],
    spikes: list[tuple[int, str, date, int, int]],
) -> list[Anomaly]:
    """The anomalies of what a batch showed: repeats (record pk, record id, line, the first's record
    id); use on an inactive line (pk, record id, line, local day, line status); carrier charges
    that differ (pk, record id, line, carrier's, ours, currency); spikes (line, kind, day, amount,
    daily average)."""
    found = [
        Anomaly(
            line_id=line_id,
            kind=AnomalyKind.DUPLICATE,
            key=str(pk),
            record_id=pk,
            details={"record": record_id, "first": first},
        )
        for pk, record_id, line_id, first in repeats
    ]
    found += [
        Anomaly(
            line_id=line_id,
            kind=AnomalyKind.INACTIVE_LINE,
            key=str(pk),
            record_id=pk,
            details={
                "record": record_id,
                "date": day.isoformat(),
                # A code, worded when explained: the reader's language, not the importer's.
                "state": status if status != LineStatus.ACTIVE else EXPIRED,
            },
        )
        for pk, record_id, line_id, day, status in inactive
    ]
    found += [
        Anomaly(
            line_id=line_id,
            kind=AnomalyKind.CHARGE_MISMATCH,
            key=str(pk),
            record_id=pk,
            details={
                "record": record_id,
                "carrier": str(Money(carrier, currency)),
                "ours": str(Money(price, currency)),
                "carrier_minor": carrier,
                "ours_minor": price,
            },
        )
        for pk, record_id, line_id, carrier, price, currency in mismatched
    ]
    found += [
        Anomaly(
            line_id=line_id,
            kind=AnomalyKind.SPIKE,
            key=f"{kind}:{day.isoformat()}",
            details={
                "date": day.isoformat(),
                "kind": kind,
                "amount": _format_usage(kind, amount),
                "average": _format_usage(kind, average),
                "factor": SPIKE_FACTOR,
            },
        )
        for line_id, kind, day, amount, average in spikes
    ]
    return found


# Each (line, kind, local day) a batch touches whose day total ({touched}: line_id, kind, day,
# total) passes the floor, with the number of days with use and their total in the
# SPIKE_HISTORY_DAYS before it; only spikes return. The average is a whole number, as in Python.
_SPIKES_SQL = """
WITH touched AS ({touched}), candidates AS (
    SELECT * FROM touched
    WHERE total > CASE kind WHEN 'data' THEN %(floor_data)s WHEN 'voice' THEN %(floor_voice)s
                  ELSE %(floor_sms)s END
), history AS (
    -- One index range per candidate (few: the floor comes first).
    SELECT c.*, h.days_used, h.past_total
    FROM candidates c
    CROSS JOIN LATERAL (
        SELECT count(DISTINCT (r.started_at AT TIME ZONE %(tz)s)::date) AS days_used,
            sum(r.quantity) AS past_total
        FROM usage_usagerecord r
        WHERE r.line_id = c.line_id AND r.kind = c.kind
            AND r.started_at >= ((c.day - %(days)s)::timestamp AT TIME ZONE %(tz)s)
            AND r.started_at < (c.day::timestamp AT TIME ZONE %(tz)s)
    ) h
)
SELECT line_id, kind, day, total::bigint, div(past_total, %(days)s)::bigint AS average
FROM history
WHERE days_used >= %(min_days)s AND total > %(factor)s * GREATEST(div(past_total, %(days)s), 1)
ORDER BY line_id, kind, day
"""
# The day totals of the (line, kind, day)s of stored records.
_SPIKE_TOUCHED_STORED = """
SELECT t.line_id, t.kind, t.day, sum(r.quantity) AS total
FROM (
    SELECT DISTINCT line_id, kind, (started_at AT TIME ZONE %(tz)s)::date AS day
    FROM usage_usagerecord WHERE id = ANY(%(ids)s)
) t
JOIN usage_usagerecord r ON r.line_id = t.line_id AND r.kind = t.kind
    AND r.started_at >= (t.day::timestamp AT TIME ZONE %(tz)s)
    AND r.started_at < ((t.day + 1)::timestamp AT TIME ZONE %(tz)s)
GROUP BY 1, 2, 3
"""


def _spike_rows_sql(touched: str, parameters: dict[str, Any]) -> list[tuple[int, str, date, int, int]]:
    """PostgreSQL: (line, kind, day, amount, daily average) of each spike among the `touched` days."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SPIKES_SQL.format(touched=touched),
            {
                "tz": settings.VIGENCIA_DISPLAY_TIMEZONE,
                "days": SPIKE_HISTORY_DAYS,
                "min_days": SPIKE_MIN_HISTORY_DAYS,
                "factor": SPIKE_FACTOR,
                "floor_data": SPIKE_FLOOR[UsageKind.DATA],
                "floor_voice": SPIKE_FLOOR[UsageKind.VOICE],
                "floor_sms": SPIKE_FLOOR[UsageKind.SMS],
                **parameters,
            },
        )
        return list(cursor.fetchall())


def _spike_rows(
    record_ids: list[int], line_ids: list[int], tz: ZoneInfo
) -> list[tuple[int, str, date, int, int]]:
    """(line, kind, day, amount, daily average) of each spike on a day the batch touches."""
    if connection.vendor == "postgresql":
        return _spike_rows_sql(_SPIKE_TOUCHED_STORED, {"ids": record_ids})
    days = (
        _records_in(record_ids)
        .annotate(day=TruncDate("started_at", tzinfo=tz))
        .aggregate(first=Min("day"), last=Max("day"))
    )
    since = datetime.combine(days["first"] - timedelta(days=SPIKE_HISTORY_DAYS), time.min, tzinfo=tz)
    until = datetime.combine(days["last"] + timedelta(days=1), time.min, tzinfo=tz)
    touched = set(
        UsageRecord.objects.filter(pk__in=record_ids)
        .annotate(day=TruncDate("started_at", tzinfo=tz))
        .values_list("line_id", "kind", "day")
    )
    daily: dict[tuple[int, str], dict[date, int]] = defaultdict(dict)
    for line_id, kind, day, total in (
        UsageRecord.objects.filter(line_id__in=line_ids, started_at__gte=since, started_at__lt=until)
        .annotate(day=TruncDate("started_at", tzinfo=tz))
        .values_list("line_id", "kind", "day")
        .annotate(total=Sum("quantity"))
    ):
        daily[(line_id, kind)][day] = total
    spikes = []
    for line_id, kind, day in touched:
        series = daily[(line_id, kind)]
        history = [
            total for d, total in series.items() if day - timedelta(days=SPIKE_HISTORY_DAYS) <= d < day
        ]
        if len(history) < SPIKE_MIN_HISTORY_DAYS:
            continue
        average = sum(history) // SPIKE_HISTORY_DAYS
        amount = series.get(day, 0)
        if amount > SPIKE_FLOOR[UsageKind(kind)] and amount > SPIKE_FACTOR * max(average, 1):
            spikes.append((line_id, kind, day, amount, average))
    return spikes


def _anomalies_store(found: list[Anomaly]) -> list[Anomaly]:
    if not found:
        return []
    existing = set(
        Anomaly.objects.filter(
            line_id__in={a.line_id for a in found}, key__in={a.key for a in found}
        ).values_list("line_id", "kind", "key")
    )
    new = []
    seen = set(existing)
    for anomaly in found:
        identity = (anomaly.line_id, anomaly.kind, anomaly.key)
        if identity not in seen:
            seen.add(identity)
            new.append(anomaly)
    Anomaly.objects.bulk_create(new, ignore_conflicts=True, batch_size=2000)
    stored = (
        Anomaly.objects.filter(line_id__in={a.line_id for a in new}, key__in={a.key for a in new})
        .select_related("line__owner")
        .order_by("pk")
        if new
        else []
    )
    operators = list(User.objects.filter(Q(groups__name=OPERATOR), is_active=True).distinct())
    wanted = {(a.line_id, a.kind, a.key) for a in new}
    for anomaly in stored:
        if (anomaly.line_id, anomaly.kind, anomaly.key) not in wanted:
            continue
        for user in [anomaly.line.owner, *operators]:
            with translation.override(user.language):
                _notify(
                    user=user,
                    subject=_("Possible wrong charge on %(number)s")
                    % {"number": msisdn_display(anomaly.line.msisdn)},
                    body=anomaly_explain(anomaly),
                    dedupe_key=f"usage-anomaly:{anomaly.pk}:{user.pk}",
                )
    return new


def anomaly_resolve(*, anomaly: Anomaly, actor: User, note: str = "") -> Anomaly:
    """Mark an anomaly resolved (back office). A second resolve is a Conflict; nothing changes."""
    updated = Anomaly.objects.filter(pk=anomaly.pk, resolved_at__isnull=True).update(
        resolved_at=clock.now(), resolved_by=actor, resolution_note=note.strip()[:300]
    )
    if updated != 1:
        raise Conflict(_("This anomaly is already resolved."), code="anomaly_resolved")
    anomaly.refresh_from_db()
    return anomaly
