"""Voucher reads: a reseller's batches with their counts, verifying a serial, the failure rate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet

from vigencia.accounts import roles
from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.core.errors import NotFound
from vigencia.vouchers.codes import serial_clean
from vigencia.vouchers.models import (
    AttemptOutcome,
    RedemptionAttempt,
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
