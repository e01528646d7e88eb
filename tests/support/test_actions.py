"""Agent actions through the normal services: refunds, goodwill credit, retries, second approver."""

import pytest

from vigencia.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from vigencia.core.money import Money
from vigencia.ledger.models import LedgerTransaction
from vigencia.ledger.selectors import ledger_totals, wallet_balance
from vigencia.notifications.models import Notification
from vigencia.orders.models import RenewalOrder
from vigencia.payments.models import PaymentIntent
from vigencia.support.models import SupportAction
from vigencia.support.services import (
    support_action_approve,
    support_action_request,
    ticket_open,
    ticket_reply,
)

pytestmark = pytest.mark.django_db


def _order(api, line, plan, method, run_tasks, key="k1"):
    body = api.post_json(
        "/api/v1/orders",
        {"line_id": line.pk, "plan_id": plan.pk, "payment_method": method},
        HTTP_IDEMPOTENCY_KEY=key,
    ).json()
    if method != "wallet":
        api.post_json(f"/api/v1/test-helpers/payments/{body['payment']['id']}/succeed")
    run_tasks()
    return RenewalOrder.objects.get(pk=body["id"])


@pytest.fixture
def completed(api, user, line, plan, fund_wallet, run_tasks):
    fund_wallet(user, 1000)
    order = _order(api, line, plan, "wallet", run_tasks)
    assert order.status == "completed"
    return order


@pytest.fixture
def ticket(user, completed):
    return ticket_open(
        subscriber=user,
        category="wrong_charge",
        subject="Cobro doble",
        message="Me cobraron.",
        order=completed,
    )


def test_done_when_renewal_failed_agent_answers_and_refunds_subscriber_gets_both_emails_and_the_money(
    api, user, agent, line, plan, run_tasks, simulator
):
    # given a card renewal the carrier declined (refunded to the wallet automatically) ...
    simulator.decline_next(1)
    failed = _order(api, line, plan, "sandbox_card", run_tasks)
    assert failed.status == "refunded"
    # ... and a completed one that the subscriber says was wrong
    done = _order(api, line, plan, "sandbox_card", run_tasks, key="k2")
    ticket_id = api.post_json(
        "/api/v1/tickets",
        {"category": "wrong_charge", "subject": "Charged twice", "message": "Help", "order_id": done.pk},
    ).json()["id"]
    ticket = ticket_open.__globals__["Ticket"].objects.get(pk=ticket_id)

    # when the agent answers and refunds the order to the wallet
    ticket_reply(ticket=ticket, author=agent, body="We are refunding you.")
    action = support_action_request(
        ticket=ticket, agent=agent, kind="refund_wallet", reason="charged twice", amount=Money(1000, "PEN")
    )

    # then the money is in the wallet (the failed one's and this one), the order is refunded,
    # the ledger says who did it and why, and both emails are on their way
    assert action.status == "done"
    assert wallet_balance(user=user).amount_minor == 2000
    done.refresh_from_db()
    assert done.status == "refunded"
    entry = LedgerTransaction.objects.get(idempotency_key=f"support:action:{action.pk}")
    assert entry.memo == f"refund_wallet by agent@example.com (ticket #{ticket.pk}): charged twice"
    assert ledger_totals()["refunds"] == {"PEN": -1000}
    kinds = list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))
    assert kinds[-2:] == ["ticket_reply", "support_credit"]


def test_refund_larger_than_paid_is_422_and_writes_nothing(user, agent, ticket):
    with pytest.raises(InvalidInput) as error:
        support_action_request(
            ticket=ticket, agent=agent, kind="refund_wallet", reason="x", amount=Money(1001, "PEN")
        )
    assert error.value.code == "refund_too_large"
    assert SupportAction.objects.count() == 0
    assert wallet_balance(user=user).amount_minor == 0
    assert Notification.objects.filter(kind="support_credit").count() == 0


def test_partial_refunds_add_up_to_what_was_paid_then_a_refund_of_a_refund_is_409(
    user, agent, ticket, completed
):
    support_action_request(
        ticket=ticket, agent=agent, kind="refund_wallet", reason="a", amount=Money(400, "PEN")
    )
    completed.refresh_from_db()
    assert completed.status == "completed"
    with pytest.raises(InvalidInput):
        support_action_request(
            ticket=ticket, agent=agent, kind="refund_wallet", reason="b", amount=Money(601, "PEN")
        )
    support_action_request(
        ticket=ticket, agent=agent, kind="refund_wallet", reason="c", amount=Money(600, "PEN")
    )
    completed.refresh_from_db()
    assert completed.status == "refunded"

    with pytest.raises(Conflict) as error:
        support_action_request(
            ticket=ticket, agent=agent, kind="refund_wallet", reason="d", amount=Money(1, "PEN")
        )

    assert error.value.code == "already_refunded"
    assert wallet_balance(user=user).amount_minor == 1000
    assert SupportAction.objects.count() == 2


