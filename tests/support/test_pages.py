"""Portal and back-office pages: open a ticket from an order, thread rendered inert, agent actions."""

import pytest

from vigencia.support.models import Ticket

pytestmark = pytest.mark.django_db


def test_subscriber_opens_a_ticket_from_a_line_and_script_is_rendered_inert(client, user, line, agent):
    client.force_login(user)

    page = client.get(f"/support/new/?line={line.pk}")
    response = client.post(
        f"/support/new/?line={line.pk}",
        {"category": "line_not_working", "subject": "No signal", "message": "<script>alert('x')</script>"},
    )

    assert page.status_code == 200
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/support/{ticket.pk}/"
    assert ticket.line == line
    detail = client.get(f"/support/{ticket.pk}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in detail
    assert "<script>alert" not in detail

    client.force_login(agent)
    agent_page = client.get(f"/backoffice/tickets/{ticket.pk}/").content.decode()
    assert "<script>alert" not in agent_page
    client.post(f"/backoffice/tickets/{ticket.pk}/", {"reply-message": "Reinicia el teléfono"})
    ticket.refresh_from_db()
    assert ticket.status == "waiting_on_customer"


def test_the_question_label_has_no_colon_after_it_in_chinese(client, user):
    client.force_login(user)

    page = client.get("/support/new/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh").content.decode()

    assert '<label for="id_category">是关于什么的？</label>' in page
    assert '<label for="id_subject">主题：</label>' in page  # the full-width colon of Chinese


def test_someone_elses_line_or_ticket_is_404(client, other_user, line, user):
    client.force_login(other_user)
    assert client.get(f"/support/new/?line={line.pk}").status_code == 404
    client.force_login(user)
    client.post("/support/new/", {"category": "other", "subject": "s", "message": "m"})
    ticket = Ticket.objects.get()
    client.force_login(other_user)
    assert client.get(f"/support/{ticket.pk}/").status_code == 404
    assert client.get("/backoffice/tickets/").status_code == 403


def test_the_subscriber_closes_and_reopens_their_ticket_from_its_page(client, user, other_user):
    client.force_login(user)
    client.post("/support/new/", {"category": "other", "subject": "s", "message": "m"})
    ticket = Ticket.objects.get()
    url = f"/support/{ticket.pk}/"

    closed = client.post(url, {"status": "closed"})
    ticket.refresh_from_db()
    assert (closed.status_code, ticket.status) == (302, "closed")
    assert 'value="open"' in client.get(url).content.decode()

    client.post(url, {"status": "open"})
    ticket.refresh_from_db()
    assert ticket.status == "open"
    # a subscriber cannot resolve (that is the agent's), and nobody else can touch it
    client.post(url, {"status": "resolved"})
    client.force_login(other_user)
    assert client.post(url, {"status": "closed"}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert list(ticket.events.values_list("to_status", flat=True)) == ["open", "closed", "open"]


def test_a_persons_tickets_come_a_page_at_a_time_newest_first(client, user, monkeypatch):
    # given three tickets, and pages of two
    from vigencia.support.services import ticket_open

    monkeypatch.setattr("vigencia.support.views.TICKETS_PAGE", 2)
    tickets = [
        ticket_open(subscriber=user, category="other", subject=f"t{n}", message="m").pk for n in range(3)
    ]
    client.force_login(user)

    # when they read their tickets, then the older page
    first = client.get("/support/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    older = client.get("/support/?page=2", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    # then the newest two come first, the oldest on the next page, and the pages link to each other
    assert [f'href="/support/{pk}/"' in first for pk in tickets] == [False, True, True]
    assert [f'href="/support/{pk}/"' in older for pk in tickets] == [True, False, False]
    assert '<a class="button" href="?page=2">Anteriores</a>' in first
    assert "Página 2 de 2" in older


def test_the_support_pages_write_the_lines_number_as_everywhere_else(
    client, api, user, agent, line, plan, fund_wallet, run_tasks
):
    # given a completed renewal of the subscriber's line (stored as +51912345678)
    from vigencia.orders.models import RenewalOrder

    fund_wallet(user, 1000)
    api.post_json(
        "/api/v1/orders",
        {"line_id": line.pk, "plan_id": plan.pk, "payment_method": "wallet"},
        HTTP_IDEMPOTENCY_KEY="help",
    )
    run_tasks()
    order = RenewalOrder.objects.get()
    client.force_login(user)

    # when the subscriber asks for help about the line and about the renewal, and an agent opens the ticket
    about_line = client.get(f"/support/new/?line={line.pk}").content.decode()
    about_order = client.get(f"/support/new/?order={order.pk}").content.decode()
    client.post(
        f"/support/new/?line={line.pk}",
        {"category": "line_not_working", "subject": "No signal", "message": "m"},
    )
    client.force_login(agent)
    agent_page = client.get(f"/backoffice/tickets/{Ticket.objects.get().pk}/").content.decode()

    # then every page writes the number +51 912 345 678, never as stored
    assert '<p class="card">About line +51 912 345 678</p>' in about_line
    assert f'<p class="card">About order #{order.pk}: +51 912 345 678, {order.plan_name} · ' in about_order
    assert '<dt>Line</dt><dd><span class="nowrap">+51 912 345 678</span> · Claro Perú</dd>' in agent_page
    assert "&#x27;msisdn&#x27;: &#x27;+51 912 345 678&#x27;" in agent_page
    for page in (about_line, about_order, agent_page):
        assert "+51912345678" not in page
