"""Support reads: a subscriber's tickets, the agents' queue, and tickets past their targets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from vigencia.accounts import roles
from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.core.errors import NotFound
from vigencia.core.money import Money
from vigencia.ledger.models import AccountKind, Posting
from vigencia.lines.models import Line
from vigencia.notifications.models import Notification, TelegramChat
from vigencia.orders.models import RenewalOrder
from vigencia.support.models import ACTIVE_STATUSES, ActionStatus, SupportAction, Ticket


def ticket_list(*, subscriber: User) -> QuerySet[Ticket]:
    return Ticket.objects.filter(subscriber=subscriber)


def ticket_get(*, subscriber: User, ticket_id: int) -> Ticket:
    """The subscriber's ticket; NotFound for anyone else's (it does not say whether it exists)."""
    ticket = ticket_list(subscriber=subscriber).filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(code="ticket_not_found")
    return ticket


def ticket_queue(
    *, status: str | None = None, assignee: User | None = None, unassigned: bool = False
) -> QuerySet[Ticket]:
    """The agents' queue, the soonest resolution target first; filtered by status, by assignee or
    to the tickets nobody has."""
    tickets = Ticket.objects.select_related("subscriber", "assignee").order_by("resolution_due_at", "id")
    if status:
        tickets = tickets.filter(status=status)
    if assignee is not None:
        tickets = tickets.filter(assignee=assignee)
    elif unassigned:
        tickets = tickets.filter(assignee__isnull=True)
    return tickets


def tickets_past_target(*, at: datetime | None = None) -> QuerySet[Ticket]:
    """Tickets still open or waiting whose first answer or resolution is late."""
    at = at or clock.now()
    return Ticket.objects.filter(status__in=ACTIVE_STATUSES).filter(
        Q(first_responded_at__isnull=True, first_response_due_at__lt=at) | Q(resolution_due_at__lt=at)
    )


def actions_waiting_approval() -> QuerySet[SupportAction]:
    return SupportAction.objects.filter(status=ActionStatus.PENDING_APPROVAL).select_related(
        "ticket", "requested_by", "order"
    )


def support_agents() -> QuerySet[User]:
    """The people a ticket can be assigned to: active support agents, operators and superusers."""
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=(roles.SUPPORT, roles.OPERATOR)))
        .distinct()
        .order_by("email")
    )


def account_data(*, user: User) -> dict[str, Any]:
    """Everything the platform keeps about a person, for them to take away (their right of access):
    the account, lines, renewals, wallet movements, messages and tickets, as JSON-ready values."""

    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    wallet = (
        Posting.objects.filter(account__owner=user, account__kind=AccountKind.WALLET)
        .select_related("transaction")
        .order_by("transaction__created_at", "id")
    )
    tickets = Ticket.objects.filter(subscriber=user).prefetch_related("messages").order_by("created_at", "id")
    return {
        "exported_at": clock.now().isoformat(),
        "account": {
            "email": user.email,
            "name": user.name,
            "phone": user.phone,
            "language": user.language,
            "timezone": user.timezone,
            "joined": when(user.date_joined),
        },
        "lines": [
            {
                "msisdn": line.msisdn,
                "carrier": line.carrier.code,
                "nickname": line.nickname,
                "status": line.status,
                "last_recharge_at": when(line.last_recharge_at),
                "valid_until": when(line.valid_until),
                "added_at": when(line.created_at),
                "removed_at": when(line.removed_at),
            }
            for line in Line.objects.filter(owner=user).select_related("carrier").order_by("created_at", "id")
        ],
        "renewals": [
            {
                "id": order.pk,
                "created_at": when(order.created_at),
                "msisdn": order.msisdn,
                "plan": order.plan_name,
                "channel": order.channel,
                "payment_method": order.payment_method,
                "status": order.status,
                "total": order.total.as_dict(),
                "valid_until_after": when(order.valid_until_after),
            }
            for order in RenewalOrder.objects.filter(payer=user).order_by("created_at", "id")
        ],
        "wallet": [
            {
                "at": when(posting.transaction.created_at),
                "amount": Money(posting.amount_minor, posting.currency).as_dict(),
                "kind": posting.transaction.kind,
                "memo": posting.transaction.memo,
            }
            for posting in wallet
        ],
        "messages": [
            {
                "at": when(notification.created_at),
                "kind": notification.kind,
                "channel": notification.channel,
                "status": notification.status,
                "data": notification.context,
            }
            for notification in Notification.objects.filter(user=user).order_by("created_at", "id")
        ],
        "telegram": (
            {"chat_id": telegram.chat_id, "connected_at": when(telegram.linked_at)}
            if (telegram := TelegramChat.objects.filter(user=user, chat_id__isnull=False).first())
            else None
        ),
        "tickets": [
            {
                "id": ticket.pk,
                "created_at": when(ticket.created_at),
                "category": ticket.category,
                "subject": ticket.subject,
                "status": ticket.status,
                "messages": [
                    {"at": when(message.created_at), "from_support": message.from_staff, "body": message.body}
                    for message in sorted(
                        ticket.messages.all(), key=lambda message: (message.created_at, message.pk)
                    )
                ],
            }
            for ticket in tickets
        ],
    }
