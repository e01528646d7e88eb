"""The API's edges that no route sees: a method a route does not take, an address too long to
serve; each answered in the API's error shape and the caller's language."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from vigencia.core.middleware import MAX_URI_LENGTH

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/api/v1/usage/batches", "POST"),
        ("put", "/api/v1/carriers", "GET"),
        ("post", "/api/v1/lines/1/statement", "GET"),
    ],
)
def test_a_method_a_route_does_not_take_is_a_json_405_naming_the_ones_it_takes(
    api, method, path, allowed
) -> None:
    # when a route is sent a method it does not take
    response = getattr(api, method)(path, HTTP_ACCEPT_LANGUAGE="es")

    # then the answer is the API's error, in the caller's language, with the Allow header
    assert (response.status_code, response["Content-Type"], response["Allow"]) == (
        405,
        "application/json",
        allowed,
    )
    assert response.json() == {
        "code": "method_not_allowed",
        "message": f"Esta dirección no acepta {method.upper()}; acepta {allowed}.",
        "details": None,
    }


def test_a_page_still_answers_its_own_405() -> None:
    from django.test import Client

    assert Client().get("/language/").status_code == 405


def test_an_api_address_too_long_is_a_json_414_and_one_just_short_enough_is_served(api) -> None:
    base = "/api/v1/carriers?q="
    longest = base + "a" * (MAX_URI_LENGTH - len(base))

    served = api.get(longest)
    refused = api.get(longest + "a", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert served.status_code == 200
    assert (refused.status_code, refused["Content-Type"], refused.json()["code"]) == (
        414,
        "application/json",
        "uri_too_long",
    )
    assert refused.json()["message"] == "地址太长，无法处理。请改为在请求正文中发送较长的数据。"


def test_serve_lets_gunicorn_read_request_lines_longer_than_the_apis_limit(monkeypatch) -> None:
    # given gunicorn's start replaced by a recorder
    started: list[list[str]] = []
    monkeypatch.setattr("os.execv", lambda _exe, argv: started.append(argv))

    # when `vigencia serve` starts it
    call_command("serve", no_collectstatic=True)

    # then a request line past the API's own limit still reaches Django
    argv = started[0]
    limit = int(argv[argv.index("--limit-request-line") + 1])
    assert limit == 8190
    assert limit > len("GET ") + MAX_URI_LENGTH + len(" HTTP/1.1")
