"""Fulfilment writes: start a carrier top-up, drive it through the gateway, apply what the gateway
reports (answers, callbacks, polls) and reconcile what is still open.

Safety rules:
- A top-up is identified at the gateway by our external id, and the gateway dedupes by it, so any
  retry (a task run twice, a poll after a lost answer) finds the first one instead of topping up again.
- "No answer" (timeout, 5xx) is never read as success or failure: the row keeps its last known
  status and `next_check_at`, and reconciliation asks again with exponential backoff.
- States only move forward (FULFILMENT_TRANSITIONS): duplicate or out-of-order callbacks are no-ops.
- Max age (settings.VIGENCIA_FULFILMENT_MAX_AGE, 24 h by default, counted from created_at): after it
  we stop creating or confirming. A top-up the gateway does not know, or knows only as CREATED
  (never confirmed, so it can never be applied), is DECLINED; one the gateway has not answered about
  at all is DECLINED too, so the customer's money goes back (a late COMPLETED after that is logged as
  an error and recorded as a `late_status` event for a person to settle). One the gateway reports
  CONFIRMED or SUBMITTED is being processed by the carrier and stays open until it is final.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

import phonenumbers
from django.conf import settings
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import Case, CharField, F, Value, When
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from vigencia.core import clock
from vigencia.core.db import insert_unless_taken, rows_update
from vigencia.core.errors import Conflict, DomainError, InvalidInput, NotFound
from vigencia.core.money import Money
from vigencia.core.signing import signature_valid
from vigencia.fulfilment.gateways import gateway_get
from vigencia.fulfilment.gateways.base import (
    CarrierGateway,
    GatewayRejected,
    GatewayTransaction,
    GatewayUnavailable,
)
from vigencia.fulfilment.gateways.http import transaction_from_json
from vigencia.fulfilment.models import (
    FINAL_STATUSES,
    FULFILMENT_TRANSITIONS,
    FulfilmentEvent,
    FulfilmentEventKind,
    FulfilmentStatus,
    FulfilmentTransaction,
)

logger = logging.getLogger(__name__)

# While one reconciler works on a row, others skip it for this long (its result resets the time).
_LEASE = timedelta(minutes=5)


class InvalidCallbackSignature(DomainError):
    status = 400
    code = "invalid_signature"


def _event(transaction: FulfilmentTransaction, kind: str, **data: Any) -> None:
    FulfilmentEvent.objects.create(transaction=transaction, kind=kind, data=data)


def _backoff(attempts: int) -> timedelta:
    base = settings.VIGENCIA_FULFILMENT_RETRY_SECONDS
    return timedelta(
        seconds=min(base * 2 ** max(attempts - 1, 0), settings.VIGENCIA_FULFILMENT_RETRY_MAX_SECONDS)
    )


def _check_msisdn(msisdn: str) -> None:
    try:
        number = phonenumbers.parse(msisdn, None)
        valid = (
            msisdn.startswith("+")
            and phonenumbers.is_valid_number(number)
            and phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == msisdn
        )
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        raise InvalidInput(
            _("The number must be a valid mobile number in E.164 form, e.g. +51912345678."),
            code="invalid_msisdn",
            details={"field": "msisdn"},
        )


class TopupRequest(NamedTuple):
    """One top-up for `fulfilment_start_many` (the arguments of `fulfilment_start`)."""

    external_id: str
    reference: str
    msisdn: str
    carrier_code: str
    plan_code: str
    amount: Money


def _validated(request: TopupRequest) -> dict[str, Any]:
    """The row's fields of a valid request; InvalidInput otherwise."""
    fields = {
        "external_id": request.external_id,
        "reference": request.reference,
        "carrier_code": request.carrier_code,
        "plan_code": request.plan_code,
    }
    for name, value in fields.items():
        max_length = cast(CharField, FulfilmentTransaction._meta.get_field(name)).max_length or 0
        if not value or not value.strip() or len(value) > max_length:
            raise InvalidInput(
                _("%(field)s is missing or too long.") % {"field": name},
                code="invalid",
                details={"field": name},
            )
    _check_msisdn(request.msisdn)
    if request.amount.amount_minor <= 0:
        raise InvalidInput(
            _("The amount must be positive."), code="invalid_amount", details={"field": "amount"}
        )
    return {
        **fields,
        "msisdn": request.msisdn,
        "amount_minor": request.amount.amount_minor,
        "currency": request.amount.currency,
    }


def _same_or_conflict(existing: FulfilmentTransaction, wanted: dict[str, Any]) -> FulfilmentTransaction:
    if any(getattr(existing, name) != value for name, value in wanted.items()):
        raise Conflict(
            _("This external id is already used for another top-up."),
            code="external_id_reused",
            details={"external_id": existing.external_id},
        )
    return existing


