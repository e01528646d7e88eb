"""No page answers a 5xx, whoever asks and whatever they send: every portal and back-office URL of
the project (the admin and the API have their own tests), for a visitor and each demo role, with
existing and missing ids, odd query strings and a junk form."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.urlwalk import portal_routes, route_url
from vigencia.accounts.models import User

pytestmark = pytest.mark.django_db

ODD_QUERY = (
    "?from=zz&to=2026-13-40&page=-1&q=%00&months=abc&format=pdf&goal=x&carrier=%ff&currency=%1b"
    "&lat=nan&lng=inf&limit=-5&offset=x&next=//evil.example&sort=;drop"
)
JUNK_FORM = {"x": "\x00", "amount": "-1", "amount_minor": "1e999", "msisdn": "abc", "pin": "' OR 1=1"}


def _url(route: str, value: int) -> str:
    def value_of(converter: str, _name: str) -> object:
        if converter == "int":
            return value
        return "x/y" if converter == "path" else "claro-pe" if value == 1 else "x"

    return route_url(route, value_of)


def test_no_page_answers_a_server_error_to_anyone(seeded) -> None:
    routes = portal_routes()
    demo_users = list(User.objects.filter(email__endswith="@demo.vigencia.pe").order_by("email"))
    failures = []
    for user in [None, *demo_users]:
        client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-CN,zh")
        if user is not None:
            client.force_login(user)
        for route in routes:
            for value in (1, 2, 99_999):
                for query in ("", ODD_QUERY):
                    url = _url(route, value) + query
                    for response in (client.get(url), client.post(url, JUNK_FORM)):
                        if response.status_code >= 500:
                            failures.append((user and user.email, response.request["REQUEST_METHOD"], url))

    assert len(routes) >= 50  # the walk found the project's pages
    assert len(demo_users) >= 7
    assert failures == []
