"""/api/v1/tickets: a subscriber's support tickets and their threads; and /api/v1/auth/me's data
download and closing, which support owns as it does their pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from vigencia.accounts.auth import api_user, bearer
from vigencia.core.errors import InvalidInput, NotFound
from vigencia.core.schemas import ErrorOut, Text, page_slice
from vigencia.lines.selectors import line_get
from vigencia.orders.selectors import order_get
from vigencia.stores.models import Receipt
from vigencia.support.models import Ticket, TicketStatus
from vigencia.support.selectors import account_data, ticket_get, ticket_list
from vigencia.support.services import account_close, ticket_open, ticket_reply, ticket_set_status
from vigencia.usage.models import Anomaly

router = Router(tags=["support"], auth=bearer)
account_router = Router(tags=["accounts"], auth=bearer)


class TicketIn(Schema):
    category: str
    subject: Text
    message: Text
    line_id: int | None = None
    order_id: int | None = None
    receipt_id: int | None = None
    anomaly_id: int | None = None


class AccountCloseIn(Schema):
    password: Text = Field(max_length=1024)


class MessageIn(Schema):
    message: Text


class StatusIn(Schema):
    status: str


class MessageOut(Schema):
    id: int
    from_support: bool
    body: str
    created_at: datetime


class TicketOut(Schema):
    id: int
    category: str
    subject: str
    status: str
    priority: str
    line_id: int | None
    order_id: int | None
    receipt_id: int | None
    anomaly_id: int | None
    context: dict[str, Any]
    created_at: datetime
    first_response_due_at: datetime
    resolution_due_at: datetime
    first_responded_at: datetime | None
    resolved_at: datetime | None


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]


def _detail(ticket: Ticket) -> dict[str, Any]:
    out = TicketOut.from_orm(ticket).dict()
    out["messages"] = [
        {
            "id": message.pk,
            "from_support": message.from_staff,
            "body": message.body,
            "created_at": message.created_at,
        }
        for message in ticket.messages.all()
    ]
    return out


@router.post(
    "/tickets",
    response={201: TicketDetailOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Open a support ticket",
    description="`category`: renewal_not_received, line_not_working, wrong_charge or other. Give the "
    "line, order, store receipt or usage anomaly it is about: its details are attached for the agent. "
    "Someone else's line or order is 404; a message over 5000 characters is 422 `too_long`.",
)
def open_ticket(request: HttpRequest, payload: TicketIn):
    user = api_user(request)
    line = line_get(owner=user, line_id=payload.line_id) if payload.line_id is not None else None
    order = order_get(payer=user, order_id=payload.order_id) if payload.order_id is not None else None
    receipt = anomaly = None
    if payload.receipt_id is not None:
        receipt = Receipt.objects.filter(pk=payload.receipt_id, order__payer=user).first()
        if receipt is None:
            raise NotFound(code="receipt_not_found")
    if payload.anomaly_id is not None:
        anomaly = (
            Anomaly.objects.filter(pk=payload.anomaly_id, line__owner=user).select_related("line").first()
        )
        if anomaly is None:
            raise NotFound(code="anomaly_not_found")
    ticket = ticket_open(
        subscriber=user,
        category=payload.category,
        subject=payload.subject,
        message=payload.message,
        line=line,
        order=order,
        receipt=receipt,
        anomaly=anomaly,
    )
    return Status(201, _detail(ticket))


@router.get("/tickets", response={200: list[TicketOut], 422: ErrorOut})
def list_tickets(request: HttpRequest, limit: int = 50, offset: int = 0, status: str | None = None):
    rows = page_slice(limit=limit, offset=offset)
    tickets = ticket_list(subscriber=api_user(request))
    if status:
        if status not in TicketStatus.values:
            raise InvalidInput(code="invalid_status", details={"allowed": TicketStatus.values})
        tickets = tickets.filter(status=status)
    return tickets[rows]


@router.get("/tickets/{ticket_id}", response={200: TicketDetailOut, 404: ErrorOut})
def get_ticket(request: HttpRequest, ticket_id: int):
    return _detail(ticket_get(subscriber=api_user(request), ticket_id=ticket_id))


@router.post(
    "/tickets/{ticket_id}/messages",
    response={201: MessageOut, 404: ErrorOut, 422: ErrorOut},
    summary="Write in a ticket's thread",
    description="A ticket waiting on you, resolved or closed opens again.",
)
def post_message(request: HttpRequest, ticket_id: int, payload: MessageIn):
    user = api_user(request)
    message = ticket_reply(
        ticket=ticket_get(subscriber=user, ticket_id=ticket_id), author=user, body=payload.message
    )
    return Status(
        201,
        {
            "id": message.pk,
            "from_support": False,
            "body": message.body,
            "created_at": message.created_at,
        },
    )


@router.post(
    "/tickets/{ticket_id}/status",
    response={200: TicketOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Close or reopen your ticket",
)
def set_status(request: HttpRequest, ticket_id: int, payload: StatusIn):
    user = api_user(request)
    return ticket_set_status(
        ticket=ticket_get(subscriber=user, ticket_id=ticket_id), actor=user, status=payload.status
    )


@account_router.get(
    "/me/data",
    response={200: dict[str, Any], 401: ErrorOut},
    summary="Everything kept about you (your right of access)",
    description="The account, lines, renewals, wallet movements, messages and tickets, as the "
    "portal's Download my data gives them.",
)
def me_data(request: HttpRequest) -> dict[str, Any]:
    return account_data(user=api_user(request))


@account_router.post(
    "/me/close",
    response={204: None, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Close your account for good, confirmed with your password",
    description="Open checkouts are canceled, the lines leave your list (no reminder or "
    "auto-renewal follows), the webhook and every token go and your personal data is erased; orders, "
    "payments and tickets stay for the records. Refused with nothing changed: 422 `wrong_password`, "
    "403 `not_a_subscriber_account` (an operator closes accounts with a role), 409 `money_in_flight` "
    "(a payment or renewal still under way) or `wallet_not_empty` (spend the wallet or ask support "
    "for a refund first).",
)
def me_close(request: HttpRequest, payload: AccountCloseIn) -> Status[None]:
    account_close(user=api_user(request), password=payload.password)
    return Status(204, None)
