"""Rating arithmetic, pure and exact (integers only): rounding, out-of-bundle prices, bucket order.

The services load a batch of records with their lines' buckets and tariffs, rate them here in memory
in started_at order, and write every result back in a few bulk statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from vigencia.usage.models import Bucket, BucketKind, DestinationClass, Tariff, UsageKind, VoiceRounding

KB = 1024
# What one out-of-bundle rate is quoted per, in rated units: a minute of voice, an SMS, a MB of data.
_RATE_UNIT = {UsageKind.VOICE: 60, UsageKind.SMS: 1, UsageKind.DATA: 1024}
_BUCKET_OF = {
    UsageKind.VOICE: BucketKind.VOICE,
    UsageKind.SMS: BucketKind.SMS,
    UsageKind.DATA: BucketKind.DATA,
}


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def rated_quantity(*, kind: str, quantity: int, tariff: Tariff) -> int:
    """The quantity charged, in bucket units: voice seconds (per second, or whole started minutes),
    SMS count, data KB rounded up to the tariff's step."""
    if kind == UsageKind.VOICE:
        if tariff.voice_rounding == VoiceRounding.PER_MINUTE:
            return _ceil_div(quantity, 60) * 60
        return quantity
    if kind == UsageKind.DATA:
        step = tariff.data_step_kb
        return _ceil_div(_ceil_div(quantity, KB), step) * step
    return quantity


def out_of_bundle_price(*, kind: str, destination_class: str, units: int, tariff: Tariff) -> int:
    """Minor units for `units` rated units beyond the bundle; a fraction of a minor unit rounds up."""
    international = destination_class == DestinationClass.INTERNATIONAL
    if kind == UsageKind.VOICE:
        rate = (
            tariff.voice_international_per_minute_minor
            if international
            else tariff.voice_national_per_minute_minor
        )
    elif kind == UsageKind.SMS:
        rate = tariff.sms_international_minor if international else tariff.sms_national_minor
    else:
        rate = tariff.data_per_mb_minor
    return _ceil_div(units * rate, _RATE_UNIT[UsageKind(kind)])


def consume(*, amount: int, buckets: Sequence[Bucket], at: datetime) -> tuple[list[tuple[Bucket, int]], int]:
    """Take `amount` from the buckets valid at `at`, the earliest expiry first (ties: the older
    bucket). Returns what was taken from each and what is left over. Mutates `remaining`."""
    taken: list[tuple[Bucket, int]] = []
    for bucket in sorted(buckets, key=lambda b: (b.expires_at, b.pk)):
        if amount == 0:
            break
        if bucket.remaining <= 0 or not (bucket.valid_from <= at < bucket.expires_at):
            continue
        take = min(amount, bucket.remaining)
        bucket.remaining -= take
        amount -= take
        taken.append((bucket, take))
    return taken, amount


@dataclass
class Rated:
    rated_quantity: int
    in_bundle_quantity: int
    price_minor: int
    money_charged_minor: int
    uncovered_minor: int
    charges: list[tuple[Bucket, int]] = field(default_factory=list)


def rate_one(
    *,
    kind: str,
    quantity: int,
    destination_class: str,
    at: datetime,
    tariff: Tariff,
    buckets: dict[str, list[Bucket]],
) -> Rated:
    """Rate one record: bundle units first, then the out-of-bundle price from the money buckets.
    What the balance cannot cover is `uncovered_minor`, unless the tariff allows overage: then it is
    taken from the money bucket valid at `at` that expires last, which goes below zero."""
    units = rated_quantity(kind=kind, quantity=quantity, tariff=tariff)
    unit_charges, leftover = consume(
        amount=units, buckets=buckets.get(_BUCKET_OF[UsageKind(kind)], []), at=at
    )
    price = out_of_bundle_price(kind=kind, destination_class=destination_class, units=leftover, tariff=tariff)
    money_buckets = buckets.get(BucketKind.MONEY, [])
    money_charges, uncovered = consume(amount=price, buckets=money_buckets, at=at)
    valid = [b for b in money_buckets if b.valid_from <= at < b.expires_at]
    if uncovered and tariff.allows_overage and valid:
        debtor = max(valid, key=lambda b: (b.expires_at, b.pk))
        debtor.remaining -= uncovered
        money_charges.append((debtor, uncovered))
        uncovered = 0
    return Rated(
        rated_quantity=units,
        in_bundle_quantity=units - leftover,
        price_minor=price,
        money_charged_minor=price - uncovered,
        uncovered_minor=uncovered,
        charges=unit_charges + money_charges,
    )
