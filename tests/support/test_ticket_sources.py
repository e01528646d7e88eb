"""A ticket opened from what it is about, end to end: a store receipt (from the renewal's page), a
flagged usage anomaly (from the statement), a line and an online order, each with its "Get help"
link, the form filled in, and the context attached; someone else's is 404 and writes nothing."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from vigencia.core import clock
from vigencia.stores.services import SalePayment, pos_sale_create
from vigencia.support.models import Ticket
from vigencia.usage.models import Anomaly, Tariff
from vigencia.usage.services import bucket_credit_renewal

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(line, plan, cashier, run_tasks):
    """The subscriber's line renewed at a store counter, paid in cash: the order and its receipt."""
    from vigencia.stores.iddocs import IdDocument

    sold = pos_sale_create(
        agent=cashier,
        msisdn=line.msisdn,
        carrier_code="claro-pe",
        plan_id=plan.pk,
        id_document=IdDocument(type="dni", number="10117410"),
        payment=SalePayment(method="cash", tendered_minor=2000),
    )
    run_tasks()
    sold.order.refresh_from_db()
    return sold


@pytest.fixture
def anomaly(tmp_path, line, plan):
    """A charge the rating flags: the carrier charged S/ 0.50 for an SMS the plan rates at S/ 0.10."""
    Tariff.objects.create(plan=plan, money_credit_minor=1000)
    bucket_credit_renewal(line=line, plan=plan, reference="test")
    usage = tmp_path / "usage.csv"
    sent = (clock.now() - timedelta(hours=2)).isoformat()
    usage.write_text(
        "record_id,msisdn,kind,started_at,quantity,destination,charged_minor\n"
        f"s1,{line.msisdn},sms,{sent},1,+51987654321,50\n"
    )
    call_command("usage", "import", str(usage), stdout=StringIO(), verbosity=0)
    return Anomaly.objects.get(line=line, kind="charge_mismatch")


def test_from_the_store_renewal_page_to_a_ticket_about_its_receipt(client, user, receipt, agent):
    order = receipt.order
    assert (order.channel, order.payer, order.status) == ("store", user, "completed")
    client.force_login(user)

    # given the store renewal's page in the subscriber's history, with its "Get help" link
    page = client.get(f"/orders/{order.pk}/").content.decode()
    link = f'href="/support/new/?receipt={receipt.pk}"'
    assert link in page
    # when they follow it, the form says what it is about and is filled in for them
    form = client.get(f"/support/new/?receipt={receipt.pk}").content.decode()
    assert f"About receipt {receipt.number}" in form
    assert 'value="renewal_not_received" selected' in form
    assert f'value="Renewal #{order.pk} of +51 912 345 678"' in form
    response = client.post(
        f"/support/new/?receipt={receipt.pk}",
        {"category": "renewal_not_received", "subject": "No me llegó", "message": "Pagué en la tienda."},
    )

    # then the ticket is about the receipt, its order and its line, with their snapshot
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/support/{ticket.pk}/"
    assert (ticket.receipt, ticket.order, ticket.line) == (receipt, order, receipt.order.line)
    assert ticket.context["receipt"] == {
        "number": receipt.number,
        "store": receipt.store_id,
        "order": order.pk,
    }
    assert ticket.context["order"]["channel"] == "store"
    assert ticket.context["order"]["payment_method"] == "cash"
    assert ticket.context["line"]["msisdn"] == "+51912345678"
    assert (ticket.category, ticket.priority) == ("renewal_not_received", "high")
    # and the agent sees it with that context
    client.force_login(agent)
    assert receipt.number in client.get(f"/backoffice/tickets/{ticket.pk}/").content.decode()


