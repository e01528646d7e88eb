"""Overage, the expiry and monthly-spend alerts, spike detection, a number held by several users,
and two imports of the same file at once (PostgreSQL)."""

from __future__ import annotations

import io
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from tests.factories import UserFactory
from vigencia.core import clock
from vigencia.lines.models import Line
from vigencia.usage.ingest import RecordIn
from vigencia.usage.models import Anomaly, Bucket, Charge, Tariff, UsageRecord
from vigencia.usage.selectors import charges_of
from vigencia.usage.services import (
    alert_rule_set,
    alerts_check,
    bucket_credit_renewal,
    bucket_expire_sweep,
    usage_file_import,
    usage_rate_pending,
    usage_records_ingest,
)

from .conftest import T0


def _ingest(*records, source="test"):
    rows = [(n, RecordIn(*r)) for n, r in enumerate(records, start=1)]
    return usage_records_ingest(source=source, rows=rows, enqueue_rating=False)


def _intl_call(line, seconds):
    return ("v1", line.msisdn, "voice", T0 + timedelta(hours=1), seconds, "+8613800138000", None)


def test_overage_takes_the_money_bucket_below_zero_when_the_plan_allows_it(line, plan, tariff):
    Tariff.objects.filter(pk=tariff.pk).update(allows_overage=True)
    with clock.frozen(T0 + timedelta(hours=2)):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="b")
        # 20 min international: 5 min from the bundle, 15 min at 150 = 2250; the balance has 1000.
        _ingest(_intl_call(line, 1200))
    with clock.frozen(T0 + timedelta(hours=3)):
        assert usage_rate_pending() == 1
    record = UsageRecord.objects.get()
    assert (record.price_minor, record.money_charged_minor, record.uncovered_minor) == (2250, 2250, 0)
    # "b" expires first and is emptied; the debt goes to the valid money bucket expiring last: "a"
    # is not valid at the call (credited after it), so it is "b" that goes below zero.
    assert dict(Bucket.objects.filter(kind="money").values_list("credit__reference", "remaining")) == {
        "a": 1000,
        "b": -1250,
    }
    assert sorted(Charge.objects.filter(bucket__kind="money").values_list("amount", flat=True)) == [
        1000,
        1250,
    ]


def test_without_overage_the_balance_stops_at_zero_and_the_rest_is_uncovered(line, plan, tariff):
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        _ingest(_intl_call(line, 1200))
        usage_rate_pending()
    record = UsageRecord.objects.get()
    assert (record.price_minor, record.money_charged_minor, record.uncovered_minor) == (2250, 1000, 1250)
    assert Bucket.objects.get(kind="money").remaining == 0


def test_the_sweep_keeps_an_overage_debt(line, plan, tariff):
    Tariff.objects.filter(pk=tariff.pk).update(allows_overage=True)
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        _ingest(_intl_call(line, 1200))
        usage_rate_pending()
    assert bucket_expire_sweep(at=T0 + timedelta(days=30)) == 4
    money = Bucket.objects.get(kind="money")
    assert (money.remaining, money.expired_amount) == (-1250, 0)


def test_expiry_alert_fires_once_inside_the_window(line, plan, tariff, monkeypatch):
    sent = []
    monkeypatch.setattr("vigencia.usage.services._notify", lambda **kwargs: sent.append(kwargs["body"]))
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        alert_rule_set(line=line, expiring_within_days=7)
    assert sent == []  # 30 days left
    with clock.frozen(T0 + timedelta(days=23)):
        assert alerts_check(line_ids=[line.pk]) == 1
        assert alerts_check(line_ids=[line.pk]) == 0
    assert sent == ["A Balance bucket of line +51 912 345 678 expires on 2025-03-31."]


def test_monthly_spend_alert_fires_when_rating_crosses_it(line, plan, tariff, monkeypatch):
    sent = []
    monkeypatch.setattr("vigencia.usage.services._notify", lambda **kwargs: sent.append(kwargs["body"]))
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        alert_rule_set(line=line, monthly_spend_above_minor=700)
    with clock.frozen(T0 + timedelta(hours=3)):
        _ingest(_intl_call(line, 480))  # 3 min out of bundle at 150 = 450: below
        usage_rate_pending()
        assert sent == []
        _ingest(("v2", line.msisdn, "voice", T0 + timedelta(hours=2), 120, "+8613800138000", None))
        usage_rate_pending()  # + 300 = 750 > 700
    assert sent == ["Line +51 912 345 678 spent S/\xa07.50 beyond its bundles this month."]


