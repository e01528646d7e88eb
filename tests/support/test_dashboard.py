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


def test_lines_at_risk_are_those_due_within_a_week_that_a_funded_auto_renew_will_not_save(
    claro, plan, fund_wallet
):
    from datetime import timedelta

    from tests.factories import UserFactory
    from vigencia.lines.autorenew import autorenew_set
    from vigencia.lines.models import AutoRenewRun
    from vigencia.lines.services import line_add
    from vigencia.support.dashboard import figure_rows

    today = clock.today("America/Lima")
    funded, broke = UserFactory(), UserFactory()
    fund_wallet(funded, plan.price_minor)  # exactly one renewal's worth

    def add(owner, number, **dates):
        return line_add(owner=owner, msisdn=f"+51 9{number:08d}", carrier=claro, **dates)

    soon = today + timedelta(days=3)
    # given lines due in three days ...
    bare = add(broke, 1, valid_until=soon)  # no auto-renew
    saved = add(funded, 2, valid_until=soon)  # auto-renew, wallet holds the price
    autorenew_set(line=saved, enabled=True, plan=plan, days_before=2)
    empty_wallet = add(broke, 3, valid_until=soon)  # auto-renew, nothing in the wallet
    autorenew_set(line=empty_wallet, enabled=True, plan=plan, days_before=2)
    switched_off = add(funded, 4, valid_until=soon)  # auto-renew set up but turned off
    autorenew_set(line=switched_off, enabled=False, plan=plan, days_before=2)
    given_up = add(funded, 5, valid_until=soon)  # funded, but this deadline's run gave up
    autorenew_set(line=given_up, enabled=True, plan=plan, days_before=2)
    AutoRenewRun.objects.create(line=given_up, period=soon, plan=plan, status="failed", attempts=20)
    # ... one known only by its last recharge (Claro restricts 60 days after it: in 3 days) ...
    by_recharge = add(broke, 6, last_recharge_at=today - timedelta(days=57))
    # ... and lines that are not due this week, or no longer followed
    add(broke, 7, valid_until=today + timedelta(days=8))
    add(broke, 8, last_recharge_at=today - timedelta(days=40))
    removed = add(broke, 9, valid_until=soon)
    type(removed).objects.filter(pk=removed.pk).update(removed_at=clock.now())

    at_risk = list(figure_rows("lines_at_risk"))
    figures = {figure.key: figure.value for figure in dashboard_figures()}

    # then exactly the lines nothing will renew in time
    assert {line.pk for line in at_risk} == {
        bare.pk,
        empty_wallet.pk,
        switched_off.pk,
        given_up.pk,
        by_recharge.pk,
    }
    assert figures["lines_at_risk"] == 5
