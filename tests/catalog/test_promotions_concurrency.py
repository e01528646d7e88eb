"""A promotion's limits hold exactly under concurrent checkouts (PostgreSQL, real threads)."""

from datetime import timedelta

import pytest
from django.db import connection

from tests.concurrency import race
from tests.factories import UserFactory
from vigencia.catalog.models import Promotion, PromotionKind, PromotionUse
from vigencia.catalog.promotions import PromotionNotApplicable
from vigencia.core import clock
from vigencia.ledger.selectors import ledger_totals, ledger_verify
from vigencia.lines.services import line_add
from vigencia.orders.models import RenewalOrder
from vigencia.orders.services import order_create

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"),
]


def _in_threads(count, work):
    """Each result, or the code a refused checkout answered."""
    return [
        result.code if isinstance(result, PromotionNotApplicable) else result for result in race(count, work)
    ]


def _promo(**limits):
    now = clock.now()
    return Promotion.objects.create(
        code="VERANO20",
        name="Summer",
        kind=PromotionKind.PERCENT_OFF,
        percent_off=20,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        **limits,
    )


def test_twelve_subscribers_racing_for_a_code_of_three_uses_get_exactly_three(claro, plan, fund_wallet):
    promotion = _promo(max_uses=3)
    people = [UserFactory() for _ in range(12)]
    lines = [
        line_add(owner=person, msisdn=f"+5191234{5600 + n}", carrier=claro) for n, person in enumerate(people)
    ]
    for person in people:
        fund_wallet(person, 1000)

    results = _in_threads(
        12,
        lambda n: (
            order_create(
                payer=people[n], line=lines[n], plan=plan, payment_method="wallet", promo_code="VERANO20"
            ).total.amount_minor
        ),
    )

    assert sorted(results, key=str) == [800, 800, 800] + ["promo_limit_reached"] * 9
    promotion.refresh_from_db()
    assert promotion.uses_count == 3
    assert RenewalOrder.objects.count() == 3
    assert ledger_totals()["promotions_expense"] == {"PEN": -600}
    assert ledger_verify() == []


def test_one_subscriber_racing_with_a_per_subscriber_limit_of_two_gets_two(user, claro, plan, fund_wallet):
    _promo(max_uses_per_subscriber=2)
    line = line_add(owner=user, msisdn="+51912345678", carrier=claro)
    fund_wallet(user, 10_000)

    results = _in_threads(
        8,
        lambda n: (
            order_create(
                payer=user, line=line, plan=plan, payment_method="wallet", promo_code="VERANO20"
            ).total.amount_minor
        ),
    )

    assert sorted(results, key=str) == [800, 800] + ["promo_subscriber_limit_reached"] * 6
    assert PromotionUse.objects.get().used == 2
    assert Promotion.objects.get().uses_count == 2
