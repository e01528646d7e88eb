"""Support reads: a subscriber's tickets, the agents' queue, and tickets past their targets."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from vigencia.accounts import roles
from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.core.errors import NotFound
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
