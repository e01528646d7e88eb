"""The keep-alive planner: exact schedules for each policy kind, and optimality against an exhaustive
search over every day and every plan."""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import cache

import pytest

from tests.factories import CarrierFactory, PlanFactory
from vigencia.catalog.models import Carrier, Plan, PolicyKind
from vigencia.core.money import Money
from vigencia.lines.planner import (
    NoKeepalivePlan,
    NumberLost,
    goal_span,
    horizon_end,
    keepalive_plan,
    recharge_anchor,
)


def carrier_of(kind: str, **policy) -> Carrier:
    fields = dict(restrict_after_days=None, cutoff_after_days=30, recycle_after_cutoff_days=30, notice_days=0)
    fields.update(policy)
    return CarrierFactory.build(code=f"test-{kind}", currency="PEN", policy_kind=kind, **fields)


def plan_of(carrier: Carrier, code: str, price: int, days: int) -> Plan:
    return PlanFactory.build(
        carrier=carrier, code=code, price_minor=price, validity_days=days, currency=carrier.currency
    )


def schedule(result) -> list[tuple[date, str]]:
    return [(step.date, step.plan.code) for step in result.steps]


# --- exact schedules ------------------------------------------------------------------------------


def test_since_recharge_keep_number_buys_the_cheapest_plan_on_each_last_good_day():
    # given a Claro-like policy: restricted at 60, cut off at 270, number lost 90 days later
    claro = carrier_of(
        PolicyKind.SINCE_RECHARGE, restrict_after_days=60, cutoff_after_days=270, recycle_after_cutoff_days=90
    )
    plans = [plan_of(claro, "max-10", 1000, 7), plan_of(claro, "max-5", 500, 3)]

    # when planning 24 months from a recharge on 1 January 2026
    result = keepalive_plan(carrier=claro, start=date(2026, 1, 1), months=24, goal="keep_number", plans=plans)

    # then one S/ 5 recharge on day 360 and one on day 720 keep the number through 1 January 2028
    assert schedule(result) == [(date(2026, 12, 27), "max-5"), (date(2027, 12, 22), "max-5")]
    assert result.total == Money(1000, "PEN")


def test_since_recharge_stay_active_recharges_before_each_restriction():
    claro = carrier_of(
        PolicyKind.SINCE_RECHARGE, restrict_after_days=60, cutoff_after_days=270, recycle_after_cutoff_days=90
    )
    plans = [plan_of(claro, "max-5", 500, 3)]

    result = keepalive_plan(carrier=claro, start=date(2026, 1, 1), months=6, goal="stay_active", plans=plans)

    assert schedule(result) == [
        (date(2026, 3, 2), "max-5"),
        (date(2026, 5, 1), "max-5"),
        (date(2026, 6, 30), "max-5"),
    ]
    assert result.total == Money(1500, "PEN")


def test_validity_per_topup_keep_number_tops_up_at_the_end_of_the_grace_period():
    # given CMHK-like rules: 180 days per top-up, recycled 30 days after expiry
    cmhk = carrier_of(PolicyKind.VALIDITY_PER_TOPUP, cutoff_after_days=180, recycle_after_cutoff_days=30)
    plans = [plan_of(cmhk, "topup-50", 5000, 180), plan_of(cmhk, "data-30d", 8800, 30)]

    # when the line is valid until 30 June 2026 (its anchor is 180 days earlier)
    result = keepalive_plan(
        carrier=cmhk,
        start=date(2026, 1, 1),
        months=12,
        goal="keep_number",
        plans=plans,
        state=date(2026, 6, 30) - timedelta(days=180),
    )

    # then a top-up on the last day before recycling (30 July) carries it past the horizon
    assert schedule(result) == [(date(2026, 7, 30), "topup-50")]
    assert result.total == Money(5000, "PEN")


def test_validity_per_topup_picks_the_cheapest_mix_of_plans():
    # given 10-day validity, and a 7-day plan for 3 next to a 20-day plan for 10
    carrier = carrier_of(PolicyKind.VALIDITY_PER_TOPUP, cutoff_after_days=10, recycle_after_cutoff_days=0)
    plans = [plan_of(carrier, "week", 300, 7), plan_of(carrier, "twenty", 1000, 20)]

    # when planning one month (to 1 February) from a line valid until 11 January
    result = keepalive_plan(
        carrier=carrier, start=date(2026, 1, 1), months=1, goal="keep_number", plans=plans
    )

    # then three weeks (9) beat a twenty-day plan plus anything else (>= 13)
    assert schedule(result) == [
        (date(2026, 1, 11), "week"),
        (date(2026, 1, 18), "week"),
        (date(2026, 1, 25), "week"),
    ]
    assert result.total == Money(900, "PEN")


