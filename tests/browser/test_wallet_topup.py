"""A wallet top-up in a real browser: back from the checkout, the wallet page says it is confirming
the top-up, follows it by itself (keeping ?topup= when it reloads) and then tells the result."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from vigencia.orders.models import WalletTopup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = "/tmp/vigencia-wallet-topup-{}.png"


@pytest.mark.parametrize(
    ("card", "result"),
    [
        ("4242 4242 4242 4242", "Your top-up of S/\xa050.00 is in your wallet."),
        ("4000 0000 0000 0002", "Your top-up of S/\xa050.00 did not go through. Nothing was charged."),
    ],
)
def test_back_from_the_checkout_the_wallet_follows_the_top_up_to_its_result(
    live_server, chromium, log_in, run_tasks, card, result
) -> None:
    # given a signed-in subscriber on a phone
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    log_in(context, UserFactory(language="en"))
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    # when they top up S/ 50 and pay at the sandbox checkout
    page.goto(f"{live_server.url}/wallet/")
    page.get_by_label("Amount (S/)").fill("50")
    page.get_by_role("button", name="Top up").click()
    page.wait_for_url(f"{live_server.url}/payments/sandbox/checkout/**")
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiry (MM/YY)").fill("12/40")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay S/ 50.00").click()

    # then the wallet page says it is confirming, and follows the top-up once the worker runs
    topup = WalletTopup.objects.get()
    page.wait_for_url(f"{live_server.url}/wallet/?topup={topup.pk}")
    assert "We are confirming your top-up of S/\xa050.00…" in page.locator(".topup-result").inner_text()
    reloads: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and reloads.append(frame.url))
    page.wait_for_timeout(3500)  # a poll or two: the same page (its query too) has not changed
    assert reloads == []
    run_tasks()
    page.wait_for_selector(".topup-result.status-succeeded, .topup-result.status-failed", timeout=15_000)
    assert page.url == f"{live_server.url}/wallet/?topup={topup.pk}"
    assert result in page.locator(".topup-result").inner_text()
    page.screenshot(path=SCREENSHOTS.format(topup.status), full_page=True)
    assert problems == []
