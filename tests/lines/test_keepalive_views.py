"""The line page's keep-alive parts: the timeline picture, reminder and auto-renew forms, and the
planner's "turn this into auto-renew"."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from django.utils import translation

from tests.lines.keepalive_helpers import fund, lima
from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.lines.models import AutoRenewSetting, Line, ReminderSetting
from vigencia.notifications.services import webhook_endpoint_set

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _plain_static(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def line(user, demo_catalog) -> Line:
    return Line.objects.create(
        owner=user,
        msisdn="+51912345678",
        carrier_id=Plan.objects.get(code="ilimitado-10").carrier_id,
        last_recharge_at=TODAY - timedelta(days=250),
    )


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def test_the_line_page_draws_the_timeline_and_the_plan_without_inline_script(browser, line):
    with clock.frozen(lima(TODAY)):
        response = browser.get(f"/lines/{line.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg class="timeline"' in html
    for label in ("Today", "Cut off", "Number lost", "Planned renewal"):
        assert label in html
    assert "Turn this into auto-renew" in html
    assert "<script>" not in html
    assert "style=" not in html
    assert "Content-Security-Policy" in response.headers


def test_the_picture_colours_the_bar_by_state_until_the_first_planned_renewal(line):
    # given a Bitel line recharged 250 days ago (cut off on 16 June, number lost on 14 September)
    from vigencia.lines.lifecycle import line_anchor
    from vigencia.lines.planner import keepalive_plan
    from vigencia.lines.views_keepalive import _picture

    plan = keepalive_plan(
        carrier=line.carrier, start=TODAY, months=12, goal="keep_number", state=line_anchor(line)
    )

    # when the picture is drawn for today
    picture = _picture(line, plan, TODAY)

    # then the bar is active, then cut off, then kept alive by the plan from its first renewal on
    assert [segment.kind for segment in picture.segments] == ["active", "suspended", "planned"]
    assert picture.segments[0].x == 14
    assert sum(segment.width for segment in picture.segments) == 360 - 14 - 14
    kinds = [(marker.kind, marker.number) for marker in picture.markers]
    assert kinds[:4] == [("notice", 1), ("today", 0), ("suspended", 2), ("renewal", 0)]
    assert ("recycled", 3) in kinds
    assert all(14 <= marker.x <= 346 for marker in picture.markers)


def test_saving_reminders_from_the_page(browser, line):
    response = browser.post(f"/lines/{line.pk}/reminders/", {"lead_days": ["14", "3"], "channels": ["email"]})

    assert response.status_code == 302
    setting = ReminderSetting.objects.get(line=line)
    assert (setting.lead_days, setting.channels) == ([14, 3], ["email"])


def test_sms_reminders_without_a_phone_show_an_error_and_save_nothing(browser, line):
    response = browser.post(
        f"/lines/{line.pk}/reminders/", {"lead_days": ["7"], "channels": ["sms"]}, follow=True
    )

    assert "Add a phone number to your account to get reminders by SMS." in response.content.decode()
    assert ReminderSetting.objects.count() == 0


def test_the_reminder_form_offers_a_webhook_and_points_to_the_sms_number_only_when_they_can_work(
    browser, line, user
):
    def channels_and_hint() -> tuple[list[str], bool]:
        response = browser.get(f"/lines/{line.pk}/")
        form = response.context["reminder_form"]
        return [value for value, _label in form.fields["channels"].choices], (
            "SMS reminders need your mobile number" in response.content.decode()
        )

    assert channels_and_hint() == (["email", "sms"], True)

    user.phone = "+51987654321"
    user.save(update_fields=["phone"])
    webhook_endpoint_set(user=user, url="https://example.com/hooks/vigencia")

    assert channels_and_hint() == (["email", "sms", "webhook"], False)


def test_turning_the_plan_into_auto_renew(browser, line):
    with clock.frozen(lima(TODAY)):
        response = browser.post(f"/lines/{line.pk}/plan-to-auto-renew/", follow=True)

    setting = AutoRenewSetting.objects.get(line=line)
    assert (setting.enabled, setting.days_before) == (True, 3)
    assert setting.plan.carrier_id == line.carrier_id
    assert "Auto-renew is on with" in response.content.decode()


def test_auto_renew_form_and_another_users_line(browser, line, other_user):
    plan = Plan.objects.get(code="ilimitado-10")
    with clock.frozen(lima(TODAY)):
        browser.post(f"/lines/{line.pk}/auto-renew/", {"enabled": "on", "plan": plan.pk, "days_before": "4"})
        page = browser.get(f"/lines/{line.pk}/").content.decode()
    assert AutoRenewSetting.objects.get(line=line).days_before == 4
    assert "Next charge on" in page

    theirs = Line.objects.create(owner=other_user, msisdn="+51912345679", carrier=line.carrier)
    assert (
        browser.post(f"/lines/{theirs.pk}/auto-renew/", {"plan": plan.pk, "days_before": "4"}).status_code
        == 404
    )
    assert browser.get(f"/lines/{line.pk}/auto-renew/").status_code == 405


@pytest.mark.parametrize(
    ("language", "first", "price"),
    [
        ("en", "Choose a plan", "S/\u00a05.00"),
        ("es", "Elige un plan", "S/\u00a05.00"),
        ("zh-hans", "选择套餐", "S/\u00a05.00"),
    ],
)
def test_the_auto_renew_form_names_each_plan_and_its_price_in_the_persons_language(
    browser, line, language, first, price
):
    # given a subscriber reading in `language`
    line.owner.language = language
    line.owner.save(update_fields=["language"])
    plan = Plan.objects.get(code="ilimitado-5")

    # when the line page is shown
    with clock.frozen(lima(TODAY)), translation.override(language):
        page = browser.get(f"/lines/{line.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        name = plan.name

    # then the plan choice says what the plan is and costs, never its internal code
    options = re.findall(
        r'<option value="(\d*)"[^>]*>([^<]*)</option>', page.split('name="plan"')[1].split("</select>")[0]
    )
    assert options[0] == ("", first)
    assert (str(plan.pk), html.escape(f"{name} ({price})")) in options
    assert [label.startswith("Bitel ") for _value, label in options[1:]] == [True] * 5


@pytest.mark.parametrize(
    ("funds", "warning"),
    [
        (
            0,
            "Your wallet holds S/\u00a00.00 and this renewal costs S/\u00a05.00: "
            '<a href="/wallet/">top it up</a> before June 4, 2026 or it will fail.',
        ),
        (499, "Your wallet holds S/\u00a04.99 and this renewal costs S/\u00a05.00"),
        (500, None),
    ],
)
def test_the_line_page_warns_when_the_wallet_cannot_pay_the_next_auto_renewal(browser, line, funds, warning):
    # given auto-renew on with a S/ 5 plan (the next charge 3 days before the 7 June cut-off) and
    # a wallet holding `funds`
    from vigencia.lines.autorenew import autorenew_set

    autorenew_set(line=line, enabled=True, plan=Plan.objects.get(code="ilimitado-5"), days_before=3)
    if funds:
        fund(line.owner, funds)

    # when the owner opens the line's page
    with clock.frozen(lima(TODAY)):
        page = browser.get(f"/lines/{line.pk}/").content.decode()

    # then it says, next to the next charge, what the wallet holds and where to top it up — only if short
    assert "Next charge on June 4, 2026, before the deadline of June 7, 2026." in page
    if warning is None:
        assert "this renewal costs" not in page
    else:
        assert warning in page


def test_with_auto_renew_on_the_timeline_shows_the_next_auto_renewal_and_what_comes_if_it_fails(
    browser, line
):
    # given auto-renew on with the planner's own S/ 5 plan, 3 days before the 7 June cut-off
    from vigencia.lines.autorenew import autorenew_set

    plan = Plan.objects.get(code="ilimitado-5")
    autorenew_set(line=line, enabled=True, plan=plan, days_before=3)

    # when the owner opens the line's page
    with clock.frozen(lima(TODAY)):
        page = browser.get(f"/lines/{line.pk}/").content.decode()

    # then the picture has the auto-renewal on 4 June with its plan instead of the planner's renewals,
    # the carrier's changes after it read as what happens if it fails, and the planner says so
    legend = re.sub(r"\s+", " ", page.split('<ol class="timeline-legend">')[1].split("</ol>")[0])
    items = [re.sub(r"<[^>]+>", "", item).strip() for item in legend.split("<li")[1:]]
    assert [item.split(">", 1)[1].strip() for item in items] == [
        "1 Carrier notice: May 23, 2026",
        "Today: June 1, 2026",
        f"Renews automatically with {plan.name}: June 4, 2026",
        "2 Cut off if the auto-renewal fails: June 7, 2026",
        "3 Number lost if the auto-renewal fails: Sept. 5, 2026",
    ]
    assert "Kept alive by auto-renew" in page
    assert "Planned renewal" not in page
    assert f"Auto-renew is on: it renews with {plan.name} on June 4, 2026." in page
    assert "Turn this into auto-renew" not in page
    assert "Auto-renew with this plan instead" not in page


def test_with_auto_renew_on_another_plan_the_planner_offers_to_switch_to_its_plan(browser, line):
    from vigencia.lines.autorenew import autorenew_set

    autorenew_set(line=line, enabled=True, plan=Plan.objects.get(code="ilimitado-20"), days_before=3)

    with clock.frozen(lima(TODAY)):
        page = browser.get(f"/lines/{line.pk}/").content.decode()

    assert "Auto-renew with this plan instead" in page
    assert "Turn this into auto-renew" not in page


def test_switching_auto_renew_to_the_planners_plan_keeps_the_days_before_chosen(browser, line):
    from vigencia.lines.autorenew import autorenew_set

    autorenew_set(line=line, enabled=True, plan=Plan.objects.get(code="ilimitado-20"), days_before=5)

    with clock.frozen(lima(TODAY)):
        browser.post(f"/lines/{line.pk}/plan-to-auto-renew/")

    setting = AutoRenewSetting.objects.get(line=line)
    assert (setting.enabled, setting.plan.code, setting.days_before) == (True, "ilimitado-5", 5)


@pytest.mark.parametrize(
    ("funds", "badge", "says"), [(500, "Auto-renew", True), (499, "Recharge now", False)]
)
def test_a_funded_auto_renewal_before_the_deadline_tells_the_holder_there_is_nothing_to_do(
    browser, line, funds, badge, says
):
    # given auto-renew on with a S/ 5 plan, charged on 4 June before the 7 June cut-off, and a
    # wallet holding `funds`
    from vigencia.lines.autorenew import autorenew_set

    autorenew_set(line=line, enabled=True, plan=Plan.objects.get(code="ilimitado-5"), days_before=3)
    fund(line.owner, funds)

    # when the owner looks at their lines and at the line
    with clock.frozen(lima(TODAY)):
        pages = [browser.get(path).content.decode() for path in ("/lines/", f"/lines/{line.pk}/")]

    # then, only when the wallet can pay it, both say it renews by itself instead of "Recharge now"
    for page in pages:
        assert re.search(r'<span class="urgency urgency-\w+">([^<]+)</span>', page).group(1) == badge
        assert ("Renews automatically on June 4, 2026" in page) is says
    assert ("Recharge by June 6, 2026" in pages[0]) is not says
