"""A shift's totals: each receipt once, cash and card apart, declined sales netted out, the cash given
back counted, recharge codes apart; the net cash is what the drawer holds in the ledger."""

from __future__ import annotations

import pytest

from vigencia.core.money import Money
from vigencia.ledger.models import LedgerAccount
from vigencia.stores.selectors import shift_totals
from vigencia.stores.services import pos_cash_return, pos_voucher_redeem, shift_close, shift_open

from .test_pos_vouchers import _pins

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("simulator", "base_template")]

DECLINED = "+51 999 000 002"  # the carrier simulator declines every top-up of this number


def S(minor: int) -> Money:
    return Money(minor, "PEN")


@pytest.fixture
def busy_shift(agent, agent_api, open_shift, sale_body, claro_plan, run_tasks):
    """Float S/ 100; S/ 10 renewals: cash and card that the carrier renews, cash and card that it
    declines (the cash given back), and a recharge code redeemed."""
    card = {"method": "card", "card_reference": "AUTH-1234"}
    for key, body in {
        "cash": sale_body(),
        "card": sale_body(payment=card),
        "cash-declined": sale_body(msisdn=DECLINED),
        "card-declined": sale_body(msisdn=DECLINED, payment=card),
    }.items():
        response = agent_api.post_json("/api/v1/pos/sales", body, HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 201, response.content
    pos_voucher_redeem(
        agent=agent, msisdn="+51 912 345 678", carrier_code="claro-pe", pin=_pins(claro_plan)[0], ip=None
    )
    run_tasks()
    declined_cash = open_shift.receipts.get(payment="cash", order__status="refunded")
    pos_cash_return(agent=agent, number=declined_cash.number)
    return open_shift


def test_the_totals_count_each_sale_once_and_net_out_the_declined(busy_shift):
    totals = shift_totals(busy_shift)

    assert (totals.cash_sales, totals.cash_taken, totals.card_sales, totals.card_taken) == (
        2,
        S(2_000),
        2,
        S(2_000),
    )
    assert (totals.declined, totals.cash_declined, totals.card_declined) == (2, S(1_000), S(1_000))
    assert (totals.cash_given_back, totals.net_cash, totals.net_card) == (S(1_000), S(1_000), S(1_000))
    assert (totals.renewals, totals.vouchers) == (2, 1)


def test_the_net_cash_is_what_the_drawer_holds_in_the_ledger(busy_shift):
    drawer = LedgerAccount.objects.get(code=f"cash_drawer:shift-{busy_shift.pk}:PEN")

    assert shift_totals(busy_shift).net_cash == -drawer.balance


def test_cash_given_back_counts_in_the_shift_whose_drawer_paid_it(
    agent, busy_shift, agent_api, sale_body, run_tasks
):
    # given a cash sale still with the carrier when its shift closed, and the agent's next shift
    response = agent_api.post_json(
        "/api/v1/pos/sales", sale_body(msisdn=DECLINED), HTTP_IDEMPOTENCY_KEY="late"
    )
    first = shift_close(agent=agent, counted_minor=12_000)
    second = shift_open(agent=agent, float_minor=5_000)

    # when the carrier declines it and the agent gives the cash back in the next shift
    run_tasks()
    pos_cash_return(agent=agent, number=response.json()["receipt"]["number"])

    # then the first shift shows the sale declined, the second the cash that left its drawer
    assert (shift_totals(first).declined, shift_totals(first).cash_given_back) == (3, S(1_000))
    assert (shift_totals(second).cash_given_back, shift_totals(second).net_cash) == (S(1_000), S(-1_000))
    drawer = LedgerAccount.objects.get(code=f"cash_drawer:shift-{second.pk}:PEN")
    assert shift_totals(second).net_cash == -drawer.balance


def test_the_counter_shows_the_totals_and_each_sale(client, agent, busy_shift):
    client.force_login(agent)

    html = client.get("/stores/pos/").content.decode()

    assert '<dd class="pos-cash-sales">2 · S/\xa020.00</dd>' in html
    assert '<dd class="pos-card-sales">2 · S/\xa020.00</dd>' in html
    assert '<dd class="pos-declined">2 · cash S/\xa010.00, card S/\xa010.00</dd>' in html
    assert '<dd class="pos-net-cash">S/\xa010.00</dd>' in html
    assert '<dd class="pos-vouchers">1 ' in html
    assert html.count('<li><a href="/stores/pos/receipts/') == 5
    assert "declined: cash given back" in html
    assert "declined: refund the card" in html


def test_a_closed_shift_still_shows_its_sales(client, agent, busy_shift):
    # given the shift closed with S/ 100 float + S/ 10 net cash counted
    closed = shift_close(agent=agent, counted_minor=11_000)
    client.force_login(agent)

    # when the agent opens its report
    html = client.get(f"/stores/pos/shifts/{closed.pk}/").content.decode()

    # then it shows its totals, its five receipts and no difference
    assert closed.difference_minor == 0
    assert '<dd class="pos-net-cash">S/\xa010.00</dd>' in html
    assert '<dd class="pos-net-card">S/\xa010.00</dd>' in html
    assert html.count('<li><a href="/stores/pos/receipts/') == 5
