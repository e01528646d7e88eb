"""The keep-alive parts of a line's page: its timeline as a picture, the reminder and auto-renew
settings, and the planner with "turn this into auto-renew". No business logic: the services decide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from vigencia.accounts.models import User
from vigencia.catalog.models import Plan
from vigencia.catalog.selectors import plan_list_on_sale
from vigencia.core import clock
from vigencia.core.errors import DomainError, NotFound
from vigencia.core.money import Money
from vigencia.ledger.selectors import wallet_balance
from vigencia.lines.autorenew import autorenew_next, autorenew_set
from vigencia.lines.lifecycle import line_anchor, line_timeline
from vigencia.lines.models import AutoRenewSetting, Line, LineStatus
from vigencia.lines.planner import KeepalivePlan, keepalive_plan
from vigencia.lines.reminders import reminder_prefs, reminder_settings_set
from vigencia.lines.selectors import line_get
from vigencia.notifications.channels.telegram import telegram_configured
from vigencia.notifications.selectors import channels_reachable_of

LEAD_CHOICES = [(days, days) for days in (60, 30, 14, 7, 3, 1)]
CHANNEL_CHOICES = [
    ("email", gettext_lazy("Email")),
    ("sms", gettext_lazy("SMS")),
    ("webhook", gettext_lazy("Webhook")),
    ("telegram", gettext_lazy("Telegram")),
]
PLAN_MONTHS = 12


class ReminderForm(forms.Form):
    lead_days = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Remind me this many days before"),
        choices=LEAD_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("By"), choices=CHANNEL_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, webhook: bool, telegram: bool, **kwargs: Any) -> None:
        """`webhook`, `telegram`: offer those channels (the owner set an endpoint by API, connected a
        Telegram chat in their account)."""
        super().__init__(*args, **kwargs)
        hidden = {name for name, offered in (("webhook", webhook), ("telegram", telegram)) if not offered}
        cast(forms.MultipleChoiceField, self.fields["channels"]).choices = [
            (value, label) for value, label in CHANNEL_CHOICES if value not in hidden
        ]


class PlanChoiceField(forms.ModelChoiceField):
    """A plan as the subscriber knows it, its name and price as the planner shows them, not its code."""

    def label_from_instance(self, obj: Any) -> str:
        plan = cast(Plan, obj)
        return f"{plan.name} ({plan.price})"


class AutoRenewForm(forms.Form):
    enabled = forms.BooleanField(label=gettext_lazy("Renew automatically from my wallet"), required=False)
    plan = PlanChoiceField(
        label=gettext_lazy("Plan"), queryset=Plan.objects.none(), empty_label=gettext_lazy("Choose a plan")
    )
    days_before = forms.IntegerField(
        label=gettext_lazy("Days before the deadline"), min_value=2, max_value=60
    )

    def __init__(self, *args: Any, line: Line, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["plan"]).queryset = plan_list_on_sale(carrier=line.carrier)


_WIDTH, _LEFT, _RIGHT = 360, 14, 14
_STATES = ("restricted", "suspended", "recycled")


@dataclass(frozen=True)
class Marker:
    kind: str  # today | notice | restricted | suspended | recycled | renewal
    at: date
    x: int
    label: str
    number: int = 0  # the carrier's events are numbered in the picture and in its legend


@dataclass(frozen=True)
class Segment:
    kind: str  # active | restricted | suspended | recycled | planned
    x: int
    width: int
    label: str


@dataclass(frozen=True)
class Picture:
    """The line's timeline drawn to phone width: a bar coloured by the state the line will be in
    (until the first planned renewal, then "kept by the plan"), today, the carrier's events, and the
    planned renewals."""

    markers: list[Marker]
    segments: list[Segment]
    width: int = _WIDTH


def _picture(
    line: Line, plan: KeepalivePlan | None, today: date, *, autorenewal: tuple[date, Plan] | None = None
) -> Picture:
    """With `autorenewal` (the day and plan of the next auto-renewal, auto-renew being on), that
    renewal is drawn instead of the planner's, and the carrier's events from its day on are what
    happens if it fails."""
    labels = {
        "notice": _("Carrier notice"),
        "restricted": _("Restricted"),
        "suspended": _("Cut off"),
        "recycled": _("Number lost"),
        "renewal": _("Planned renewal"),
    }
    events = [(event.kind, event.at) for event in line_timeline(line, today=today).events]
    if autorenewal is not None:
        renewals = [autorenewal[0]]
        labels["renewal"] = _("Renews automatically with %(plan)s") % {"plan": autorenewal[1].name}
    else:
        renewals = [step.date for step in (plan.steps if plan else [])]
    dates = [today, *(at for _kind, at in events), *renewals]
    first, last = min(dates), max([*dates, today + timedelta(days=30)])
    span, usable = max((last - first).days, 1), _WIDTH - _LEFT - _RIGHT

    def x(at: date) -> int:
        return _LEFT + round((at - first).days * usable / span)

    def event_label(kind: str, at: date) -> str:
        if autorenewal is not None and at >= autorenewal[0]:
            return _("%(event)s if the auto-renewal fails") % {"event": labels[kind]}
        return str(labels[kind])

    points = sorted(
        [("today", today, _("Today"))]
        + [(kind, at, event_label(kind, at)) for kind, at in events]
        + [("renewal", at, labels["renewal"]) for at in renewals],
        key=lambda point: point[1],
    )
    markers, number = [], 0
    for kind, at, label in points:
        numbered = kind not in ("today", "renewal")
        number += numbered
        markers.append(Marker(kind, at, x(at), label, number if numbered else 0))

    kept_from = min(renewals, default=last)
    state, changes = "active", []
    for kind, at in events:
        if kind in _STATES:
            if at <= first:
                state = kind
            elif at < kept_from:
                changes.append((at, kind))
    bounds = [(first, state), *changes, (kept_from, "planned")] if renewals else [(first, state), *changes]
    ends = [at for at, _kind in bounds[1:]] + [last]
    kept = _("Kept alive by auto-renew") if autorenewal is not None else _("Kept alive by the plan")
    phases = {**labels, "active": _("Active"), "planned": kept}
    segments = [
        Segment(kind, x(start), x(end) - x(start), phases[kind])
        for (start, kind), end in zip(bounds, ends, strict=True)
    ]
    return Picture(markers, [segment for segment in segments if segment.width > 0])


def keepalive_context(line: Line, *, user: User) -> dict[str, Any]:
    """What the line page shows about keeping the line: picture, settings forms, planner."""
    today = clock.today(line.carrier.timezone)
    plan: KeepalivePlan | None = None
    plan_error = ""
    if line.status != LineStatus.RECYCLED:
        try:
            plan = keepalive_plan(
                carrier=line.carrier,
                start=today,
                months=PLAN_MONTHS,
                goal="keep_number",
                state=line_anchor(line),
            )
        except DomainError as error:
            plan_error = str(error.message)
    prefs = reminder_prefs(line)
    reachable = channels_reachable_of([line.owner])[line.owner.pk]
    telegram_connected = "telegram" in reachable
    setting = AutoRenewSetting.objects.filter(line=line).select_related("plan").first()
    upcoming = autorenew_next(line, setting, today=today) if setting and setting.enabled else None
    short: Money | None = None  # the wallet, when it cannot pay the next charge
    if setting is not None and upcoming is not None:
        balance = wallet_balance(user=line.owner, currency=setting.plan.currency)
        short = balance if balance.amount_minor < setting.plan.price_minor else None
    autorenewal = (upcoming.charge_on, setting.plan) if setting is not None and upcoming is not None else None
    return {
        "picture": _picture(line, plan, today, autorenewal=autorenewal),
        "keepalive_plan": plan,
        "plan_months": PLAN_MONTHS,
        "plan_error": plan_error,
        "reminder_form": ReminderForm(
            initial={"lead_days": prefs.lead_days, "channels": prefs.channels},
            webhook="webhook" in prefs.channels or "webhook" in reachable,
            telegram="telegram" in prefs.channels or telegram_connected,
        ),
        # Telegram chosen but its chat disconnected (those reminders go by email), or not connected yet.
        "telegram_note": (
            "disconnected"
            if "telegram" in prefs.channels and not telegram_connected
            else "offer"
            if telegram_configured() and not telegram_connected
            else ""
        ),
        "autorenew_form": AutoRenewForm(
            line=line,
            initial={
                "enabled": setting.enabled if setting else False,
                "plan": setting.plan_id if setting else None,
                "days_before": setting.days_before if setting else 3,
            },
        ),
        "autorenew_next": upcoming,
        "autorenew_short": short,
        "autorenew_price": setting.plan.price if setting is not None else None,
        "autorenew_plan": setting.plan if setting is not None else None,
    }


def _own_line(request: HttpRequest, line_id: int) -> Line:
    try:
        return line_get(owner=cast(User, request.user), line_id=line_id)
    except NotFound:
        raise Http404


def _flash_errors(request: HttpRequest, form: forms.Form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


@login_required
@require_POST
def line_reminders_save(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _own_line(request, line_id)
    form = ReminderForm(request.POST, webhook=True, telegram=True)  # the service checks they are set up
    if form.is_valid():
        try:
            reminder_settings_set(
                line=line, lead_days=form.cleaned_data["lead_days"], channels=form.cleaned_data["channels"]
            )
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Reminders saved."))
    else:
        _flash_errors(request, form)
    return redirect("lines:detail", line_id=line.pk)


@login_required
@require_POST
def line_autorenew_save(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _own_line(request, line_id)
    form = AutoRenewForm(request.POST, line=line)
    if form.is_valid():
        data = form.cleaned_data
        try:
            autorenew_set(
                line=line, enabled=data["enabled"], plan=data["plan"], days_before=data["days_before"]
            )
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Auto-renew is on.") if data["enabled"] else _("Auto-renew is off."))
    else:
        _flash_errors(request, form)
    return redirect("lines:detail", line_id=line.pk)


@login_required
@require_POST
def line_plan_to_autorenew(request: HttpRequest, line_id: int) -> HttpResponse:
    """Turn the planner's schedule into auto-renew: its plan (the one of its first step), 3 days before
    each deadline (or as many as the owner chose before)."""
    line = _own_line(request, line_id)
    try:
        plan = keepalive_plan(
            carrier=line.carrier,
            start=clock.today(line.carrier.timezone),
            months=PLAN_MONTHS,
            goal="keep_number",
            state=line_anchor(line),
        )
        if not plan.steps:
            messages.info(request, _("No renewal is needed in the coming months."))
            return redirect("lines:detail", line_id=line.pk)
        setting = AutoRenewSetting.objects.filter(line=line).first()
        days_before = setting.days_before if setting is not None else 3  # the owner's choice kept
        autorenew_set(line=line, enabled=True, plan=plan.steps[0].plan, days_before=days_before)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Auto-renew is on with %(plan)s.") % {"plan": plan.steps[0].plan.name})
    return redirect("lines:detail", line_id=line.pk)