def fulfilment_start(
    *, external_id: str, reference: str, msisdn: str, carrier_code: str, plan_code: str, amount: Money
) -> FulfilmentTransaction:
    """Record a top-up and enqueue its submission in the same database transaction (so the task
    exists if and only if the caller's transaction commits). Idempotent by `external_id`: a second
    call returns the existing row and enqueues nothing; the same id with other details is a Conflict."""
    wanted = _validated(TopupRequest(external_id, reference, msisdn, carrier_code, plan_code, amount))

    from vigencia.fulfilment.tasks import submit_transaction

    transaction = FulfilmentTransaction(
        **wanted, gateway=gateway_get().name, next_check_at=clock.now() + _backoff(1)
    )
    # Inserted without a look-up first (the usual external id is new) and without a savepoint: a used
    # one inserts nothing.
    with db_transaction.atomic(savepoint=False):
        if insert_unless_taken(transaction):
            _event(transaction, FulfilmentEventKind.STARTED, reference=reference)
            submit_transaction.enqueue(transaction.pk)
            return transaction
    existing = FulfilmentTransaction.objects.filter(external_id=external_id).first()
    if existing is None:
        raise IntegrityError(f"fulfilment transaction {external_id} was refused by a constraint")
    return _same_or_conflict(existing, wanted)


def fulfilment_start_many(requests: list[TopupRequest]) -> list[FulfilmentTransaction]:
    """`fulfilment_start` for many top-ups at once: every request is validated first (InvalidInput,
    nothing written), the external ids already used are read in one query (the existing row is
    returned, or Conflict if its details differ), the new rows and their `started` events are
    inserted in bulk, and one `submit_transaction` task is enqueued per
    settings.VIGENCIA_FULFILMENT_BATCH rows (for the first of them), all in the caller's transaction:
    each task claims a batch of the waiting top-ups (`fulfilment_submit_waiting`), so however many
    workers run them, every top-up is claimed and submitted once. A concurrent start of one of the
    same external ids makes the insert fail (IntegrityError) and writes nothing."""
    from vigencia.fulfilment.tasks import submit_transaction

    wanted = [_validated(request) for request in requests]
    existing = {
        row.external_id: row
        for row in FulfilmentTransaction.objects.filter(
            external_id__in=[fields["external_id"] for fields in wanted]
        )
    }
    for fields in wanted:
        if fields["external_id"] in existing:
            _same_or_conflict(existing[fields["external_id"]], fields)
    gateway, next_check_at = gateway_get().name, clock.now() + _backoff(1)
    new = list(
        {fields["external_id"]: fields for fields in wanted if fields["external_id"] not in existing}.values()
    )
    with db_transaction.atomic():
        created = FulfilmentTransaction.objects.bulk_create(
            [FulfilmentTransaction(**fields, gateway=gateway, next_check_at=next_check_at) for fields in new],
            batch_size=1_000,
        )
        FulfilmentEvent.objects.bulk_create(
            [
                FulfilmentEvent(
                    transaction=row, kind=FulfilmentEventKind.STARTED, data={"reference": row.reference}
                )
                for row in created
            ],
            batch_size=1_000,
        )
        batch = settings.VIGENCIA_FULFILMENT_BATCH
        for first in range(0, len(created), batch):
            submit_transaction.enqueue(created[first].pk)
    by_id = {**existing, **{row.external_id: row for row in created}}
    return [by_id[fields["external_id"]] for fields in wanted]


def fulfilment_submit(
    *, transaction: FulfilmentTransaction, now: datetime | None = None
) -> FulfilmentTransaction:
    """Create and confirm the top-up at the gateway under its external id, then apply the answer
    (`fulfilment_submit_many` for one). Safe to run any number of times, concurrently too: the
    gateway dedupes by external id and confirms once. Holds no lock during the call. With no answer
    the row stays as it is with `next_check_at` pushed back (exponential backoff) for reconciliation
    to retry."""
    submitted = fulfilment_submit_many(transaction_ids=[transaction.pk], now=now)
    if submitted:
        return submitted[0]
    transaction.refresh_from_db()  # final already: nothing to submit
    return transaction


class StatusReport(NamedTuple):
    """What the gateway said about one top-up, for `fulfilment_apply_status_many`; `error` (if any)
    becomes the row's last error."""

    transaction: FulfilmentTransaction
    status: str
    gateway_transaction_id: str | None = None
    error: str = ""


