"""The agents' back office: assign and prioritise from the ticket page (through the services, agents
only, open tickets only), moves offered by the transition table, the queue's filters."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from vigencia.accounts import roles
from vigencia.core.errors import Conflict, InvalidInput, PermissionDenied
from vigencia.support.models import Ticket, TicketEvent
from vigencia.support.services import ticket_assign, ticket_open, ticket_set_priority, ticket_set_status

pytestmark = pytest.mark.django_db
KEYS = [f"00000000-0000-0000-0000-{n:012d}" for n in range(1, 4)]


@pytest.fixture
def ticket(user):
    return ticket_open(subscriber=user, category="other", subject="Pregunta", message="Hola")


@pytest.fixture
def second_agent(db):
    person = UserFactory(email="second@example.com")
    person.groups.add(Group.objects.get_or_create(name=roles.SUPPORT)[0])
    return person


def _events(ticket, kind):
    return list(TicketEvent.objects.filter(ticket=ticket, kind=kind).values_list("actor__email", "data"))


def test_an_agent_assigns_a_ticket_to_a_colleague_and_sets_its_priority_from_the_ticket_page(
    client, agent, second_agent, ticket
):
    # given an open ticket of category "other" (normal priority: 8 h to answer, 72 h to resolve)
    assert (ticket.priority, ticket.assignee) == ("normal", None)
    client.force_login(agent)
    url = f"/backoffice/tickets/{ticket.pk}/"
    page = client.get(url).content.decode()
    assert 'name="assign-assignee"' in page
    assert 'name="priority-priority"' in page

    # when the agent assigns it to a colleague and makes it urgent
    assigned = client.post(url, {"assign-assignee": second_agent.pk})
    prioritised = client.post(url, {"priority-priority": "urgent"})

    # then both went through the services: the row, the targets and the audit trail say so
    assert (assigned.status_code, assigned["Location"]) == (302, url)
    assert prioritised.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee == second_agent
    assert ticket.priority == "urgent"
    assert ticket.first_response_due_at == ticket.created_at + timedelta(hours=1)
    assert ticket.resolution_due_at == ticket.created_at + timedelta(hours=8)
    assert _events(ticket, "assigned") == [
        ("agent@example.com", {"previous": None, "assignee": "second@example.com"})
    ]
    assert _events(ticket, "priority") == [
        ("agent@example.com", {"previous": "normal", "priority": "urgent"})
    ]
    after = client.get(url).content.decode()
    assert '<dd class="ticket-assignee">second@example.com</dd>' in after
    assert '<dd class="ticket-priority">Urgent</dd>' in after

    # and unassigning ("Nobody") is a form choice too
    client.post(url, {"assign-assignee": ""})
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_the_same_assignment_or_priority_again_writes_nothing(agent, ticket):
    ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    ticket_set_priority(ticket=ticket, actor=agent, priority="high")
    ticket_set_priority(ticket=ticket, actor=agent, priority="high")

    assert len(_events(ticket, "assigned")) == 1
    assert len(_events(ticket, "priority")) == 1


def test_only_agents_assign_and_only_to_agents(client, user, other_user, agent, ticket):
    # a subscriber (even the ticket's own) cannot reach the staff page nor call the service
    client.force_login(user)
    response = client.post(f"/backoffice/tickets/{ticket.pk}/", {"assign-assignee": user.pk})
    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        ticket_assign(ticket=ticket, actor=user, assignee=agent)
    with pytest.raises(PermissionDenied):
        ticket_set_priority(ticket=ticket, actor=user, priority="urgent")

    # an agent cannot give the ticket to a subscriber: not offered by the form, refused by the service
    client.force_login(agent)
    page = client.post(f"/backoffice/tickets/{ticket.pk}/", {"assign-assignee": other_user.pk})
    assert page.status_code == 200
    assert "Select a valid choice." in page.content.decode()
    with pytest.raises(InvalidInput) as error:
        ticket_assign(ticket=ticket, actor=agent, assignee=other_user)
    assert error.value.code == "assignee_not_agent"
    bad_priority = client.post(f"/backoffice/tickets/{ticket.pk}/", {"priority-priority": "whenever"})
    assert bad_priority.status_code == 200

    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.priority) == (None, "normal")
    assert _events(ticket, "assigned") == _events(ticket, "priority") == []


def test_a_closed_ticket_is_reopened_before_it_is_assigned_or_prioritised(client, agent, ticket):
    ticket_set_status(ticket=ticket, actor=agent, status="closed")
    client.force_login(agent)

    page = client.post(f"/backoffice/tickets/{ticket.pk}/", {"priority-priority": "urgent"})

    assert page.status_code == 200
    assert "This ticket is Closed: reopen it first." in page.content.decode()
    with pytest.raises(Conflict) as error:
        ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    assert error.value.code == "ticket_not_active"
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.priority) == (None, "normal")


def test_the_status_form_offers_only_the_moves_of_the_transition_table(client, agent, ticket):
    client.force_login(agent)
    ticket_set_status(ticket=ticket, actor=agent, status="closed")

    page = client.get(f"/backoffice/tickets/{ticket.pk}/").content.decode()
    refused = client.post(f"/backoffice/tickets/{ticket.pk}/", {"status-status": "resolved"})

    assert '<option value="open">Open</option>' in page
    assert '<option value="resolved">' not in page
    assert refused.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"


def test_queue_filters_mine_and_unassigned_and_home_sends_each_role_to_its_page(
    client, user, agent, operator, second_agent
):
    mine = ticket_open(subscriber=user, category="other", subject="Mine", message="m")
    theirs = ticket_open(subscriber=user, category="other", subject="Theirs", message="m")
    nobodys = ticket_open(subscriber=user, category="other", subject="Nobody's", message="m")
    ticket_assign(ticket=mine, actor=agent, assignee=agent)
    ticket_assign(ticket=theirs, actor=agent, assignee=second_agent)
    client.force_login(agent)

    def listed(query):
        page = client.get(f"/backoffice/tickets/{query}").content.decode()
        return [t.pk for t in (mine, theirs, nobodys) if f'href="/backoffice/tickets/{t.pk}/"' in page]

    assert listed("?assignee=me") == [mine.pk]
    assert listed("?assignee=nobody") == [nobodys.pk]
    assert listed("") == [mine.pk, theirs.pk, nobodys.pk]
    assert client.get("/backoffice/")["Location"] == "/backoffice/tickets/"
    client.force_login(operator)
    assert client.get("/backoffice/")["Location"] == "/backoffice/dashboard/"
    client.force_login(user)
    assert client.get("/backoffice/").status_code == 403


def test_goodwill_above_the_limit_asked_on_the_ticket_page_is_approved_on_the_dashboard(
    client, settings, user, agent, operator, ticket
):
    from vigencia.ledger.selectors import wallet_balance
    from vigencia.support.models import SupportAction

    settings.VIGENCIA_SUPPORT_APPROVAL_LIMIT_MINOR = 2000
    client.force_login(agent)

    # when the agent credits S/ 25.00 of goodwill from the ticket page
    client.post(
        f"/backoffice/tickets/{ticket.pk}/",
        {
            "action-kind": "goodwill_credit",
            "action-amount": "25.00",
            "action-reason": "Sorry for the wait",
            "action-idempotency_key": "00000000-0000-0000-0000-000000000001",
        },
    )

    # then it waits for an operator; the agent cannot approve it
    action = SupportAction.objects.get()
    assert (action.status, action.amount_minor) == ("pending_approval", 2500)
    assert wallet_balance(user=user).amount_minor == 0
    assert (
        client.post(f"/backoffice/actions/{action.pk}/approve/", {"decision": "approve"}).status_code == 403
    )
    action.refresh_from_db()
    assert action.status == "pending_approval"

    # and the operator sees it on the dashboard and approves it: the money is in the wallet
    client.force_login(operator)
    assert "Sorry for the wait" in client.get("/backoffice/dashboard/").content.decode()
    approved = client.post(f"/backoffice/actions/{action.pk}/approve/", {"decision": "approve"})
    assert approved["Location"] == "/backoffice/dashboard/"
    action.refresh_from_db()
    assert (action.status, action.approved_by) == ("done", operator)
    assert wallet_balance(user=user).amount_minor == 2500
    # a second click does nothing more
    again = client.post(f"/backoffice/actions/{action.pk}/approve/", {"decision": "approve"})
    assert again.status_code == 409
    assert wallet_balance(user=user).amount_minor == 2500


def test_an_agent_picks_which_of_the_subscribers_orders_to_refund_on_a_ticket_about_a_line(
    client, api, other_api, user, other_user, agent, line, plan, fund_wallet, run_tasks, claro
):
    from vigencia.ledger.selectors import wallet_balance
    from vigencia.lines.services import line_add
    from vigencia.orders.models import RenewalOrder

    # given a completed wallet renewal of the subscriber, one of someone else, and a ticket about the line
    fund_wallet(user, 1000)
    fund_wallet(other_user, 1000)
    theirs = line_add(owner=other_user, msisdn="+51 987 654 321", carrier=claro)
    for client_, line_, key in ((api, line, "mine"), (other_api, theirs, "theirs")):
        client_.post_json(
            "/api/v1/orders",
            {"line_id": line_.pk, "plan_id": plan.pk, "payment_method": "wallet"},
            HTTP_IDEMPOTENCY_KEY=key,
        )
    run_tasks()
    mine, others = RenewalOrder.objects.get(payer=user), RenewalOrder.objects.get(payer=other_user)
    ticket = ticket_open(subscriber=user, category="line_not_working", subject="s", message="m", line=line)
    client.force_login(agent)
    url = f"/backoffice/tickets/{ticket.pk}/"
    page = client.get(url).content.decode()
    assert f'<option value="{mine.pk}">#{mine.pk} · +51 912 345 678 · ' in page
    assert f'value="{others.pk}"' not in page

    # when the agent refunds someone else's order (forged), then the subscriber's
    refund = {"action-kind": "refund_wallet", "action-amount": "10.00", "action-reason": "not received"}
    forged = client.post(url, {**refund, "action-order": others.pk, "action-idempotency_key": KEYS[0]})
    done = client.post(url, {**refund, "action-order": mine.pk, "action-idempotency_key": KEYS[1]})

    # then only the subscriber's order is refunded
    assert forged.status_code == 200
    assert done.status_code == 302
    mine.refresh_from_db()
    others.refresh_from_db()
    assert (mine.status, others.status) == ("refunded", "completed")
    assert (wallet_balance(user=user).amount_minor, wallet_balance(user=other_user).amount_minor) == (1000, 0)


def test_a_double_click_on_a_goodwill_credit_pays_once_and_a_new_form_pays_again(client, user, agent, ticket):
    from vigencia.ledger.selectors import wallet_balance
    from vigencia.support.models import SupportAction

    client.force_login(agent)
    url = f"/backoffice/tickets/{ticket.pk}/"
    form = client.get(url).content.decode()
    assert 'name="action-idempotency_key"' in form
    credit = {"action-kind": "goodwill_credit", "action-amount": "3.00", "action-reason": "sorry"}

    # when the same rendered form is sent twice (a double click), then once more from a new form
    first = client.post(url, {**credit, "action-idempotency_key": KEYS[0]})
    second = client.post(url, {**credit, "action-idempotency_key": KEYS[0]})
    third = client.post(url, {**credit, "action-idempotency_key": KEYS[1]})

    # then the first two are one credit, the third a second one
    assert (first.status_code, second.status_code, third.status_code) == (302, 302, 302)
    assert SupportAction.objects.count() == 2
    assert wallet_balance(user=user).amount_minor == 600


def test_the_ticket_history_says_what_happened_in_the_agents_language(client, agent, ticket):
    # given a ticket an agent made urgent and put on hold for the customer
    ticket_set_priority(ticket=ticket, actor=agent, priority="urgent")
    ticket_set_status(ticket=ticket, actor=agent, status="waiting_on_customer")
    client.force_login(agent)

    # when the agent opens it in Spanish
    page = client.get(f"/backoffice/tickets/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    # then each event is named in words, with the statuses' labels, not their codes
    history = page.split('<ul class="ticket-history">')[1].split("</ul>")[0]
    assert " · Creado · " in history
    assert " · Cambio de estado Abierto→Esperando al cliente · agent@example.com" in history
    assert " · Cambio de prioridad Urgente · agent@example.com" in history
    assert "waiting_on_customer" not in history
