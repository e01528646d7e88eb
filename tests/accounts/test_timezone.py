"""Pages show times in the signed-in person's own timezone (My account -> timezone); anonymous
visitors, and everything after the request, keep the platform's (America/Lima)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory
from vigencia.ledger.models import LedgerTransaction

pytestmark = pytest.mark.django_db

# 2026-03-10 02:30 UTC: the 9th at 21:30 in Lima, the 10th at 10:30 in Shanghai.
AT = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)


def _wallet_page(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/wallet/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("Asia/Shanghai", "03/10/2026 10:30 a.m."), ("America/Lima", "03/09/2026 9:30 p.m.")],
)
def test_the_wallet_history_shows_when_in_the_persons_own_timezone(fund_wallet, zone, shown) -> None:
    # given a person in `zone` with a top-up made at AT
    user = UserFactory(timezone=zone)
    fund_wallet(user, 5000)
    LedgerTransaction.objects.update(created_at=AT)

    # when they open their wallet
    page = _wallet_page(user)

    # then the movement's time is their local time, and the request leaves no timezone behind
    assert shown in page
    assert timezone.get_current_timezone_name() == "America/Lima"


def test_an_anonymous_visitor_keeps_the_platforms_timezone() -> None:
    # given an anonymous visitor
    client = Client()

    # when they open a public page, then it renders in the default timezone without error
    assert client.get("/").status_code == 200
    assert timezone.get_current_timezone_name() == "America/Lima"
