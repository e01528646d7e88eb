"""The demo a new user gets: `make run` seeds buckets and var/demo-usage.csv; importing it as the
README says draws the buckets down, fills the statement's chart and sends the data alert once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.core.management import call_command

from vigencia.core import clock
from vigencia.lines.models import Line
from vigencia.notifications.models import Notification
from vigencia.usage.models import AlertRule, Bucket, UsageRecord
from vigencia.usage.selectors import statement_build
from vigencia.usage.services import bucket_expire_sweep

from .conftest import T0


def test_importing_the_demo_usage_draws_the_buckets_down_fills_the_chart_and_alerts_once(
    db, settings, tmp_path
):
    # given the demo seeded as `make run` does
    settings.VAR_DIR = tmp_path
    with clock.frozen(T0):
        call_command("seed_demo", verbosity=0, stdout=StringIO())
    lines = list(Line.objects.filter(usage_credits__isnull=False).distinct().order_by("pk"))
    assert len(lines) == 5

    # and the worker's expiry sweep ran before the user imports the file
    with clock.frozen(T0 + timedelta(minutes=1)):
        assert bucket_expire_sweep() == 0

    # when the README's command imports the file, twice
    for _ in range(2):
        with clock.frozen(T0 + timedelta(minutes=5)):
            call_command("usage", "import", str(tmp_path / "demo-usage.csv"), stdout=StringIO(), verbosity=0)

    # then every record is rated, and every line's data bucket went down without running out
    assert UsageRecord.objects.count() == 220
    assert UsageRecord.objects.filter(rated_at__isnull=True).count() == 0
    for line in lines:
        data = Bucket.objects.get(line=line, kind="data")
        used_kb = sum(
            record.in_bundle_quantity for record in UsageRecord.objects.filter(line=line, kind="data")
        )
        assert (line.msisdn, data.expired_at, data.remaining) == (line.msisdn, None, data.initial - used_kb)
        assert 0 < data.remaining < data.initial
        records = UsageRecord.objects.filter(line=line, kind="data")
        assert [(r.in_bundle_quantity, r.uncovered_minor) for r in records] == [
            (r.rated_quantity, 0) for r in records
        ]
    # and the statement's chart has the 14 days of data usage
    first = lines[0]
    today = T0.date()
    statement = statement_build(line=first, date_from=today - timedelta(days=29), date_to=today)
    assert sum(1 for kb in statement.daily["data"] if kb > 0) == 14
    # and the first line's "data low" alert was sent once, for all the repeats
    rule = AlertRule.objects.get(line=first)
    assert rule.data_fired is True
    sent = Notification.objects.filter(dedupe_key__startswith=f"usage-alert:{rule.pk}:data_fired:")
    assert [(n.user_id, n.channel) for n in sent] == [(first.owner_id, "email")]
