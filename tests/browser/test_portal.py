"""The portal in a real browser: sign up, add a Claro line, see it on the dashboard, switch to Chinese."""

from __future__ import annotations

from datetime import timedelta

import pytest

from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.lines.models import Line

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = "/tmp/vigencia-dashboard-phone.png"


def test_sign_up_add_a_line_and_switch_to_chinese(live_server, chromium, demo_catalog) -> None:
    # given a phone-sized browser that records every console error (CSP violations land there)
    page = chromium.new_page(viewport={"width": 390, "height": 844}, locale="en-US")
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    valid_until = (clock.today() + timedelta(days=20)).isoformat()

    # when the visitor signs up
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Your name").fill("Ana")
    page.get_by_label("Password", exact=True).fill("Quechua-mountain-41")
    page.get_by_label("Password again").fill("Quechua-mountain-41")
    page.locator("#id_language").select_option("en")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{live_server.url}/lines/")

    # and adds a Claro line
    page.get_by_role("link", name="Add your first line").click()
    page.get_by_label("Carrier").select_option(label="Claro Perú")
    page.get_by_label("Mobile number").fill("912 345 678")
    page.get_by_label("Nickname").fill("Mamá")
    page.get_by_label("Valid until").fill(valid_until)
    page.get_by_role("button", name="Add the line").click()
    page.wait_for_url(f"{live_server.url}/lines/")

    # then the dashboard shows it, formatted for people
    card = page.locator(".line-card")
    assert card.locator(".line-number").inner_text() == "+51 912 345 678"
    assert "Mamá · Claro Perú · Active" in card.inner_text()
    assert card.locator(".days-left").inner_text() == "20 days left"
    assert card.locator(".urgency").inner_text() == "Soon"
    page.screenshot(path=SCREENSHOT, full_page=True)

    # when the subscriber switches the language to Chinese
    page.get_by_label("Language").select_option("zh-hans")
    page.wait_for_function("document.documentElement.lang === 'zh-hans'")

    # then the page is in Chinese and the preference is saved
    assert page.locator("h1").inner_text() == "我的号码"
    assert page.locator(".days-left").inner_text() == "还剩 20 天"
    assert User.objects.get(email="ana@example.com").language == "zh-hans"
    assert Line.objects.get().msisdn == "+51912345678"
    assert problems == []
    page.screenshot(path=SCREENSHOT.replace(".png", "-zh.png"), full_page=True)

    # and the menu stays one row under the brand on the phone, the last item a swipe away
    header = page.locator(".site-header").bounding_box()
    assert header is not None
    assert header["height"] < 110, header
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("navigation").get_by_role("link", name="登录").is_visible()
