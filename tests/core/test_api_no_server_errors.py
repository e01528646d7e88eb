"""No API operation answers a 5xx, whoever asks and whatever they send: every operation of the
OpenAPI schema, anonymous and with each demo role's token, with existing and missing ids, odd query
values, and bodies whose fields are each of the wrong kind, out of range or not storable."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from vigencia.accounts.models import User
from vigencia.accounts.services import api_token_issue
from vigencia.config.api import api

pytestmark = pytest.mark.django_db

ODD_VALUES: list[Any] = ["\x1b\u00e1\x01", "-1", "0", "9" * 40, "nan", "", "2026-13-40", "ÿ" * 300]
ODD_FIELDS: list[Any] = [None, -1, 0, 10**30, 1.5, True, "", "\x00", "\ud800", "x" * 10_000, [], {}, "-1"]


def _properties(schema: dict[str, Any], components: dict[str, Any]) -> list[str]:
    ref = schema.get("$ref", "")
    if ref:
        schema = components[ref.rsplit("/", 1)[1]]
    return list(schema.get("properties", {}))


def _requests(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str | None]]:
    """(method, path, query, body) for every operation: the odd values one at a time."""
    components = schema["components"]["schemas"]
    requests = []
    for template, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (method, template) == ("delete", "/api/v1/auth/token"):
                continue  # logs the token out: the other requests would only see 401s
            for value in (1, 99_999):
                path = re.sub(r"\{\w+\}", str(value), template)
                query_names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
                requests.append((method, path, {}, None))
                requests += [(method, path, dict.fromkeys(query_names, odd), None) for odd in ODD_VALUES]
                content = operation.get("requestBody", {}).get("content", {}).get("application/json")
                if content is None:
                    continue
                fields = _properties(content["schema"], components)
                requests += [(method, path, {}, "{not json"), (method, path, {}, "[]")]
                requests += [
                    (method, path, {}, json.dumps({**dict.fromkeys(fields, 1), field: odd}))
                    for field in fields
                    for odd in ODD_FIELDS
                    if odd != "\ud800"  # json.dumps writes it escaped: still a lone surrogate
                ]
                requests.append((method, path, {}, '{"' + (fields or ["x"])[0] + '": "\\ud800"}'))
    return requests


def test_no_api_operation_answers_a_server_error_to_anyone(seeded) -> None:
    requests = _requests(api.get_openapi_schema())
    demo_users = list(User.objects.filter(email__endswith="@demo.vigencia.pe").order_by("email"))
    tokens = [None, *(api_token_issue(user=user)[1] for user in demo_users)]
    failures = []
    for token in tokens:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        client = Client(raise_request_exception=False, HTTP_IDEMPOTENCY_KEY="fuzz", **headers)
        for method, path, query, body in requests:
            if body is None:
                response = client.generic(method.upper(), path + ("?" + urlencode(query) if query else ""))
            else:
                response = client.generic(method.upper(), path, body, content_type="application/json")
            if response.status_code >= 500:
                failures.append((token is not None, method, path, query, body and body[:80]))

    assert len(requests) > 2_000  # the schema was walked
    assert failures == []


@pytest.mark.parametrize(
    ("email", "path"),
    [
        ("tom@demo.vigencia.pe", "/api/v1/orders"),
        ("tom@demo.vigencia.pe", "/api/v1/tickets"),
        ("reseller@demo.vigencia.pe", "/api/v1/reseller/batches"),
    ],
)
@pytest.mark.parametrize(
    "query", ["offset=99999999999999999999999", "offset=1000000001", "offset=-1", "limit=0"]
)
def test_a_page_out_of_range_is_422_on_every_paged_list(seeded, email, path, query) -> None:
    # Given a paged list and its owner's token
    _row, token = api_token_issue(user=User.objects.get(email=email))
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token}")

    # When one of its page parameters alone is out of range (an offset past 64 bits was a 500)
    response = client.get(f"{path}?{query}", HTTP_ACCEPT_LANGUAGE="en")

    # Then it is a 422 naming the bounds
    assert (response.status_code, response.json()) == (
        422,
        {
            "code": "invalid_pagination",
            "message": "The request is not valid.",
            "details": {"limit": "1..200", "offset": "0..1000000000"},
        },
    )


def test_the_last_offset_a_list_takes_answers_an_empty_page(seeded) -> None:
    # Given a subscriber with renewals
    _row, token = api_token_issue(user=User.objects.get(email="tom@demo.vigencia.pe"))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    # When they ask for the page at the largest offset
    response = client.get("/api/v1/orders?offset=1000000000")

    # Then it is an empty page
    assert (response.status_code, response.json()) == (200, [])
