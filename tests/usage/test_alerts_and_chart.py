"""A line's usage alerts set from its statement page and changed field by field by API, and the
statement chart's dates."""

from __future__ import annotations

import re

import pytest

from tests.factories import UserFactory
from vigencia.usage.models import AlertRule

pytestmark = pytest.mark.django_db

OFF = {
    "data_below_mb": None,
    "money_below_minor": None,
    "monthly_spend_above_minor": None,
    "expiring_within_days": None,
}


def _rule(line) -> dict[str, int | None]:
    rule = AlertRule.objects.filter(line=line).first()
    return {name: getattr(rule, name) for name in OFF} if rule else OFF


def _statement(line) -> str:
    return f"/usage/lines/{line.pk}/statement/"


def test_the_holder_sets_alerts_in_megabytes_soles_and_days(client, user, line):
    # given the holder on the statement page, with no alerts yet
    client.force_login(user)
    page = client.get(_statement(line)).content.decode()
    money_below = (
        '<input type="number" name="money_below" min="0" max="1000000000" step="0.01" id="id_money_below">'
    )
    assert money_below in page
    assert "When the balance falls below (S/)" in page

    # when they ask to be told below 50 MB, below S/ 2.50, over S/ 10 spent, and 3 days before a bundle ends
    response = client.post(
        _statement(line),
        {
            "data_below_mb": "50",
            "money_below": "2.50",
            "monthly_spend_above": "10",
            "expiring_within_days": "3",
        },
        follow=True,
    )

    # then the thresholds are kept in the service's units, and the page says so and shows them
    assert response.redirect_chain == [(f"{_statement(line)}#alerts", 302)]
    assert _rule(line) == {
        "data_below_mb": 50,
        "money_below_minor": 250,
        "monthly_spend_above_minor": 1000,
        "expiring_within_days": 3,
    }
    page = response.content.decode()
    assert "Alerts saved." in page
    assert 'name="money_below" value="2.50"' in page
    assert 'name="data_below_mb" value="50"' in page


def test_emptying_a_field_turns_that_alert_off(client, user, line):
    # given alerts on data and balance
    client.force_login(user)
    client.post(_statement(line), {"data_below_mb": "50", "money_below": "2"})

    # when the holder empties the data field
    client.post(_statement(line), {"data_below_mb": "", "money_below": "2"})

    # then only the balance alert is left
    assert _rule(line) == {**OFF, "money_below_minor": 200}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("data_below_mb", "-1", "Ensure this value is greater than or equal to 0."),
        ("money_below", "2.505", "Ensure that there are no more than 2 decimal places."),
        ("monthly_spend_above", "ten", "Enter a number."),
        ("expiring_within_days", "400", "Ensure this value is less than or equal to 366."),
    ],
)
def test_a_bad_value_is_shown_beside_its_field_and_changes_nothing(client, user, line, field, value, error):
    # given an alert already set
    client.force_login(user)
    client.post(_statement(line), {"data_below_mb": "50"})

    # when the holder sends a bad value
    response = client.post(_statement(line), {"data_below_mb": "20", field: value})

    # then the page comes back with the error and what they typed, and nothing changed
    assert response.status_code == 200
    page = response.content.decode()
    assert error in page
    assert f'name="{field}" value="{value}"' in page
    assert _rule(line) == {**OFF, "data_below_mb": 50}


def test_another_persons_line_has_no_alerts_page(client, line):
    # given someone else
    client.force_login(UserFactory())

    # when they open or post to the holder's statement
    # then it does not exist for them, and nothing was set
    assert client.get(_statement(line)).status_code == 404
    assert client.post(_statement(line), {"data_below_mb": "1"}).status_code == 404
    assert not AlertRule.objects.exists()


def test_patch_changes_only_the_thresholds_given(api, line):
    # given alerts on data and balance
    assert (
        api.put_json(
            f"/api/v1/lines/{line.pk}/alerts", {"data_below_mb": 50, "money_below_minor": 200}
        ).status_code
        == 200
    )

    # when an integrator adds a spend limit, then turns the data alert off
    added = api.patch_json(f"/api/v1/lines/{line.pk}/alerts", {"monthly_spend_above_minor": 1000})
    removed = api.patch_json(f"/api/v1/lines/{line.pk}/alerts", {"data_below_mb": None})

    # then each change left the others as they were
    assert added.status_code == 200
    assert added.json() == {
        **OFF,
        "data_below_mb": 50,
        "money_below_minor": 200,
        "monthly_spend_above_minor": 1000,
    }
    assert removed.json() == {**OFF, "money_below_minor": 200, "monthly_spend_above_minor": 1000}
    assert _rule(line) == removed.json()


def test_a_bad_patch_is_422_and_changes_nothing(api, line):
    api.put_json(f"/api/v1/lines/{line.pk}/alerts", {"data_below_mb": 50})

    response = api.patch_json(
        f"/api/v1/lines/{line.pk}/alerts", {"data_below_mb": 5, "expiring_within_days": 400}
    )

    assert response.status_code == 422
    assert _rule(line) == {**OFF, "data_below_mb": 50}


def test_the_chart_gives_the_dates_in_the_readers_language(client, user, line):
    # given a 30-day statement
    client.force_login(user)
    period = "?from=2025-03-01&to=2025-03-30"

    # when it is read in English and in Chinese
    english = client.get(_statement(line) + period, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(_statement(line) + period, HTTP_ACCEPT_LANGUAGE="zh-CN,zh").content.decode()

    # then each chart has the first day, the last and two between along its bottom
    tick = r'<text class="usage-tick" x="(\d+)" y="148" text-anchor="(\w+)">([^<]+)</text>'
    ticks = re.findall(tick, english)
    assert ticks[:4] == [
        ("0", "start", "Mar 1"),
        ("170", "middle", "Mar 9"),
        ("330", "middle", "Mar 17"),
        ("600", "end", "Mar 30"),
    ]
    assert len(ticks) == 3 * 4  # data, voice, SMS
    assert ">3月1日</text>" in chinese
    assert ">3月30日</text>" in chinese
    # and the balance left reads in the same units as the rest of the page
    assert "<li>通话: 0 分钟</li>" in chinese
    assert "<li>流量: 0 MB</li>" in chinese


def test_a_one_day_statement_has_its_one_date_once(client, user, line):
    client.force_login(user)

    page = client.get(_statement(line) + "?from=2025-03-01&to=2025-03-01").content.decode()

    assert page.count(">Mar 1</text>") == 3


@pytest.mark.parametrize(
    ("language", "data", "voice", "sms", "half"),
    [
        ("en", "15,360 MB", "9,999 min", "1,500", "0.5 MB"),
        ("es", "15,360 MB", "9,999 min", "1,500", "0.5 MB"),
        ("zh-hans", "15,360 MB", "9,999 分钟", "1,500", "0.5 MB"),
    ],
)
def test_quantities_read_with_their_thousands_grouped_and_no_needless_decimal(
    language, data, voice, sms, half
):
    from django.utils import translation

    from vigencia.usage.statements import quantity_display

    with translation.override(language):
        assert quantity_display("data", 15_360 * 1024, rated=True) == data
        assert quantity_display("voice", 9_999 * 60, rated=True) == voice
        assert quantity_display("sms", 1_500, rated=True) == sms
        assert quantity_display("data", 512 * 1024, rated=False) == half
