"""The statement page read in Chinese or Spanish: every heading, label and bar title is in that
language — no English left, no raw units (seconds, KB) or ISO dates under the bars."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from vigencia.core import clock
from vigencia.usage.ingest import record_parse
from vigencia.usage.services import bucket_credit_renewal, usage_records_ingest

from .conftest import T0

pytestmark = pytest.mark.django_db

# Words that may stay as they are in both languages: names, units and formats.
KEPT = {"Vigencia", "CSV", "PDF", "SMS", "min", "Total"}  # "Total" is Spanish too


@pytest.fixture
def used_line(line, plan, tariff, monkeypatch):
    monkeypatch.setattr("vigencia.usage.services._notify", lambda **kwargs: None)
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    records = [
        {"kind": "sms", "started_at": "2025-03-01T13:00:00Z", "quantity": 1, "destination": "+51987654321"},
        {"kind": "sms", "started_at": "2025-03-01T13:00:00Z", "quantity": 1, "destination": "+51987654321"},
        {"kind": "data", "started_at": "2025-03-01T15:00:00Z", "quantity": 3 * 2**20},
        {
            "kind": "voice",
            "started_at": "2025-03-01T16:00:00Z",
            "quantity": 400,
            "destination": "+8613800138000",
        },
    ]
    with clock.frozen(T0 + timedelta(days=1)):
        rows = [
            (n, record_parse({**record, "record_id": f"x{n}", "msisdn": line.msisdn}, now=clock.now()))
            for n, record in enumerate(records, start=1)
        ]
        usage_records_ingest(source="test", rows=rows)
        call_command("usage", "rate", stdout=StringIO())
    return line


def _main_text(html: str) -> list[str]:
    """The words of the page's main part, and of its titles (a bar's tooltip), without markup."""
    main = html[html.index("<main") : html.index("</main>")]
    titles = re.findall(r"<title>([^<]*)</title>", main)
    text = re.sub(r"<[^>]+>", " ", main)
    return [*text.split(), *" ".join(titles).split()]


@pytest.mark.parametrize(
    ("language", "bar_titles"),
    [
        ("zh-hans", ["3月1日: 6 分 40 秒", "3月1日: 2 条短信", "3月1日: 3 MB"]),
        ("es", ["1 mar.: 6 min 40 s", "1 mar.: 2 SMS", "1 mar.: 3 MB"]),
    ],
)
def test_the_statement_page_has_no_english_left(client, user, used_line, language, bar_titles) -> None:
    # given a line with calls, messages and data, and its holder reading another language
    client.force_login(user)

    # when they open the statement (and, to compare, it is read in English)
    pages = {}
    for reading in (language, "en"):
        with clock.frozen(T0 + timedelta(days=1)):
            pages[reading] = client.get(
                f"/usage/lines/{used_line.pk}/statement/?from=2025-03-01&to=2025-03-02",
                HTTP_ACCEPT_LANGUAGE=reading,
            ).content.decode()

    # then no word of the English page is left, and the bars say each day's usage as people read it
    english = {word.strip(".:,;()") for word in _main_text(pages["en"])}
    left = {
        word.strip(".:,;()")
        for word in _main_text(pages[language])
        if re.search(r"[A-Za-z]{3}", word) and word.strip(".:,;()") in english
    }
    assert left - KEPT == set()
    titles = re.findall(r"<title>([^<]*)</title>", pages[language])
    assert [title for title in titles if title.startswith(bar_titles[0][:5])] == bar_titles
