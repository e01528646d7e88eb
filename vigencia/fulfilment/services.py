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
from datetime import datetime, timedelta
from typing import Any, cast

import phonenumbers
from django.conf import settings
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import CharField, F
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from vigencia.core import clock
from vigencia.core.db import insert_unless_taken
from vigencia.core.errors import Conflict, DomainError, InvalidInput, NotFound
from vigencia.core.money import Money
from vigencia.fulfilment.gateways import gateway_get
from vigencia.fulfilment.gateways.base import (
    CarrierGateway,
    GatewayRejected,
    GatewayTransaction,
    GatewayUnavailable,
)
from vigencia.fulfilment.gateways.http import transaction_from_json
from vigencia.fulfilment.gateways.signing import InvalidSignature, signature_verify
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


def fulfilment_start(
    *, external_id: str, reference: str, msisdn: str, carrier_code: str, plan_code: str, amount: Money
) -> FulfilmentTransaction:
    """Record a top-up and enqueue its submission in the same database transaction (so the task
    exists if and only if the caller's transaction commits). Idempotent by `external_id`: a second
    call returns the existing row and enqueues nothing; the same id with other details is a Conflict."""
    fields = {
        "external_id": external_id,
        "reference": reference,
        "carrier_code": carrier_code,
        "plan_code": plan_code,
    }
    for name, value in fields.items():
        max_length = cast(CharField, FulfilmentTransaction._meta.get_field(name)).max_length or 0
        if not value or not value.strip() or len(value) > max_length:
            raise InvalidInput(
                _("%(field)s is missing or too long.") % {"field": name},
                code="invalid",
                details={"field": name},
            )
    _check_msisdn(msisdn)
    if amount.amount_minor <= 0:
        raise InvalidInput(
            _("The amount must be positive."), code="invalid_amount", details={"field": "amount"}
        )
    wanted = {**fields, "msisdn": msisdn, "amount_minor": amount.amount_minor, "currency": amount.currency}

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
    if any(getattr(existing, name) != value for name, value in wanted.items()):
        raise Conflict(
            _("This external id is already used for another top-up."),
            code="external_id_reused",
            details={"external_id": external_id},
        )
    return existing


def fulfilment_submit(
    *, transaction: FulfilmentTransaction, now: datetime | None = None
) -> FulfilmentTransaction:
    """Create and confirm the top-up at the gateway under its external id, then apply the answer.
    Safe to run any number of times, concurrently too: the gateway dedupes by external id and
    confirms once. Holds no lock during the call. With no answer the row stays as it is with
    `next_check_at` pushed back (exponential backoff) for reconciliation to retry."""
    now = now or clock.now()
    transaction.refresh_from_db()
    if transaction.is_final:
        return transaction
    gateway = gateway_get()
    expired = now >= transaction.created_at + settings.VIGENCIA_FULFILMENT_MAX_AGE
    FulfilmentTransaction.objects.filter(pk=transaction.pk).update(attempts=F("attempts") + 1)
    transaction.refresh_from_db(fields=["attempts"])
    try:
        remote = _drive_at_gateway(transaction, gateway, may_create=not expired)
    except GatewayRejected as exc:
        return _decline(transaction, now=now, error=str(exc))
    except GatewayUnavailable as exc:
        return _unanswered(transaction, now=now, error=str(exc), expired=expired)
    if remote is None:
        return _decline(transaction, now=now, error="never reached the gateway before the max age")
    if remote.status == FulfilmentStatus.CREATED and expired:
        return _decline(
            transaction,
            now=now,
            error="not confirmed before the max age",
            gateway_transaction_id=remote.gateway_transaction_id,
        )
    return fulfilment_apply_status(
        transaction=transaction,
        status=remote.status,
        gateway_transaction_id=remote.gateway_transaction_id,
        now=now,
    )


