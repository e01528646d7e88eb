"""Closing an account while its checkout is being paid, on PostgreSQL with real threads: one of the
two wins, and the money is never left with a closed account."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.concurrency import race
from tests.factories import PASSWORD, UserFactory
from vigencia.core.errors import Conflict
from vigencia.lines.services import line_add
from vigencia.orders.models import OrderStatus, RenewalOrder
from vigencia.orders.services import order_create
from vigencia.payments.models import PaymentIntent
from vigencia.payments.services import payment_simulate
from vigencia.support.services import account_close

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="races need PostgreSQL"),
]


@pytest.mark.parametrize("attempt", range(5))
def test_closing_while_the_checkout_is_paid_leaves_either_a_paid_renewal_or_a_closed_account(claro, attempt):
    ana = UserFactory()
    line = line_add(owner=ana, msisdn="+51 912 345 678", carrier=claro)
    order = order_create(
        payer=ana, line=line, plan=claro.plans.get(code="max-10"), payment_method="sandbox_card"
    )
    intent = PaymentIntent.objects.get(payer=ana)

    results = race(
        2,
        lambda index: (
            account_close(user=ana, password=PASSWORD)
            if index == 0
            else payment_simulate(intent=intent, outcome="succeed").status
        ),
    )

    ana.refresh_from_db()
    intent.refresh_from_db()
    order.refresh_from_db()
    closed, paid = results
    if ana.is_active:
        # the payment won: closing was refused, the renewal goes on
        assert isinstance(closed, Conflict), results
        assert closed.code == "money_in_flight"
        assert (paid, intent.status) == ("succeeded", "succeeded")
        assert order.status != OrderStatus.CANCELED
    else:
        # the closing won: the checkout was canceled before it could be paid
        assert closed is None, results
        assert isinstance(paid, Conflict), results
        assert intent.status == "canceled"
        assert order.status == OrderStatus.CANCELED
    assert RenewalOrder.objects.filter(payer=ana).count() == 1
