"""No page answers a 5xx, whoever asks and whatever they send: every portal and back-office URL of
the project (the API has its own tests), for a visitor and each demo role, with
existing and missing ids, odd query strings and a junk form."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib import admin
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


# Each form field filled with one of these in turn: nothing, a negative number, an integer no column
# holds, a long string, a date that is no date, text where a number goes.
JUNK_VALUES = ("", "-1", "99999999999999999999999", "x" * 300, "2026-13-45", "abc")
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.DOTALL | re.IGNORECASE)
ACTION = re.compile(r'\baction="([^"]*)"')
FIELD_NAME = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([\w\-]+)"')


def _forms_posted_with_junk(client: Client, urls: list[str]) -> list[tuple[str, str]]:
    """Open each page; post each of its POST forms back to where it goes, with every field of the
    form set to each junk value in turn."""
    failures, posted = [], set()
    for url in urls:
        page = client.get(url)
        if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
            continue
        for attributes, body in FORM.findall(page.content.decode()):
            if 'method="post"' not in attributes.lower():
                continue
            action = html.unescape(ACTION.search(attributes)[1]) if ACTION.search(attributes) else url
            names = set(FIELD_NAME.findall(body)) - {"csrfmiddlewaretoken"}
            if "logout" in action or not names or (action, frozenset(names)) in posted:
                continue
            posted.add((action, frozenset(names)))
            for junk in JUNK_VALUES:
                response = client.post(action or url, dict.fromkeys(names, junk))
                if response.status_code >= 500:
                    failures.append((action or url, junk[:20]))
    return failures


def test_every_back_office_add_form_posted_with_junk_answers_with_its_errors(seeded) -> None:
    # given the operator in the back office
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(email="operator@demo.vigencia.pe"))
    urls = [f"/admin/{model._meta.app_label}/{model._meta.model_name}/add/" for model in admin.site._registry]
    # when every add form is posted back with junk in each of its fields, then none is a server error
    assert _forms_posted_with_junk(client, urls) == []


def test_every_portal_form_posted_with_junk_in_its_own_fields_answers_without_a_server_error(seeded) -> None:
    failures = []
    for email in ("ana@demo.vigencia.pe", "agent@demo.vigencia.pe", "reseller@demo.vigencia.pe"):
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(email=email))
        urls = [_url(route, 1) for route in portal_routes() if "logout" not in route]
        failures += [(email, *failure) for failure in _forms_posted_with_junk(client, urls)]
    assert failures == []
