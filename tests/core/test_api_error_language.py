"""The API's generic errors (invalid input, not found, no token, a body that is no JSON, a page out
of range) answer in the caller's language like every other error, not always in English."""

from __future__ import annotations

import pytest

from vigencia.accounts.services import api_token_issue

from ..conftest import ApiClient
from ..factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(language: str) -> ApiClient:
    _row, token = api_token_issue(user=UserFactory(language=language))
    return ApiClient(token)


CASES = [
    ("get", "/api/v1/orders/abc", None, 422, "invalid"),
    ("get", "/api/v1/orders/99999", None, 404, "order_not_found"),
    ("get", "/api/v1/orders?limit=0", None, 422, "invalid_pagination"),
    ("post", "/api/v1/lines", "{not json", 400, "malformed_body"),
]


@pytest.mark.parametrize(
    ("language", "messages"),
    [
        (
            "es",
            [
                "La solicitud no es válida.",
                "No encontrado.",
                "La solicitud no es válida.",
                "El cuerpo de la solicitud debe ser un objeto JSON.",
            ],
        ),
        ("zh-hans", ["该请求无效。", "未找到。", "该请求无效。", "请求正文必须是一个 JSON 对象。"]),
    ],
)
def test_generic_errors_answer_in_the_language_the_person_chose(language, messages) -> None:
    # Given a person who chose Spanish or Chinese, and a client that names no language
    client = _client(language)

    # When each request goes wrong in its own way
    answers = []
    for method, path, body, _status, _code in CASES:
        if body is None:
            response = getattr(client, method)(path)
        else:
            response = client.generic(method.upper(), path, body, content_type="application/json")
        answers.append((response.status_code, response.json()["code"], response.json()["message"]))

    # Then each message is in their language
    assert answers == [
        (status, code, message) for (_m, _p, _b, status, code), message in zip(CASES, messages, strict=True)
    ]


def test_no_token_is_told_in_the_language_the_client_asks_for() -> None:
    # Given a client without a token that asks for Spanish
    client = ApiClient()

    # When it calls an operation that needs one
    response = client.get("/api/v1/wallet", HTTP_ACCEPT_LANGUAGE="es")

    # Then the 401 says so in Spanish
    assert (response.status_code, response.json()) == (
        401,
        {
            "code": "unauthorized",
            "message": "Inicia sesión primero: envía un token bearer válido.",
            "details": None,
        },
    )