def test_monthly_plan_pays_calendar_months_from_the_paid_through_date_month_end_included():
    # given a China-style keep-number plan paid through 31 January 2026
    cm = carrier_of(PolicyKind.MONTHLY_PLAN, cutoff_after_days=30, recycle_after_cutoff_days=90)
    monthly = plan_of(cm, "baohao-8", 800, 30)
    anchor = date(2026, 1, 31) - timedelta(days=30)

    # then one month more is 28 February (29 in a leap year), and a year is twelve months
    assert recharge_anchor(cm, anchor=anchor, day=date(2026, 1, 31), plan=monthly) + timedelta(
        days=30
    ) == date(2026, 2, 28)
    leap = date(2028, 1, 31) - timedelta(days=30)
    assert recharge_anchor(cm, anchor=leap, day=date(2028, 1, 31), plan=monthly) + timedelta(days=30) == date(
        2028, 2, 29
    )
    yearly = plan_of(cm, "baohao-12m", 9600, 365)
    assert recharge_anchor(cm, anchor=anchor, day=date(2026, 1, 31), plan=yearly) + timedelta(
        days=30
    ) == date(2027, 1, 31)


def test_monthly_plan_stay_active_pays_every_month_before_arrears():
    cm = carrier_of(PolicyKind.MONTHLY_PLAN, cutoff_after_days=30, recycle_after_cutoff_days=90)
    plans = [plan_of(cm, "baohao-8", 800, 30), plan_of(cm, "baohao-12m", 9600, 365)]

    result = keepalive_plan(
        carrier=cm, start=date(2026, 1, 1), months=3, goal="stay_active", plans=plans, state=date(2026, 1, 1)
    )

    # paid through 31 Jan, then 28 Feb, 28 Mar and 28 Apr covers the horizon's end (1 April)
    assert schedule(result) == [
        (date(2026, 1, 31), "baohao-8"),
        (date(2026, 2, 28), "baohao-8"),
        (date(2026, 3, 28), "baohao-8"),
    ]
    assert result.total == Money(2400, "PEN")


def test_chargeable_use_any_top_up_restarts_the_count():
    gg = carrier_of(PolicyKind.CHARGEABLE_USE, cutoff_after_days=180, recycle_after_cutoff_days=0)
    plans = [plan_of(gg, "goodybag-6", 600, 30), plan_of(gg, "topup-10", 1000, 180)]

    result = keepalive_plan(carrier=gg, start=date(2026, 1, 1), months=12, goal="keep_number", plans=plans)

    assert schedule(result) == [(date(2026, 6, 30), "goodybag-6"), (date(2026, 12, 27), "goodybag-6")]


def test_a_line_already_past_its_goal_is_recharged_on_the_first_day():
    # given a line restricted since before the horizon starts (but its number is still kept)
    claro = carrier_of(
        PolicyKind.SINCE_RECHARGE, restrict_after_days=60, cutoff_after_days=270, recycle_after_cutoff_days=90
    )
    plans = [plan_of(claro, "max-5", 500, 3)]

    result = keepalive_plan(
        carrier=claro,
        start=date(2026, 1, 1),
        months=1,
        goal="stay_active",
        plans=plans,
        state=date(2025, 9, 1),
    )

    assert schedule(result) == [(date(2026, 1, 1), "max-5")]


def test_a_number_already_lost_cannot_be_planned_for():
    claro = carrier_of(PolicyKind.SINCE_RECHARGE, cutoff_after_days=270, recycle_after_cutoff_days=90)

    with pytest.raises(NumberLost):
        keepalive_plan(
            carrier=claro,
            start=date(2026, 1, 1),
            months=12,
            goal="keep_number",
            plans=[plan_of(claro, "p", 500, 3)],
            state=date(2024, 12, 1),
        )


