"""Support writes: open a ticket, the thread, its status, and what agents do about it.

Agents act through the normal services: a retried top-up goes back to the fulfilment task, a refund
or goodwill credit is one ledger transaction (its memo names the agent and the reason, and a
SupportAction row plus a TicketEvent keep the audit trail). Money above
settings.VIGENCIA_SUPPORT_APPROVAL_LIMIT_MINOR waits for a second approver with the operator role.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from vigencia.accounts import roles
from vigencia.accounts.models import User
from vigencia.accounts.services import user_erase
from vigencia.catalog.promotions import promotion_release
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from vigencia.core.money import Money
from vigencia.core.transitions import IllegalTransition
from vigencia.fulfilment.models import FINAL_STATUSES as FULFILMENT_FINAL
from vigencia.fulfilment.models import FulfilmentTransaction
from vigencia.ledger.models import LedgerTransaction
from vigencia.ledger.selectors import owned_balances
from vigencia.ledger.services import account_system, account_wallet, ledger_post
from vigencia.lines.models import Line
from vigencia.lines.services import line_remove
from vigencia.notifications.services import notification_send, webhook_endpoint_delete
from vigencia.notifications.telegram import telegram_chat_delete
from vigencia.orders.models import (
    ORDER_TRANSITIONS,
    PSP_METHODS,
    OrderEvent,
    OrderStatus,
    PaymentMethod,
    RenewalOrder,
)
from vigencia.payments.models import PaymentIntent, PaymentStatus
from vigencia.payments.services import payment_cancel, payment_refund
from vigencia.stores.models import Receipt
from vigencia.support.models import (
    ACTION_TRANSITIONS,
    ACTIVE_STATUSES,
    MAX_MESSAGE_LENGTH,
    MAX_SUBJECT_LENGTH,
    TICKET_TRANSITIONS,
    ActionKind,
    ActionStatus,
    SupportAction,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketMessage,
    TicketPriority,
    TicketStatus,
)
from vigencia.usage.models import Anomaly

AGENT_ROLES = (roles.SUPPORT, roles.OPERATOR)
is_operator = roles.is_operator
MONEY_ACTIONS = (ActionKind.REFUND_WALLET, ActionKind.REFUND_ORIGINAL, ActionKind.GOODWILL_CREDIT)
REFUND_ACTIONS = (ActionKind.REFUND_WALLET, ActionKind.REFUND_ORIGINAL)
_PRIORITY_OF_CATEGORY = {
    TicketCategory.RENEWAL_NOT_RECEIVED: TicketPriority.HIGH,
    TicketCategory.LINE_NOT_WORKING: TicketPriority.HIGH,
    TicketCategory.WRONG_CHARGE: TicketPriority.HIGH,
    TicketCategory.OTHER: TicketPriority.NORMAL,
}


def is_agent(user: Any) -> bool:
    return bool(
        user.is_authenticated and (user.is_superuser or user.groups.filter(name__in=AGENT_ROLES).exists())
    )


def _require_agent(user: User) -> None:
    if not is_agent(user):
        raise PermissionDenied(_("Only support agents can do this."), code="not_an_agent")


def _text(value: str, *, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(_("This field is required."), code="required", details={"field": field})
    if len(value) > max_length:
        raise InvalidInput(
            _("This text is too long (at most %(max)d characters).") % {"max": max_length},
            code="too_long",
            details={"field": field, "max_length": max_length},
        )
    if "\x00" in value:
        raise InvalidInput(_("This text contains characters that are not allowed."), code="invalid_text")
    return value


def _event(ticket: Ticket, kind: str, actor: User | None, **data: Any) -> None:
    TicketEvent.objects.create(ticket=ticket, kind=kind, actor=actor, data=data)


def _move(ticket: Ticket, target: str, actor: User | None, **changes: Any) -> None:
    source = TICKET_TRANSITIONS.apply(
        ticket, field="status", target=target, updated_at=clock.now(), **changes
    )
    TicketEvent.objects.create(
        ticket=ticket, kind="status", actor=actor, from_status=source, to_status=target
    )


def _targets(priority: str) -> tuple[timedelta, timedelta]:
    first, resolution = settings.VIGENCIA_SUPPORT_TARGET_HOURS[priority]
    return timedelta(hours=first), timedelta(hours=resolution)


def _ticket_url(ticket: Ticket) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("support:detail", args=[ticket.pk])


def _context(
    *, line: Line | None, order: RenewalOrder | None, receipt: Receipt | None, anomaly: Anomaly | None
) -> dict[str, Any]:
    """What the agent needs to see, as it was when the ticket was opened."""
    context: dict[str, Any] = {}
    if line is not None:
        context["line"] = {
            "id": line.pk,
            "msisdn": line.msisdn,
            "carrier": line.carrier.code,
            "status": line.status,
            "valid_until": line.valid_until.isoformat() if line.valid_until else None,
        }
    if order is not None:
        context["order"] = {
            "id": order.pk,
            "status": order.status,
            "channel": order.channel,
            "payment_method": order.payment_method,
            "plan_code": order.plan_code,
            "total": order.total.as_dict(),
            "failure_code": order.failure_code,
            "created_at": order.created_at.isoformat(),
        }
    if receipt is not None:
        context["receipt"] = {"number": receipt.number, "store": receipt.store_id, "order": receipt.order_id}
    if anomaly is not None:
        context["anomaly"] = {"id": anomaly.pk, "kind": anomaly.kind, "details": anomaly.details}
    return context


def ticket_open(
    *,
    subscriber: User,
    category: str,
    subject: str,
    message: str,
    line: Line | None = None,
    order: RenewalOrder | None = None,
    receipt: Receipt | None = None,
    anomaly: Anomaly | None = None,
) -> Ticket:
    """Open a ticket with its first message and a snapshot of what it is about (a line, an order, a
    store receipt or a usage anomaly; an order or receipt brings its line). Each must be the
    subscriber's (NotFound otherwise). Priority and the first-response and resolution targets follow
    the category. InvalidInput for an unknown category or empty or too long text; nothing written."""
    if category not in TicketCategory.values:
        raise InvalidInput(
            _("Unknown category."), code="invalid_category", details={"allowed": TicketCategory.values}
        )
    subject = _text(subject, field="subject", max_length=MAX_SUBJECT_LENGTH)
    message = _text(message, field="message", max_length=MAX_MESSAGE_LENGTH)
    if receipt is not None:
        order = order or receipt.order
        if receipt.order_id != order.pk:
            raise InvalidInput(_("The receipt is of another order."), code="receipt_other_order")
    if order is not None:
        if order.payer_id != subscriber.pk:
            raise NotFound(code="order_not_found")
        line = line or order.line
    if anomaly is not None:
        line = line or anomaly.line
        if anomaly.line_id != line.pk:
            raise InvalidInput(_("The anomaly is of another line."), code="anomaly_other_line")
    if line is not None and (line.owner_id != subscriber.pk or line.removed_at is not None):
        raise NotFound(code="line_not_found")
    priority = _PRIORITY_OF_CATEGORY[TicketCategory(category)]
    first_target, resolution_target = _targets(priority)
    now = clock.now()
    with transaction.atomic():
        ticket = Ticket.objects.create(
            subscriber=subscriber,
            category=category,
            subject=subject,
            priority=priority,
            line=line,
            order=order,
            receipt=receipt,
            anomaly=anomaly,
            context=_context(line=line, order=order, receipt=receipt, anomaly=anomaly),
            created_at=now,
            first_response_due_at=now + first_target,
            resolution_due_at=now + resolution_target,
        )
        TicketMessage.objects.create(ticket=ticket, author=subscriber, body=message, created_at=now)
        TicketEvent.objects.create(ticket=ticket, kind="opened", actor=subscriber, to_status=ticket.status)
    return ticket


def ticket_reply(*, ticket: Ticket, author: User, body: str) -> TicketMessage:
    """Add a message to the thread (locks the ticket). From an agent: starts the first-response
    clock's stop, waits on the customer, and emails the subscriber in their language (once per
    message). From the subscriber: a ticket waiting on them, resolved or closed opens again. Anyone
    else gets NotFound; text too long or empty is InvalidInput; nothing is written then."""
    body = _text(body, field="message", max_length=MAX_MESSAGE_LENGTH)
    from_staff = author.pk != ticket.subscriber_id
    if from_staff:
        _require_agent(author)
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("subscriber").get(pk=ticket.pk)
        now = clock.now()
        message = TicketMessage.objects.create(ticket=ticket, author=author, from_staff=from_staff, body=body)
        if from_staff:
            if ticket.first_responded_at is None:
                Ticket.objects.filter(pk=ticket.pk).update(first_responded_at=now)
                ticket.first_responded_at = now
            if ticket.status == TicketStatus.OPEN:
                _move(ticket, TicketStatus.WAITING_ON_CUSTOMER, author)
            notification_send(
                user=ticket.subscriber,
                kind="ticket_reply",
                dedupe_key=f"ticket:{ticket.pk}:message:{message.pk}",
                context={
                    "ticket_id": ticket.pk,
                    "subject": ticket.subject,
                    "body": body,
                    "ticket_url": _ticket_url(ticket),
                },
            )
        elif ticket.status != TicketStatus.OPEN:
            _move(ticket, TicketStatus.OPEN, author, resolved_at=None, closed_at=None)
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    return message


def ticket_set_status(*, ticket: Ticket, actor: User, status: str) -> Ticket:
    """Resolve, close or reopen (the transition table says which moves exist; IllegalTransition is
    409). The subscriber may close or reopen their own ticket; the rest is for agents."""
    if status not in TicketStatus.values:
        raise InvalidInput(
            _("Unknown status."), code="invalid_status", details={"allowed": TicketStatus.values}
        )
    if actor.pk != ticket.subscriber_id or status not in (TicketStatus.CLOSED, TicketStatus.OPEN):
        _require_agent(actor)
    now = clock.now()
    changes: dict[str, Any] = {}
    if status == TicketStatus.RESOLVED:
        changes["resolved_at"] = now
    elif status == TicketStatus.CLOSED:
        changes["closed_at"] = now
    elif status == TicketStatus.OPEN:
        changes.update(resolved_at=None, closed_at=None)
    with transaction.atomic():
        _move(ticket, status, actor, **changes)
    return ticket


def _locked_active(ticket: Ticket) -> Ticket:
    """The ticket's row, locked; Conflict if it is resolved or closed (reopen it first: the
    transition table decides that, not an assignment or a priority)."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.status not in ACTIVE_STATUSES:
        raise Conflict(
            _("This ticket is %(status)s: reopen it first.") % {"status": locked.get_status_display()},
            code="ticket_not_active",
            details={"status": locked.status},
        )
    return locked


