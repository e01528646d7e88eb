"""The deadline calendar: a secret address a phone's calendar app subscribes to, showing each line's
last day to recharge (with alarms at the line's reminder lead times), the day the number would go,
and the next auto-renew charge; turned on, renewed and off from My account or the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest.mock import Mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from tests.conftest import ApiClient
from tests.factories import UserFactory
from vigencia.accounts.services import api_token_issue, calendar_key_renew, user_by_calendar_key, user_erase
from vigencia.core import clock
from vigencia.lines import lifecycle
from vigencia.lines.autorenew import autorenew_set
from vigencia.lines.calendar import deadlines_calendar
from vigencia.lines.services import line_add, line_remove

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # 10:00 in Lima


@pytest.fixture(autouse=True)
def _now():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def ana(claro):
    """A subscriber with a Claro line recharged on 20 October: restricted from 20 December, cut off
    from 18 July, the number gone on 16 October 2027."""
    ana = UserFactory(email="ana@example.com", language="en")
    line_add(
        owner=ana,
        msisdn="+51 912 345 678",
        carrier=claro,
        nickname="Mum",
        last_recharge_at=date(2026, 10, 20),
    )
    return ana


def _feed(user, client=None) -> tuple[int, Calendar | None]:
    response = (client or Client()).get(f"/lines/calendar/{user.calendar_key or 'none'}.ics")
    if response.status_code != 200:
        return response.status_code, None
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    # calendar apps are asked to fetch it again every six hours, in the form each of them reads
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT6H\r\nX-PUBLISHED-TTL:PT6H\r\n" in response.content
    return 200, Calendar.from_ical(response.content)


def _events(calendar: Calendar) -> list[tuple[str, date, str]]:
    return [(str(event["uid"]), event["dtstart"].dt, str(event["summary"])) for event in calendar.events]


def test_the_calendar_shows_the_last_day_to_recharge_the_number_lost_and_the_auto_renewal(ana, claro) -> None:
    line = ana.lines.get()
    autorenew_set(line=line, enabled=True, plan=claro.plans.get(code="max-10"), days_before=3)
    calendar_key_renew(user=ana)

    status, calendar = _feed(ana)

    assert status == 200
    assert str(calendar["x-wr-calname"]) == "Vigencia: line deadlines"
    assert _events(calendar) == [
        (
            f"line-{line.pk}-deadline@127.0.0.1",
            date(2026, 12, 19),
            "Last day to recharge Mum (+51 912 345 678)",
        ),
        (
            f"line-{line.pk}-number-lost@127.0.0.1",
            date(2027, 10, 16),
            "Mum (+51 912 345 678) goes to someone else",
        ),
        (f"line-{line.pk}-auto-renew@127.0.0.1", date(2026, 12, 17), "Auto-renew of Mum (+51 912 345 678)"),
    ]
    deadline, lost, renewal = calendar.events
    assert str(deadline["description"]) == (
        "On Dec. 20, 2026 outgoing service on +51 912 345 678 (Claro Perú) will be restricted.\n\n"
        f"Recharge before then in one tap: http://127.0.0.1:8000/renew/{line.pk}/"
    )
    # reminders at 30, 7 and 1 days before the 20th: the 30-day one has passed; 09:00 on the 13th and 19th
    assert [alarm["trigger"].dt for alarm in deadline.subcomponents] == [
        timedelta(days=-6, hours=9),
        timedelta(hours=9),
    ]
    assert [str(alarm["description"]) for alarm in deadline.subcomponents] == [
        "Recharge Mum (+51 912 345 678)"
    ] * 2
    assert str(lost["description"]) == (
        "On Oct. 16, 2027 Claro Perú will give +51 912 345 678 to someone else; it cannot be recovered then."
    )
    assert str(renewal["description"]) == (
        "Claro Max S/ 10 · 7 days for S/\xa010.00 from your wallet. Keep enough money in it."
    )


def test_each_lines_timeline_is_worked_out_once_and_the_queries_do_not_grow_with_the_lines(
    ana, claro, monkeypatch
) -> None:
    # given a subscriber with one auto-renewed line, and the same with two more lines
    autorenew_set(line=ana.lines.get(), enabled=True, plan=claro.plans.get(code="max-10"), days_before=3)
    timelines = Mock(wraps=lifecycle.carrier_timeline)
    monkeypatch.setattr(lifecycle, "carrier_timeline", timelines)
    with CaptureQueriesContext(connection) as one_line:
        deadlines_calendar(user=ana)
    for msisdn in ("+51 987 654 321", "+51 955 555 555"):
        line = line_add(owner=ana, msisdn=msisdn, carrier=claro, last_recharge_at=date(2026, 11, 1))
        autorenew_set(line=line, enabled=True, plan=claro.plans.get(code="max-10"), days_before=3)
    timelines.reset_mock()

    # when the calendar is written for three lines
    with CaptureQueriesContext(connection) as three_lines:
        calendar = Calendar.from_ical(deadlines_calendar(user=ana))

    # then each line's timeline was worked out once, in as many queries as for one line
    assert (len(calendar.events), timelines.call_count) == (9, 3)
    assert len(three_lines) == len(one_line)


def test_the_calendar_speaks_the_persons_language(ana) -> None:
    ana.language = "zh-hans"
    ana.save()
    calendar_key_renew(user=ana)

    _status, calendar = _feed(ana)

    assert str(calendar["x-wr-calname"]) == "Vigencia:号码截止日期"
    assert [summary for _uid, _day, summary in _events(calendar)] == [
        "为 Mum (+51 912 345 678) 充值的最后一天",
        "Mum (+51 912 345 678) 将被分配给他人",
    ]


def test_lines_without_coming_dates_removed_lines_and_lost_numbers_are_left_out(ana, claro) -> None:
    line_add(owner=ana, msisdn="+51 987 654 321", carrier=claro)  # no dates known
    line_add(owner=ana, msisdn="+51 955 555 555", carrier=claro, last_recharge_at=date(2025, 1, 1))  # lost
    line_remove(
        line=line_add(owner=ana, msisdn="+51 944 444 444", carrier=claro, last_recharge_at=date(2026, 11, 1)),
        actor=ana,
    )
    calendar_key_renew(user=ana)

    _status, calendar = _feed(ana)

    assert [summary for _uid, _day, summary in _events(calendar)] == [
        "Last day to recharge Mum (+51 912 345 678)",
        "Mum (+51 912 345 678) goes to someone else",
    ]


def test_the_last_day_is_today_when_the_deadline_is_tomorrow(claro) -> None:
    li = UserFactory()
    line_add(
        owner=li, msisdn="+51 912 345 678", carrier=claro, last_recharge_at=date(2026, 10, 5)
    )  # restricted from tomorrow
    calendar_key_renew(user=li)

    _status, calendar = _feed(li)

    deadline = calendar.events[0]
    assert (deadline["dtstart"].dt, [alarm["trigger"].dt for alarm in deadline.subcomponents]) == (
        date(2026, 12, 4),
        [timedelta(hours=9)],
    )


def test_my_account_turns_the_calendar_on_gives_a_new_address_and_turns_it_off(ana) -> None:
    client = Client()
    client.force_login(ana)

    off_page = client.get("/accounts/settings/").content.decode()
    on = client.post("/accounts/calendar/", {"action": "on"}, follow=True)
    ana.refresh_from_db()
    first_key = ana.calendar_key
    on_page = on.content.decode()
    renewed = client.post("/accounts/calendar/", {"action": "new"}, follow=True)
    ana.refresh_from_db()
    second_key = ana.calendar_key

    assert "Turn the calendar on" in off_page
    assert on.redirect_chain == [("/accounts/settings/#calendar", 302)]
    assert "The calendar is on. Add it to your calendar app." in on_page
    assert f'value="http://127.0.0.1:8000/lines/calendar/{first_key}.ics"' in on_page
    assert f'href="webcal://127.0.0.1:8000/lines/calendar/{first_key}.ics"' in on_page
    assert "The calendar has a new address; the old one no longer works." in renewed.content.decode()
    assert (len(first_key), len(second_key), first_key != second_key) == (32, 32, True)
    assert Client().get(f"/lines/calendar/{first_key}.ics").status_code == 404
    assert _feed(ana)[0] == 200

    client.post("/accounts/calendar/", {"action": "off"})
    ana.refresh_from_db()

    assert ana.calendar_key == ""
    assert Client().get(f"/lines/calendar/{second_key}.ics").status_code == 404


def test_the_calendar_settings_need_a_login_and_a_post(ana) -> None:
    client = Client()
    client.force_login(ana)

    assert Client().post("/accounts/calendar/", {"action": "on"}).status_code == 302
    assert client.get("/accounts/calendar/").status_code == 405
    ana.refresh_from_db()
    assert ana.calendar_key == ""


def test_a_closed_account_has_no_calendar(ana) -> None:
    key = calendar_key_renew(user=ana)

    user_erase(user=ana)

    assert Client().get(f"/lines/calendar/{key}.ics").status_code == 404


@pytest.mark.parametrize("key", ["none", "x" * 32, "%00", "a" * 500])
def test_an_unknown_address_is_404(ana, key) -> None:
    calendar_key_renew(user=ana)

    assert Client().get(f"/lines/calendar/{key}.ics").status_code == 404


def test_the_api_turns_the_calendar_on_and_off(ana) -> None:
    api = ApiClient(api_token_issue(user=ana)[1])

    before = api.get("/api/v1/auth/me").json()["calendar_url"]
    on = api.post("/api/v1/auth/me/calendar").json()["calendar_url"]
    ana.refresh_from_db()
    feed = Client().get(on.removeprefix("http://127.0.0.1:8000"))
    off = api.delete("/api/v1/auth/me/calendar").json()["calendar_url"]

    assert (before, on, off) == ("", f"http://127.0.0.1:8000/lines/calendar/{ana.calendar_key}.ics", "")
    assert feed.status_code == 200
    assert Client().get(on.removeprefix("http://127.0.0.1:8000")).status_code == 404


@pytest.mark.parametrize("key", ["", "\x00", "a" * 44, "x\ud800"])
def test_a_malformed_key_finds_nobody(ana, key) -> None:
    calendar_key_renew(user=ana)

    assert user_by_calendar_key(key=key) is None
