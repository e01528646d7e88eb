"""The keep-alive planner: the cheapest schedule of recharges that keeps a number (or keeps a line
active) over a horizon, from the carrier's plans on sale and its keep-alive policy.

The planner works on the line's *anchor* (see `lifecycle.line_anchor`): the day its life counts from.
A recharge moves the anchor, in one of three ways that follow from the policy kind:

- ``since_recharge``, ``chargeable_use``: any recharge restarts the count (the anchor becomes the day
  of the recharge); the plan's validity does not matter.
- ``validity_per_topup``: a top-up adds the plan's validity to the later of the recharge day and the
  current valid-until (like a renewal does).
- ``monthly_plan``: a payment adds the plan's months to the paid-through date, arrears included (a
  payment in arrears settles the unpaid months first). A plan of about 30 days is one calendar month,
  about 365 days twelve, so 31 January + 1 month is 28 (or 29) February.

The search is a shortest path over anchors: from an anchor the cheapest continuation always recharges
on the last good day (a later recharge never leaves the line worse off, see the tests' brute force),
so the only choice at each step is the plan. Unused balance is ignored (plans are assumed used up).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _

from vigencia.catalog.fx import money_order
from vigencia.catalog.models import Carrier, Plan, PolicyKind
from vigencia.catalog.selectors import carrier_list, plan_list_on_sale
from vigencia.core import clock
from vigencia.core.errors import Conflict
from vigencia.core.money import Money
from vigencia.lines.lifecycle import carrier_life_spans

Goal = Literal["keep_number", "stay_active"]
GOALS: tuple[Goal, ...] = ("keep_number", "stay_active")

_DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class KeepaliveStep:
    date: date
    plan: Plan
    price: Money


@dataclass(frozen=True)
class KeepalivePlan:
    steps: list[KeepaliveStep]
    total: Money


class NumberLost(Conflict):
    code = "number_lost"


class NoKeepalivePlan(Conflict):
    code = "no_keepalive_plan"


def horizon_end(start: date, months: int) -> date:
    """The last day of a horizon of `months` calendar months from `start` (31 Jan + 1 = 28/29 Feb)."""
    return start + relativedelta(months=months)


def plan_months(plan: Plan) -> int:
    """How many calendar months a plan pays for on a monthly-plan carrier (0: shorter than a month)."""
    return validity_months(plan.validity_days)


def validity_months(validity_days: int) -> int:
    """Calendar months in `validity_days` on a monthly-plan carrier (30 -> 1, 365 -> 12; 0: under a month)."""
    return (validity_days * 12 + _DAYS_PER_YEAR // 2) // _DAYS_PER_YEAR


def valid_until_after_recharge(carrier: Carrier, *, valid_until: date, day: date, validity_days: int) -> date:
    """The paid-through (valid-until) date after a recharge of `validity_days` on `day`, for a line
    paid through `valid_until`. ``monthly_plan``: calendar months added to the paid-through date, arrears
    included; every other kind: the days added to the later of `day` and `valid_until` (renewing early
    never loses days). The one rule both the planner and a real renewal (`line_renew`) follow."""
    if carrier.policy_kind == PolicyKind.MONTHLY_PLAN:
        months = validity_months(validity_days)
        if months:
            return valid_until + relativedelta(months=months)
        return valid_until + timedelta(days=validity_days)
    return max(day, valid_until) + timedelta(days=validity_days)


def goal_span(carrier: Carrier, goal: Goal) -> int:
    """Days from the anchor to the last day that still meets the goal."""
    spans = carrier_life_spans(carrier)
    if goal == "keep_number":
        return spans.recycled
    return spans.restricted if spans.restricted is not None else spans.suspended


def recharge_anchor(carrier: Carrier, *, anchor: date, day: date, plan: Plan) -> date:
    """The anchor after recharging `plan` on `day` (see the module docstring)."""
    if carrier.policy_kind in (PolicyKind.VALIDITY_PER_TOPUP, PolicyKind.MONTHLY_PLAN):
        period = timedelta(days=carrier.cutoff_after_days)
        extended = valid_until_after_recharge(
            carrier, valid_until=anchor + period, day=day, validity_days=plan.validity_days
        )
        return extended - period
    return day


def _ordered(plans: Iterable[Plan]) -> list[Plan]:
    # Among equally good schedules, prefer the cheaper plan, then the longer one, then by code.
    return sorted(plans, key=lambda plan: (plan.price_minor, -plan.validity_days, plan.code))


def keepalive_plan(
    *,
    carrier: Carrier,
    start: date,
    months: int,
    goal: Goal,
    plans: Sequence[Plan] | None = None,
    state: date | None = None,
) -> KeepalivePlan:
    """The cheapest schedule of recharges from `start` through `months` calendar months so that the
    number is never lost (`keep_number`: the line may be restricted or cut off in between) or the line
    is never restricted (`stay_active`). `plans` default to the carrier's plans on sale; `state` is the
    line's anchor (None: a line recharged on `start`). Ties go to fewer recharges. Pure when `plans`
    is given. Raises NumberLost if the number is already lost at `start`, NoKeepalivePlan if no
    schedule exists (no plan on sale)."""
    anchor0 = state if state is not None else start
    end = horizon_end(start, months)
    span = timedelta(days=goal_span(carrier, goal))
    lost_span = timedelta(days=carrier_life_spans(carrier).recycled)
    if anchor0 + lost_span < start:
        raise NumberLost(_("The number is already lost under the carrier's rules."))
    options = _ordered(plans if plans is not None else plan_list_on_sale(carrier=carrier))

    # Dijkstra-like sweep over anchors: every recharge moves the anchor forward, so taking anchors in
    # increasing order settles each one before it is expanded.
    best: dict[date, tuple[int, int]] = {anchor0: (0, 0)}
    came_from: dict[date, tuple[date, date, Plan]] = {}
    queue = [anchor0]
    finish: date | None = None
    while queue:
        anchor = heapq.heappop(queue)
        cost, count = best[anchor]
        if anchor + span >= end:
            if finish is None or (cost, count) < best[finish]:
                finish = anchor
            continue
        day = max(start, anchor + span)
        for plan in options:
            after = recharge_anchor(carrier, anchor=anchor, day=day, plan=plan)
            if after <= anchor:
                continue  # no progress: this plan cannot keep the line
            candidate = (cost + plan.price_minor, count + 1)
            if after not in best:
                heapq.heappush(queue, after)
            elif candidate >= best[after]:
                continue
            best[after] = candidate
            came_from[after] = (anchor, day, plan)
    if finish is None:
        raise NoKeepalivePlan(
            _("No plan on sale can keep this line."), details={"carrier": carrier.code, "goal": goal}
        )
    steps: list[KeepaliveStep] = []
    at = finish
    while at in came_from:
        previous, day, plan = came_from[at]
        steps.append(KeepaliveStep(date=day, plan=plan, price=plan.price))
        at = previous
    steps.reverse()
    total = sum((step.price for step in steps), Money.zero(carrier.currency))
    return KeepalivePlan(steps=steps, total=total)


@dataclass(frozen=True)
class CarrierCost:
    carrier: Carrier
    total: Money
    steps_count: int


def keepalive_compare(*, months: int, goal: Goal) -> list[CarrierCost]:
    """What keeping a fresh line (recharged today) for `months` costs on each active carrier with plans
    on sale, in the carrier's currency; cheapest first (totals in several currencies by their worth at
    the newest FX rates), ties by carrier code. Carriers with no schedule are left out."""
    plans_by_carrier: dict[int, list[Plan]] = {}
    for plan in plan_list_on_sale():
        plans_by_carrier.setdefault(plan.carrier_id, []).append(plan)
    costs = []
    for carrier in carrier_list():
        try:
            result = keepalive_plan(
                carrier=carrier,
                start=clock.today(carrier.timezone),
                months=months,
                goal=goal,
                plans=plans_by_carrier.get(carrier.pk, []),
            )
        except Conflict:
            continue
        costs.append(CarrierCost(carrier=carrier, total=result.total, steps_count=len(result.steps)))
    worth = money_order(cost.total.currency for cost in costs)
    costs.sort(key=lambda cost: (worth(cost.total), cost.carrier.code))
    return costs