def ticket_assign(*, ticket: Ticket, actor: User, assignee: User | None) -> Ticket:
    """Give an open or waiting ticket to a support agent (or to nobody). Only agents assign, and
    only to agents (PermissionDenied / InvalidInput); a resolved or closed ticket is Conflict
    `ticket_not_active`. Locks the ticket; assigning to whom it already has writes nothing."""
    _require_agent(actor)
    if assignee is not None and not is_agent(assignee):
        raise InvalidInput(
            _("Tickets are assigned to support agents."),
            code="assignee_not_agent",
            details={"field": "assignee"},
        )
    with transaction.atomic():
        locked = _locked_active(ticket)
        if locked.assignee_id != (assignee.pk if assignee else None):
            Ticket.objects.filter(pk=ticket.pk).update(assignee=assignee, updated_at=clock.now())
            _event(
                ticket,
                "assigned",
                actor,
                previous=locked.assignee.email if locked.assignee else None,
                assignee=assignee.email if assignee else None,
            )
    ticket.assignee = assignee
    return ticket


def ticket_set_priority(*, ticket: Ticket, actor: User, priority: str) -> Ticket:
    """Change an open or waiting ticket's priority (agents only); its first-response and resolution
    targets are counted again from when it was opened. Conflict `ticket_not_active` for a resolved
    or closed ticket. Locks the ticket; the same priority again writes nothing."""
    _require_agent(actor)
    if priority not in TicketPriority.values:
        raise InvalidInput(
            _("Unknown priority."),
            code="invalid_priority",
            details={"field": "priority", "allowed": TicketPriority.values},
        )
    first_target, resolution_target = _targets(priority)
    changes = {
        "priority": priority,
        "first_response_due_at": ticket.created_at + first_target,
        "resolution_due_at": ticket.created_at + resolution_target,
    }
    with transaction.atomic():
        locked = _locked_active(ticket)
        if locked.priority != priority:
            Ticket.objects.filter(pk=ticket.pk).update(**changes, updated_at=clock.now())
            _event(ticket, "priority", actor, previous=locked.priority, priority=priority)
    for name, value in changes.items():
        setattr(ticket, name, value)
    return ticket