def _drive_at_gateway(
    transaction: FulfilmentTransaction, gateway: CarrierGateway, *, may_create: bool
) -> GatewayTransaction | None:
    """The gateway's view after (when allowed) creating and confirming. None: the gateway does not
    know it and we may no longer create it. CREATED is returned only when we may not confirm."""
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
        FulfilmentTransaction.objects.filter(pk=transaction.pk, gateway_transaction_id="").update(
            gateway_transaction_id=remote.gateway_transaction_id
        )
        transaction.gateway_transaction_id = remote.gateway_transaction_id
    if remote.status == FulfilmentStatus.CREATED and may_create:
        remote = gateway.confirm_transaction(gateway_transaction_id=remote.gateway_transaction_id)
    return remote


def _decline(
    transaction: FulfilmentTransaction,
    *,
    now: datetime,
    error: str,
    gateway_transaction_id: str | None = None,
) -> FulfilmentTransaction:
    FulfilmentTransaction.objects.filter(pk=transaction.pk).update(last_error=error[:2000])
    transaction.last_error = error[:2000]
    return fulfilment_apply_status(
        transaction=transaction,
        status=FulfilmentStatus.DECLINED,
        gateway_transaction_id=gateway_transaction_id,
        now=now,
    )


def _unanswered(
    transaction: FulfilmentTransaction, *, now: datetime, error: str, expired: bool
) -> FulfilmentTransaction:
    if expired:
        return _decline(transaction, now=now, error=f"no answer before the max age: {error}")
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
    COMPLETED, DECLINED or REVERSED calls the reference's handler in the same database transaction."""
    if status not in FulfilmentStatus.values:
        raise InvalidInput(_("Unknown top-up status."), code="invalid_status", details={"status": status})
    now = now or clock.now()
    with db_transaction.atomic():
        transaction = FulfilmentTransaction.objects.select_for_update().get(pk=transaction.pk)
        if gateway_transaction_id and transaction.gateway_transaction_id not in ("", gateway_transaction_id):
            raise Conflict(
                _("The gateway reported another transaction for this top-up."),
                code="gateway_transaction_mismatch",
                details={"expected": transaction.gateway_transaction_id, "reported": gateway_transaction_id},
            )
        changes: dict[str, Any] = {"updated_at": clock.now()}
        if gateway_transaction_id and not transaction.gateway_transaction_id:
            changes["gateway_transaction_id"] = gateway_transaction_id
        if status == transaction.status or not FULFILMENT_TRANSITIONS.can(transaction.status, status):
            if status != transaction.status:
                _event(
                    transaction, FulfilmentEventKind.LATE_STATUS, status=transaction.status, reported=status
                )
                if transaction.status == FulfilmentStatus.DECLINED and status == FulfilmentStatus.COMPLETED:
                    logger.error(
                        "top-up %s completed after it was declined: settle by hand", transaction.external_id
                    )
            if not transaction.is_final:
                changes["next_check_at"] = now + _backoff(transaction.attempts)
            FulfilmentTransaction.objects.filter(pk=transaction.pk).update(**changes)
            transaction.refresh_from_db()
            return transaction
        final = status in FINAL_STATUSES
        changes["next_check_at"] = None if final else now + _backoff(transaction.attempts)
        if status == FulfilmentStatus.COMPLETED:
            changes["completed_at"] = now
        previous = FULFILMENT_TRANSITIONS.apply(transaction, field="status", target=status, **changes)
        _event(transaction, FulfilmentEventKind.STATUS_CHANGED, **{"from": previous, "to": status})
        transaction.refresh_from_db()
        if final:
            _notify_handler(transaction)
    return transaction


def _notify_handler(transaction: FulfilmentTransaction) -> None:
    path = settings.VIGENCIA_FULFILMENT_HANDLERS.get(transaction.reference.split(":")[0])
    if path:
        import_string(path)(transaction=transaction)


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
    try:
        signature_verify(body=body, header=signature, secret=settings.VIGENCIA_CARRIER_CALLBACK_SECRET)
    except InvalidSignature:
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
