"""Telegram in a real browser on a phone: My account gives the link that opens the bot, and once the
bot got /start from the person's chat the page says it is connected and the line's reminders offer
Telegram."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.factories import UserFactory
from vigencia.lines.models import ReminderSetting
from vigencia.lines.services import line_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = "/tmp/vigencia-telegram-phone.png"


def test_connect_telegram_from_my_account_and_choose_it_for_reminders(
    live_server, chromium, claro, telegram_api, log_in
) -> None:
    # given a Chinese-speaking subscriber with a line, logged in on a phone, on a site with a bot
    li = UserFactory(email="li@example.com", language="zh-hans")
    line = line_add(owner=li, msisdn="+51 912 345 678", carrier=claro, last_recharge_at=date.today())
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    log_in(context, li)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.goto(f"{live_server.url}/accounts/settings/")

    # when they ask to connect Telegram
    page.get_by_role("button", name="连接 Telegram").click()

    # then the page gives the link that opens the bot, says it will follow, and fits the phone
    link = str(page.get_by_role("link", name="打开 Telegram").get_attribute("href"))
    assert page.get_by_text("点“开始”后，本页面会自动更新。").is_visible()
    assert link.startswith("https://t.me/VigenciaTestBot?start=")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # when Telegram sends the bot /start from their chat (as it does when they tap Start)
    token = parse_qs(urlsplit(link).query)["start"][0]
    update = {"message": {"chat": {"id": 555, "type": "private"}, "text": f"/start {token}"}}
    answer = httpx.post(
        f"{live_server.url}/api/v1/notifications/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret"},
    )
    assert answer.json() == {"handled": "linked"}

    # then the page, which was waiting, says by itself that it is connected
    page.get_by_role("button", name="断开 Telegram").wait_for(timeout=10_000)
    assert page.get_by_text("点“开始”后，本页面会自动更新。").count() == 0
    page.screenshot(path=SCREENSHOT, full_page=True)

    # and the line's reminders offer Telegram
    page.goto(f"{live_server.url}/lines/{line.pk}/")
    page.get_by_label("Telegram").check()
    page.get_by_label("电子邮箱").uncheck()
    page.get_by_role("button", name="保存提醒").click()
    assert page.get_by_text("提醒已保存。").is_visible()
    assert ReminderSetting.objects.get(line=line).channels == ["telegram"]
    assert telegram_api.sent()[0][0] == 555
    assert problems == []
