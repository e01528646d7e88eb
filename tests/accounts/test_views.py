"""Account pages: sign up, log in and out, language on login, password reset, lockout page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.lines.models import Line

from ..factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
STRONG = "Quechua-mountain-41"


def _signup(client: Client, **overrides: str):
    data = {
        "email": "ana@example.com",
        "name": "Ana",
        "password1": STRONG,
        "password2": STRONG,
        "language": "es",
    } | overrides
    return client.post("/accounts/signup/", data)


def test_signup_logs_in_and_lands_on_the_dashboard_in_the_chosen_language(client: Client) -> None:
    # when
    response = _signup(client)
    # then
    assert response.status_code == 302
    assert response.url == "/lines/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    user = User.objects.get()
    assert (user.email, user.name, user.language) == ("ana@example.com", "Ana", "es")
    assert user.check_password(STRONG)
    dashboard = client.get("/lines/")
    assert dashboard.status_code == 200
    assert dashboard.context["user"] == user
    assert "Agrega tu primera línea" in dashboard.content.decode()


def test_signup_with_different_passwords_writes_nothing(client: Client) -> None:
    response = _signup(client, password2="something-else-42")
    assert response.status_code == 200
    assert response.context["form"].errors == {"password2": ["The two passwords are not the same."]}
    assert User.objects.count() == 0
    assert "_auth_user_id" not in client.session


def test_signup_with_a_weak_password_shows_the_validators_and_writes_nothing(client: Client) -> None:
    response = _signup(client, password1="12345678", password2="12345678")
    assert response.status_code == 200
    assert response.context["form"].errors["password1"] == [
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    assert User.objects.count() == 0


def test_signup_with_a_taken_email_says_so_and_writes_nothing(client: Client) -> None:
    UserFactory(email="ana@example.com")
    response = _signup(client, email="ANA@example.com")
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "An account with this email already exists.",
        "Log in instead, or reset your password.",
    ]
    assert User.objects.count() == 1


def test_login_rotates_the_session_and_switches_to_the_users_language(client: Client) -> None:
    # given
    user = UserFactory(email="li@example.com", language="zh-hans")
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    # when
    response = client.post("/accounts/login/", {"username": "LI@example.com", "password": PASSWORD})
    # then
    assert response.status_code == 302
    assert response.url == "/lines/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session.session_key != before
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert "我的号码" in client.get("/lines/").content.decode()


def test_login_with_a_wrong_password_is_refused(client: Client) -> None:
    UserFactory(email="li@example.com")
    response = client.post("/accounts/login/", {"username": "li@example.com", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The email or the password is not right."]
    assert "_auth_user_id" not in client.session


def test_logout_is_post_only(client: Client, user: User) -> None:
    # given
    client.force_login(user)
    # when a link (GET) tries to log out
    refused = client.get("/accounts/logout/")
    # then nothing happens
    assert refused.status_code == 405
    assert client.session["_auth_user_id"] == str(user.pk)
    # when the form posts
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response.url == "/"
    assert "_auth_user_id" not in client.session


def test_password_reset_does_not_reveal_whether_an_email_is_registered(client: Client) -> None:
    # given
    UserFactory(email="known@example.com", language="es")
    # when
    unknown = client.post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert mail.outbox == []
    known = client.post("/accounts/password-reset/", {"email": "known@example.com"})
    # then both answer the same; only the known address gets a mail, in its owner's language
    assert (unknown.status_code, unknown.url) == (302, "/accounts/password-reset/sent/")
    assert (known.status_code, known.url) == (302, "/accounts/password-reset/sent/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["known@example.com"]
    assert message.subject == "Restablece tu contraseña de Vigencia"
    assert "http://testserver/accounts/password-reset/" in message.body


def test_password_reset_link_sets_a_new_password(client: Client) -> None:
    user = UserFactory(email="known@example.com")
    client.post("/accounts/password-reset/", {"email": "known@example.com"})
    link = next(line for line in mail.outbox[0].body.splitlines() if line.startswith("http://"))
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": STRONG, "new_password2": STRONG})
    assert (done.status_code, done.url) == (302, "/accounts/password-reset/done/")
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_a_reset_email_goes_to_an_account_at_most_once_per_five_minutes(client: Client) -> None:
    # given an account, and the reset form sent for it three times in a minute
    UserFactory(email="known@example.com")
    t0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    answers = []
    for seconds in (0, 20, 60):
        with clock.frozen(t0 + timedelta(seconds=seconds)):
            answers.append(client.post("/accounts/password-reset/", {"email": "known@example.com"}).url)

    # then every request gets the same answer, and one email went out
    assert answers == ["/accounts/password-reset/sent/"] * 3
    assert len(mail.outbox) == 1

    # when five minutes have passed since it
    with clock.frozen(t0 + timedelta(minutes=5)):
        client.post("/accounts/password-reset/", {"email": "known@example.com"})

    # then the next one goes out
    assert len(mail.outbox) == 2


def test_too_many_failed_logins_show_the_lockout_page(client: Client, settings) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(email="li@example.com")
    for _attempt in range(2):
        client.post("/accounts/login/", {"username": "li@example.com", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "li@example.com", "password": PASSWORD})
    assert response.status_code == 429
    assert "<h1>Too many attempts</h1>" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert Line.objects.count() == 0
