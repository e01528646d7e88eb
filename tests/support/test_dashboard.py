"""The operator's dashboard agrees with the ledger; its pages are for operators; CSV export."""

import pytest

from vigencia.core import clock
from vigencia.core.money import Money
from vigencia.ledger.models import LedgerAccount
from vigencia.ledger.selectors import ledger_totals, ledger_verify
from vigencia.support.dashboard import dashboard_figures, renewals_per_day

pytestmark = pytest.mark.django_db


def _renew(api, line, plan, key):
    return api.post_json(
        "/api/v1/orders",
        {"line_id": line.pk, "plan_id": plan.pk, "payment_method": "wallet"},
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_figures_match_the_ledger_totals_that_verify_proves(
    api, user, other_user, line, plan, fund_wallet, run_tasks
):
    # given money in two wallets and two completed renewals
    fund_wallet(user, 2500)
    fund_wallet(other_user, 700)
    _renew(api, line, plan, "a")
    _renew(api, line, plan, "b")
    run_tasks()

    figures = {figure.key: figure.value for figure in dashboard_figures()}

    # then the ledger verifies and every money figure is its kind's ledger total
    assert ledger_verify() == []
    totals = ledger_totals()
    assert figures["ledger:wallet"] == Money(totals["wallet"]["PEN"], "PEN") == Money(500 + 700, "PEN")
    assert figures["ledger:carrier_payable"] == Money(2000, "PEN")
    assert figures["ledger:voucher_liability"] == Money(0, "PEN")
    wallets = sum(account.balance_minor for account in LedgerAccount.objects.filter(kind="wallet"))
    assert figures["ledger:wallet"].amount_minor == wallets
    today = renewals_per_day()[-1]
    assert today["day"] == clock.today()
    assert (today["online"], today["total"]) == (2, 2)
    assert figures["pending_fulfilments"] == 0
    assert figures["tickets_past_target"] == 0


def test_dashboard_is_for_operators_and_exports_csv(client, user, operator):
    client.force_login(user)
    assert client.get("/backoffice/dashboard/").status_code == 302

    client.force_login(operator)
    page = client.get("/backoffice/dashboard/?figure=ledger:wallet")
    csv = client.get("/backoffice/dashboard.csv")

    assert page.status_code == 200
    assert b"Wallet float" in page.content
    assert client.get("/backoffice/dashboard/?figure=nope").status_code == 404
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv.content.decode().splitlines()[0] == "figure,currency,value"
    assert "ledger:wallet,PEN,0.00" in csv.content.decode()
