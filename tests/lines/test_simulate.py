"""`vigencia simulate`: a small population through simulated time with the real services."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from vigencia.accounts.models import User
from vigencia.catalog.models import Plan
from vigencia.lines.models import Line
from vigencia.lines.simulate import simulate
from vigencia.orders.models import RenewalOrder

pytestmark = pytest.mark.django_db


def test_a_small_population_keeps_every_funded_auto_renew_number_and_leaves_nothing(demo_catalog):
    users_before = User.objects.count()

    report = simulate(lines=40, months=4, failure_rate=0.2, seed=7, start=date(2026, 1, 5))

    assert report.lines == 40
    assert report.days == 120
    assert report.funded_autorenew_lines > 0
    assert report.numbers_lost_funded_autorenew == 0
    assert report.autorenewals > 0
    assert report.reminders_sent > 0
    assert set(report.total_cost) == {"PEN"}
    # the whole run was rolled back
    assert User.objects.count() == users_before
    assert Line.objects.count() == 0
    assert RenewalOrder.objects.count() == 0


def test_the_same_seed_gives_the_same_report(demo_catalog):
    first = simulate(lines=15, months=2, failure_rate=0.1, seed=3, start=date(2026, 1, 5)).as_dict()
    second = simulate(lines=15, months=2, failure_rate=0.1, seed=3, start=date(2026, 1, 5)).as_dict()
    first.pop("seconds"), second.pop("seconds")

    assert first == second


def test_the_command_prints_json(demo_catalog):
    out = StringIO()

    call_command("simulate", lines=5, months=1, failure_rate=0.0, seed=1, json=True, stdout=out)

    report = json.loads(out.getvalue())
    assert report["lines"] == 5
    assert report["numbers_lost_funded_autorenew"] == 0


def test_bad_arguments_are_refused(demo_catalog):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("simulate", lines=0, months=1, stdout=StringIO(), stderr=StringIO())


def test_days_with_nothing_due_are_skipped_and_the_progress_reaches_the_last_day(demo_catalog):
    # given a handful of lines over three months
    done: list[int] = []

    # when they are simulated
    report = simulate(
        lines=4, months=3, failure_rate=0.0, seed=5, start=date(2026, 1, 5), progress=done.append
    )

    # then only the days on which something was due were ticks, and the progress went up to the end
    assert report.days == 90
    assert 0 < report.ticks < report.days
    assert len(done) == report.ticks
    assert done == sorted(done)
    assert done[-1] == report.days


def test_auto_renew_buys_the_plan_the_planner_picks_for_the_line(demo_catalog):
    # given a simulated population (its lines and settings, before any tick)
    import random

    from vigencia.core import clock
    from vigencia.lines.lifecycle import line_anchor
    from vigencia.lines.models import AutoRenewSetting
    from vigencia.lines.planner import keepalive_plan
    from vigencia.lines.simulate import SimulationReport, _noon, _population

    start = date(2026, 1, 5)
    report = SimulationReport(lines=30, months=6, days=181, failure_rate=0.0, seed=1)
    with clock.frozen(_noon(start)):
        _population(report, start=start, rng=random.Random(1))

        # then each auto-renew line buys the first plan of its cheapest stay-active schedule (the
        # cheapest plan when the line needs none within the horizon)
        settings = list(AutoRenewSetting.objects.select_related("line__carrier", "plan"))
        assert settings
        for setting in settings:
            schedule = keepalive_plan(
                carrier=setting.line.carrier,
                start=start,
                months=6,
                goal="stay_active",
                state=line_anchor(setting.line),
            )
            cheapest = min(
                Plan.objects.filter(carrier=setting.line.carrier),
                key=lambda p: (p.price_minor, -p.validity_days),
            )
            assert setting.plan == (schedule.steps[0].plan if schedule.steps else cheapest)