def test_no_plan_on_sale_means_no_schedule_unless_none_is_needed():
    claro = carrier_of(PolicyKind.SINCE_RECHARGE, cutoff_after_days=270, recycle_after_cutoff_days=90)

    with pytest.raises(NoKeepalivePlan):
        keepalive_plan(carrier=claro, start=date(2026, 1, 1), months=24, goal="keep_number", plans=[])
    short = keepalive_plan(carrier=claro, start=date(2026, 1, 1), months=6, goal="keep_number", plans=[])
    assert (short.steps, short.total) == ([], Money(0, "PEN"))


def test_the_horizon_ends_on_the_same_day_months_later_clamped_to_the_month_end():
    assert horizon_end(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert horizon_end(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert horizon_end(date(2026, 3, 31), 60) == date(2031, 3, 31)


# --- optimality against an exhaustive search ------------------------------------------------------


def exhaustive_cheapest(
    carrier: Carrier, plans: list[Plan], *, start: date, months: int, goal: str, anchor: date
) -> int | None:
    """The cheapest cost over every schedule with at most one recharge a day: on each day, any plan or
    none; the line must meet the goal on every day of the horizon (recharges count from the next day)."""
    end = horizon_end(start, months)
    span = timedelta(days=goal_span(carrier, goal))  # type: ignore[arg-type]

    @cache
    def cheapest(day: date, anchor: date) -> float:
        if day > end:
            return 0
        if day > anchor + span:
            return float("inf")
        best = cheapest(day + timedelta(days=1), anchor)
        for plan in plans:
            # Anchors past the horizon's end are all as good (nothing more is needed): one state.
            after = min(recharge_anchor(carrier, anchor=anchor, day=day, plan=plan), end)
            best = min(best, plan.price_minor + cheapest(day + timedelta(days=1), after))
        return best

    cost = cheapest(start, anchor)
    return None if cost == float("inf") else int(cost)


def meets_goal(carrier, result, *, start, months, goal, anchor) -> bool:
    span = timedelta(days=goal_span(carrier, goal))
    recharges = {}
    for step in result.steps:
        recharges.setdefault(step.date, []).append(step.plan)
    day = start
    while day <= horizon_end(start, months):
        if day > anchor + span:
            return False
        for plan in recharges.get(day, []):
            anchor = recharge_anchor(carrier, anchor=anchor, day=day, plan=plan)
        day += timedelta(days=1)
    return True


def random_case(seed: int):
    rng = random.Random(seed)
    kind = rng.choice(list(PolicyKind))
    cutoff = rng.randint(2, 9)
    restrict = rng.choice([None, rng.randint(1, cutoff)])
    carrier = carrier_of(
        kind,
        cutoff_after_days=cutoff,
        restrict_after_days=restrict,
        recycle_after_cutoff_days=rng.randint(0, 5),
    )
    validities = [3, 5, 7, 30, 60] if kind == PolicyKind.MONTHLY_PLAN else list(range(1, 12))
    plans = [
        plan_of(carrier, f"p{index}", rng.randint(1, 9) * 100, rng.choice(validities))
        for index in range(rng.randint(2, 3))
    ]
    start = rng.choice([date(2026, 1, 31), date(2026, 2, 14), date(2028, 2, 1), date(2026, 10, 20)])
    goal = rng.choice(["keep_number", "stay_active"])
    # a line anywhere from just recharged to on its goal's last day
    anchor = start - timedelta(days=rng.randint(0, goal_span(carrier, goal)))
    months = rng.choice([1, 2])
    return carrier, plans, start, months, goal, anchor


@pytest.mark.parametrize("seed", range(300))
def test_the_plan_is_as_cheap_as_the_exhaustive_search_finds(seed):
    carrier, plans, start, months, goal, anchor = random_case(seed)

    expected = exhaustive_cheapest(carrier, plans, start=start, months=months, goal=goal, anchor=anchor)
    try:
        result = keepalive_plan(
            carrier=carrier, start=start, months=months, goal=goal, plans=plans, state=anchor
        )
    except NoKeepalivePlan:
        assert expected is None
        return

    assert result.total.amount_minor == expected
    assert sum(step.price.amount_minor for step in result.steps) == expected
    assert meets_goal(carrier, result, start=start, months=months, goal=goal, anchor=anchor)
