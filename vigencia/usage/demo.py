"""Demo tariffs, a renewal credit on every demo line, an alert, and var/demo-usage.csv to import."""

from __future__ import annotations

import csv
from datetime import timedelta
from typing import TextIO

from django.conf import settings

from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.lines.models import Line
from vigencia.usage.models import AlertRule, Bucket, BucketKind, Tariff
from vigencia.usage.services import alert_rule_set, bucket_credit_renewal

DEMO_FILE = "demo-usage.csv"
CREDITED_DAYS_AGO = 15


def seed(out: TextIO) -> None:
    for each in Plan.objects.all():
        Tariff.objects.get_or_create(
            plan=each,
            defaults={
                "money_credit_minor": 500,
                "voice_rounding": "per_minute",
                "data_step_kb": 10,
                "data_per_mb_minor": 5,
            },
        )
    lines = list(
        Line.objects.filter(owner__email__endswith="@demo.vigencia.pe", removed_at__isnull=True).order_by(
            "pk"
        )
    )
    now = clock.now()
    rows = []
    for line in lines:
        plans = Plan.objects.filter(carrier=line.carrier)
        # A plan still valid today when credited before the usage starts, so the usage draws its
        # buckets down (not the out-of-bundle rates of buckets that expired on the way).
        plan: Plan | None = (
            plans.filter(data_mb__gt=0, validity_days__gte=CREDITED_DAYS_AGO + 1)
            .order_by("data_mb", "price_minor")
            .first()
            or plans.filter(validity_days__gte=CREDITED_DAYS_AGO + 1).order_by("price_minor").first()
            or plans.first()
        )
        if plan is None:
            continue
        with clock.frozen(now - timedelta(days=CREDITED_DAYS_AGO)):
            bucket_credit_renewal(line=line, plan=plan, reference=f"demo:{line.pk}")
        for day in range(14, 0, -1):
            at = now - timedelta(days=day, hours=3)
            rows.append(
                [
                    f"demo-{line.pk}-d{day}",
                    line.msisdn,
                    "data",
                    at.isoformat(),
                    40 * 1024 * 1024 * (1 + day % 3),
                    "",
                    "",
                ]
            )
            rows.append(
                [
                    f"demo-{line.pk}-v{day}",
                    line.msisdn,
                    "voice",
                    (at + timedelta(hours=1)).isoformat(),
                    95 + day * 7,
                    "+51987000111",
                    "",
                ]
            )
            rows.append(
                [
                    f"demo-{line.pk}-s{day}",
                    line.msisdn,
                    "sms",
                    (at + timedelta(hours=2)).isoformat(),
                    1,
                    "+8613800138000",
                    "",
                ]
            )
        # A record the carrier charged differently from the plan's rates, and a duplicate under another id.
        at = now - timedelta(hours=5)
        rows.append([f"demo-{line.pk}-intl", line.msisdn, "voice", at.isoformat(), 61, "+8613800138000", 999])
        rows.append(
            [
                f"demo-{line.pk}-dup",
                line.msisdn,
                "sms",
                (now - timedelta(days=1, hours=1)).isoformat(),
                1,
                "+8613800138000",
                "",
            ]
        )
    for line in lines[:1]:
        if not AlertRule.objects.filter(line=line).exists():
            # Crossed half-way through the demo usage, so importing it sends the "data low" email.
            data_mb = (
                sum(bucket.initial for bucket in Bucket.objects.filter(line=line, kind=BucketKind.DATA))
                // 1024
            )
            used_mb = (
                sum(int(str(row[4])) for row in rows if row[1] == line.msisdn and row[2] == "data") // 2**20
            )
            alert_rule_set(line=line, data_below_mb=max(1, data_mb - used_mb // 2), expiring_within_days=3)
    path = settings.VAR_DIR / DEMO_FILE
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["record_id", "msisdn", "kind", "started_at", "quantity", "destination", "charged_minor"]
        )
        writer.writerows(rows)
    out.write(
        f"usage: buckets on {len(lines)} demo lines; {len(rows)} demo records in {path} — load them with `vigencia usage import {path}`\n"
    )
