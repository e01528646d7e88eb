"""/api/v1: a line's computed timeline and keep-alive plan, and what keeping a number costs per carrier."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Literal, cast

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import StrictInt

from vigencia.accounts.auth import api_user, bearer
from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.core.schemas import ErrorOut, MoneyOut
from vigencia.lines.autorenew import autorenew_next, autorenew_set
from vigencia.lines.lifecycle import line_anchor, line_status_due, line_timeline
from vigencia.lines.models import AutoRenewSetting, Line, LineStatus
from vigencia.lines.planner import NumberLost, keepalive_compare, keepalive_plan
from vigencia.lines.reminders import reminder_prefs, reminder_settings_set
from vigencia.lines.selectors import line_get

router = Router(tags=["keep-alive"], auth=bearer)

_AUTH = {401: ErrorOut, 422: ErrorOut}
_ONE = {**_AUTH, 404: ErrorOut, 409: ErrorOut}


class TimelineEventOut(Schema):
    kind: str = Field(description="notice, restricted, suspended (cut off) or recycled (number lost).")
    at: dt.date = Field(description="The first day of that status (for a notice: the day it is sent).")


class AutoRenewalEventOut(Schema):
    kind: Literal["auto_renewal"] = Field(
        description="auto_renewal: the next renewal auto-renew will charge from the wallet (it is on)."
    )
    at: dt.date = Field(
        description="The day it is charged; the status changes from then on come only if it fails."
    )
    plan_id: int
    plan_code: str


class TimelineOut(Schema):
    status: str = Field(description="The line's status as last applied by the lifecycle sweep.")
    status_due: str = Field(description="The status the carrier's rules give the line today.")
    next_deadline: TimelineEventOut | None = Field(description="The next status change; recharge before it.")
    number_lost_at: dt.date | None = Field(
        description="When the number goes to someone else if nothing is recharged (an auto-renewal moves it)."
    )
    events: list[AutoRenewalEventOut | TimelineEventOut] = Field(
        description=(
            "By date: the carrier's notice and status changes if nothing is recharged, and, with "
            "auto-renew on, its next auto_renewal."
        )
    )


class PlanQuery(Schema):
    months: int = Field(24, ge=1, le=60, description="The horizon in calendar months, 1 to 60.")
    goal: Literal["keep_number", "stay_active"] = Field(
        "keep_number", description="keep_number: never lose the number; stay_active: never restricted."
    )


class KeepaliveStepOut(Schema):
    date: dt.date
    plan_id: int
    plan_code: str
    price: MoneyOut


class KeepalivePlanOut(Schema):
    steps: list[KeepaliveStepOut]
    total: MoneyOut


class CarrierCostOut(Schema):
    carrier: str
    total: MoneyOut
    steps_count: int


@router.get(
    "/lines/{int:line_id}/timeline",
    response={200: TimelineOut, **_ONE},
    summary="A line's computed timeline",
    description="Dates are in the carrier's timezone. An empty timeline if the line's dates are unknown.",
)
def line_timeline_get(request: HttpRequest, line_id: int) -> dict[str, object]:
    line = line_get(owner=api_user(request), line_id=line_id)
    today = clock.today(line.carrier.timezone)
    timeline = line_timeline(line, today=today)
    events: list[dict[str, object]] = [event._asdict() for event in timeline.events]
    setting = AutoRenewSetting.objects.filter(line=line, enabled=True).select_related("plan").first()
    upcoming = autorenew_next(line, setting, today=today, timeline=timeline) if setting else None
    if setting is not None and upcoming is not None:
        auto = {"kind": "auto_renewal", "at": upcoming.charge_on}
        events.append({**auto, "plan_id": setting.plan_id, "plan_code": setting.plan.code})
        events.sort(key=lambda event: cast(dt.date, event["at"]))
    return {
        "status": line.status,
        "status_due": line_status_due(line, today=today),
        "next_deadline": timeline.next_deadline,
        "number_lost_at": timeline.number_lost_at,
        "events": events,
    }


@router.get(
    "/lines/{int:line_id}/keepalive-plan",
    response={200: KeepalivePlanOut, **_ONE},
    summary="The cheapest recharges that keep this line",
    description=(
        "From today, over `months` calendar months. 422 `invalid` for a bad `months` or `goal`; 409 "
        "`number_lost` if the number is already lost, `no_keepalive_plan` if no plan on sale can keep it."
    ),
)
def line_keepalive_plan(request: HttpRequest, line_id: int, query: Query[PlanQuery]) -> dict[str, object]:
    line = line_get(owner=api_user(request), line_id=line_id)
    if line.status == LineStatus.RECYCLED:
        raise NumberLost(_("The number is already lost under the carrier's rules."))
    result = keepalive_plan(
        carrier=line.carrier,
        start=clock.today(line.carrier.timezone),
        months=query.months,
        goal=query.goal,
        state=line_anchor(line),
    )
    return {
        "steps": [
            {
                "date": step.date,
                "plan_id": step.plan.pk,
                "plan_code": step.plan.code,
                "price": step.price.as_dict(),
            }
            for step in result.steps
        ],
        "total": result.total.as_dict(),
    }


@router.get(
    "/keepalive/compare",
    response={200: list[CarrierCostOut], **_AUTH},
    summary="What keeping a number costs on each carrier",
    description=(
        "For a line recharged today; totals in each carrier's currency, cheapest first (totals in "
        "several currencies compared at the newest FX rates), ties by carrier code."
    ),
)
def keepalive_compare_get(request: HttpRequest, query: Query[PlanQuery]) -> list[dict[str, object]]:
    return [
        {"carrier": cost.carrier.code, "total": cost.total.as_dict(), "steps_count": cost.steps_count}
        for cost in keepalive_compare(months=query.months, goal=query.goal)
    ]


# --- reminders and auto-renew ---------------------------------------------------------------------


class RemindersIn(Schema):
    lead_days: list[StrictInt] = Field(
        description="Days before the next deadline, each 1 to 90, at most 5; [] turns reminders off."
    )
    channels: list[str] = Field(
        description=(
            "email, sms (needs a phone on the account), webhook (needs an endpoint) and/or telegram "
            "(needs a chat connected in the account)."
        )
    )
    quiet_start: dt.time | None = Field(None, description="Quiet hours start, owner's timezone (21:00).")
    quiet_end: dt.time | None = Field(None, description="Quiet hours end, owner's timezone (08:00).")


class RemindersOut(Schema):
    lead_days: list[int]
    channels: list[str]
    quiet_start: dt.time
    quiet_end: dt.time


class AutoRenewIn(Schema):
    enabled: bool
    plan_id: int = Field(description="A plan on sale from the line's carrier.")
    days_before: int = Field(3, description="Days before the next deadline to charge, 2 to 60.")


class AutoRenewOut(Schema):
    enabled: bool
    plan_id: int | None
    days_before: int
    next_charge_on: dt.date | None = Field(description="When the next charge is planned, if on.")
    deadline: dt.date | None = Field(description="The deadline that charge renews before.")


def _reminders_out(line: Line) -> dict[str, object]:
    return asdict(reminder_prefs(line))


def _autorenew_out(line: Line) -> dict[str, object]:
    setting = AutoRenewSetting.objects.filter(line=line).select_related("plan").first()
    if setting is None:
        return {"enabled": False, "plan_id": None, "days_before": 3, "next_charge_on": None, "deadline": None}
    upcoming = (
        autorenew_next(line, setting, today=clock.today(line.carrier.timezone)) if setting.enabled else None
    )
    return {
        "enabled": setting.enabled,
        "plan_id": setting.plan_id,
        "days_before": setting.days_before,
        "next_charge_on": upcoming.charge_on if upcoming else None,
        "deadline": upcoming.deadline.at if upcoming else None,
    }


@router.get(
    "/lines/{int:line_id}/reminders", response={200: RemindersOut, **_ONE}, summary="A line's reminders"
)
def line_reminders_get(request: HttpRequest, line_id: int) -> dict[str, object]:
    return _reminders_out(line_get(owner=api_user(request), line_id=line_id))


@router.put(
    "/lines/{int:line_id}/reminders",
    response={200: RemindersOut, **_ONE},
    summary="Set a line's reminders",
    description=(
        "422 `invalid_lead_days`, `invalid_channels`, `phone_missing`, `webhook_missing` or "
        "`telegram_missing`; nothing is written then."
    ),
)
def line_reminders_put(request: HttpRequest, line_id: int, payload: RemindersIn) -> dict[str, object]:
    line = line_get(owner=api_user(request), line_id=line_id)
    reminder_settings_set(
        line=line,
        lead_days=payload.lead_days,
        channels=payload.channels,
        quiet_start=payload.quiet_start,
        quiet_end=payload.quiet_end,
    )
    return _reminders_out(line)


@router.get(
    "/lines/{int:line_id}/auto-renew", response={200: AutoRenewOut, **_ONE}, summary="A line's auto-renew"
)
def line_autorenew_get(request: HttpRequest, line_id: int) -> dict[str, object]:
    return _autorenew_out(line_get(owner=api_user(request), line_id=line_id))


@router.put(
    "/lines/{int:line_id}/auto-renew",
    response={200: AutoRenewOut, **_ONE},
    summary="Turn a line's auto-renew on or off",
    description=(
        "Paid from the wallet `days_before` the next deadline. 422 `invalid_days_before`, "
        "`plan_not_found`, `plan_wrong_carrier`, `plan_not_on_sale`; 409 `line_recycled`."
    ),
)
def line_autorenew_put(request: HttpRequest, line_id: int, payload: AutoRenewIn) -> dict[str, object]:
    line = line_get(owner=api_user(request), line_id=line_id)
    plan = Plan.objects.filter(pk=payload.plan_id).first()
    autorenew_set(line=line, enabled=payload.enabled, plan=plan, days_before=payload.days_before)
    return _autorenew_out(line)