def test_refund_to_the_original_card(api, user, agent, line, plan, run_tasks):
    order = _order(api, line, plan, "sandbox_card", run_tasks)
    ticket = ticket_open(subscriber=user, category="wrong_charge", subject="s", message="m", order=order)

    support_action_request(
        ticket=ticket, agent=agent, kind="refund_original", reason="r", amount=Money(1000, "PEN")
    )

    intent = PaymentIntent.objects.get(public_id=order.payment_id)
    assert intent.status == "refunded"
    assert intent.refunded_minor == 1000
    assert wallet_balance(user=user).amount_minor == 0
    assert ledger_totals()["psp_clearing"] == {"PEN": 0}


def test_goodwill_above_the_limit_waits_for_an_operator_who_is_not_the_agent(
    user, agent, operator, ticket, settings
):
    settings.VIGENCIA_SUPPORT_APPROVAL_LIMIT_MINOR = 500

    action = support_action_request(
        ticket=ticket, agent=agent, kind="goodwill_credit", reason="sorry", amount=Money(800, "PEN")
    )
    assert action.status == "pending_approval"
    assert wallet_balance(user=user).amount_minor == 0

    with pytest.raises(PermissionDenied):
        support_action_approve(action=action, approver=agent)
    support_action_approve(action=action, approver=operator)

    action.refresh_from_db()
    assert action.status == "done"
    assert action.approved_by == operator
    assert wallet_balance(user=user).amount_minor == 800
    assert ledger_totals()["adjustments"] == {"PEN": -800}


def test_only_agents_act_and_only_on_the_tickets_subscriber_orders(
    user, other_user, agent, ticket, line, plan
):
    with pytest.raises(PermissionDenied):
        support_action_request(
            ticket=ticket, agent=user, kind="goodwill_credit", reason="me", amount=Money(100, "PEN")
        )
    others = ticket_open(subscriber=other_user, category="other", subject="s", message="m")
    with pytest.raises(NotFound):
        support_action_request(
            ticket=others,
            agent=agent,
            kind="refund_wallet",
            reason="x",
            order=ticket.order,
            amount=Money(100, "PEN"),
        )
    assert SupportAction.objects.count() == 0


def test_retry_of_a_completed_order_is_409(agent, ticket):
    with pytest.raises(Conflict) as error:
        support_action_request(ticket=ticket, agent=agent, kind="retry_fulfilment", reason="again")
    assert error.value.code == "order_not_fulfilling"


def test_an_agent_retries_a_top_up_the_carrier_did_not_answer_and_it_completes_once(
    api, user, agent, line, plan, fund_wallet, run_tasks, simulator
):
    from vigencia.fulfilment.models import FulfilmentTransaction

    # given a wallet renewal whose top-up met a carrier error: still waiting for the carrier
    fund_wallet(user, 1000)
    simulator.fail_next(1, "error")
    order = _order(api, line, plan, "wallet", run_tasks)
    assert order.status == "fulfilling"
    ticket = ticket_open(
        subscriber=user, category="renewal_not_received", subject="s", message="m", order=order
    )

    # when the agent retries it (twice: a double click) and the worker runs
    first = support_action_request(ticket=ticket, agent=agent, kind="retry_fulfilment", reason="carrier")
    support_action_request(ticket=ticket, agent=agent, kind="retry_fulfilment", reason="again")
    run_tasks()

    # then the renewal completes, topped up once at the carrier, with no money moved by support
    order.refresh_from_db()
    assert order.status == "completed"
    assert FulfilmentTransaction.objects.get(external_id=f"order-{order.pk}").status == "completed"
    stats = simulator.carrier.stats()
    assert (stats["topups_by_external_id"], stats["double_topups"]) == ({f"order-{order.pk}": 1}, 0)
    assert (first.status, first.amount, first.ledger_transaction) == ("done", None, None)
    assert wallet_balance(user=user).amount_minor == 0
    assert not LedgerTransaction.objects.filter(kind__startswith="support_").exists()
