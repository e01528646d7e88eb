"""Account races, proven on PostgreSQL with real threads."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.concurrency import race
from tests.factories import UserFactory
from vigencia.accounts.services import password_reset_claim

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="races need PostgreSQL"),
]


def test_ten_concurrent_reset_requests_for_one_account_send_one_email():
    user = UserFactory()

    results = race(10, lambda _index: password_reset_claim(user=user))

    assert sorted(results, key=str) == [False] * 9 + [True]
