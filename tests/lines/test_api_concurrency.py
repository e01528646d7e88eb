"""Racing API writes end in one row and a clean 409 for the others (PostgreSQL, real threads)."""

import pytest
from django.db import connection

from tests.concurrency import race
from tests.conftest import ApiClient
from vigencia.accounts.models import User
from vigencia.accounts.services import api_token_issue
from vigencia.lines.models import Line, LineEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"),
]


def test_ten_racing_adds_of_one_number_make_one_line(user, claro):
    _row, token = api_token_issue(user=user)

    def add(index):
        number = "+51 912 345 678" if index % 2 else "912345678"
        response = ApiClient(token).post_json("/api/v1/lines", {"msisdn": number, "carrier": "claro-pe"})
        return response.status_code, response.json()["code"] if response.status_code != 201 else None

    results = race(10, add)

    assert sorted(results, key=str) == [(201, None)] + [(409, "line_exists")] * 9
    assert Line.objects.count() == 1
    assert LineEvent.objects.count() == 1


def test_ten_racing_registrations_of_one_email_make_one_account(db):
    def register(index):
        response = ApiClient().post_json(
            "/api/v1/auth/register",
            {
                "email": "Race@Example.com" if index % 2 else "race@example.com",
                "password": "a-long-passphrase-7",
            },
        )
        return response.status_code

    results = race(10, register)

    assert sorted(results) == [201] + [409] * 9
    assert User.objects.filter(email="race@example.com").count() == 1
