"""Issue 8's "Done when" for support, in a real browser: a subscriber whose renewal did not arrive
opens a ticket from the order page; the support agent takes it (assigns it to themself, makes it
urgent), answers and refunds it to the wallet from the back office; the subscriber gets both emails,
sees the answer and has the money in the wallet."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from tests.factories import UserFactory
from vigencia.accounts import roles
from vigencia.ledger.selectors import wallet_balance
from vigencia.orders.models import RenewalOrder
from vigencia.support.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = "/tmp/vigencia-support-{}.png"


def _my_lines(browser, url: str, log_in, user):
    page = browser.new_page(locale="en-US")
    log_in(page.context, user)
    page.goto(f"{url}/lines/")
    return page


def test_a_renewal_that_did_not_arrive_is_answered_and_refunded_from_the_back_office(
    live_server, chromium, log_in, api, user, line, plan, run_tasks
) -> None:
    # given a subscriber whose card renewal the carrier reported done, but that did not arrive
    user.language = "en"
    user.save()
    agent = UserFactory(email="sam@example.com", is_staff=True)
    agent.groups.add(Group.objects.get_or_create(name=roles.SUPPORT)[0])
    body = api.post_json(
        "/api/v1/orders",
        {"line_id": line.pk, "plan_id": plan.pk, "payment_method": "sandbox_card"},
        HTTP_IDEMPOTENCY_KEY="renew",
    ).json()
    api.post_json(f"/api/v1/test-helpers/payments/{body['payment']['id']}/succeed")
    run_tasks()
    order = RenewalOrder.objects.get(pk=body["id"])
    assert order.status == "completed"

    # when they open a ticket from the renewal's page
    subscriber = _my_lines(chromium, live_server.url, log_in, user)
    subscriber.goto(f"{live_server.url}/orders/{order.pk}/")
    subscriber.get_by_role("link", name="Get help with this renewal").click()
    assert f"About order #{order.pk}" in subscriber.locator("main").inner_text()
    assert subscriber.get_by_label("What is it about?").input_value() == "renewal_not_received"
    subscriber.get_by_label("Message").fill("My line still has no balance.")
    subscriber.get_by_role("button", name="Send").click()
    subscriber.wait_for_url(f"{live_server.url}/support/*/")
    ticket = Ticket.objects.get()
    assert (ticket.order_id, ticket.subject) == (order.pk, f"Renewal #{order.pk} of +51 912 345 678")

    # and the support agent finds it in the queue, takes it, answers and refunds it to the wallet
    desk = _my_lines(chromium, live_server.url, log_in, agent)
    desk.get_by_role("link", name="Back office").click()
    desk.get_by_role("link", name=str(ticket.pk), exact=True).click()
    desk.locator("#id_assign-assignee").select_option(label=agent.email)
    desk.get_by_role("button", name="Assign").click()
    desk.locator("#id_priority-priority").select_option("urgent")
    desk.get_by_role("button", name="Set priority").click()
    desk.get_by_label("Your message").fill("Sorry! We are refunding it to your wallet.")
    desk.get_by_role("button", name="Reply").click()
    desk.get_by_label("Action").select_option("refund_wallet")
    desk.get_by_label("Amount (S/)").fill("10.00")
    desk.get_by_label("Reason").fill("The recharge never reached the line")
    desk.get_by_role("button", name="Do it").click()
    desk.wait_for_load_state()
    summary = desk.locator(".ticket-summary").inner_text()
    for expected in ("sam@example.com", "Urgent", "Waiting on customer"):
        assert expected in summary, expected
    assert "Refund to the wallet S/\xa010.00 · Done · sam@example.com" in desk.locator("main").inner_text()
    desk.screenshot(path=SCREENSHOTS.format("agent"), full_page=True)
    run_tasks()

    # then the subscriber has both emails, the answer on the ticket and S/ 10.00 in the wallet
    subjects = [message.subject for message in mail.outbox if message.to == [user.email]]
    assert f"Support replied to your ticket #{ticket.pk}: Renewal #{order.pk} of +51 912 345 678" in subjects
    assert "We sent you S/ 10.00" in subjects
    subscriber.goto(f"{live_server.url}/support/{ticket.pk}/")
    assert "Sorry! We are refunding it to your wallet." in subscriber.locator(".thread").inner_text()
    subscriber.goto(f"{live_server.url}/wallet/")
    assert "S/\xa010.00" in subscriber.locator("main").inner_text()
    subscriber.screenshot(path=SCREENSHOTS.format("wallet"), full_page=True)
    subscriber.goto(f"{live_server.url}/orders/{order.pk}/")
    assert "This renewal was refunded." in subscriber.locator(".status-box").inner_text()
    assert wallet_balance(user=user).amount_minor == 1000
    order.refresh_from_db()
    assert order.status == "refunded"
