"""Subscriber pages: my tickets, open one (from a line, order, receipt or anomaly), the thread."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vigencia.core.errors import DomainError
from vigencia.core.forms import form_add_domain_error
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.selectors import line_get
from vigencia.orders.selectors import order_get
from vigencia.stores.models import Receipt
from vigencia.support.forms import AccountCloseForm, ReplyForm, TicketForm
from vigencia.support.models import TicketCategory, TicketStatus
from vigencia.support.selectors import account_data, ticket_get, ticket_list
from vigencia.support.services import account_close, ticket_open, ticket_reply, ticket_set_status
from vigencia.usage.models import Anomaly

TICKETS_PAGE = 20  # a person's tickets per page, newest first


def _about(request: HttpRequest) -> dict[str, Any]:
    """What the ticket is about, from ?line= / ?order= / ?receipt= / ?anomaly= (404 if not the user's)."""
    user: Any = request.user
    about: dict[str, Any] = {}
    try:
        if request.GET.get("line", "").isdigit():
            about["line"] = line_get(owner=user, line_id=int(request.GET["line"]))
        if request.GET.get("order", "").isdigit():
            about["order"] = order_get(payer=user, order_id=int(request.GET["order"]))
    except DomainError:
        raise Http404 from None
    if request.GET.get("receipt", "").isdigit():
        about["receipt"] = Receipt.objects.filter(pk=int(request.GET["receipt"]), order__payer=user).first()
        if about["receipt"] is None:
            raise Http404
    if request.GET.get("anomaly", "").isdigit():
        about["anomaly"] = Anomaly.objects.filter(pk=int(request.GET["anomaly"]), line__owner=user).first()
        if about["anomaly"] is None:
            raise Http404
    return about


def _initial(about: dict[str, Any]) -> dict[str, Any]:
    """The category and subject a ticket about this thing most likely has (the subscriber may change them)."""
    if "anomaly" in about:
        kind = about["anomaly"].get_kind_display()
        return {
            "category": TicketCategory.WRONG_CHARGE,
            "subject": _("Wrong charge: %(kind)s") % {"kind": kind},
        }
    if "order" in about or "receipt" in about:
        order = about.get("order") or about["receipt"].order
        return {
            "category": TicketCategory.RENEWAL_NOT_RECEIVED,
            "subject": _("Renewal #%(id)s of %(number)s")
            % {"id": order.pk, "number": msisdn_display(order.msisdn)},
        }
    if "line" in about:
        return {
            "category": TicketCategory.LINE_NOT_WORKING,
            "subject": _("Line %(number)s") % {"number": msisdn_display(about["line"].msisdn)},
        }
    return {"category": TicketCategory.OTHER}


@login_required
@require_GET
def ticket_list_page(request: HttpRequest) -> HttpResponse:
    tickets = ticket_list(subscriber=request.user)  # type: ignore[arg-type]
    page = Paginator(tickets, TICKETS_PAGE).get_page(request.GET.get("page"))
    return render(request, "support/list.html", {"tickets": page.object_list, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    about = _about(request)
    initial = _initial(about)
    form = TicketForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = ticket_open(subscriber=request.user, **form.cleaned_data, **about)  # type: ignore[arg-type]
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            return redirect("support:detail", ticket.pk)
    about_number = about.get("order") or about.get("line")
    number = msisdn_display(about_number.msisdn) if about_number is not None else ""
    return render(request, "support/new.html", {"form": form, "about": about, "number": number})


@login_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user: Any = request.user
    try:
        ticket = ticket_get(subscriber=user, ticket_id=ticket_id)
    except DomainError:
        raise Http404 from None
    form = ReplyForm(request.POST if "message" in request.POST else None)
    if request.method == "POST" and request.POST.get("status") in (TicketStatus.CLOSED, TicketStatus.OPEN):
        # The subscriber closes their ticket, or opens it again (the transition table decides).
        try:
            ticket_set_status(ticket=ticket, actor=user, status=request.POST["status"])
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            return redirect("support:detail", ticket.pk)
    elif request.method == "POST" and form.is_valid():
        try:
            ticket_reply(ticket=ticket, author=user, body=form.cleaned_data["message"])
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            return redirect("support:detail", ticket.pk)
    return render(
        request, "support/detail.html", {"ticket": ticket, "messages_": ticket.messages.all(), "form": form}
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_close_page(request: HttpRequest) -> HttpResponse:
    """What closing the account does, and the password to confirm it; then the person is logged out."""
    form = AccountCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_close(user=request.user, password=form.cleaned_data["password"])  # type: ignore[arg-type]
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            logout(request)
            messages.success(request, _("Your account is closed. Thank you for using Vigencia."))
            return redirect("home")
    return render(request, "support/account_close.html", {"form": form})


@login_required
@require_GET
def account_data_download(request: HttpRequest) -> HttpResponse:
    """Everything kept about the person, as a JSON file to save."""
    response = JsonResponse(
        account_data(user=request.user),  # type: ignore[arg-type]
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    response["Content-Disposition"] = 'attachment; filename="vigencia-my-data.json"'
    return response
