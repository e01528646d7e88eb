"""The subscriber's lines in the portal: dashboard, add, edit, remove, line page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.test import Client

from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.lines.models import Line, LineEvent
from vigencia.lines.services import line_add

from ..factories import UserFactory

pytestmark = pytest.mark.django_db
NOON = datetime(2025, 6, 1, 17, 0, tzinfo=UTC)  # 12:00 in Lima


@pytest.fixture(autouse=True)
def _plain_static_and_fixed_clock(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with clock.frozen(NOON):
        yield


@pytest.fixture
def portal(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _add(client: Client, carrier: Carrier, /, **overrides: str):
    data = {"carrier": str(carrier.pk), "msisdn": "+51 912 345 678", "nickname": "Mamá", **overrides}
    return client.post("/lines/add/", data)


@pytest.mark.parametrize(
    ("language", "heading", "days_left", "valid_until"),
    [
        ("en", "My lines", "29 days left", "Recharge by June 30, 2025"),
        ("es", "Mis líneas", "Quedan 29 días", "Recarga hasta el 30 de junio de 2025"),
        ("zh-hans", "我的号码", "还剩 29 天", "请在 2025年6月30日 前充值"),
    ],
)
def test_an_added_line_appears_formatted_on_the_dashboard(
    portal: Client, claro: Carrier, user: User, language: str, heading: str, days_left: str, valid_until: str
) -> None:
    # given
    portal.cookies["django_language"] = language
    # when
    response = _add(portal, claro, msisdn="912-345-678", valid_until="2025-06-30")
    # then
    assert (response.status_code, response.url) == (302, "/lines/")
    line = Line.objects.get()
    assert (line.owner, line.msisdn, line.carrier, line.nickname) == (user, "+51912345678", claro, "Mamá")
    assert line.valid_until == date(2025, 6, 30)
    html = portal.get("/lines/").content.decode()
    assert f"<h1>{heading}</h1>" in html
    assert '<p class="line-number">+51 912 345 678</p>' in html
    assert days_left in html
    assert valid_until in html
    assert "urgency-soon" in html


def test_a_bad_number_shows_a_form_error_and_writes_nothing(portal: Client, claro: Carrier) -> None:
    response = _add(portal, claro, msisdn="12345")
    assert response.status_code == 200
    assert response.context["form"].errors == {"msisdn": ["This is not a valid mobile number for Peru."]}
    assert Line.objects.count() == 0
    assert LineEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (
            "msisdn",
            "9123456789999999999999999999999999",
            "Ensure this value has at most 32 characters (it has 34).",
        ),
        ("msisdn", "91234\x005678", "Null characters are not allowed."),
        ("iccid", "1234", "An ICCID has 18 to 22 digits and starts with 89."),
        ("last_recharge_at", "2025-07-01", "The last recharge cannot be in the future."),
        ("valid_until", "not-a-date", "Enter a valid date."),
        (
            "carrier",
            "999999999999999999999999",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
        ("carrier", "", "This field is required."),
    ],
)
def test_bad_input_never_writes(portal: Client, claro: Carrier, field: str, value: str, error: str) -> None:
    response = _add(portal, claro, **{field: value})
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [error]}
    assert Line.objects.count() == 0


def test_the_same_number_twice_is_refused(portal: Client, claro: Carrier) -> None:
    _add(portal, claro)
    response = _add(portal, claro)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["You have already registered this number."]
    assert Line.objects.count() == 1


def test_dashboard_sorts_by_urgency_and_has_an_empty_state(
    portal: Client, claro: Carrier, user: User
) -> None:
    # given nothing
    assert "Add your first line" in portal.get("/lines/").content.decode()
    # given lines with different deadlines
    line_add(owner=user, msisdn="912345671", carrier=claro, nickname="later", valid_until=date(2025, 12, 1))
    line_add(owner=user, msisdn="912345672", carrier=claro, nickname="unknown")
    line_add(owner=user, msisdn="912345673", carrier=claro, nickname="late", valid_until=date(2025, 5, 30))
    line_add(owner=user, msisdn="912345674", carrier=claro, nickname="urgent", valid_until=date(2025, 6, 3))
    # when
    response = portal.get("/lines/")
    # then
    cards = response.context["cards"]
    assert [card.line.nickname for card in cards] == ["late", "urgent", "later", "unknown"]
    assert [card.urgency.level for card in cards] == ["overdue", "urgent", "ok", "unknown"]
    html = response.content.decode()
    assert "2 days overdue" in html
    assert "Recharge now" in html
    assert "Date unknown" in html


def test_the_line_page_shows_details_and_history(portal: Client, claro: Carrier, user: User) -> None:
    line = line_add(owner=user, msisdn="912345678", carrier=claro, valid_until=date(2025, 6, 30))
    response = portal.get(f"/lines/{line.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>+51 912 345 678</h1>" in html
    assert "Line added" in html
    assert "Claro Perú" in html


@pytest.mark.parametrize(
    ("language", "label"), [("en", "Balance and usage"), ("es", "Saldo y consumo"), ("zh-hans", "余额与用量")]
)
def test_the_line_page_leads_to_its_balance_and_usage_statement(
    portal: Client, claro: Carrier, user: User, language: str, label: str
) -> None:
    # given a subscriber reading in their language, on one of their lines
    user.language = language
    user.save(update_fields=["language"])
    line = line_add(owner=user, msisdn="912345678", carrier=claro)
    # when they open the line's page
    html = portal.get(f"/lines/{line.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    # then it links to the statement with balances, the chart and flagged charges, and that page opens
    assert f'<a href="/usage/lines/{line.pk}/statement/">{label}</a>' in html
    assert portal.get(f"/usage/lines/{line.pk}/statement/").status_code == 200


def test_edit_changes_the_dates_and_records_an_event(portal: Client, claro: Carrier, user: User) -> None:
    line = line_add(owner=user, msisdn="912345678", carrier=claro)
    response = portal.post(
        f"/lines/{line.pk}/edit/",
        {"nickname": "Work", "iccid": "", "last_recharge_at": "2025-05-01", "valid_until": ""},
    )
    assert (response.status_code, response.url) == (302, f"/lines/{line.pk}/")
    line.refresh_from_db()
    assert (line.nickname, line.last_recharge_at, line.valid_until) == ("Work", date(2025, 5, 1), None)
    assert list(line.events.values_list("kind", flat=True)) == ["updated", "added"]


def test_edit_with_bad_dates_writes_nothing(portal: Client, claro: Carrier, user: User) -> None:
    line = line_add(owner=user, msisdn="912345678", carrier=claro)
    response = portal.post(
        f"/lines/{line.pk}/edit/",
        {"nickname": "Work", "last_recharge_at": "2025-05-10", "valid_until": "2025-05-01"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "valid_until": ["The valid-until date cannot be before the last recharge."]
    }
    line.refresh_from_db()
    assert (line.nickname, line.last_recharge_at) == ("", None)
    assert line.events.count() == 1


def test_remove_asks_first_and_removes_on_post(portal: Client, claro: Carrier, user: User) -> None:
    line = line_add(owner=user, msisdn="912345678", carrier=claro)
    confirm = portal.get(f"/lines/{line.pk}/remove/")
    assert confirm.status_code == 200
    line.refresh_from_db()
    assert line.removed_at is None
    response = portal.post(f"/lines/{line.pk}/remove/")
    assert (response.status_code, response.url) == (302, "/lines/")
    line.refresh_from_db()
    assert line.removed_at == NOON
    assert portal.get(f"/lines/{line.pk}/").status_code == 404


@pytest.mark.parametrize("suffix", ["", "edit/", "remove/"])
def test_another_users_line_is_not_found(portal: Client, claro: Carrier, suffix: str) -> None:
    theirs = line_add(owner=UserFactory(), msisdn="912345678", carrier=claro)
    assert portal.get(f"/lines/{theirs.pk}/{suffix}").status_code == 404
    assert portal.post(f"/lines/{theirs.pk}/{suffix}", {"nickname": "mine"}).status_code in {404, 405}
    theirs.refresh_from_db()
    assert (theirs.nickname, theirs.removed_at) == ("", None)


def test_a_huge_line_id_is_not_found(portal: Client) -> None:
    assert portal.get("/lines/99999999999999999999999/").status_code == 404


def test_pages_need_a_login(client: Client) -> None:
    response = client.get("/lines/add/")
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/lines/add/")


def test_someone_in_shanghai_past_midnight_sees_the_days_left_of_the_carriers_calendar(
    user: User, claro: Carrier, api
) -> None:
    # given a subscriber in Shanghai keeping a Lima line valid until 5 June (Lima's calendar)
    user.timezone = "Asia/Shanghai"
    user.save(update_fields=["timezone"])
    line = line_add(owner=user, msisdn="912345678", carrier=claro, valid_until=date(2025, 6, 5))
    portal = Client()
    portal.force_login(user)

    # when they look at 04:30 on 2 June in Shanghai, still 1 June (15:30) in Lima
    with clock.frozen(datetime(2025, 6, 1, 20, 30, tzinfo=UTC)):
        dashboard = portal.get("/lines/").content.decode()
        page = portal.get(f"/lines/{line.pk}/").content.decode()
        body = api.get(f"/api/v1/lines/{line.pk}").json()

    # then every place counts 4 days to 5 June from Lima's today, as the timeline's "Today" does
    assert "4 days left" in dashboard
    assert "4 days left" in page
    assert "Today: June 1, 2025" in page
    assert (body["deadline"], body["days_left"], body["urgency"]) == ("2025-06-05", 4, "urgent")


def test_the_add_form_asks_for_the_carrier_instead_of_picking_one(portal: Client, claro: Carrier) -> None:
    page = portal.get("/lines/add/").content.decode()

    assert '<option value="" selected>Choose your carrier</option>' in page


@pytest.mark.parametrize(
    ("language", "summary"),
    [
        ("en", "valid until Jan. 20, 2027"),
        ("es", "vigente hasta el 20 de enero de 2027"),
        ("zh-hans", "有效期至 2027年1月20日"),
    ],
)
def test_the_history_gives_a_renewals_new_date_as_the_page_writes_dates(
    portal: Client, claro: Carrier, user: User, language: str, summary: str
) -> None:
    # given a line renewed until 20 January 2027 (the event keeps the date in ISO 8601)
    line = line_add(owner=user, msisdn="+51 912 345 678", carrier=claro)
    LineEvent.objects.create(line=line, kind="renewed", data={"valid_until": "2027-01-20"})

    # when its owner reads the line page
    portal.cookies["django_language"] = language
    page = portal.get(f"/lines/{line.pk}/").content.decode()

    # then the history writes that date in their language
    assert summary in page
    assert "2027-01-20" not in page


@pytest.mark.parametrize(
    ("language", "groups"),
    [
        ("en", ["China", "Hong Kong SAR China", "Peru", "United Kingdom"]),
        ("es", ["China", "Perú", "RAE de Hong Kong (China)", "Reino Unido"]),
    ],
)
def test_the_add_form_groups_carriers_under_their_country_in_the_readers_language(
    portal: Client, demo_catalog, language: str, groups: list[str]
) -> None:
    page = portal.get("/lines/add/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert re.findall(r'<optgroup label="([^"]+)">', page) == groups
    peru = page.split(f'<optgroup label="{groups[2 if language == "en" else 1]}">')[1].split("</optgroup>")[0]
    assert re.findall(r">([^<]+)</option>", peru) == [
        "Bitel Perú",
        "Claro Perú",
        "Entel Perú",
        "Movistar Perú",
    ]
