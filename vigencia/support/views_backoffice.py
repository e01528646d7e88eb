"""Back-office pages for support agents (queue, ticket, actions) and operators (dashboard, approvals)."""

from __future__ import annotations

import csv
import uuid
from decimal import Decimal
from typing import Any

from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigencia.accounts.roles import role_required
from vigencia.core.errors import DomainError
from vigencia.core.idempotency import idempotent
from vigencia.core.money import Money
from vigencia.lines.numbers import msisdn_display
from vigencia.support.dashboard import (
    DRILL_DOWNS,
    dashboard_figures,
    figure_row_text,
    figure_rows,
    renewals_per_day,
)
from vigencia.support.forms import ActionForm, AssignForm, PriorityForm, ReplyForm, StatusForm
from vigencia.support.models import ActionKind, SupportAction, Ticket, TicketStatus
from vigencia.support.selectors import actions_waiting_approval, ticket_queue, tickets_past_target
from vigencia.support.services import (
    is_agent,
    is_operator,
    support_action_approve,
    support_action_reject,
    support_action_request,
    ticket_assign,
    ticket_reply,
    ticket_set_priority,
    ticket_set_status,
)

agent_required = role_required(is_agent)
operator_required = role_required(is_operator)


def _row(row: Any, user: Any) -> tuple[str, str]:
    """One row behind a figure: what it is, and where to open it (the agent's ticket page, else the
    admin's page of that row where the admin has one and the viewer may see it)."""
    if isinstance(row, Ticket):
        return f"#{row.pk} {row.subject} · {row.get_status_display()}", reverse(
            "backoffice:ticket", args=[row.pk]
        )
    text = figure_row_text(row)
    meta = row._meta
    if not user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
        return text, ""
    try:
        return text, reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk])
    except NoReverseMatch:
        return text, ""


@agent_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("backoffice:dashboard" if is_operator(request.user) else "backoffice:queue")


