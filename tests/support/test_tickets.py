"""Tickets through the API: open from an order with its context, thread, statuses, bad input."""

import pytest

from vigencia.notifications.models import Notification
from vigencia.notifications.rendering import render
from vigencia.orders.models import RenewalOrder
from vigencia.support.models import Ticket, TicketMessage
from vigencia.support.services import ticket_reply, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_order(api, user, line, plan, run_tasks, simulator):
    simulator.decline_next(1)
    body = api.post_json(
        "/api/v1/orders",
        {"line_id": line.pk, "plan_id": plan.pk, "payment_method": "sandbox_card"},
        HTTP_IDEMPOTENCY_KEY="k1",
    ).json()
    api.post_json(f"/api/v1/test-helpers/payments/{body['payment']['id']}/succeed")
    run_tasks()
    return RenewalOrder.objects.get(pk=body["id"])


def _open(api, **fields):
    payload = {"category": "renewal_not_received", "subject": "No llegó", "message": "Pagué y nada."}
    return api.post_json("/api/v1/tickets", {**payload, **fields})


def test_a_subscriber_opens_a_ticket_from_an_order_with_its_context(api, user, failed_order):
    response = _open(api, order_id=failed_order.pk)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open"
    assert body["priority"] == "high"
    assert body["order_id"] == failed_order.pk
    assert body["line_id"] == failed_order.line_id
    assert body["context"]["order"]["status"] == "refunded"
    assert body["context"]["order"]["total"] == {"amount_minor": 1000, "currency": "PEN"}
    assert body["context"]["line"]["msisdn"] == "+51912345678"
    assert [message["body"] for message in body["messages"]] == ["Pagué y nada."]
    assert api.get("/api/v1/tickets").json()[0]["id"] == body["id"]
    assert api.get(f"/api/v1/tickets/{body['id']}").json()["subject"] == "No llegó"


def test_someone_elses_order_or_ticket_is_404_and_nothing_written(api, other_api, failed_order):
    assert _open(other_api, order_id=failed_order.pk).status_code == 404
    assert Ticket.objects.count() == 0

    ticket_id = _open(api, order_id=failed_order.pk).json()["id"]
    assert other_api.get(f"/api/v1/tickets/{ticket_id}").status_code == 404
    assert other_api.post_json(f"/api/v1/tickets/{ticket_id}/messages", {"message": "hi"}).status_code == 404
    assert TicketMessage.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"message": "x" * 1_000_000}, "too_long"),
        ({"message": "   "}, "required"),
        ({"subject": "s" * 151}, "too_long"),
        ({"category": "complaint"}, "invalid_category"),
        ({"message": "a\x00b"}, "invalid"),
    ],
)
def test_bad_input_is_422_and_writes_nothing(api, fields, code):
    response = _open(api, **fields)

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert Ticket.objects.count() == 0


def test_a_one_megabyte_reply_is_422(api):
    ticket_id = _open(api).json()["id"]

    response = api.post_json(f"/api/v1/tickets/{ticket_id}/messages", {"message": "x" * 1_000_000})

    assert response.status_code == 422
    assert TicketMessage.objects.count() == 1


def test_agent_reply_waits_on_customer_emails_in_their_language_and_customer_reply_reopens(api, user, agent):
    user.language = "es"
    user.save(update_fields=["language"])
    ticket = Ticket.objects.get(pk=_open(api).json()["id"])

    ticket_reply(ticket=ticket, author=agent, body="<script>alert(1)</script> Ya lo revisamos.")

    ticket.refresh_from_db()
    assert ticket.status == "waiting_on_customer"
    assert ticket.first_responded_at is not None
    notification = Notification.objects.get(user=user, kind="ticket_reply")
    rendered = render(kind=notification.kind, context=notification.context, language=user.language)
    assert rendered.subject == f"Soporte respondió a tu ticket #{ticket.pk}: No llegó"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html

    # when the subscriber answers, the ticket is open again
    response = api.post_json(f"/api/v1/tickets/{ticket.pk}/messages", {"message": "Gracias"})
    assert response.status_code == 201
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert [m["from_support"] for m in api.get(f"/api/v1/tickets/{ticket.pk}").json()["messages"]] == [
        False,
        True,
        False,
    ]


def test_resolved_then_closed_then_reopened(api, user, agent):
    ticket = Ticket.objects.get(pk=_open(api).json()["id"])

    ticket_set_status(ticket=ticket, actor=agent, status="resolved")
    assert (
        api.post_json(f"/api/v1/tickets/{ticket.pk}/status", {"status": "closed"}).json()["status"]
        == "closed"
    )
    # a subscriber cannot mark their own ticket resolved
    assert api.post_json(f"/api/v1/tickets/{ticket.pk}/status", {"status": "resolved"}).status_code == 403
    reopened = api.post_json(f"/api/v1/tickets/{ticket.pk}/status", {"status": "open"})

    assert reopened.json()["status"] == "open"
    assert list(ticket.events.values_list("to_status", flat=True)) == ["open", "resolved", "closed", "open"]


def test_a_subscriber_cannot_reply_as_an_agent_on_someone_elses_ticket(api, other_user):
    from vigencia.core.errors import PermissionDenied

    ticket = Ticket.objects.get(pk=_open(api).json()["id"])
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=ticket, author=other_user, body="hola")
    assert TicketMessage.objects.count() == 1
