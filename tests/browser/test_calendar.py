"""The deadline calendar in a real browser on a phone: from My lines to My account, turn it on, and
the address answers the calendar a calendar app subscribes to."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import UserFactory
from vigencia.lines.services import line_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = "/tmp/vigencia-calendar-phone.png"


def test_turn_the_calendar_on_from_my_lines_and_subscribe(
    live_server, chromium, claro, settings, log_in
) -> None:
    # given a subscriber with a line, logged in on a phone
    settings.SITE_URL = live_server.url
    ana = UserFactory(email="ana@example.com", language="es")
    line_add(
        owner=ana, msisdn="+51 912 345 678", carrier=claro, nickname="Mamá", last_recharge_at=date.today()
    )
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="es-PE")
    log_in(context, ana)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.goto(f"{live_server.url}/lines/")

    # when they follow the dashboard's link and turn the calendar on
    page.get_by_role("link", name="Pon estas fechas límite en el calendario de tu teléfono").click()
    page.get_by_role("button", name="Activar el calendario").click()

    # then My account offers to add it, shows the address to copy, and fits the phone
    assert page.get_by_text("El calendario está activado. Añádelo a tu app de calendario.").is_visible()
    subscribe = page.get_by_role("link", name="Añadir a mi calendario")
    address = page.get_by_label("O copia la dirección en tu app de calendario").input_value()
    assert subscribe.get_attribute("href") == "webcal" + address.removeprefix("http")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=SCREENSHOT, full_page=True)

    # and the address answers the calendar, in Spanish
    feed = page.request.get(address)
    assert (feed.status, feed.headers["content-type"]) == (200, "text/calendar; charset=utf-8")
    assert "SUMMARY:Último día para recargar Mamá (+51 912 345 678)" in feed.text()
    assert problems == []
