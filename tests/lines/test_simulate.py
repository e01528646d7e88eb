"""`vigencia simulate`: a small population through simulated time with the real services."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from vigencia.accounts.models import User
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
