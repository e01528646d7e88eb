"""Home page, layout and the language switch."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from vigencia.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("accept_language", "heading"),
    [
        ("en", "Never lose a phone number again"),
        ("es", "No vuelvas a perder un número"),
        ("zh-CN,zh", "再也不丢号"),
    ],
)
def test_home_explains_the_service_in_the_browsers_language(
    client: Client, accept_language: str, heading: str
) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert response.status_code == 200
    assert heading in response.content.decode()
    assert 'href="/accounts/signup/"' in response.content.decode()


def test_layout_is_mobile_first_and_has_no_inline_script_or_style(client: Client) -> None:
    html = client.get("/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'src="/static/core/site.js"' in html
    assert "<script>" not in html
    assert "style=" not in html
    assert "<style" not in html
    assert "Content-Security-Policy" in client.get("/").headers


def test_language_switch_saves_a_logged_in_users_preference(client: Client, user: User) -> None:
    client.force_login(user)
    response = client.post("/language/", {"language": "zh-hans", "next": "/plans/"})
    assert (response.status_code, response.url) == (302, "/plans/")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    user.refresh_from_db()
    assert user.language == "zh-hans"
    assert "套餐" in client.get("/plans/").content.decode()


@pytest.mark.parametrize(("sent", "stored"), [("ZH-HANS", "zh-hans"), ("zh-Hans", "zh-hans"), ("ES", "es")])
def test_language_switch_takes_a_code_in_any_letter_case_and_keeps_it_canonical(
    client: Client, user: User, sent: str, stored: str
) -> None:
    # Given a signed-in person whose language is English
    client.force_login(user)

    # When the switch is sent the code in another letter case
    response = client.post("/language/", {"language": sent, "next": "/plans/"})

    # Then the cookie and the profile both hold the canonical code
    user.refresh_from_db()
    assert (response.cookies[settings.LANGUAGE_COOKIE_NAME].value, user.language) == (stored, stored)


@pytest.mark.parametrize(
    ("accept", "language"),
    [("ZH-hans", "zh-hans"), ("zh-CN", "zh-hans"), ("ES", "es"), ("es-PE", "es")],
)
def test_a_page_and_the_api_answer_in_the_accept_language_in_any_letter_case(
    client: Client, accept: str, language: str
) -> None:
    page = client.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    api = client.get("/api/v1/orders", HTTP_ACCEPT_LANGUAGE=accept)

    assert (page["Content-Language"], api["Content-Language"]) == (language, language)


def test_language_switch_ignores_unknown_languages_and_foreign_redirects(client: Client, user: User) -> None:
    client.force_login(user)
    response = client.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert (response.status_code, response.url) == (302, "/")
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    user.refresh_from_db()
    assert user.language == "en"


def test_language_switch_works_anonymously_and_is_post_only(client: Client) -> None:
    assert client.get("/language/").status_code == 405
    response = client.post("/language/", {"language": "es", "next": "/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
