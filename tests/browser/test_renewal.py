"""The online renewal in a real browser, as a new subscriber meets it: sign up, add a line, renew it
with the sandbox test card, watch the order page follow the payment and the carrier to completed,
open the printable receipt. The worker runs in-process (run_tasks) while the page polls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from vigencia.core import clock
from vigencia.ledger.selectors import wallet_balance
from vigencia.lines.models import Line
from vigencia.orders.models import RenewalOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = "/tmp/vigencia-renewal-{}.png"


def _date(day) -> str:
    return f"{day:%b}. {day.day}, {day.year}"


def test_sign_up_add_a_line_renew_by_card_and_print_the_receipt(
    live_server, chromium, demo_catalog, run_tasks
) -> None:
    # given a phone-sized browser that records every console error (CSP violations land there)
    page = chromium.new_page(viewport={"width": 390, "height": 844}, locale="en-US")
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    valid_until = clock.today() + timedelta(days=20)
    renewed_until = valid_until + timedelta(days=7)

    # when a visitor signs up and adds a Claro line
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Email").fill("rosa@example.com")
    page.get_by_label("Your name").fill("Rosa")
    page.get_by_label("Password", exact=True).fill("Quechua-mountain-41")
    page.get_by_label("Password again").fill("Quechua-mountain-41")
    page.locator("#id_language").select_option("en")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{live_server.url}/lines/")
    page.get_by_role("link", name="Add your first line").click()
    page.get_by_label("Carrier").select_option(label="Claro Perú")
    page.get_by_label("Mobile number").fill("912 345 678")
    page.get_by_label("Valid until").fill(valid_until.isoformat())
    page.get_by_role("button", name="Add the line").click()
    page.wait_for_url(f"{live_server.url}/lines/")

    # and renews it from its card with the S/ 10 plan, paying by card
    page.locator(".line-card").get_by_role("link", name="Renew").click()
    assert page.locator("h1").inner_text() == "Renew +51 912 345 678"
    page.get_by_role("link", name="Claro Max S/ 10 · 7 days").click()
    review = page.locator("dl.summary").inner_text()
    assert "S/\xa010.00" in review
    assert _date(renewed_until) in review
    page.get_by_label("Card", exact=True).check()
    page.screenshot(path=SCREENSHOTS.format("1-review"), full_page=True)
    page.get_by_role("button", name="Pay S/ 10.00").click()

    # at the sandbox checkout, with the test card that succeeds
    page.wait_for_url(f"{live_server.url}/payments/sandbox/checkout/**")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/40")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay S/ 10.00").click()

    # then the order page waits for the payment, and follows it by itself once the worker runs
    order = RenewalOrder.objects.get()
    page.wait_for_url(f"{live_server.url}/orders/{order.pk}/")
    assert page.locator(".status-box").get_attribute("data-status") == "pending_payment"
    assert "This page updates by itself." in page.locator(".status-box").inner_text()
    page.screenshot(path=SCREENSHOTS.format("2-waiting"), full_page=True)
    run_tasks()
    page.wait_for_selector('.status-box[data-status="completed"]', timeout=15_000)
    result = page.locator(".status-box").inner_text()
    assert "Done! Your line is renewed." in result
    assert f"+51 912 345 678 is now valid until {_date(renewed_until)}." in result
    page.screenshot(path=SCREENSHOTS.format("3-completed"), full_page=True)

    # and the receipt prints alone, without the site's header
    page.get_by_role("link", name="Receipt").click()
    page.wait_for_url(f"{live_server.url}/orders/{order.pk}/receipt/")
    receipt = page.locator(".receipt").inner_text()
    for expected in (
        f"R-{order.pk:08d}",
        "+51 912 345 678",
        "Claro Perú",
        "Claro Max S/ 10 · 7 days",
        _date(renewed_until),
        "Card",
        "S/\xa010.00",
    ):
        assert expected in receipt, expected
    assert page.get_by_role("button", name="Print").is_visible()
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    assert page.get_by_role("button", name="Print").is_hidden()
    page.screenshot(path=SCREENSHOTS.format("4-receipt-print"), full_page=True)

    # and the money, the line and the email all agree
    assert Line.objects.get().valid_until == renewed_until
    order.refresh_from_db()
    assert (order.status, order.amount_minor, order.payment_method) == ("completed", 1000, "sandbox_card")
    assert wallet_balance(user=order.payer).amount_minor == 0
    [email] = [m for m in mail.outbox if "renewed" in m.subject]
    assert email.to == ["rosa@example.com"]
    assert email.subject == f"Your line +51 912 345 678 is renewed until {_date(renewed_until)}"
    assert f"/orders/{order.pk}/receipt/" in email.body
    assert problems == []