# -- agent actions ---------------------------------------------------------------------------------


def order_refunded_so_far(order: RenewalOrder) -> Money:
    total = SupportAction.objects.filter(
        order=order, kind__in=REFUND_ACTIONS, status=ActionStatus.DONE
    ).aggregate(total=Sum("amount_minor"))["total"]
    return Money(total or 0, order.currency)


def _check_refund(order: RenewalOrder, amount: Money, *, pending: bool) -> None:
    if order.status == OrderStatus.REFUNDED:
        raise Conflict(_("This order has already been refunded."), code="already_refunded")
    if order.status != OrderStatus.COMPLETED:
        raise Conflict(
            _("Only a completed renewal can be refunded here; a failed one is refunded automatically."),
            code="order_not_refundable",
            details={"status": order.status},
        )
    spoken_for = order_refunded_so_far(order)
    if pending:
        waiting = SupportAction.objects.filter(
            order=order, kind__in=REFUND_ACTIONS, status=ActionStatus.PENDING_APPROVAL
        ).aggregate(total=Sum("amount_minor"))["total"]
        spoken_for += Money(waiting or 0, order.currency)
    left = order.total - spoken_for
    if amount.currency != order.currency or amount.amount_minor > left.amount_minor:
        raise InvalidInput(
            _("The refund is more than what was paid and not yet refunded (%(left)s).") % {"left": left},
            code="refund_too_large",
            details={"paid": order.total.as_dict(), "refundable": left.as_dict()},
        )