@operator_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    figure = request.GET.get("figure", "")
    rows = None
    figures = dashboard_figures()
    if figure:
        try:
            rows = [_row(row, request.user) for row in figure_rows(figure)[:200]]
        except KeyError:
            raise Http404 from None
    days = renewals_per_day()
    peak = max((day["total"] for day in days), default=0) or 1
    return render(
        request,
        "support/dashboard.html",
        {
            "figures": figures,
            "days": [(day, day["total"] * 100 // peak) for day in days],
            "figure": figure,
            "figure_label": next(
                (item.label for item in figures if item.key == figure), DRILL_DOWNS.get(figure)
            ),
            "rows": rows,
            "approvals": actions_waiting_approval(),
        },
    )


@operator_required
@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="dashboard.csv"'
    writer = csv.writer(response)
    writer.writerow(["figure", "currency", "value"])
    for figure in dashboard_figures():
        if isinstance(figure.value, Money):
            writer.writerow([figure.key, figure.value.currency, figure.value.decimal])
        else:
            writer.writerow([figure.key, "", figure.value])
    for day in renewals_per_day():
        for channel, count in day.items():
            if channel != "day":
                writer.writerow([f"renewals:{day['day'].isoformat()}:{channel}", "", count])
    return response


@agent_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    mine = request.GET.get("assignee", "")
    tickets = ticket_queue(
        status=status if status in TicketStatus.values else None,
        assignee=request.user if mine == "me" else None,  # type: ignore[arg-type]
        unassigned=mine == "nobody",
    )
    late = set(tickets_past_target().values_list("pk", flat=True))
    return render(
        request,
        "support/queue.html",
        {
            "tickets": tickets[:200],
            "late": late,
            "status": status,
            "assignee": mine,
            "statuses": TicketStatus.choices,
            "is_operator": is_operator(request.user),
        },
    )


def _ticket_post(request: HttpRequest, item: Ticket, forms_: dict[str, Any]) -> bool:
    """Apply the one form that was posted through its service; True when it was done."""
    agent: Any = request.user
    form: Form
    if "reply-message" in request.POST:
        form = forms_["reply"] = ReplyForm(request.POST, prefix="reply")
        if form.is_valid():
            ticket_reply(ticket=item, author=agent, body=form.cleaned_data["message"])
            return True
    elif "status-status" in request.POST:
        form = forms_["status_form"] = StatusForm(request.POST, prefix="status", current=item.status)
        if form.is_valid():
            ticket_set_status(ticket=item, actor=agent, status=form.cleaned_data["status"])
            return True
    elif "assign-assignee" in request.POST:
        form = forms_["assign_form"] = AssignForm(request.POST, prefix="assign")
        if form.is_valid():
            ticket_assign(ticket=item, actor=agent, assignee=form.cleaned_data["assignee"])
            return True
    elif "priority-priority" in request.POST:
        form = forms_["priority_form"] = PriorityForm(request.POST, prefix="priority")
        if form.is_valid():
            ticket_set_priority(ticket=item, actor=agent, priority=form.cleaned_data["priority"])
            return True
    else:
        form = forms_["action_form"] = ActionForm(request.POST, prefix="action", subscriber=item.subscriber)
        if form.is_valid():
            data = form.cleaned_data
            order = data["order"] if data["kind"] != ActionKind.GOODWILL_CREDIT else None
            amount = None
            if data["kind"] != ActionKind.RETRY_FULFILMENT:
                currency = order.currency if order else item.order.currency if item.order else "PEN"
                amount = Money.from_decimal(data["amount"] or Decimal(0), currency)

            def act() -> tuple[int, Any]:
                action = support_action_request(
                    ticket=item,
                    agent=agent,
                    kind=data["kind"],
                    reason=data["reason"],
                    order=order,
                    amount=amount,
                )
                return 201, {"action": action.pk}

            payload = {
                "ticket": item.pk,
                "kind": data["kind"],
                "order": order.pk if order else None,
                "amount": amount.as_dict() if amount else None,
                "reason": data["reason"],
            }
            idempotent(
                owner_id=agent.pk,
                key=str(data["idempotency_key"]),
                scope="support.action.page",
                payload=payload,
                action=act,
            )
            return True
    return False


def _snapshot(context: Any) -> Any:
    """The ticket's snapshot as the agent reads it: the line's number written as everywhere else."""
    line = context.get("line") if isinstance(context, dict) else None
    if isinstance(line, dict) and isinstance(line.get("msisdn"), str):
        return {**context, "line": {**line, "msisdn": msisdn_display(line["msisdn"])}}
    return context


@agent_required
@require_http_methods(["GET", "POST"])
def ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    item = get_object_or_404(
        Ticket.objects.select_related("subscriber", "order", "line__carrier", "assignee"), pk=ticket_id
    )
    forms_: dict[str, Any] = {
        "reply": ReplyForm(prefix="reply"),
        "status_form": StatusForm(prefix="status", current=item.status),
        "assign_form": AssignForm(prefix="assign", initial={"assignee": item.assignee_id}),
        "priority_form": PriorityForm(prefix="priority", initial={"priority": item.priority}),
        "action_form": ActionForm(
            prefix="action",
            subscriber=item.subscriber,
            initial={"order": item.order_id, "idempotency_key": uuid.uuid4()},
        ),
    }
    error = ""
    if request.method == "POST":
        try:
            if _ticket_post(request, item, forms_):
                return redirect("backoffice:ticket", item.pk)
        except DomainError as exc:
            error = str(exc.message)
        action_form = forms_["action_form"]
        if action_form.is_bound:
            # A corrected form is a new attempt: it gets a new key.
            fresh = request.POST.copy()
            fresh["action-idempotency_key"] = str(uuid.uuid4())
            action_form.data = fresh
    return render(
        request,
        "support/backoffice_ticket.html",
        {
            "ticket": item,
            "line_number": msisdn_display(item.line.msisdn) if item.line is not None else "",
            "snapshot": _snapshot(item.context),
            "late": tickets_past_target().filter(pk=item.pk).exists(),
            "messages_": item.messages.select_related("author"),
            "events": item.events.select_related("actor"),
            "actions": item.actions.select_related("requested_by", "approved_by"),
            "error": error,
            **forms_,
        },
    )


@operator_required
@require_POST
def action_decide(request: HttpRequest, action_id: int) -> HttpResponse:
    action = get_object_or_404(SupportAction, pk=action_id)
    try:
        if request.POST.get("decision") == "reject":
            support_action_reject(action=action, approver=request.user)  # type: ignore[arg-type]
        else:
            support_action_approve(action=action, approver=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        return render(request, "support/error.html", {"error": str(exc.message)}, status=exc.status)
    return redirect("backoffice:dashboard")