def fulfilment_submit_many(
    *, transaction_ids: list[int], now: datetime | None = None
) -> list[FulfilmentTransaction]:
    """`fulfilment_submit` for many top-ups at once: the open rows are read and their attempts counted
    in one query each, each is created and confirmed at the gateway (the same calls, in primary-key
    order), the gateway ids are recorded in one UPDATE, and the answers are applied together by
    `fulfilment_apply_status_many`. A top-up without an answer is left for reconciliation exactly as
    `fulfilment_submit` leaves it. Safe to run any number of times, concurrently too."""
    rows = list(
        FulfilmentTransaction.objects.filter(pk__in=transaction_ids)
        .exclude(status__in=FINAL_STATUSES)
        .order_by("pk")
    )
    if not rows:
        return []
    counted = FulfilmentTransaction.objects.filter(pk__in=[row.pk for row in rows])
    counted.update(attempts=F("attempts") + 1)
    attempts = dict(counted.values_list("pk", "attempts"))
    for row in rows:
        row.attempts = attempts[row.pk]
    return _submit(rows, now=now or clock.now())


def fulfilment_submit_waiting(
    *, transaction_id: int, now: datetime | None = None
) -> list[FulfilmentTransaction]:
    """The task of a new top-up: claim it, unless another run has, together with the oldest other
    top-ups still waiting for their first attempt (settings.VIGENCIA_FULFILMENT_BATCH in all), and
    submit them together as `fulfilment_submit_many` does. While the workers keep up, each task
    submits its own top-up; behind a backlog, one task takes a batch and the later tasks of that
    batch find theirs taken and take the next waiting ones, or return at once — the same work done
    set-based, as fast as the backlog grows. A claim moves `attempts` from 0 to 1 under FOR UPDATE
    SKIP LOCKED, so two workers never take the same top-up; one claimed by a worker that died before
    submitting it is asked about by reconciliation, as any top-up without an answer."""
    with db_transaction.atomic():
        rows = list(
            FulfilmentTransaction.objects.select_for_update(skip_locked=True)
            .filter(attempts=0)
            .exclude(status__in=FINAL_STATUSES)
            .order_by(Case(When(pk=transaction_id, then=Value(0)), default=Value(1)), "pk")[
                : settings.VIGENCIA_FULFILMENT_BATCH
            ]
        )
        FulfilmentTransaction.objects.filter(pk__in=[row.pk for row in rows]).update(attempts=1)
    for row in rows:
        row.attempts = 1
    return _submit(sorted(rows, key=lambda row: row.pk), now=now or clock.now())


def _submit(rows: list[FulfilmentTransaction], *, now: datetime) -> list[FulfilmentTransaction]:
    """Create and confirm `rows` (in primary-key order, their attempts counted already) at the
    gateway holding no lock, record the gateway ids learnt, and apply the answers together."""
    if not rows:
        return []
    gateway = gateway_get()
    reports: list[StatusReport] = []
    unanswered: list[tuple[FulfilmentTransaction, str]] = []
    unknown_ids = [row for row in rows if not row.gateway_transaction_id]
    for row in rows:
        expired = now >= row.created_at + settings.VIGENCIA_FULFILMENT_MAX_AGE
        try:
            remote = _drive_at_gateway(row, gateway, may_create=not expired, record=False)
        except GatewayRejected as exc:
            reports.append(StatusReport(row, FulfilmentStatus.DECLINED, error=str(exc)))
            continue
        except GatewayUnavailable as exc:
            if expired:
                reports.append(
                    StatusReport(row, FulfilmentStatus.DECLINED, error=f"no answer before the max age: {exc}")
                )
            else:
                unanswered.append((row, str(exc)))
            continue
        if remote is None:
            error = "never reached the gateway before the max age"
            reports.append(StatusReport(row, FulfilmentStatus.DECLINED, error=error))
        elif remote.status == FulfilmentStatus.CREATED and expired:
            error = "not confirmed before the max age"
            reports.append(StatusReport(row, FulfilmentStatus.DECLINED, remote.gateway_transaction_id, error))
        else:
            reports.append(StatusReport(row, remote.status, remote.gateway_transaction_id))
    learnt = {row.pk: row.gateway_transaction_id for row in unknown_ids if row.gateway_transaction_id}
    if learnt:
        FulfilmentTransaction.objects.filter(pk__in=learnt, gateway_transaction_id="").update(
            gateway_transaction_id=Case(*(When(pk=pk, then=Value(value)) for pk, value in learnt.items()))
        )
    for row, error in unanswered:
        _unanswered(row, now=now, error=error)
    return [row for row, _error in unanswered] + fulfilment_apply_status_many(reports=reports, now=now)


