"""The store counter in a real browser: the demo agent logs in, opens a shift, sells a renewal for
cash with a DNI, prints the receipt, the customer verifies it by its QR link, the agent closes the
shift with a counted difference; and on a phone, a recharge code redeemed at the counter, and the
cash of a sale the carrier declined given back."""

from __future__ import annotations

from io import StringIO

import pytest

from vigencia.accounts.models import User
from vigencia.catalog.models import Plan
from vigencia.stores.iddocs import IdDocument
from vigencia.stores.models import Receipt, Shift
from vigencia.stores.services import SalePayment, pos_sale_create, shift_open
from vigencia.vouchers.codes import serial_display
from vigencia.vouchers.models import VoucherBatch
from vigencia.vouchers.services import batch_activate, batch_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = "/tmp/vigencia-pos-receipt.png"


@pytest.fixture
def demo(db) -> None:
    from vigencia.accounts import demo as accounts
    from vigencia.catalog import demo as catalog
    from vigencia.stores import demo as stores

    for module in (accounts, catalog, stores):
        module.seed(StringIO())
    # The demo agent reads Spanish; this test reads the English texts.
    User.objects.filter(email="agent@demo.vigencia.pe").update(language="en")


def test_cash_sale_from_login_to_printed_and_verified_receipt(live_server, chromium, demo) -> None:
    page = chromium.new_page(viewport={"width": 1024, "height": 900}, locale="en-US")
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    # the demo agent logs in and lands on the counter
    page.goto(f"{live_server.url}/accounts/login/?next=/stores/pos/")
    page.get_by_label("Email").fill("agent@demo.vigencia.pe")
    page.get_by_label("Password").fill("vigencia-demo")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/stores/pos/")

    # opens a shift with S/ 100 float (the field has the focus: keyboard only)
    page.keyboard.type("100")
    page.keyboard.press("Enter")
    page.wait_for_selector(".pos-lookup")

    # finds the number
    page.get_by_label("Mobile number").fill("987 654 321")
    page.get_by_label("Carrier").select_option("claro-pe")
    page.get_by_role("button", name="Find").click()
    assert page.locator(".pos-number").inner_text().startswith("+51 987 654 321")

    # chooses the S/ 10 plan, checks the DNI, takes S/ 20 and sees the change
    page.get_by_label("Claro Max S/ 10 · 7 days").check()
    page.get_by_label("DNI").check()
    page.get_by_label("Document number").fill("10117410-2")
    page.get_by_label("Cash", exact=True).check()
    page.get_by_label("Cash tendered (S/)").fill("20")
    assert page.locator("#pos-change").inner_text().startswith("Change: S/ 10")
    page.get_by_role("button", name="Complete the sale").click()

    # lands on the receipt
    page.wait_for_url(f"{live_server.url}/stores/pos/receipts/**")
    receipt = Receipt.objects.get()
    text = page.locator(".receipt").inner_text()
    for expected in (
        receipt.number,
        "Vigencia Miraflores Larco",
        "+51 ****4321",
        "DNI ****7410",
        "pending carrier confirmation",
    ):
        assert expected in text, expected
    assert "10117410" not in page.content()
    assert page.locator(".receipt-qr img").evaluate("img => img.naturalWidth") > 0

    # prints: the 80 mm print layout hides the site's header and the buttons
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    assert page.locator(".js-print").is_hidden()
    assert page.locator(".receipt").is_visible()
    # on the 72 mm of printable paper the labels wrap, so the receipt number and the verification code
    # (which the customer types on the check page) each stay on one line
    lines = page.locator(".receipt-rows").evaluate(
        """rows => Object.fromEntries([...rows.querySelectorAll("dt")].map(dt => {
            const range = document.createRange();
            range.selectNodeContents(dt.nextElementSibling);
            return [dt.textContent, new Set([...range.getClientRects()].map(r => r.top)).size];
        }))"""
    )
    assert (lines["Receipt"], lines["Verification code"]) == (1, 1)
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.emulate_media(media="screen")

    # the customer follows the QR link
    customer = chromium.new_page()
    customer.goto(
        f"{live_server.url}/receipts/verify?number={receipt.number}&code={receipt.verification_code}"
    )
    assert "This receipt is genuine" in customer.locator("main").inner_text()
    customer.goto(f"{live_server.url}/receipts/verify?number={receipt.number}&code=WRONG")
    assert "We cannot confirm this receipt" in customer.locator("main").inner_text()

    # the agent closes the shift, S/ 1 short
    page.goto(f"{live_server.url}/stores/pos/shift/close/")
    assert page.locator(".pos-expected").inner_text() == "S/\xa0110.00"
    page.get_by_label("Cash counted in the drawer (S/)").fill("109")
    page.get_by_role("button", name="Close the shift").click()
    assert page.locator(".pos-difference").inner_text() == "-S/\xa01.00"
    assert Shift.objects.get().status == "closed"
    assert problems == []


