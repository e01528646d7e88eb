"""The keep-alive part of a line's page in a real browser: the timeline picture renders (no script,
no CSP error), and the planner's schedule turns into auto-renew in one click."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import UserFactory
from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.lines.models import AutoRenewSetting, Line

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = "/tmp/vigencia-line-keepalive.png"


def test_the_timeline_picture_and_turning_the_plan_into_auto_renew(
    live_server, chromium, demo_catalog, log_in
):
    # given a subscriber with a Bitel line recharged 250 days ago, signed in
    user = UserFactory()
    line = Line.objects.create(
        owner=user,
        msisdn="+51912345678",
        carrier=Carrier.objects.get(code="bitel-pe"),
        last_recharge_at=clock.today() - timedelta(days=250),
    )
    context = chromium.new_context(viewport={"width": 390, "height": 1400}, locale="en-US")
    log_in(context, user)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))

    # when they open the line's page
    page.goto(f"{live_server.url}/lines/{line.pk}/")

    # then the timeline is drawn, with today, cut-off, number lost and the planned renewals
    timeline = page.locator("svg.timeline")
    assert timeline.is_visible()
    assert timeline.locator(".marker-today").count() == 1
    assert timeline.locator(".marker-suspended").count() == 1
    assert timeline.locator(".marker-recycled").count() == 1
    assert timeline.locator(".marker-renewal").count() >= 1
    page.screenshot(path=SCREENSHOT, full_page=True)

    # when they turn the plan into auto-renew
    page.get_by_role("button", name="Turn this into auto-renew").click()
    page.wait_for_url(f"{live_server.url}/lines/{line.pk}/")

    # then auto-renew is on, the page says when it charges, and nothing broke the CSP
    assert "Auto-renew is on with" in page.content()
    assert "Next charge on" in page.content()
    assert AutoRenewSetting.objects.get(line=line).enabled is True
    assert problems == []
