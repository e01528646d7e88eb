"""The operator's dashboard agrees with the ledger; its pages are for operators; CSV export."""

import pytest

from tests.factories import UserFactory
from vigencia.core import clock
from vigencia.core.money import Money
from vigencia.ledger.models import LedgerAccount
from vigencia.ledger.selectors import ledger_totals, ledger_verify
from vigencia.orders.models import RenewalOrder
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
    assert client.get("/backoffice/dashboard/").status_code == 403

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


def test_the_csv_export_equals_vigencia_ledger_balances_after_sales_promotions_refunds_and_goodwill(
    client, api, user, other_user, operator, agent, line, plan, fund_wallet, run_tasks, simulator
):
    import json
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command

    from vigencia.catalog.models import Promotion
    from vigencia.orders.models import RenewalOrder
    from vigencia.support.services import support_action_request, ticket_open

    # given a day of business: a 20% promotion, wallet and card renewals, a carrier decline,
    # a support refund and a goodwill credit
    now = clock.now()
    Promotion.objects.create(
        code="VEINTE", name="20%", kind="percent_off", percent_off=20,
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1), max_uses=5,
    )  # fmt: skip
    fund_wallet(user, 3000)
    fund_wallet(other_user, 400)
    for key, body in [
        ("a", {"payment_method": "wallet", "promo_code": "VEINTE"}),
        ("b", {"payment_method": "wallet"}),
        ("c", {"payment_method": "wallet"}),
    ]:
        if key == "c":
            simulator.decline_next(1)
        _renew_with(api, line, plan, key, body)
        run_tasks()
    completed = RenewalOrder.objects.get(status="completed", discount_minor=0)
    ticket = ticket_open(subscriber=user, category="wrong_charge", subject="s", message="m", order=completed)
    support_action_request(
        ticket=ticket, agent=agent, kind="refund_wallet", reason="r", amount=Money(300, "PEN")
    )
    support_action_request(
        ticket=ticket, agent=agent, kind="goodwill_credit", reason="g", amount=Money(150, "PEN")
    )

    # when the operator exports the dashboard and the ledger command lists its balances
    client.force_login(operator)
    rows = [line.split(",") for line in client.get("/backoffice/dashboard.csv").content.decode().splitlines()]
    exported = {
        key[len("ledger:") :]: int(value.replace(".", ""))
        for key, _c, value in rows
        if key.startswith("ledger:")
    }
    verify, balances = StringIO(), StringIO()
    call_command("ledger", "verify", stdout=verify)
    call_command("ledger", "balances", stdout=balances)
    ledger = {kind: totals["PEN"] for kind, totals in json.loads(balances.getvalue()).items()}
    ledger.setdefault("revenue", 0)  # the demo plans carry no margin: no revenue posting yet

    # then the ledger verifies and each exported figure is its kind's balance (expenses read positive)
    assert verify.getvalue().strip() == "ok"
    assert exported == {
        "revenue": ledger["revenue"],
        "wallet": ledger["wallet"],
        "voucher_liability": 0,
        "carrier_payable": ledger["carrier_payable"],
        "promotions_expense": -ledger["promotions_expense"],
        "refunds": -ledger["refunds"],
    }
    # and the figures are the day's business: 3000 + 400 funded, 800 + 1000 spent, 300 + 150 back
    assert exported["wallet"] == 3000 + 400 - 800 - 1000 + 300 + 150
    assert exported["promotions_expense"] == 200
    assert exported["refunds"] == 300
    assert ledger["adjustments"] == -150
    assert renewals_per_day()[-1]["online"] == 2
    # and the sales figure is what subscribers paid for the renewals still completed (the refunded
    # in part counts; the declined one does not): 800 with the code + 1000
    assert "sales,PEN,18.00" in [",".join(row) for row in rows]


def _renew_with(api, line, plan, key, body):
    return api.post_json(
        "/api/v1/orders", {"line_id": line.pk, "plan_id": plan.pk, **body}, HTTP_IDEMPOTENCY_KEY=key
    )


def test_each_figure_opens_its_rows_with_links(client, operator, user, line, agent):
    from datetime import timedelta

    from vigencia.lines.models import Line
    from vigencia.support.services import ticket_open

    # given a line due in two days and a ticket already past its first-response target
    Line.objects.filter(pk=line.pk).update(valid_until=clock.today("America/Lima") + timedelta(days=2))
    ticket = ticket_open(subscriber=user, category="other", subject="Late", message="m")
    type(ticket).objects.filter(pk=ticket.pk).update(first_response_due_at=clock.now() - timedelta(hours=1))
    client.force_login(operator)

    at_risk = client.get("/backoffice/dashboard/?figure=lines_at_risk").content.decode()
    late = client.get("/backoffice/dashboard/?figure=tickets_past_target").content.decode()

    assert 'href="?figure=lines_at_risk#figure-rows"' in at_risk
    assert f'<a href="/admin/lines/line/{line.pk}/change/">+51 912 345 678 · Claro Perú' in at_risk
    assert f'<a href="/backoffice/tickets/{ticket.pk}/">#{ticket.pk} Late · Open</a>' in late