def test_a_code_redeemed_at_the_counter_prints_its_receipt_on_a_phone(
    live_server, chromium, demo, log_in
) -> None:
    # given the demo agent on a phone with a shift open, and a code a reseller sold for Claro S/ 10
    agent = User.objects.get(email="agent@demo.vigencia.pe")
    shift_open(agent=agent, float_minor=10_000)
    plan = Plan.objects.get(carrier__code="claro-pe", price_minor=1000)
    pairs: list[tuple[str, str]] = []
    batch_create(plan=plan, count=1, sink=lambda _batch, chunk: pairs.extend(chunk))
    [(serial, pin)] = pairs
    batch_activate(batch=VoucherBatch.objects.get())
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    log_in(context, agent)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))

    # when the agent finds the customer's number and redeems the PIN the customer brings
    page.goto(f"{live_server.url}/stores/pos/sale/?msisdn=987654321&carrier=claro-pe")
    page.get_by_label("Recharge code PIN").fill(pin)
    page.get_by_role("button", name="Redeem the code").click()

    # then the receipt is there to print: how it was paid and which card, no PIN, no ID
    page.wait_for_url(f"{live_server.url}/stores/pos/receipts/**")
    text = page.locator(".receipt").inner_text()
    for expected in (
        "Payment\nRecharge code",
        f"Recharge card serial\n{serial_display(serial)}",
        "Paid at the counter\nS/\xa00.00",
        "+51 ****4321",
        "Claro Max S/ 10 · 7 days",
    ):
        assert expected in text, expected
    assert pin not in page.content()
    assert "ID document" not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert problems == []


def test_a_declined_cash_sale_tells_the_agent_to_give_the_cash_back_on_a_phone(
    live_server, chromium, demo, log_in, run_tasks
) -> None:
    # given the demo agent's cash sale for the number the carrier simulator always declines
    agent = User.objects.get(email="agent@demo.vigencia.pe")
    shift_open(agent=agent, float_minor=10_000)
    plan = Plan.objects.get(carrier__code="claro-pe", price_minor=1000)
    receipt = pos_sale_create(
        agent=agent,
        msisdn="+51 999 000 002",
        carrier_code="claro-pe",
        plan_id=plan.pk,
        id_document=IdDocument(type="dni", number="10117410"),
        payment=SalePayment(method="cash", tendered_minor=2_000),
    )
    run_tasks()
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
    log_in(context, agent)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))

    # when the agent opens the receipt, it says to give the S/ 10 back
    page.goto(f"{live_server.url}/stores/pos/receipts/{receipt.number}/")
    assert page.locator(".pos-give-back").inner_text().startswith("Give back S/\xa010.00 to the customer")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # and once the agent taps that it was given back, the page and the shift say so
    page.get_by_role("button", name="I gave back S/\xa010.00").click()
    page.wait_for_selector(".pos-given-back")
    assert page.locator(".pos-give-back").count() == 0
    page.goto(f"{live_server.url}/stores/pos/")
    assert page.locator(".pos-given-back").inner_text() == "S/\xa010.00"
    assert page.locator(".pos-net-cash").inner_text() == "S/\xa00.00"
    assert "declined: cash given back" in page.locator(".pos-sales").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(f"{live_server.url}/stores/pos/shift/close/")
    assert page.locator(".pos-expected").inner_text() == "S/\xa0100.00"
    assert problems == []
