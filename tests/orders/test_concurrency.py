"""Money under concurrency, on PostgreSQL with real threads (each on its own connection)."""

import pytest
from django.db import connection

from tests.concurrency import race
from tests.conftest import ApiClient
from vigencia.accounts.services import api_token_issue
from vigencia.ledger.models import LedgerTransaction
from vigencia.ledger.selectors import ledger_verify, wallet_balance
from vigencia.orders.models import RenewalOrder

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"),
]


def test_twenty_identical_requests_with_one_key_make_one_order_and_one_charge(user, line, plan, fund_wallet):
    fund_wallet(user, 10_000)
    _row, token = api_token_issue(user=user)
    body = {"line_id": line.pk, "plan_id": plan.pk, "payment_method": "wallet"}

    def renew(_index):
        response = ApiClient(token).post_json("/api/v1/orders", body, HTTP_IDEMPOTENCY_KEY="double-tap")
        return response.status_code, response.json()

    results = race(20, renew)

    assert {status for status, _body in results} == {201}
    assert all(body == results[0][1] for _status, body in results)
    assert RenewalOrder.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="order_payment").count() == 1
    assert wallet_balance(user=user).amount_minor == 9_000


def test_fifty_wallet_orders_with_funds_for_ten_charge_exactly_ten(user, line, plan, fund_wallet):
    fund_wallet(user, 10 * plan.price_minor)
    _row, token = api_token_issue(user=user)
    body = {"line_id": line.pk, "plan_id": plan.pk, "payment_method": "wallet"}

    def renew(index):
        response = ApiClient(token).post_json("/api/v1/orders", body, HTTP_IDEMPOTENCY_KEY=f"order-{index}")
        return response.status_code, response.json().get("code")

    results = race(50, renew)

    assert sorted(status for status, _code in results) == [201] * 10 + [409] * 40
    assert {code for status, code in results if status == 409} == {"insufficient_funds"}
    assert RenewalOrder.objects.count() == 10
    assert wallet_balance(user=user).amount_minor == 0
    assert ledger_verify() == []