@pytest.mark.parametrize(("language", "day"), [("en", "Dec 1"), ("es", "1 dic."), ("zh-hans", "12月1日")])
def test_the_renewals_table_names_each_day_short_enough_for_a_phone(client, operator, language, day):
    # given the dashboard on 14 December 2026
    from datetime import UTC, datetime

    client.force_login(operator)
    with clock.frozen(datetime(2026, 12, 14, 17, 0, tzinfo=UTC)):
        page = client.get("/backoffice/dashboard/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # then each day reads without its year, on one line, with the full date for machines
    assert f'<td class="nowrap"><time datetime="2026-12-01">{day}</time></td>' in page


def test_drill_downs_read_with_their_heading_amounts_and_people(
    client, operator, api, user, line, plan, fund_wallet, run_tasks
):
    from datetime import timedelta

    from vigencia.lines.models import Line
    from vigencia.stores.selectors import WALK_IN_EMAIL

    # given a completed renewal, money left in the wallet, and a walk-in number due tomorrow
    fund_wallet(user, 1500)
    _renew(api, line, plan, "a")
    run_tasks()
    walk_in = UserFactory(email=WALK_IN_EMAIL)
    due = clock.today("America/Lima") + timedelta(days=1)
    Line.objects.create(owner=walk_in, msisdn="+51987654321", carrier=line.carrier, valid_until=due)
    client.force_login(operator)

    renewals = client.get(
        "/backoffice/dashboard/?figure=renewals", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    wallets = client.get("/backoffice/dashboard/?figure=ledger:wallet").content.decode()
    at_risk = client.get("/backoffice/dashboard/?figure=lines_at_risk").content.decode()

    # then each heading is in words, each row says whose and how much, and nobody to remind is at risk
    order = RenewalOrder.objects.get()
    assert '<h2 id="figure-rows">Renovaciones completadas en los últimos 14 días</h2>' in renewals
    assert f"#{order.pk} · +51 912 345 678 · {order.plan_name} · {order.total} · En línea · " in renewals
    assert f"Subscriber wallet · {user.email} · {Money(500, 'PEN')}" in wallets
    assert "987 654 321" not in at_risk


def test_lines_at_risk_count_to_the_last_day_before_the_next_status_change_as_the_line_pages_do():
    from datetime import UTC, datetime, timedelta

    from tests.factories import CarrierFactory, PlanFactory
    from vigencia.lines.models import Line, LineStatus
    from vigencia.lines.selectors import line_recharge_by, line_urgency
    from vigencia.lines.services import line_add, line_renew
    from vigencia.support.dashboard import figure_row_text, figure_rows

    # given a carrier that restricts 30 days after a recharge and cuts off at 120, and a 7-day plan
    carrier = CarrierFactory(
        timezone="America/Lima", restrict_after_days=30, cutoff_after_days=120, recycle_after_cutoff_days=90
    )
    week = PlanFactory(carrier=carrier, validity_days=7)
    owner = UserFactory()
    now = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)
    today = now.date()

    def add(number, **dates):
        return line_add(owner=owner, msisdn=f"+51 9{number:08d}", carrier=carrier, **dates)

    with clock.frozen(now):
        # ... a line renewed today with the 7-day plan: valid for a week, restricted only in 31 days
        weekly = add(1, last_recharge_at=today - timedelta(days=20), valid_until=today - timedelta(days=1))
        line_renew(line=weekly, validity_days=week.validity_days, reference="r-1")
        # ... a line whose long plan runs a month more, but recharged 27 days ago: restricted in 4 days
        long_plan = add(
            2, last_recharge_at=today - timedelta(days=27), valid_until=today + timedelta(days=30)
        )
        # ... one recharged 30 days ago: today is its last day
        last_day = add(3, last_recharge_at=today - timedelta(days=30))
        # ... a restricted line cut off in 6 days, and one cut off in two months
        cut_soon = add(4, last_recharge_at=today - timedelta(days=115))
        cut_later = add(5, last_recharge_at=today - timedelta(days=60))
        Line.objects.filter(pk__in=[cut_soon.pk, cut_later.pk]).update(status=LineStatus.RESTRICTED)
        # ... and one restricted tomorrow whose unused balance does not stretch this carrier's rules
        with_balance = add(6, last_recharge_at=today - timedelta(days=29))
        Line.objects.filter(pk=with_balance.pk).update(balance_minor=500)

        # when the operator opens the lines at risk
        at_risk = list(figure_rows("lines_at_risk"))
        urgency = {line.pk: line_urgency(line) for line in Line.objects.select_related("carrier")}

    # then the week-long plan is not at risk (its line page says so too) and the others are, most
    # urgent first
    weekly.refresh_from_db()
    assert weekly.valid_until == today + timedelta(days=7)
    assert line_recharge_by(weekly) == today + timedelta(days=30)
    assert (urgency[weekly.pk].level, urgency[long_plan.pk].level) == ("soon", "urgent")
    assert [line.pk for line in at_risk] == [last_day.pk, with_balance.pk, long_plan.pk, cut_soon.pk]
    with clock.frozen(now):
        rows = [figure_row_text(line).split(" · ")[2] for line in at_risk]
    assert rows == ["Dec. 10, 2026", "Dec. 11, 2026", "Dec. 13, 2026", "Dec. 15, 2026"]
