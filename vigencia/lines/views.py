"""The subscriber's lines: dashboard, add, edit, remove, and one line's page with its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vigencia.accounts.models import User
from vigencia.accounts.services import user_by_calendar_key
from vigencia.core import clock
from vigencia.core.errors import DomainError, NotFound
from vigencia.core.forms import form_add_domain_error
from vigencia.ledger.selectors import wallet_balance
from vigencia.lines.autorenew import autorenew_next
from vigencia.lines.calendar import deadlines_calendar
from vigencia.lines.forms import LineAddForm, LineEditForm
from vigencia.lines.models import AutoRenewSetting, Line, LineEvent, LineEventKind, LineStatus
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.selectors import (
    Urgency,
    line_deadline,
    line_events,
    line_get,
    line_list,
    line_recharge_by,
    line_urgency,
)
from vigencia.lines.services import line_add, line_remove, line_update
from vigencia.lines.views_keepalive import keepalive_context

# Most urgent first; a line without a known deadline last.
_URGENCY_ORDER = {"overdue": 0, "urgent": 1, "soon": 2, "ok": 3, "unknown": 4}
_FORM_FIELDS = {"msisdn": "msisdn", "carrier": "carrier"}


@dataclass(frozen=True)
class LineCard:
    """What the pages show of a line: the line, its number for people, its deadline and urgency."""

    line: Line
    number: str
    deadline: date | None  # valid until, as known
    recharge_by: date | None  # the last day before the next status change (`line_recharge_by`)
    urgency: Urgency
    autorenews_on: date | None = None  # a funded auto-renewal's day, when it comes by recharge_by

    @property
    def days_overdue(self) -> int:
        return -(self.urgency.days_left or 0)

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return (_URGENCY_ORDER[self.urgency.level], self.urgency.days_left or 0, self.line.pk)


def _autorenews_on(line: Line, recharge_by: date | None) -> date | None:
    """The day auto-renew renews the line, when it is on, the wallet can pay it and it comes by the
    recharge-by day: the holder has nothing to do (the reminders and emails say the same)."""
    try:
        setting = line.autorenew_setting  # selected with the dashboard's lines
    except AutoRenewSetting.DoesNotExist:
        return None
    if not setting.enabled or recharge_by is None:
        return None
    upcoming = autorenew_next(line, setting, today=clock.today(line.carrier.timezone))
    if upcoming is None or upcoming.charge_on > recharge_by:
        return None
    if (
        wallet_balance(user=line.owner, currency=setting.plan.currency).amount_minor
        < setting.plan.price_minor
    ):
        return None
    return upcoming.charge_on


def _card(line: Line) -> LineCard:
    recharge_by = line_recharge_by(line)
    return LineCard(
        line,
        msisdn_display(line.msisdn),
        line_deadline(line),
        recharge_by,
        line_urgency(line),
        _autorenews_on(line, recharge_by),
    )


def _subscriber(request: HttpRequest) -> User:
    """The logged-in user (every view here is behind login_required)."""
    return cast(User, request.user)


def _own_line(request: HttpRequest, line_id: int) -> Line:
    try:
        return line_get(owner=_subscriber(request), line_id=line_id)
    except NotFound:
        raise Http404


def _event_summary(event: LineEvent) -> str:
    data = event.data or {}
    if event.kind == LineEventKind.STATUS_CHANGED and data.get("to") in LineStatus.values:
        before = LineStatus(data["from"]).label if data.get("from") in LineStatus.values else "—"
        return f"{before} → {LineStatus(data['to']).label}"
    if event.kind == LineEventKind.RENEWED and data.get("valid_until"):
        try:  # stored as ISO 8601; read as the page writes dates
            valid_until = formats.date_format(date.fromisoformat(str(data["valid_until"])), "DATE_FORMAT")
        except ValueError:
            valid_until = str(data["valid_until"])
        return _("valid until %(date)s") % {"date": valid_until}
    if event.kind == LineEventKind.UPDATED and isinstance(data.get("changes"), dict):
        fields = [field for field in Line._meta.fields if field.name in data["changes"]]
        return ", ".join(str(field.verbose_name) for field in fields)
    return ""


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    cards = sorted(
        (
            _card(line)
            for line in line_list(owner=_subscriber(request)).select_related("autorenew_setting__plan")
        ),
        key=lambda c: c.sort_key,
    )
    return render(request, "lines/dashboard.html", {"cards": cards})


@login_required
@require_http_methods(["GET", "POST"])
def line_add_view(request: HttpRequest) -> HttpResponse:
    form = LineAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            line = line_add(
                owner=_subscriber(request),
                msisdn=data["msisdn"],
                carrier=data["carrier"],
                nickname=data["nickname"],
                iccid=data["iccid"],
                last_recharge_at=data["last_recharge_at"],
                valid_until=data["valid_until"],
            )
        except DomainError as error:
            form_add_domain_error(form, error, fields=_FORM_FIELDS)
        else:
            messages.success(request, _("Line %(number)s added.") % {"number": msisdn_display(line.msisdn)})
            return redirect("lines:dashboard")
    return render(request, "lines/form.html", {"form": form, "line": None})


@login_required
def line_detail(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _own_line(request, line_id)
    events = [(event, _event_summary(event)) for event in line_events(line=line).select_related("actor")]
    context = {"card": _card(line), "events": events}
    context.update(keepalive_context(line, user=_subscriber(request)))
    return render(request, "lines/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def line_edit(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _own_line(request, line_id)
    initial = {name: getattr(line, name) for name in LineEditForm.base_fields}
    form = LineEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            line_update(line=line, actor=_subscriber(request), **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("lines:detail", line_id=line.pk)
    return render(
        request, "lines/form.html", {"form": form, "line": line, "number": msisdn_display(line.msisdn)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def line_remove_view(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _own_line(request, line_id)
    number = msisdn_display(line.msisdn)
    if request.method == "POST":
        line_remove(line=line, actor=_subscriber(request))
        messages.success(request, _("Line %(number)s removed.") % {"number": number})
        return redirect("lines:dashboard")
    return render(request, "lines/remove.html", {"line": line, "number": number})


@require_GET
def calendar_feed(request: HttpRequest, key: str) -> HttpResponse:
    """The person's deadline calendar, at the secret address their calendar app fetches without a
    login (My account turns it on, gives a new address or turns it off)."""
    user = user_by_calendar_key(key=key)
    if user is None:
        raise Http404
    response = HttpResponse(deadlines_calendar(user=user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="vigencia.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