def test_spike_against_the_lines_own_history_is_flagged_once(line, plan, tariff, monkeypatch):
    monkeypatch.setattr("vigencia.usage.services._notify", lambda **kwargs: None)
    mb = 1024 * 1024
    history = [
        (f"h{day}", line.msisdn, "data", T0 - timedelta(days=day), 10 * mb, "", None) for day in range(1, 11)
    ]
    with clock.frozen(T0 + timedelta(hours=1)):
        _ingest(*history)
        usage_rate_pending()
        assert Anomaly.objects.count() == 0  # an even history has no spike
        _ingest(("big", line.msisdn, "data", T0, 200 * mb, "", None))
        usage_rate_pending()
    spike = Anomaly.objects.get()
    # 10 days of 10 MB over 28 days: an average of 3 MB; 200 MB is more than 5 times that.
    assert (spike.kind, spike.key, spike.details["amount"], spike.details["average"]) == (
        "spike",
        "data:2025-03-01",
        "200 MB",
        "3 MB",
    )


@pytest.mark.parametrize("way", ["api", "file"])
def test_usage_of_a_number_registered_by_several_users_goes_to_the_first_registration(
    way, line, plan, tariff
):
    """Nobody proves they hold a number: registering someone else's later shows nothing of theirs."""
    later = Line.objects.create(owner=UserFactory(), msisdn=line.msisdn, carrier=plan.carrier)
    lost = Line.objects.create(
        owner=UserFactory(), msisdn="+51987654321", carrier=plan.carrier, status="recycled"
    )
    holder = Line.objects.create(owner=UserFactory(), msisdn=lost.msisdn, carrier=plan.carrier)
    Line.objects.create(owner=UserFactory(), msisdn=line.msisdn, carrier=plan.carrier, removed_at=T0)
    records = [("s1", line.msisdn, "sms", T0, 1, "", None), ("s2", lost.msisdn, "sms", T0, 1, "", None)]
    with clock.frozen(T0 + timedelta(hours=1)):
        if way == "api":
            _ingest(*records)
        else:
            text = "record_id,msisdn,kind,started_at,quantity\n" + "".join(
                f"{r[0]},{r[1]},{r[2]},{r[3].isoformat()},{r[4]}\n" for r in records
            )
            usage_file_import(source="test", stream=io.BytesIO(text.encode()), fmt="csv", rate=False)
    assert dict(UsageRecord.objects.values_list("record_id", "line_id")) == {"s1": line.pk, "s2": holder.pk}
    assert later.pk > line.pk
    assert lost.pk < holder.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_file_at_once_count_nothing_twice(user, plan, tariff):
    line = Line.objects.create(owner=user, msisdn="+51912345678", carrier=plan.carrier)
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    records = [(f"r{n}", line.msisdn, "sms", T0 + timedelta(seconds=n), 1, "", None) for n in range(2000)]
    summaries = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            with clock.frozen(T0 + timedelta(hours=1)):
                summaries.append(_ingest(*records))
                usage_rate_pending(batch_size=500)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (sum(s.accepted for s in summaries), sum(s.duplicates for s in summaries)) == (2000, 2000)
    assert UsageRecord.objects.count() == 2000
    assert UsageRecord.objects.filter(rated_at__isnull=True).count() == 0
    # 3 SMS from the bundle, the rest at 10 each from the balance of 1000: 100 SMS, then uncovered.
    kinds = dict(Bucket.objects.values_list("pk", "kind"))
    taken = Counter(kinds[bucket] for _r, bucket, _a in charges_of(records=UsageRecord.objects.all()))
    assert taken == {"sms": 3, "money": 100}
    assert Bucket.objects.get(kind="sms").remaining == 0
    assert Bucket.objects.get(kind="money").remaining == 0
    assert sum(UsageRecord.objects.values_list("uncovered_minor", flat=True)) == (2000 - 3 - 100) * 10


def test_the_next_credit_pays_the_overage_debt_first(line, plan, tariff):
    # Given a line whose overage took its balance to -1250
    Tariff.objects.filter(pk=tariff.pk).update(allows_overage=True)
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
        _ingest(_intl_call(line, 1200))
        usage_rate_pending()
    assert Bucket.objects.get(kind="money").remaining == -1250
    # When the next renewal credits 1000, and then another one 1000
    with clock.frozen(T0 + timedelta(days=31)):
        bucket_expire_sweep()
        first = bucket_credit_renewal(line=line, plan=plan, reference="b")
        second = bucket_credit_renewal(line=line, plan=plan, reference="c")
    # Then the first pays 1000 of the debt and keeps nothing, the second pays the last 250
    money = dict(Bucket.objects.filter(kind="money").values_list("credit__reference", "remaining"))
    assert money == {"a": 0, "b": 0, "c": 750}
    assert (first.debt_settled_minor, second.debt_settled_minor) == (1000, 250)
    # And a credit with the same reference again pays nothing twice
    with clock.frozen(T0 + timedelta(days=31)):
        assert bucket_credit_renewal(line=line, plan=plan, reference="c").pk == second.pk
    assert Bucket.objects.get(credit__reference="c", kind="money").remaining == 750