def support_action_request(
    *,
    ticket: Ticket,
    agent: User,
    kind: str,
    reason: str,
    order: RenewalOrder | None = None,
    amount: Money | None = None,
) -> SupportAction:
    """An agent acts on a ticket: retry the order's top-up, refund (part of) a completed order to the
    wallet or the original payment method, or credit the subscriber's wallet as goodwill. Done at
    once, or, for money above the approval limit, recorded as waiting for an operator
    (`support_action_approve`). The order must be the ticket's subscriber's (NotFound); a refund of a
    refunded order is Conflict already_refunded, more than what is left InvalidInput
    refund_too_large. Everything (the action, the ledger transaction, the emails) is one database
    transaction: on any error nothing is written and nothing sent."""
    _require_agent(agent)
    if kind not in ActionKind.values:
        raise InvalidInput(
            _("Unknown action."), code="invalid_action", details={"allowed": ActionKind.values}
        )
    reason = _text(reason, field="reason", max_length=300)
    if kind != ActionKind.GOODWILL_CREDIT:
        order = order or ticket.order
        if order is None:
            raise InvalidInput(_("Choose the order this is about."), code="order_required")
        if order.payer_id != ticket.subscriber_id:
            raise NotFound(code="order_not_found")
    if kind in MONEY_ACTIONS:
        if amount is None or amount.amount_minor <= 0:
            raise InvalidInput(_("The amount must be positive."), code="invalid_amount")
    else:
        amount = None
    with transaction.atomic():
        if order is not None:
            order = RenewalOrder.objects.select_for_update().get(pk=order.pk)
            if kind in REFUND_ACTIONS:
                assert amount is not None
                _check_refund(order, amount, pending=True)
                _check_original_method(order, kind)
        needs_approval = (
            amount is not None and amount.amount_minor > settings.VIGENCIA_SUPPORT_APPROVAL_LIMIT_MINOR
        )
        action = SupportAction.objects.create(
            ticket=ticket,
            kind=kind,
            status=ActionStatus.PENDING_APPROVAL if needs_approval else ActionStatus.DONE,
            order=order,
            amount_minor=amount.amount_minor if amount else None,
            currency=amount.currency if amount else "",
            reason=reason,
            requested_by=agent,
        )
        _event(
            ticket,
            "action_requested" if needs_approval else "action",
            agent,
            action=action.pk,
            action_kind=kind,
            amount=amount.as_dict() if amount else None,
            reason=reason,
        )
        if not needs_approval:
            _execute(action, order)
    return action


