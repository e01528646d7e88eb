"""A real renewal (`line_renew`) moves a line's dates exactly as the keep-alive planner assumes, so the
planner's schedule is what happens when it is followed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from vigencia.catalog.models import Carrier, Plan
from vigencia.core import clock
from vigencia.lines.lifecycle import line_anchor
from vigencia.lines.models import Line, LineStatus
from vigencia.lines.planner import keepalive_plan, recharge_anchor
from vigencia.lines.services import line_renew

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), tzinfo=SHANGHAI)


def _renew(line: Line, plan: Plan, day: date) -> date:
    with clock.frozen(_at(day)):
        return line_renew(line=line, validity_days=plan.validity_days, reference=f"test:{day}")


def test_a_monthly_plan_renewal_pays_one_calendar_month_as_the_planner_does(demo_catalog, user):
    # given a China Mobile keep-number line paid through 31 January and its 30-day monthly plan
    carrier = Carrier.objects.get(code="china-mobile-cn")
    plan = Plan.objects.get(carrier=carrier, code="baohao-8")
    line = Line.objects.create(
        owner=user, msisdn="+8613800138000", carrier=carrier, valid_until=date(2026, 1, 31)
    )
    planned = recharge_anchor(carrier, anchor=line_anchor(line), day=date(2026, 1, 20), plan=plan)

    # when it is renewed on 20 January
    valid_until = _renew(line, plan, date(2026, 1, 20))

    # then it is paid through 28 February (one calendar month), where the planner puts it
    assert valid_until == date(2026, 2, 28)
    assert valid_until == planned + timedelta(days=carrier.cutoff_after_days)
    line.refresh_from_db()
    assert (line.valid_until, line.last_recharge_at) == (date(2026, 2, 28), date(2026, 1, 20))


def test_a_monthly_plan_payment_in_arrears_settles_the_unpaid_month_first(demo_catalog, user):
    # given a China Mobile line paid through 31 January, cut off since 1 February
    carrier = Carrier.objects.get(code="china-mobile-cn")
    plan = Plan.objects.get(carrier=carrier, code="baohao-8")
    line = Line.objects.create(
        owner=user,
        msisdn="+8613800138001",
        carrier=carrier,
        valid_until=date(2026, 1, 31),
        status=LineStatus.SUSPENDED,
    )

    # when one month is paid on 10 March, it pays February: the line stays cut off
    first = _renew(line, plan, date(2026, 3, 10))
    line.refresh_from_db()
    assert (first, line.status) == (date(2026, 2, 28), LineStatus.SUSPENDED)

    # and a second month pays March (a month from 28 February: 28 March): the line is active again
    second = _renew(line, plan, date(2026, 3, 10))
    line.refresh_from_db()
    assert (second, line.status) == (date(2026, 3, 28), LineStatus.ACTIVE)


def test_following_the_planners_schedule_keeps_a_monthly_plan_line_active_to_the_horizon(demo_catalog, user):
    # given a China Mobile line paid through 31 January and the planner's 6-month stay-active schedule
    carrier = Carrier.objects.get(code="china-mobile-cn")
    line = Line.objects.create(
        owner=user, msisdn="+8613800138002", carrier=carrier, valid_until=date(2026, 1, 31)
    )
    with clock.frozen(_at(date(2026, 1, 5))):
        schedule = keepalive_plan(
            carrier=carrier, start=date(2026, 1, 5), months=6, goal="stay_active", state=line_anchor(line)
        )

    anchor = line_anchor(line)
    for step in schedule.steps:
        anchor = recharge_anchor(carrier, anchor=anchor, day=step.date, plan=step.plan)

    # when every step is bought on its day through the real renewal
    for step in schedule.steps:
        _renew(line, step.plan, step.date)

    # then the line is paid through where the planner said (past the horizon's end, 5 July)
    line.refresh_from_db()
    assert line.valid_until == anchor + timedelta(days=carrier.cutoff_after_days) == date(2026, 7, 28)
    assert len(schedule.steps) == 6
