"""The account settings: name, SMS number, language and timezone, in the portal and by API; the
password change; SMS reminders once there is a number (quiet hours in the chosen timezone:
tests/lines/test_reminders.py)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import ApiClient
from tests.factories import PASSWORD, UserFactory
from vigencia.accounts.models import User
from vigencia.accounts.services import api_token_issue, user_profile_update
from vigencia.core.errors import InvalidInput
from vigencia.lines.reminders import reminder_settings_set

pytestmark = pytest.mark.django_db

SETTINGS = "/accounts/settings/"


def _profile(user: User) -> tuple[str, str, str, str]:
    user.refresh_from_db()
    return (user.name, user.phone, user.language, user.timezone)


@pytest.fixture
def ana() -> User:
    return UserFactory(name="Ana", language="es", phone="", timezone="America/Lima")


@pytest.fixture
def ana_api(ana) -> ApiClient:
    return ApiClient(api_token_issue(user=ana)[1])


def test_the_service_changes_only_what_is_given_and_stores_the_mobile_in_e164(ana) -> None:
    user_profile_update(user=ana, phone="912 345 678", timezone="Asia/Shanghai")

    assert _profile(ana) == ("Ana", "+51912345678", "es", "Asia/Shanghai")


def test_a_mobile_abroad_is_taken_with_its_country_code_and_an_empty_one_removes_it(ana) -> None:
    user_profile_update(user=ana, phone="+86 138 0013 8000")
    assert _profile(ana)[1] == "+8613800138000"

    user_profile_update(user=ana, phone="  ")
    assert _profile(ana)[1] == ""


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"phone": "01 411 1111"}, "invalid_phone"),  # a Lima landline: no SMS
        ({"phone": "12345"}, "invalid_phone"),
        ({"phone": "912345678 call me"}, "invalid_phone"),
        ({"timezone": "Mars/Olympus_Mons"}, "invalid_timezone"),
        ({"language": "fr"}, "invalid_language"),
        ({"name": "x" * 151}, "invalid_name"),
    ],
)
def test_a_bad_value_is_refused_and_nothing_changes_even_beside_good_ones(ana, change, code) -> None:
    with pytest.raises(InvalidInput) as refused:
        user_profile_update(user=ana, **({"name": "Ana María", "timezone": "Europe/Madrid"} | change))

    assert refused.value.code == code
    assert _profile(ana) == ("Ana", "", "es", "America/Lima")


def test_the_settings_page_shows_the_account_in_the_users_language_with_places_for_timezones(
    client: Client, ana
) -> None:
    client.force_login(ana)

    response = client.get(SETTINGS, HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Mi cuenta" in html
    assert '<option value="Asia/Shanghai">hora de China (Shanghái)</option>' in html
    assert '<option value="America/Lima" selected>hora de Perú</option>' in html


def test_the_settings_page_shows_the_mobile_as_people_write_it(client: Client, ana) -> None:
    user_profile_update(user=ana, phone="912345678")
    client.force_login(ana)

    html = client.get(SETTINGS).content.decode()

    assert 'name="phone" value="+51 912 345 678"' in html


def test_saving_the_settings_changes_the_account_and_switches_the_ui_language(client: Client, ana) -> None:
    client.force_login(ana)

    form = {"name": "Ana M.", "phone": "+51 912-345-678", "language": "zh-hans", "timezone": "Asia/Shanghai"}

    response = client.post(SETTINGS, form)

    assert response.status_code == 302
    assert response.url == SETTINGS
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert _profile(ana) == ("Ana M.", "+51912345678", "zh-hans", "Asia/Shanghai")
    assert "已保存" in client.get(SETTINGS).content.decode()


def test_a_bad_number_on_the_settings_page_is_shown_on_its_field_and_nothing_changes(client, ana) -> None:
    client.force_login(ana)

    response = client.post(
        SETTINGS, {"name": "Ana M.", "phone": "12345", "language": "es", "timezone": "Asia/Shanghai"}
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["phone"]
    assert _profile(ana) == ("Ana", "", "es", "America/Lima")


def test_the_settings_page_needs_a_login(client: Client) -> None:
    response = client.get(SETTINGS)

    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={SETTINGS}"


def test_changing_the_password_keeps_this_session_and_needs_the_old_one(client: Client, ana) -> None:
    client.force_login(ana)
    new = "Quechua-mountain-41"

    wrong = client.post(
        "/accounts/password/", {"old_password": "not-it", "new_password1": new, "new_password2": new}
    )
    right = client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )

    assert wrong.status_code == 200
    assert list(wrong.context["form"].errors) == ["old_password"]
    assert right.status_code == 302
    assert right.url == SETTINGS
    ana.refresh_from_db()
    assert ana.check_password(new)
    assert client.get(SETTINGS).status_code == 200  # still logged in


def test_sms_reminders_can_be_chosen_once_the_account_has_a_mobile(ana, claro) -> None:
    line = ana.lines.create(msisdn="+51912345678", carrier=claro)
    with pytest.raises(InvalidInput) as refused:
        reminder_settings_set(line=line, lead_days=[7], channels=["sms"])
    assert refused.value.code == "phone_missing"

    user_profile_update(user=ana, phone="987 654 321")
    line.owner.refresh_from_db()

    assert reminder_settings_set(line=line, lead_days=[7], channels=["sms"]).channels == ["sms"]


def test_the_api_reads_and_changes_the_callers_account(ana, ana_api) -> None:
    changed = ana_api.patch_json("/api/v1/auth/me", {"phone": "912345678", "timezone": "Asia/Shanghai"})
    read = ana_api.get("/api/v1/auth/me")

    expected = {
        "id": ana.pk,
        "email": ana.email,
        "name": "Ana",
        "phone": "+51912345678",
        "language": "es",
        "timezone": "Asia/Shanghai",
        "calendar_url": "",
    }
    assert (changed.status_code, changed.json()) == (200, expected)
    assert (read.status_code, read.json()) == (200, expected)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"phone": "12345"}, "invalid_phone"),
        ({"timezone": "Nowhere/Town"}, "invalid_timezone"),
        ({"language": "fr", "name": "Ana M."}, "invalid_language"),
        ({"phone": 912345678}, "invalid"),
        ({"name": "nul\x00byte"}, "invalid"),
    ],
)
def test_the_api_refuses_a_bad_change_with_422_and_writes_nothing(ana, ana_api, body, code) -> None:
    response = ana_api.patch_json("/api/v1/auth/me", body)

    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert _profile(ana) == ("Ana", "", "es", "America/Lima")


@pytest.mark.parametrize("sent", ["zh-Hans", "zh-hans", "ZH-HANS", "zh-CN"])
def test_the_api_takes_a_language_in_any_letter_case_and_stores_it_canonically(ana, ana_api, sent) -> None:
    response = ana_api.patch_json("/api/v1/auth/me", {"language": sent})

    assert (response.status_code, response.json()["language"]) == (200, "zh-hans")
    assert _profile(ana) == ("Ana", "", "zh-hans", "America/Lima")


def test_signing_up_takes_a_language_in_any_letter_case(anon_api) -> None:
    response = anon_api.post_json(
        "/api/v1/auth/register",
        {"email": "li@example.com", "password": "a-long-passphrase", "language": "ES"},
    )

    assert response.status_code == 201, response.content
    assert User.objects.get(email="li@example.com").language == "es"


def test_the_api_account_needs_a_token(anon_api) -> None:
    assert anon_api.get("/api/v1/auth/me").status_code == 401
    assert anon_api.patch_json("/api/v1/auth/me", {"name": "x"}).status_code == 401


# -- the timezone list -------------------------------------------------------------------------------


def _offered(client: Client) -> list[str]:
    return [value for value, _label in client.get(SETTINGS).context["form"].fields["timezone"].choices]


def test_the_timezone_list_offers_canonical_places_utc_first_and_no_alias(client: Client, ana) -> None:
    # given Ana on her settings page
    client.force_login(ana)

    # when the page lists the timezones
    offered = _offered(client)

    # then UTC comes first, each place once under its IANA name, no alias, offset or database file
    assert offered[0] == "UTC"
    assert {"America/Lima", "Asia/Shanghai", "Asia/Kolkata", "Europe/Kyiv", "Europe/London"} <= set(offered)
    assert not {"US/Pacific", "Etc/GMT+5", "posixrules", "Asia/Calcutta", "PRC", "GMT"} & set(offered)
    assert len(offered) == len(set(offered))


def test_someone_keeping_a_legacy_zone_sees_it_chosen_and_may_save_it_unchanged(client: Client) -> None:
    # given an account whose timezone is a deprecated alias
    tom = UserFactory(timezone="US/Pacific", language="en", phone="")
    client.force_login(tom)

    # when he opens the page and saves it as it is
    offered = _offered(client)
    response = client.post(SETTINGS, {"name": "Tom", "phone": "", "language": "en", "timezone": "US/Pacific"})

    # then his value is offered (first) and kept
    assert offered[0] == "US/Pacific"
    assert response.status_code == 302
    assert _profile(tom) == ("Tom", "", "en", "US/Pacific")


def test_a_timezone_not_on_the_list_is_refused_in_words_and_nothing_changes(client: Client, ana) -> None:
    # given Ana on her settings page
    client.force_login(ana)

    # when she posts an alias that is not on the list
    response = client.post(
        SETTINGS,
        {"name": "Ana M.", "phone": "", "language": "es", "timezone": "Etc/GMT+5"},
        HTTP_ACCEPT_LANGUAGE="es",
    )

    # then the field says so in her language and nothing is saved
    assert response.status_code == 200
    assert response.context["form"].errors == {"timezone": ["Elige tu zona horaria de la lista."]}
    assert _profile(ana) == ("Ana", "", "es", "America/Lima")


@pytest.mark.parametrize("zone", ["US/Pacific", "Etc/GMT+5", "posixrules", "Asia/Calcutta"])
def test_the_api_refuses_an_alias_with_422_and_writes_nothing(ana, ana_api, zone) -> None:
    response = ana_api.patch_json("/api/v1/auth/me", {"timezone": zone}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_timezone"
    assert response.json()["message"] == (
        f"{zone} is not a timezone to choose: pick a place from the list, such as America/Lima."
    )
    assert _profile(ana) == ("Ana", "", "es", "America/Lima")
