"""A statement's period, on the page and by API: a date that is none, a period backwards or too
long, or dates far in the past or the future are told in words, never a server error or a silent
empty statement."""

from __future__ import annotations

import pytest

from vigencia.core import clock

from .conftest import T0

pytestmark = pytest.mark.django_db

# T0 is 2025-03-01.
BAD_PERIODS = [
    ("from=garbage", "invalid_date", "La fecha de inicio no es una fecha; escríbela como AAAA-MM-DD."),
    ("from=2025-13-01", "invalid_date", "La fecha de inicio no es una fecha; escríbela como AAAA-MM-DD."),
    ("to=20250301", "invalid_date", "La fecha de fin no es una fecha; escríbela como AAAA-MM-DD."),
    (
        "from=2025-03-05&to=2025-03-01",
        "invalid_period",
        "El periodo debe empezar antes de terminar y durar como máximo 366 días.",
    ),
    (
        "from=2020-01-01&to=2025-01-01",
        "invalid_period",
        "El periodo debe empezar antes de terminar y durar como máximo 366 días.",
    ),
    *[
        (
            query,
            "period_out_of_range",
            "Los estados de cuenta cubren del 1 de enero de 2000 al 2 de marzo de 2026; elige fechas "
            "entre ellas.",
        )
        for query in (
            "to=0001-01-05",
            "from=0001-01-01&to=0001-01-02",
            "from=1999-12-31",
            "from=9999-12-30&to=9999-12-31",
            "to=2026-03-03",
        )
    ],
]


@pytest.mark.parametrize(("query", "code", "message"), BAD_PERIODS)
def test_the_api_refuses_a_bad_period_with_its_code_in_the_callers_language(api, line, query, code, message):
    with clock.frozen(T0):
        response = api.get(f"/api/v1/lines/{line.pk}/statement?{query}", HTTP_ACCEPT_LANGUAGE="es")

    assert (response.status_code, response.json()["code"], response.json()["message"]) == (422, code, message)


@pytest.mark.parametrize(("query", "code", "message"), BAD_PERIODS)
def test_the_page_says_why_a_period_is_not_shown_and_shows_the_last_30_days(
    client, user, line, query, code, message
) -> None:
    client.force_login(user)

    with clock.frozen(T0):
        response = client.get(f"/usage/lines/{line.pk}/statement/?{query}", HTTP_ACCEPT_LANGUAGE="es")

    page = response.content.decode()
    assert response.status_code == 200
    assert f'<p class="error" role="alert">{message} Se muestran los últimos 30 días.</p>' in page
    assert 'name="from" value="2025-01-31"' in page
    assert 'name="to" value="2025-03-01"' in page


@pytest.mark.parametrize(
    ("query", "period"),
    [
        ("", ("2025-01-31", "2025-03-01")),
        ("to=2000-01-10", ("2000-01-01", "2000-01-10")),
        ("from=2024-03-01&to=2025-02-28", ("2024-03-01", "2025-02-28")),
        ("from=2026-03-01&to=2026-03-02", ("2026-03-01", "2026-03-02")),
    ],
)
def test_a_good_period_is_answered(api, line, query, period) -> None:
    with clock.frozen(T0):
        response = api.get(f"/api/v1/lines/{line.pk}/statement?{query}")

    assert (response.status_code, response.json()["from"], response.json()["to"]) == (200, *period)