def _drive_at_gateway(
    transaction: FulfilmentTransaction, gateway: CarrierGateway, *, may_create: bool, record: bool = True
) -> GatewayTransaction | None:
    """The gateway's view after (when allowed) creating and confirming. None: the gateway does not
    know it and we may no longer create it. CREATED is returned only when we may not confirm. A
    gateway id learnt here is recorded at once, unless `record` is False (the caller records it)."""
    remote: GatewayTransaction | None
    if transaction.gateway_transaction_id:
        remote = gateway.get_transaction(gateway_transaction_id=transaction.gateway_transaction_id)
    elif may_create:
        remote = gateway.create_transaction(
            external_id=transaction.external_id,
            msisdn=transaction.msisdn,
            operator=transaction.carrier_code,
            product=transaction.plan_code,
            amount=transaction.amount,
        )
    else:
        remote = gateway.find_transaction(external_id=transaction.external_id)
    if remote is None:
        return None
    if not transaction.gateway_transaction_id:
        if record:
            FulfilmentTransaction.objects.filter(pk=transaction.pk, gateway_transaction_id="").update(
                gateway_transaction_id=remote.gateway_transaction_id
            )
        transaction.gateway_transaction_id = remote.gateway_transaction_id
    if remote.status == FulfilmentStatus.CREATED and may_create:
        remote = gateway.confirm_transaction(gateway_transaction_id=remote.gateway_transaction_id)
    return remote


def _unanswered(transaction: FulfilmentTransaction, *, now: datetime, error: str) -> FulfilmentTransaction:
    """The gateway did not answer: the row waits for reconciliation, its next check backed off."""
    with db_transaction.atomic():
        next_check_at = now + _backoff(transaction.attempts)
        FulfilmentTransaction.objects.filter(pk=transaction.pk).update(
            last_error=error[:2000], next_check_at=next_check_at, updated_at=clock.now()
        )
        transaction.last_error, transaction.next_check_at = error[:2000], next_check_at
        _event(
            transaction, FulfilmentEventKind.GATEWAY_FAILED, error=error[:500], attempt=transaction.attempts
        )
    return transaction


def fulfilment_apply_status(
    *,
    transaction: FulfilmentTransaction,
    status: str,
    gateway_transaction_id: str | None = None,
    now: datetime | None = None,
) -> FulfilmentTransaction:
    """Apply a status the gateway reported (answer, callback or poll). Locks the row. Idempotent:
    the current status again only pushes the next check; a status that would go backwards (a late
    or duplicate callback) changes nothing and is recorded as a `late_status` event. Reaching
    COMPLETED, DECLINED or REVERSED calls the reference's handler in the same database transaction
    (`fulfilment_apply_status_many` for one)."""
    [applied] = fulfilment_apply_status_many(
        reports=[StatusReport(transaction, status, gateway_transaction_id)], now=now
    )
    return applied


def fulfilment_apply_status_many(
    *, reports: list[StatusReport], now: datetime | None = None
) -> list[FulfilmentTransaction]:
    """`fulfilment_apply_status` for many top-ups at once, with the same rules per row: the rows are
    locked in one query (primary-key order), moved in one UPDATE, their events inserted in bulk, and
    the final ones handed to their reference kind's handler together
    (settings.VIGENCIA_FULFILMENT_HANDLERS), all in one database transaction. Conflict (nothing
    written) if the gateway reported another transaction for one of them."""
    for report in reports:
        if report.status not in FulfilmentStatus.values:
            raise InvalidInput(
                _("Unknown top-up status."), code="invalid_status", details={"status": report.status}
            )
    if not reports:
        return []
    now = now or clock.now()
    with db_transaction.atomic():
        locked = {
            row.pk: row
            for row in FulfilmentTransaction.objects.select_for_update()
            .filter(pk__in=[report.transaction.pk for report in reports])
            .order_by("pk")
        }
        events: list[FulfilmentEvent] = []
        finals: list[FulfilmentTransaction] = []
        for report in reports:
            row, status, reported_id = (
                locked[report.transaction.pk],
                report.status,
                report.gateway_transaction_id,
            )
            if reported_id and row.gateway_transaction_id not in ("", reported_id):
                raise Conflict(
                    _("The gateway reported another transaction for this top-up."),
                    code="gateway_transaction_mismatch",
                    details={"expected": row.gateway_transaction_id, "reported": reported_id},
                )
            row.updated_at = clock.now()
            if report.error:
                row.last_error = report.error[:2000]
            if reported_id and not row.gateway_transaction_id:
                row.gateway_transaction_id = reported_id
            if status == row.status or not FULFILMENT_TRANSITIONS.can(row.status, status):
                if status != row.status:
                    events.append(
                        FulfilmentEvent(
                            transaction=row,
                            kind=FulfilmentEventKind.LATE_STATUS,
                            data={"status": row.status, "reported": status},
                        )
                    )
                    if row.status == FulfilmentStatus.DECLINED and status == FulfilmentStatus.COMPLETED:
                        logger.error(
                            "top-up %s completed after it was declined: settle by hand", row.external_id
                        )
                if not row.is_final:
                    row.next_check_at = now + _backoff(row.attempts)
                continue
            final = status in FINAL_STATUSES
            row.next_check_at = None if final else now + _backoff(row.attempts)
            if status == FulfilmentStatus.COMPLETED:
                row.completed_at = now
            events.append(
                FulfilmentEvent(
                    transaction=row,
                    kind=FulfilmentEventKind.STATUS_CHANGED,
                    data={"from": row.status, "to": status},
                )
            )
            row.status = status
            if final:
                finals.append(row)
        rows_update(
            FulfilmentTransaction,
            list(locked.values()),
            ["status", "updated_at", "last_error", "gateway_transaction_id", "next_check_at", "completed_at"],
        )
        FulfilmentEvent.objects.bulk_create(events, batch_size=1_000)
        _notify_handlers(finals)
    return [locked[report.transaction.pk] for report in reports]


