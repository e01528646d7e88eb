"""Support tickets: a subscriber's question with its context, the thread, and what agents did."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vigencia.core import clock
from vigencia.core.models import TimeStampedModel
from vigencia.core.money import Money
from vigencia.core.transitions import TransitionTable

MAX_MESSAGE_LENGTH = 5000
MAX_SUBJECT_LENGTH = 150


class TicketCategory(models.TextChoices):
    RENEWAL_NOT_RECEIVED = "renewal_not_received", _("Renewal not received")
    LINE_NOT_WORKING = "line_not_working", _("Line not working")
    WRONG_CHARGE = "wrong_charge", _("Wrong charge")
    OTHER = "other", _("Other")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")


TICKET_TRANSITIONS = TransitionTable(
    "ticket",
    {
        TicketStatus.OPEN: {TicketStatus.WAITING_ON_CUSTOMER, TicketStatus.RESOLVED, TicketStatus.CLOSED},
        TicketStatus.WAITING_ON_CUSTOMER: {TicketStatus.OPEN, TicketStatus.RESOLVED, TicketStatus.CLOSED},
        # Reopen: the subscriber writes again, or an agent reopens.
        TicketStatus.RESOLVED: {TicketStatus.OPEN, TicketStatus.CLOSED},
        TicketStatus.CLOSED: {TicketStatus.OPEN},
    },
)
ACTIVE_STATUSES = (TicketStatus.OPEN, TicketStatus.WAITING_ON_CUSTOMER)


class TicketPriority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Ticket(TimeStampedModel):
    subscriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("subscriber"),
    )
    category = models.CharField(_("category"), max_length=24, choices=TicketCategory.choices)
    subject = models.CharField(_("subject"), max_length=MAX_SUBJECT_LENGTH)
    status = models.CharField(
        _("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        verbose_name=_("assigned to"),
    )
    # What the ticket is about (any of them, or none), and a snapshot of it when it was opened.
    line = models.ForeignKey(
        "lines.Line",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("line"),
    )
    order = models.ForeignKey(
        "orders.RenewalOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("order"),
    )
    receipt = models.ForeignKey(
        "stores.Receipt",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("receipt"),
    )
    anomaly = models.ForeignKey(
        "usage.Anomaly",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("anomaly"),
    )
    context = models.JSONField(_("context"), default=dict, blank=True)
    first_response_due_at = models.DateTimeField(_("first response due"))
    resolution_due_at = models.DateTimeField(_("resolution due"))
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(pgettext_lazy("ticket", "resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("ticket", "closed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=TicketStatus.values), name="support_ticket_status_known"
            ),
            models.CheckConstraint(
                condition=Q(category__in=TicketCategory.values), name="support_ticket_category_known"
            ),
        ]
        indexes = [models.Index(fields=["status", "resolution_due_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketMessage(models.Model):
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    from_staff = models.BooleanField(_("from support"), default=False)
    body = models.TextField(_("message"), max_length=MAX_MESSAGE_LENGTH)
    created_at = models.DateTimeField(default=clock.now, editable=False, verbose_name=_("created at"))

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} message {self.pk}"


class TicketEventKind(models.TextChoices):
    # In their own context: "Opened" is also a store shift's, "Status changed" a line's.
    OPENED = "opened", pgettext_lazy("ticket event", "Opened")
    STATUS = "status", pgettext_lazy("ticket event", "Status changed")
    ASSIGNED = "assigned", pgettext_lazy("ticket event", "Assigned")
    PRIORITY = "priority", pgettext_lazy("ticket event", "Priority changed")
    ACTION = "action", pgettext_lazy("ticket event", "Action taken")
    ACTION_REQUESTED = "action_requested", pgettext_lazy("ticket event", "Action waiting for approval")
    ACTION_APPROVED = "action_approved", pgettext_lazy("ticket event", "Action approved")
    ACTION_REJECTED = "action_rejected", pgettext_lazy("ticket event", "Action rejected")
    ACTION_DONE = "action_done", pgettext_lazy("ticket event", "Action done")


class TicketEvent(models.Model):
    """The audit trail: status moves, assignment, priority, and every agent action."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket")
    )
    kind = models.CharField(max_length=30, choices=TicketEventKind.choices, verbose_name=_("kind"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    from_status = models.CharField(
        max_length=20, blank=True, choices=TicketStatus.choices, verbose_name=_("from status")
    )
    to_status = models.CharField(
        max_length=20, blank=True, choices=TicketStatus.choices, verbose_name=_("to status")
    )
    at = models.DateTimeField(default=clock.now, verbose_name=_("at"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"ticket {self.ticket_id} {self.kind}"

    @property
    def priority_label(self) -> str:
        """The new priority of a priority change, for people."""
        priority = self.data.get("priority")
        return str(TicketPriority(priority).label) if priority in TicketPriority.values else ""


class ActionKind(models.TextChoices):
    RETRY_FULFILMENT = "retry_fulfilment", _("Retry the top-up at the carrier")
    REFUND_WALLET = "refund_wallet", _("Refund to the wallet")
    REFUND_ORIGINAL = "refund_original", _("Refund to the original payment method")
    GOODWILL_CREDIT = "goodwill_credit", _("Goodwill credit to the wallet")


class ActionStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Waiting for an operator's approval")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected")


ACTION_TRANSITIONS = TransitionTable(
    "support action",
    {
        ActionStatus.PENDING_APPROVAL: {ActionStatus.DONE, ActionStatus.REJECTED},
        ActionStatus.DONE: set(),
        ActionStatus.REJECTED: set(),
    },
)


class SupportAction(TimeStampedModel):
    """One thing an agent did for a ticket through the normal services (a ledger transaction for
    money), with its reason, the agent and, above the limit, the operator who approved it."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.PROTECT, related_name="actions", verbose_name=_("ticket")
    )
    kind = models.CharField(_("action"), max_length=20, choices=ActionKind.choices)
    status = models.CharField(_("status"), max_length=20, choices=ActionStatus.choices)
    order = models.ForeignKey(
        "orders.RenewalOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="support_actions",
        verbose_name=_("order"),
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=pgettext_lazy("support", "agent"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    ledger_transaction = models.ForeignKey(
        "ledger.LedgerTransaction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("ledger transaction"),
    )
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("support action")
        verbose_name_plural = _("support actions")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__isnull=True) | Q(amount_minor__gt=0),
                name="support_action_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ActionStatus.values), name="support_action_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for ticket {self.ticket_id}"

    @property
    def amount(self) -> Money | None:
        return Money(self.amount_minor, self.currency) if self.amount_minor is not None else None
