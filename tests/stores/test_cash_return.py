"""A cash sale the carrier declines: the store owes the customer their cash, the receipt page says
so, and the agent records once, through the ledger, that the drawer gave it back."""

from __future__ import annotations

import pytest

from vigencia.core.errors import Conflict
from vigencia.ledger.models import LedgerAccount, LedgerTransaction
from vigencia.ledger.selectors import wallet_balance
from vigencia.notifications.models import Notification
from vigencia.stores.models import Receipt
from vigencia.stores.selectors import WALK_IN_EMAIL, shift_cash_taken
from vigencia.stores.services import pos_cash_return, shift_close

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("simulator")]

DECLINED = "+51 999 000 002"  # the carrier simulator declines every top-up of this number


def _balance(code: str) -> int:
    account = LedgerAccount.objects.filter(code=code).first()
    return account.balance.amount_minor if account else 0


def _sell(agent_api, sale_body, *, key: str = "k-1", **payment) -> Receipt:
    body = sale_body(msisdn=DECLINED, payment=payment or {"method": "cash", "tendered_minor": 2000})
    response = agent_api.post_json("/api/v1/pos/sales", body, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
    return Receipt.objects.get(number=response.json()["receipt"]["number"])


@pytest.fixture
def declined(agent_api, open_shift, sale_body, run_tasks) -> Receipt:
    receipt = _sell(agent_api, sale_body)
    run_tasks()
    receipt.refresh_from_db()
    receipt.order.refresh_from_db()
    return receipt


def test_the_declined_cash_is_owed_back_at_the_store_not_put_in_a_wallet(declined, open_shift):
    # given a walk-in customer paid S/ 10 in cash and the carrier declined the top-up
    from vigencia.accounts.models import User

    walk_in = User.objects.get(email=WALK_IN_EMAIL)

    # then the order is refunded to the cash stores owe back, not to the walk-in holder's wallet
    assert (declined.order.status, declined.order.failure_code) == ("refunded", "carrier_declined")
    assert wallet_balance(user=walk_in).amount_minor == 0
    assert _balance("store_cash_owed:PEN") == 1000
    # and the drawer still holds the S/ 10 until the agent hands it back
    assert shift_cash_taken(open_shift).amount_minor == 1000


def test_the_receipt_page_tells_the_agent_to_give_the_cash_back(client, agent, declined, base_template):
    client.force_login(agent)

    html = client.get(f"/stores/pos/receipts/{declined.number}/").content.decode()

    assert "Give back S/\xa010.00 to the customer" in html
    assert "I gave back S/\xa010.00" in html
    assert "not renewed: the carrier declined; the cash is given back at the counter" in html
    assert "wallet" not in html


def test_recording_the_cash_given_back_posts_once_from_the_drawer(client, agent, declined, open_shift):
    # given the declined S/ 10 cash sale
    client.force_login(agent)
    url = f"/stores/pos/receipts/{declined.number}/cash-returned/"
    before = LedgerTransaction.objects.count()

    # when the agent records it twice (a double tap)
    first = client.post(url)
    second = client.post(url)

    # then one ledger transaction moved S/ 10 out of the drawer, and nothing is owed any more
    assert first.status_code == second.status_code == 302
    assert LedgerTransaction.objects.count() == before + 1
    assert LedgerTransaction.objects.filter(kind="store_cash_return").count() == 1
    assert _balance("store_cash_owed:PEN") == 0
    assert shift_cash_taken(open_shift).amount_minor == 0
    declined.refresh_from_db()
    assert declined.cash_returned_shift == open_shift
    assert declined.cash_returned_at is not None
    # and the drawer is expected to hold only the float at close
    assert shift_close(agent=agent, counted_minor=10_000).difference_minor == 0


def test_after_it_was_given_back_the_page_says_so(client, agent, declined, base_template):
    pos_cash_return(agent=agent, number=declined.number)
    client.force_login(agent)

    html = client.get(f"/stores/pos/receipts/{declined.number}/").content.decode()

    assert "Give back" not in html
    assert "S/\xa010.00 given back to the customer in cash on" in html
    assert "not renewed: the carrier declined; the cash was given back" in html


def test_without_an_open_shift_nothing_is_given_back(agent, declined, open_shift):
    shift_close(agent=agent, counted_minor=11_000)
    before = LedgerTransaction.objects.count()

    with pytest.raises(Conflict) as error:
        pos_cash_return(agent=agent, number=declined.number)

    assert error.value.code == "no_open_shift"
    assert LedgerTransaction.objects.count() == before
    assert Receipt.objects.get().cash_returned_at is None


def test_a_renewed_sale_owes_nothing(agent, agent_api, open_shift, sale_body, run_tasks):
    good = agent_api.post_json("/api/v1/pos/sales", sale_body(), HTTP_IDEMPOTENCY_KEY="k-good")
    run_tasks()
    before = LedgerTransaction.objects.count()

    with pytest.raises(Conflict) as error:
        pos_cash_return(agent=agent, number=good.json()["receipt"]["number"])

    assert error.value.code == "nothing_to_give_back"
    assert LedgerTransaction.objects.count() == before
    assert _balance("store_cash_owed:PEN") == 0


def test_a_declined_card_sale_is_refunded_on_the_terminal_once_not_put_in_a_wallet(
    client, agent, agent_api, open_shift, sale_body, run_tasks, base_template
):
    # given a walk-in customer paid S/ 10 by card and the carrier declined the top-up
    from vigencia.accounts.models import User

    card = _sell(agent_api, sale_body, key="k-card", method="card", card_reference="AUTH-1234")
    run_tasks()
    terminal = f"psp_clearing:terminal-{open_shift.store_id}:PEN"
    paid_in = _balance(terminal)
    assert _balance("store_cash_owed:PEN") == 1000
    assert wallet_balance(user=User.objects.get(email=WALK_IN_EMAIL)).amount_minor == 0

    # then the receipt page asks for the refund on the terminal
    client.force_login(agent)
    html = client.get(f"/stores/pos/receipts/{card.number}/").content.decode()
    assert "Refund S/\xa010.00 to the customer's card" in html
    assert "(authorisation AUTH-1234)" in html

    # when the agent records it, twice (a double tap), even with the shift closed
    shift_close(agent=agent, counted_minor=10_000)
    first = pos_cash_return(agent=agent, number=card.number)
    again = pos_cash_return(agent=agent, number=card.number)

    # then the card payment is reversed once, through the terminal, and the drawer is untouched
    assert first.cash_returned_at is not None
    assert first.cash_returned_shift is None
    assert again.cash_returned_at == first.cash_returned_at
    assert LedgerTransaction.objects.filter(kind="store_cash_return").count() == 1
    assert _balance("store_cash_owed:PEN") == 0
    assert _balance(terminal) == paid_in + 1000
    html = client.get(f"/stores/pos/receipts/{card.number}/").content.decode()
    assert "S/\xa010.00 refunded to the customer's card on" in html


def test_a_subscriber_who_paid_cash_is_told_the_store_gives_it_back(
    client, agent_api, open_shift, sale_body, run_tasks, user, claro
):
    from vigencia.lines.services import line_add

    # given the number is a subscriber's line
    line_add(owner=user, msisdn=DECLINED, carrier=claro)

    # when they pay cash at the counter and the carrier declines
    _sell(agent_api, sale_body)
    run_tasks()

    # then their wallet is untouched and the message says the store gives the cash back
    assert wallet_balance(user=user).amount_minor == 0
    notification = Notification.objects.get(user=user, kind="renewal_failed")
    assert notification.context["cash_at_store"] is True
    client.force_login(user)
    page = client.get(f"/orders/{Receipt.objects.get().order_id}/").content.decode()
    assert "You paid S/\xa010.00 in cash at the store: the store gives it back to you in cash." in page
    assert "to your wallet" not in page


def test_a_sale_refunded_to_a_wallet_before_cash_was_owed_back_owes_no_cash(
    agent, agent_api, open_shift, sale_body, run_tasks, monkeypatch
):
    # given a cash sale declined when refunds still went to the payer's wallet
    from vigencia.ledger.services import wallet_spec

    monkeypatch.setattr(
        "vigencia.orders.services._refund_account",
        lambda order: wallet_spec(user=order.payer, currency=order.currency),
    )
    receipt = _sell(agent_api, sale_body, key="k-old")
    run_tasks()
    before = LedgerTransaction.objects.count()

    # when the agent would record the cash as given back, then nothing is owed: the wallet has it
    with pytest.raises(Conflict) as error:
        pos_cash_return(agent=agent, number=receipt.number)

    assert error.value.code == "nothing_to_give_back"
    assert LedgerTransaction.objects.count() == before


def test_a_subscriber_who_paid_by_card_is_told_the_store_refunds_the_card(
    client, agent_api, open_shift, sale_body, run_tasks, user, claro
):
    from vigencia.lines.services import line_add

    line_add(owner=user, msisdn=DECLINED, carrier=claro)

    _sell(agent_api, sale_body, method="card", card_reference="AUTH-9")
    run_tasks()

    assert wallet_balance(user=user).amount_minor == 0
    notification = Notification.objects.get(user=user, kind="renewal_failed")
    assert (notification.context["cash_at_store"], notification.context["card_at_store"]) == (False, True)
    client.force_login(user)
    page = client.get(f"/orders/{Receipt.objects.get().order_id}/").content.decode()
    assert "You paid S/\xa010.00 by card at the store: the store refunds it to your card." in page
    assert "to your wallet" not in page
