"""Rating: every rounding rule, bucket order, overage, expiry, idempotent credits, re-rating."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import PlanFactory
from vigencia.core import clock
from vigencia.core.errors import DomainError
from vigencia.usage import services
from vigencia.usage.ingest import RecordIn
from vigencia.usage.models import Bucket, Charge, Credit, Rerating, Tariff, UsageRecord
from vigencia.usage.rating import out_of_bundle_price, rated_quantity
from vigencia.usage.selectors import charges_of
from vigencia.usage.services import (
    bucket_credit_renewal,
    bucket_expire_sweep,
    usage_rate_pending,
    usage_records_ingest,
    usage_rerate,
)

from .conftest import T0


@pytest.mark.parametrize(
    ("kind", "quantity", "rounding", "step", "expected"),
    [
        ("voice", 61, "per_second", 1, 61),
        ("voice", 61, "per_minute", 1, 120),
        ("voice", 60, "per_minute", 1, 60),
        ("voice", 0, "per_minute", 1, 0),
        ("data", 1, "per_second", 1, 1),
        ("data", 1024, "per_second", 1, 1),
        ("data", 1025, "per_second", 1, 2),
        ("data", 1025, "per_second", 10, 10),
        ("data", 10 * 1024 + 1, "per_second", 10, 20),
        ("sms", 3, "per_minute", 10, 3),
    ],
)
def test_rated_quantity_rounds_up_per_rule(kind, quantity, rounding, step, expected):
    tariff = Tariff(voice_rounding=rounding, data_step_kb=step)
    assert rated_quantity(kind=kind, quantity=quantity, tariff=tariff) == expected


def test_out_of_bundle_price_rounds_a_fraction_of_a_cent_up():
    tariff = Tariff(
        voice_national_per_minute_minor=20,
        voice_international_per_minute_minor=150,
        data_per_mb_minor=5,
        sms_international_minor=50,
    )
    assert (
        out_of_bundle_price(kind="voice", destination_class="national", units=61, tariff=tariff) == 21
    )  # 20.33
    assert (
        out_of_bundle_price(kind="voice", destination_class="international", units=60, tariff=tariff) == 150
    )
    assert (
        out_of_bundle_price(kind="data", destination_class="national", units=1025, tariff=tariff) == 6
    )  # 5.005
    assert out_of_bundle_price(kind="sms", destination_class="international", units=2, tariff=tariff) == 100


def _ingest(*records):
    rows = [(n, RecordIn(*r)) for n, r in enumerate(records, start=1)]
    return usage_records_ingest(source="test", rows=rows, enqueue_rating=False)


def test_credit_is_idempotent_by_reference(line, plan, tariff, at_t0):
    first = bucket_credit_renewal(line=line, plan=plan, reference="order:1")
    again = bucket_credit_renewal(line=line, plan=plan, reference="order:1")
    assert again.pk == first.pk
    assert Credit.objects.count() == 1
    assert sorted(Bucket.objects.values_list("kind", "initial", "remaining", "expires_at")) == [
        ("data", 10240, 10240, T0 + timedelta(days=30)),
        ("money", 1000, 1000, T0 + timedelta(days=30)),
        ("sms", 3, 3, T0 + timedelta(days=30)),
        ("voice", 300, 300, T0 + timedelta(days=30)),
    ]


def test_consumes_the_earliest_expiry_first_then_money(line, plan, tariff):
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    short = PlanFactory(carrier=plan.carrier, validity_days=3, minutes=2, currency="PEN")
    with clock.frozen(T0 + timedelta(days=1)):
        bucket_credit_renewal(line=line, plan=short, reference="b")
    with clock.frozen(T0 + timedelta(days=2)):
        # 10 minutes: 120 s from the short bucket (expires first), 300 s from the long one, then
        # 180 s out of bundle at 20 per minute (the latest credit's plan has no tariff: defaults).
        _ingest(("r1", line.msisdn, "voice", T0 + timedelta(days=2), 600, "+51987654321", None))
        assert usage_rate_pending() == 1
    record = UsageRecord.objects.get()
    assert (
        record.rated_quantity,
        record.in_bundle_quantity,
        record.price_minor,
        record.money_charged_minor,
        record.uncovered_minor,
    ) == (600, 420, 60, 60, 0)
    assert dict(Bucket.objects.filter(kind="voice").values_list("credit__reference", "remaining")) == {
        "a": 0,
        "b": 0,
    }
    assert Bucket.objects.get(kind="money").remaining == 940
    assert sorted(Charge.objects.values_list("bucket__credit__reference", "bucket__kind", "amount")) == [
        ("a", "money", 60),
        ("a", "voice", 300),
        ("b", "voice", 120),
    ]


def test_without_overage_the_uncovered_price_is_recorded_and_nothing_goes_below_zero(line, plan, tariff):
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        # 20 MB + 1 byte of data: 10 MB from the bundle, 10 MB + 10 KB step out of bundle = 51 cents,
        # then an international call of 10 minutes = 1500, of which the balance covers 949.
        _ingest(
            ("d1", line.msisdn, "data", T0, 20 * 1024 * 1024 + 1, "", None),
            ("v1", line.msisdn, "voice", T0 + timedelta(seconds=1), 600, "+8613800138000", 1500),
        )
        usage_rate_pending()
    data, voice = UsageRecord.objects.order_by("started_at")
    assert (data.rated_quantity, data.in_bundle_quantity, data.price_minor, data.money_charged_minor) == (
        20490,
        10240,
        51,
        51,
    )
    assert (
        voice.in_bundle_quantity,
        voice.price_minor,
        voice.money_charged_minor,
        voice.uncovered_minor,
    ) == (300, 750, 750, 0)
    assert Bucket.objects.get(kind="money").remaining == 199


def test_records_before_a_credit_or_after_expiry_do_not_use_it(line, plan, tariff):
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        _ingest(
            ("early", line.msisdn, "sms", T0 - timedelta(hours=1), 1, "+51987654321", None),
            ("late", line.msisdn, "sms", T0 + timedelta(days=30), 1, "+51987654321", None),
        )
    with clock.frozen(T0 + timedelta(days=31)):
        usage_rate_pending()
    assert list(
        UsageRecord.objects.order_by("started_at").values_list(
            "in_bundle_quantity", "price_minor", "uncovered_minor"
        )
    ) == [(0, 10, 10), (0, 10, 10)]
    assert Bucket.objects.get(kind="sms").remaining == 3


def test_expiry_sweep_removes_and_records_once(line, plan, tariff):
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    assert bucket_expire_sweep(at=T0 + timedelta(days=30) - timedelta(seconds=1)) == 0
    assert bucket_expire_sweep(at=T0 + timedelta(days=30)) == 4
    assert bucket_expire_sweep(at=T0 + timedelta(days=31)) == 0
    assert sorted(Bucket.objects.values_list("kind", "remaining", "expired_amount")) == [
        ("data", 0, 10240),
        ("money", 0, 1000),
        ("sms", 0, 3),
        ("voice", 0, 300),
    ]


def test_rerating_reverses_charges_and_is_audited(line, plan, tariff, user):
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        _ingest(("v1", line.msisdn, "voice", T0, 330, "+51987654321", None))
        usage_rate_pending()
    assert UsageRecord.objects.get().price_minor == 10  # 30 s at 20/min
    Tariff.objects.filter(pk=tariff.pk).update(voice_national_per_minute_minor=40)
    with clock.frozen(T0 + timedelta(hours=1)):
        audit = usage_rerate(
            actor=user, reason="rate fix", period_from=T0, period_to=T0 + timedelta(days=1), line=line
        )
    assert (audit.records, audit.price_before_minor, audit.price_after_minor) == (1, 10, 20)
    assert Bucket.objects.get(kind="money").remaining == 980
    assert Bucket.objects.get(kind="voice").remaining == 0
    assert Charge.objects.filter(reversed_by=audit).count() == 2
    assert Charge.objects.filter(reversed_by__isnull=True).count() == 2
    assert Rerating.objects.count() == 1


@pytest.fixture(params=["set-based", "record by record"])
def rater(request, monkeypatch):
    """Rate the set-based way (on PostgreSQL) or hand every record to the record-by-record rater."""
    if request.param == "record by record":
        monkeypatch.setattr(services.rating_sql, "rate_batch", lambda *, record_ids, now: record_ids)
    return request.param


def _charges():
    """What the current ratings took, as (record id, credit, bucket kind, amount)."""
    records = dict(UsageRecord.objects.values_list("pk", "record_id"))
    buckets = {b.pk: (b.credit.reference, b.kind) for b in Bucket.objects.select_related("credit")}
    return sorted((records[r], *buckets[b], a) for r, b, a in charges_of(records=UsageRecord.objects.all()))


def _three_calls_rated(line, plan) -> int:
    """A line with 300 s of voice and a balance of 1000 rates three calls: 100 s from the bundle;
    250 s of which 200 s from the bundle and 50 s at 20 per minute (17) from the balance; 60 s from
    the balance (20). Returns how many were rated."""
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        _ingest(
            ("v1", line.msisdn, "voice", T0, 100, "+51987654321", None),
            ("v2", line.msisdn, "voice", T0 + timedelta(minutes=5), 250, "+51987654321", None),
            ("v3", line.msisdn, "voice", T0 + timedelta(minutes=10), 60, "+51987654321", None),
        )
        return usage_rate_pending()


def test_a_charge_from_one_bucket_is_on_the_record_and_only_splits_are_charge_rows(line, plan, tariff, rater):
    # Given a line with 300 s of voice and a balance of 1000, when three calls are rated
    assert _three_calls_rated(line, plan) == 3

    # Then v1 and v3 name the one bucket they took from, and only v2's split is written as charges
    voice, money = Bucket.objects.get(kind="voice"), Bucket.objects.get(kind="money")
    assert dict(UsageRecord.objects.values_list("record_id", "charged_bucket")) == {
        "v1": voice.pk,
        "v2": None,
        "v3": money.pk,
    }
    assert sorted(Charge.objects.values_list("record__record_id", "bucket__kind", "amount")) == [
        ("v2", "money", 17),
        ("v2", "voice", 200),
    ]
    assert _charges() == [
        ("v1", "a", "voice", 100),
        ("v2", "a", "money", 17),
        ("v2", "a", "voice", 200),
        ("v3", "a", "money", 20),
    ]
    assert (voice.remaining, money.remaining) == (0, 963)


def test_rerating_reverses_the_charges_records_carry_into_the_audit(line, plan, tariff, user, rater):
    # Given three calls rated: one from the bundle, one split, one from the balance
    _three_calls_rated(line, plan)
    Tariff.objects.filter(pk=tariff.pk).update(voice_national_per_minute_minor=40)

    # When the day is re-rated at 40 per minute
    with clock.frozen(T0 + timedelta(hours=1)):
        audit = usage_rerate(
            actor=user, reason="rate fix", period_from=T0, period_to=T0 + timedelta(days=1), line=line
        )

    # Then every earlier charge, carried or not, is a Charge row reversed by the audit
    assert sorted(Charge.objects.filter(reversed_by=audit).values_list("record__record_id", "amount")) == [
        ("v1", 100),
        ("v2", 17),
        ("v2", 200),
        ("v3", 20),
    ]
    # and the new rating took from the refilled buckets exactly what a first rating would
    assert (audit.price_before_minor, audit.price_after_minor) == (37, 74)
    assert _charges() == [
        ("v1", "a", "voice", 100),
        ("v2", "a", "money", 34),
        ("v2", "a", "voice", 200),
        ("v3", "a", "money", 40),
    ]
    assert Bucket.objects.get(kind="voice").remaining == 0
    assert Bucket.objects.get(kind="money").remaining == 1000 - 74


def test_rerating_without_a_reason_writes_nothing(line, user):
    with pytest.raises(DomainError) as error:
        usage_rerate(actor=user, reason=" ", period_from=T0, period_to=T0 + timedelta(days=1))
    assert getattr(error.value, "code", None) == "reason_required"
    assert Rerating.objects.count() == 0