def support_action_approve(*, action: SupportAction, approver: User) -> SupportAction:
    """A second person (an operator, not the agent who asked) approves and the action runs now,
    with the same checks as when it was asked (the order may have changed since). Locks the action."""
    if not is_operator(approver):
        raise PermissionDenied(_("Only an operator can approve this."), code="not_an_operator")
    if approver.pk == action.requested_by_id:
        raise PermissionDenied(_("A second person must approve this."), code="same_approver")
    with transaction.atomic():
        action = SupportAction.objects.select_for_update().select_related("ticket").get(pk=action.pk)
        order = RenewalOrder.objects.select_for_update().get(pk=action.order_id) if action.order_id else None
        if order is not None and action.kind in REFUND_ACTIONS:
            assert action.amount is not None
            _check_refund(order, action.amount, pending=False)
        ACTION_TRANSITIONS.apply(action, field="status", target=ActionStatus.DONE, approved_by=approver)
        _event(action.ticket, "action_approved", approver, action=action.pk)
        _execute(action, order)
    return action


def support_action_reject(*, action: SupportAction, approver: User) -> SupportAction:
    if not is_operator(approver):
        raise PermissionDenied(_("Only an operator can approve this."), code="not_an_operator")
    with transaction.atomic():
        ACTION_TRANSITIONS.apply(action, field="status", target=ActionStatus.REJECTED, approved_by=approver)
        _event(action.ticket, "action_rejected", approver, action=action.pk)
    return action


def _check_original_method(order: RenewalOrder, kind: str) -> None:
    if kind == ActionKind.REFUND_ORIGINAL and order.payment_method not in (
        *PSP_METHODS,
        PaymentMethod.WALLET,
    ):
        raise InvalidInput(
            _("This order was not paid online; refund it to the wallet."),
            code="refund_method_unavailable",
            details={"payment_method": order.payment_method},
        )


def _memo(action: SupportAction) -> str:
    return f"{action.kind} by {action.requested_by.email} (ticket #{action.ticket_id}): {action.reason}"


def _execute(action: SupportAction, order: RenewalOrder | None) -> None:
    """Run a recorded action (inside the caller's transaction, the order row locked)."""
    ticket = action.ticket
    now = clock.now()
    entry: LedgerTransaction | None = None
    destination = "wallet"
    if action.kind == ActionKind.RETRY_FULFILMENT:
        assert order is not None
        _retry_fulfilment(order)
    else:
        amount = action.amount
        assert amount is not None
        subscriber = ticket.subscriber
        if action.kind == ActionKind.GOODWILL_CREDIT:
            source = account_system(kind="adjustments", currency=amount.currency, key="goodwill")
            target = account_wallet(user=subscriber, currency=amount.currency)
        else:
            assert order is not None
            source = account_system(kind="refunds", currency=amount.currency)
            target = account_wallet(user=subscriber, currency=amount.currency)
            if action.kind == ActionKind.REFUND_ORIGINAL and order.payment_method in PSP_METHODS:
                intent = PaymentIntent.objects.get(public_id=order.payment_id)
                payment_refund(intent=intent, amount=amount)
                target = account_system(kind="psp_clearing", currency=amount.currency, key=intent.provider)
                destination = "original"
        entry = ledger_post(
            kind=f"support_{action.kind}"[:40],
            idempotency_key=f"support:action:{action.pk}",
            postings=[(source, -amount), (target, amount)],
            memo=_memo(action),
            reference=f"order:{order.pk}" if order is not None else f"ticket:{ticket.pk}",
        )
        # The action is already done (counted in order_refunded_so_far): all of it back ends the order.
        if (
            order is not None
            and action.kind in REFUND_ACTIONS
            and order_refunded_so_far(order) == order.total
        ):
            source_status = ORDER_TRANSITIONS.apply(
                order, field="status", target=OrderStatus.REFUNDED, updated_at=now
            )
            OrderEvent.objects.create(
                order=order,
                kind="status",
                from_status=source_status,
                to_status=OrderStatus.REFUNDED,
                data={"by": action.requested_by.email, "support_action": action.pk},
            )
            if order.promotion_id is not None:
                promotion_release(promotion_id=order.promotion_id, subscriber_id=order.payer_id)
        notification_send(
            user=subscriber,
            kind="support_credit",
            dedupe_key=f"support:action:{action.pk}",
            context={
                "ticket_id": ticket.pk,
                "amount": amount.format(subscriber.language),
                "destination": destination,
                "reason": action.reason,
                "ticket_url": _ticket_url(ticket),
            },
        )
    SupportAction.objects.filter(pk=action.pk).update(done_at=now, ledger_transaction=entry)
    action.done_at, action.ledger_transaction = now, entry
    _event(
        ticket,
        "action_done",
        action.approved_by or action.requested_by,
        action=action.pk,
        action_kind=action.kind,
    )


