"""The statement page's downloads: the CSV and the PDF of the page's period, for the line's holder
only, the same files the API gives."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import ApiClient
from vigencia.accounts.services import api_token_issue
from vigencia.core import clock
from vigencia.usage.ingest import record_parse
from vigencia.usage.services import bucket_credit_renewal, usage_records_ingest

from .conftest import T0

pytestmark = pytest.mark.django_db

PERIOD = "from=2025-03-01&to=2025-03-02"


@pytest.fixture
def used_line(line, plan, tariff):
    with clock.frozen(T0):
        bucket_credit_renewal(line=line, plan=plan, reference="a")
    with clock.frozen(T0 + timedelta(days=1)):
        record = {
            "record_id": "s1",
            "msisdn": line.msisdn,
            "kind": "voice",
            "started_at": "2025-03-01T13:00:00Z",
            "quantity": 400,
            "destination": "+51987654321",
        }
        usage_records_ingest(source="test", rows=[(1, record_parse(record, now=clock.now()))])
        call_command("usage", "rate", stdout=StringIO())
    return line


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("csv", "text/csv; charset=utf-8"), ("pdf", "application/pdf")]
)
def test_the_page_links_to_its_periods_files_and_they_are_the_apis(
    client, user, used_line, fmt, content_type
):
    # given the holder looking at a period of their statement
    client.force_login(user)
    page = client.get(f"/usage/lines/{used_line.pk}/statement/?{PERIOD}").content.decode()

    # when they follow the page's download link
    link = re.search(rf'href="([^"]+\.{fmt}\?[^"]+)"', page)[1].replace("&amp;", "&")
    download = client.get(link)

    # then it is the period's file, the same one the API gives
    api = ApiClient(api_token_issue(user=user)[1])
    from_api = api.get(f"/api/v1/lines/{used_line.pk}/statement?{PERIOD}&format={fmt}")
    assert link == f"/usage/lines/{used_line.pk}/statement.{fmt}?{PERIOD}"
    assert (download.status_code, download["Content-Type"], download["Content-Disposition"]) == (
        200,
        content_type,
        f'attachment; filename="statement-{used_line.pk}-2025-03-01-2025-03-02.{fmt}"',
    )
    if fmt == "csv":
        assert download.content == from_api.content
        assert download.content.decode().splitlines()[1].startswith("s1,voice,2025-03-01T13:00:00+00:00,400")
    else:
        assert download.content.startswith(b"%PDF")


@pytest.mark.parametrize("fmt", ["csv", "pdf"])
def test_someone_elses_statement_file_is_404_and_a_stranger_is_sent_to_log_in(
    client, other_user, used_line, fmt
) -> None:
    url = f"/usage/lines/{used_line.pk}/statement.{fmt}?{PERIOD}"

    anonymous = client.get(url)
    client.force_login(other_user)
    other = client.get(url)

    assert (anonymous.status_code, anonymous.url.split("?")[0], other.status_code) == (
        302,
        "/accounts/login/",
        404,
    )


def test_a_file_for_a_bad_period_goes_back_to_the_page_that_says_why(client, user, used_line) -> None:
    client.force_login(user)

    response = client.get(f"/usage/lines/{used_line.pk}/statement.csv?from=2025-03-05&to=2025-03-01")

    assert (response.status_code, response.url) == (
        302,
        f"/usage/lines/{used_line.pk}/statement/?from=2025-03-05&to=2025-03-01",
    )
