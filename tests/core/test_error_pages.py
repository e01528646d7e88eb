"""Error pages: in the visitor's language and the site's layout for people, JSON under /api/."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("accept_language", "title", "home"),
    [
        ("en", "Page not found", "Go to the home page"),
        ("es", "Página no encontrada", "Ir a la página de inicio"),
        ("zh-CN,zh", "页面没有找到", "返回首页"),
    ],
)
def test_an_unknown_page_is_a_404_in_the_visitors_language_on_the_sites_layout(
    client: Client, accept_language: str, title: str, home: str
) -> None:
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE=accept_language)

    html = response.content.decode()
    assert response.status_code == 404
    assert f"<h1>{title}</h1>" in html
    assert f'<a class="button primary" href="/">{home}</a>' in html
    assert 'href="/accounts/login/"' in html  # the site's navigation
    assert "<style" not in html


def test_a_line_of_someone_else_is_a_404_page_for_a_logged_in_subscriber(
    client: Client, line, other_user
) -> None:
    client.force_login(other_user)

    response = client.get(f"/lines/{line.pk}/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()
    assert 'href="/lines/">Go to my lines</a>' in response.content.decode()


def test_an_unknown_api_path_answers_the_apis_json_error(client: Client) -> None:
    response = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "No hay nada en esta dirección. Puede que el enlace sea antiguo o esté mal escrito.",
        "details": None,
    }


def test_a_form_sent_without_its_csrf_token_explains_what_to_do_and_logs_nobody_in(user) -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/accounts/login/",
        {"username": user.email, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="zh-CN,zh",
    )

    html = response.content.decode()
    assert response.status_code == 403
    assert "<h1>表单已过期</h1>" in html
    assert "请返回并刷新页面，然后重新提交表单。如果仍然出现此问题，请允许本网站使用 Cookie。" in html
    assert "<style" not in html
    assert "_auth_user_id" not in client.session


@pytest.mark.urls("tests.core.urls_raising")
def test_a_failing_page_is_a_500_without_the_layout_in_the_visitors_language() -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/explode/", HTTP_ACCEPT_LANGUAGE="es")

    html = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Algo salió mal</h1>" in html
    assert "Algo falló de nuestro lado. Inténtalo de nuevo en un momento" in html
    assert "boom" not in html


@pytest.mark.urls("tests.core.urls_raising")
def test_a_failing_api_path_is_a_json_500_that_says_nothing_of_the_failure() -> None:
    client = Client(raise_request_exception=False)

    response = client.get("/api/explode/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "message": "Something went wrong on our side. Try again in a moment; if it keeps happening, "
        "contact support.",
        "details": None,
    }


def test_a_page_the_account_may_not_open_is_a_403_page_in_its_language(client: Client, user) -> None:
    client.force_login(user)

    response = client.get("/vouchers/reseller/", HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 403
    assert "<h1>No permitido</h1>" in response.content.decode()
    assert "<p>Tu cuenta no puede abrir esta página.</p>" in response.content.decode()


def test_a_body_that_cannot_be_parsed_is_a_400_json_error_under_the_api_and_a_page_elsewhere(user) -> None:
    client = Client(raise_request_exception=False)
    # JSON sent as multipart without a boundary: the form parser (here django-axes counting a failed
    # login) cannot read it
    unparsable = {
        "data": b'{"email": "a@example.com", "password": "x"}',
        "content_type": "multipart/form-data",
    }

    api = client.generic("POST", "/api/v1/auth/token", **unparsable, HTTP_ACCEPT_LANGUAGE="en")
    page = client.generic("POST", "/accounts/login/", **unparsable, HTTP_ACCEPT_LANGUAGE="en")

    assert (api.status_code, api.json()) == (
        400,
        {"code": "bad_request", "message": "The request could not be understood.", "details": None},
    )
    assert page.status_code == 400
    assert "<h1>Bad request</h1>" in page.content.decode()
    assert not client.session.get("_auth_user_id")