def _notify_handlers(transactions: list[FulfilmentTransaction]) -> None:
    """Hand the top-ups that ended to their reference kind's handler, each kind's together."""
    by_kind: dict[str, list[FulfilmentTransaction]] = {}
    for transaction in transactions:
        by_kind.setdefault(transaction.reference.split(":")[0], []).append(transaction)
    for kind, group in by_kind.items():
        path = settings.VIGENCIA_FULFILMENT_HANDLERS.get(kind)
        if path:
            import_string(path)(transactions=group)


def fulfilment_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Ask the gateway about every open top-up whose `next_check_at` is due, oldest first, at most
    settings.VIGENCIA_FULFILMENT_BATCH per run. Rows are claimed with a lease (FOR UPDATE SKIP
    LOCKED on PostgreSQL) so two reconcilers never poll the same row. Resubmits (same external id)
    what the gateway never got, confirms what it holds unconfirmed, and applies the max-age rule
    described at the top of this module. Returns counts by outcome."""
    now = now or clock.now()
    with db_transaction.atomic():
        due = list(
            FulfilmentTransaction.objects.filter(next_check_at__lte=now)
            .exclude(status__in=FINAL_STATUSES)
            .order_by("next_check_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[: settings.VIGENCIA_FULFILMENT_BATCH]
        )
        FulfilmentTransaction.objects.filter(pk__in=due).update(next_check_at=now + _LEASE)
    counts = {"checked": 0, "completed": 0, "declined": 0, "reversed": 0, "pending": 0, "failed": 0}
    for pk in due:
        transaction = FulfilmentTransaction.objects.get(pk=pk)
        counts["checked"] += 1
        try:
            transaction = fulfilment_submit(transaction=transaction, now=now)
        except Exception:
            # One broken row (a failing handler, say) must not stop the batch; it is retried later.
            logger.exception("reconciling top-up %s failed", transaction.external_id)
            counts["failed"] += 1
            continue
        counts[transaction.status if transaction.is_final else "pending"] += 1
    return counts


def fulfilment_callback_receive(*, gateway_name: str, body: bytes, signature: str) -> FulfilmentTransaction:
    """A signed status callback from the gateway. Verifies the HMAC signature and timestamp before
    reading anything; then applies the status (duplicates and out-of-order ones are no-ops)."""
    if gateway_name != gateway_get().name:
        raise NotFound(_("No such gateway."), code="unknown_gateway")
    # The carrier signs with its wall clock, so the check uses the wall clock, not the injectable one.
    secret = settings.VIGENCIA_CARRIER_CALLBACK_SECRET
    if not signature_valid(secret=secret, body=body, header=signature, now=time.time()):
        raise InvalidCallbackSignature(_("The callback signature is not valid."))
    try:
        remote = transaction_from_json(json.loads(body))
    except (ValueError, GatewayUnavailable):
        raise InvalidInput(_("The callback is not a transaction."), code="invalid_callback")
    transaction = FulfilmentTransaction.objects.filter(external_id=remote.external_id).first()
    if transaction is None:
        raise NotFound(_("No such top-up."), code="unknown_transaction")
    return fulfilment_apply_status(
        transaction=transaction, status=remote.status, gateway_transaction_id=remote.gateway_transaction_id
    )
