"""Usage alerts in a real browser on a phone: from the line to its statement, set an alert in Chinese,
and the chart's dates fit."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.factories import UserFactory
from vigencia.lines.services import line_add
from vigencia.usage.models import AlertRule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = "/tmp/vigencia-usage-alerts-phone.png"


def test_set_a_data_alert_from_the_statement_on_a_phone(live_server, chromium, claro, log_in) -> None:
    # given a subscriber who reads Chinese, with a line, logged in on a phone
    wei = UserFactory(email="wei@example.com", language="zh-hans")
    line = line_add(owner=wei, msisdn="+51 912 345 678", carrier=claro, last_recharge_at=date.today())
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    log_in(context, wei)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.goto(f"{live_server.url}/lines/{line.pk}/")

    # when they open the balance and usage page and ask to be told below 500 MB
    page.get_by_role("link", name="余额与用量").click()
    page.get_by_label("剩余流量低于（MB）时").fill("500")
    page.get_by_role("button", name="保存用量提醒").click()

    # then the page says it is saved, keeps the value, and nothing is wider than the phone
    assert page.get_by_text("用量提醒已保存。").is_visible()
    assert page.get_by_label("剩余流量低于（MB）时").input_value() == "500"
    assert page.locator("svg text.usage-tick").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=SCREENSHOT, full_page=True)
    assert AlertRule.objects.get(line=line).data_below_mb == 500
    assert problems == []


def test_download_the_statement_as_csv_from_the_page(live_server, chromium, claro, log_in) -> None:
    # given a subscriber on their statement page in a browser (a session, no API token)
    ana = UserFactory(email="ana@example.com", language="es")
    line = line_add(owner=ana, msisdn="+51 912 345 678", carrier=claro, last_recharge_at=date.today())
    context = chromium.new_context(
        viewport={"width": 360, "height": 740}, locale="es-PE", accept_downloads=True
    )
    log_in(context, ana)
    page = context.new_page()
    page.goto(f"{live_server.url}/usage/lines/{line.pk}/statement/?from=2025-03-01&to=2025-03-02")

    # when they follow the CSV link
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()

    # then the browser saves the period's statement
    assert download.value.suggested_filename == f"statement-{line.pk}-2025-03-01-2025-03-02.csv"
    assert Path(download.value.path()).read_text(encoding="utf-8").startswith("record_id,kind,started_at")
