"""Voucher reads: a reseller's batches with their counts, verifying a serial, the failure rate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from vigencia.accounts import roles
from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.core.errors import InvalidInput, NotFound
from vigencia.vouchers.codes import serial_clean, serial_display, serial_make
from vigencia.vouchers.models import (
    VOUCHER_TRANSITIONS,
    AttemptOutcome,
    RedemptionAttempt,
    ResellerApiKey,
    ResellerProfile,
    VoucherBatch,
    VoucherCode,
    VoucherStatus,
)


def batch_list(*, reseller: User | None = None) -> QuerySet[VoucherBatch]:
    """Batches (a reseller's own, or all), each annotated with `redeemed`, `active` and `void` counts."""
    batches = VoucherBatch.objects.select_related("plan", "plan__carrier", "reseller")
    if reseller is not None:
        batches = batches.filter(reseller=reseller)
    return batches.annotate(
        redeemed=Count("codes", filter=Q(codes__status=VoucherStatus.REDEEMED)),
        active=Count("codes", filter=Q(codes__status=VoucherStatus.ACTIVE)),
        void=Count("codes", filter=Q(codes__status=VoucherStatus.VOID)),
    )


def batch_get(*, reseller: User, batch_id: int) -> VoucherBatch:
    """One of the reseller's batches; another's is simply not found."""
    batch = batch_list(reseller=reseller).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(code="batch_not_found")
    return batch


def void_range(*, batch: VoucherBatch, serial_from: str = "", serial_to: str = "") -> tuple[str, str]:
    """The serials from `serial_from` to `serial_to` of `batch` (as printed, with or without dashes),
    as stored; ("", "") for the whole batch. InvalidInput `invalid_range` says what is wrong."""
    bounds = [serial_clean(s) if s.strip() else "" for s in (serial_from, serial_to)]
    if any(b is None or (b and b[:6] != f"{batch.pk:06d}") for b in bounds):
        raise InvalidInput(
            _("Those are not serials of batch #%(batch)d.") % {"batch": batch.pk}, code="invalid_range"
        )
    first, last = (b or "" for b in bounds)
    if bool(first) != bool(last):
        raise InvalidInput(_("Give the first and the last serial of the range."), code="invalid_range")
    if first > last:
        raise InvalidInput(
            _("The first serial %(first)s comes after the last %(last)s: give them the other way round.")
            % {"first": serial_display(first), "last": serial_display(last)},
            code="invalid_range",
        )
    end = serial_make(batch_id=batch.pk, index=batch.count)
    if last > end:
        raise InvalidInput(
            _("Batch #%(batch)d ends at serial %(end)s.") % {"batch": batch.pk, "end": serial_display(end)},
            code="invalid_range",
        )
    return first, last


def voidable_count(*, batch: VoucherBatch, serial_from: str = "", serial_to: str = "") -> int:
    """How many codes voucher_void would void now: the batch's (or the range's) codes that are not yet
    redeemed, void or expired. InvalidInput as void_range."""
    first, last = void_range(batch=batch, serial_from=serial_from, serial_to=serial_to)
    codes = VoucherCode.objects.filter(
        batch=batch, status__in=VOUCHER_TRANSITIONS.sources_of(VoucherStatus.VOID)
    )
    if first:
        codes = codes.filter(serial__gte=first, serial__lte=last)
    return codes.count()


def reseller_api_keys(*, reseller: User) -> QuerySet[ResellerApiKey]:
    """The reseller's API keys, newest first, revoked ones too."""
    return ResellerApiKey.objects.filter(user=reseller).order_by("-created_at", "-pk")


def voucher_verify(*, serial: str) -> dict[str, Any]:
    """Is this serial one of ours, and in what state? Says nothing about the PIN."""
    clean = serial_clean(serial)
    status = (
        VoucherCode.objects.filter(serial=clean).values_list("status", flat=True).first() if clean else None
    )
    return {"genuine": status is not None, "status": status}


def resellers_listed() -> QuerySet[ResellerProfile]:
    return ResellerProfile.objects.filter(
        listed=True, user__is_active=True, user__groups__name=roles.RESELLER
    ).order_by("display_name")


def redemption_failure_rate(*, minutes: int = 60) -> dict[str, Any]:
    """Redemption attempts in the last `minutes`, by outcome, and the share that failed."""
    since = clock.now() - timedelta(minutes=minutes)
    counts = dict(
        RedemptionAttempt.objects.filter(created_at__gte=since)
        .values_list("outcome")
        .annotate(n=Count("id"))
        .values_list("outcome", "n")
    )
    total = sum(counts.values())
    failed = counts.get(AttemptOutcome.INVALID, 0) + counts.get(AttemptOutcome.LOCKED, 0)
    return {
        "minutes": minutes,
        "attempts": total,
        "redeemed": counts.get(AttemptOutcome.REDEEMED, 0),
        "invalid": counts.get(AttemptOutcome.INVALID, 0),
        "locked": counts.get(AttemptOutcome.LOCKED, 0),
        "failure_rate": round(failed / total, 4) if total else 0.0,
    }