def test_a_receipt_ticket_through_the_api_and_someone_elses_receipt_is_404(api, other_api, receipt):
    body = {"category": "wrong_charge", "subject": "Cobro", "message": "m", "receipt_id": receipt.pk}

    refused = other_api.post_json("/api/v1/tickets", body)
    assert refused.status_code == 404
    assert refused.json()["code"] == "receipt_not_found"
    assert Ticket.objects.count() == 0

    opened = api.post_json("/api/v1/tickets", body)
    assert opened.status_code == 201
    assert (opened.json()["receipt_id"], opened.json()["order_id"]) == (receipt.pk, receipt.order_id)


def test_from_a_flagged_charge_on_the_statement_to_a_ticket_about_it(client, user, other_user, line, anomaly):
    client.force_login(user)

    # given the statement with the flagged charge and its link
    statement = client.get(f"/usage/lines/{line.pk}/statement/").content.decode()
    assert f'href="/support/new/?anomaly={anomaly.pk}"' in statement
    # when the subscriber opens a ticket from it
    form = client.get(f"/support/new/?anomaly={anomaly.pk}").content.decode()
    assert "About a usage anomaly: Carrier charge differs" in form
    assert 'value="wrong_charge" selected' in form
    client.post(
        f"/support/new/?anomaly={anomaly.pk}",
        {
            "category": "wrong_charge",
            "subject": "Wrong charge: Carrier charge differs",
            "message": "¿Por qué?",
        },
    )

    # then the ticket carries the anomaly, its line and what was detected
    ticket = Ticket.objects.get()
    assert (ticket.anomaly, ticket.line, ticket.order) == (anomaly, line, None)
    assert ticket.context["anomaly"] == {
        "id": anomaly.pk,
        "kind": "charge_mismatch",
        "details": anomaly.details,
    }
    assert (anomaly.details["carrier_minor"], anomaly.details["ours_minor"]) == (50, 10)
    # and someone else cannot open one about it
    client.force_login(other_user)
    assert client.get(f"/support/new/?anomaly={anomaly.pk}").status_code == 404
    assert client.post(f"/support/new/?anomaly={anomaly.pk}", {"category": "other"}).status_code == 404
    assert Ticket.objects.count() == 1


def test_an_anomaly_ticket_through_the_api(api, other_api, line, anomaly):
    body = {"category": "wrong_charge", "subject": "s", "message": "m", "anomaly_id": anomaly.pk}

    assert other_api.post_json("/api/v1/tickets", body).json()["code"] == "anomaly_not_found"
    opened = api.post_json("/api/v1/tickets", body).json()
    assert (opened["anomaly_id"], opened["line_id"]) == (anomaly.pk, line.pk)
    # an anomaly of one line with another line is refused, nothing written
    other_line = call_line_add(line.owner)
    mixed = api.post_json("/api/v1/tickets", {**body, "line_id": other_line.pk})
    assert (mixed.status_code, mixed.json()["code"]) == (422, "anomaly_other_line")
    assert Ticket.objects.count() == 1


def call_line_add(owner):
    from vigencia.catalog.models import Carrier
    from vigencia.lines.services import line_add

    return line_add(owner=owner, msisdn="+51 987 111 222", carrier=Carrier.objects.get(code="claro-pe"))


def test_get_help_links_on_the_online_order_its_receipt_and_the_line(
    client, user, line, plan, fund_wallet, api, run_tasks
):
    fund_wallet(user, 1000)
    order_id = api.post_json(
        "/api/v1/orders",
        {"line_id": line.pk, "plan_id": plan.pk, "payment_method": "wallet"},
        HTTP_IDEMPOTENCY_KEY="k",
    ).json()["id"]
    run_tasks()
    client.force_login(user)

    for page in (f"/orders/{order_id}/", f"/orders/{order_id}/receipt/"):
        assert f'href="/support/new/?order={order_id}"' in client.get(page).content.decode(), page
    assert f'href="/support/new/?line={line.pk}"' in client.get(f"/lines/{line.pk}/").content.decode()
    form = client.get(f"/support/new/?line={line.pk}").content.decode()
    assert 'value="line_not_working" selected' in form
    assert 'href="/support/"' in form  # the "Help" link in the navigation