def _retry_fulfilment(order: RenewalOrder) -> None:
    from vigencia.fulfilment.tasks import submit_transactions

    if order.status != OrderStatus.FULFILLING:
        raise Conflict(
            _("Only a renewal waiting for the carrier can be retried."),
            code="order_not_fulfilling",
            details={"status": order.status},
        )
    topup = FulfilmentTransaction.objects.filter(external_id=f"order-{order.pk}").first()
    if topup is None or topup.status in FULFILMENT_FINAL:
        raise Conflict(_("The carrier has already answered for this renewal."), code="fulfilment_final")
    # Submitted again whatever its attempts; the gateway dedupes by external id: a retry never tops
    # up twice.
    submit_transactions.enqueue([topup.pk])


# ---------------------------------------------------------------------------------------------------
# Closing an account, at the person's own request


def account_close(*, user: User, password: str) -> None:
    """Close a subscriber's own account, confirmed with the password: checkouts left open are
    canceled, the lines leave the list (no reminder, auto-renewal or lifecycle notice follows), the
    webhook endpoint and the Telegram chat go, and the person's data is erased
    (`accounts.services.user_erase`). Orders, payments, the ledger and tickets stay, tied to the
    erased account, for the records the books need. Refused, with nothing changed: a wrong password
    (InvalidInput `wrong_password`), an account with another role (PermissionDenied
    `not_a_subscriber_account`: an operator closes those), money still moving — a payment being
    confirmed or a renewal on its way to the carrier (Conflict `money_in_flight`) —, or money left in
    a wallet (Conflict `wallet_not_empty`: spend it or ask support for a refund first)."""
    if not user.is_active or not user.check_password(password):
        raise InvalidInput(
            _("The password is not right."), code="wrong_password", details={"field": "password"}
        )
    if user.is_staff or user.groups.exclude(name=roles.SUBSCRIBER).exists():
        raise PermissionDenied(
            _("This account has a role on the platform: an operator closes it."),
            code="not_a_subscriber_account",
        )
    money_in_flight = Conflict(
        _("A payment or a renewal of yours is still under way. Close the account when it has finished."),
        code="money_in_flight",
    )
    # All or nothing, the account locked against a second closing at once (FOR NO KEY UPDATE: the
    # rows a concurrent payment inserts take KEY SHARE on the account, which must not wait behind us
    # while we wait for its payment); a checkout completed in another tab meanwhile makes its cancel
    # fail, and the account stays open.
    with transaction.atomic():
        User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()
        if (
            RenewalOrder.objects.filter(
                payer=user, status__in=[OrderStatus.PAID, OrderStatus.FULFILLING]
            ).exists()
            or PaymentIntent.objects.filter(payer=user, status=PaymentStatus.PROCESSING).exists()
        ):
            raise money_in_flight
        for intent in PaymentIntent.objects.filter(payer=user, status=PaymentStatus.REQUIRES_ACTION):
            try:
                payment_cancel(intent=intent)  # its order or top-up is canceled by the payment's handler
            except IllegalTransition:
                raise money_in_flight from None
        balances = owned_balances(user=user)
        if balances:
            raise Conflict(
                _(
                    "Your wallet still holds %(amount)s. Use it for a renewal, or ask support to refund "
                    "it, then close the account."
                )
                % {"amount": ", ".join(str(balance) for balance in balances)},
                code="wallet_not_empty",
                details={"balances": [balance.as_dict() for balance in balances]},
            )
        for line in Line.objects.filter(owner=user, removed_at__isnull=True):
            line_remove(line=line, actor=user)
        webhook_endpoint_delete(user=user)
        telegram_chat_delete(user=user)
        user_erase(user=user)
