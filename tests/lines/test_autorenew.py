"""Auto-renew: once per line and period through the order pipeline, paid from the wallet, with the
subscriber told before, after and on failure."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from tests.lines.keepalive_helpers import drain, fund, lima
from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput
from vigencia.ledger.models import LedgerTransaction
from vigencia.ledger.selectors import wallet_balance
from vigencia.lines.autorenew import autorenew_set, autorenew_sweep
from vigencia.lines.models import AutoRenewRun, AutoRenewSetting, Line, LineStatus
from vigencia.lines.reminders import reminders_send
from vigencia.notifications.models import Notification
from vigencia.orders.models import RenewalOrder

pytestmark = pytest.mark.django_db

D0 = date(2026, 3, 2)  # the last recharge; Claro restricts on D0 + 61 (2 May 2026)
RESTRICTED_ON = D0 + timedelta(days=61)
CHARGE_ON = RESTRICTED_ON - timedelta(days=3)


@pytest.fixture
def line(user, claro, plan) -> Line:
    line = Line.objects.create(owner=user, msisdn="+51912345678", carrier=claro, last_recharge_at=D0)
    autorenew_set(line=line, enabled=True, plan=plan, days_before=3)
    return line


def _day(day: date, run_tasks=None, at: time = time(12, 0)) -> dict[str, int]:
    """Run auto-renew as of noon in Lima on `day`, then the worker at the same instant."""
    counts = autorenew_sweep(at=lima(day, at))
    if run_tasks is not None:
        with clock.frozen(lima(day, at)):
            run_tasks()
    return counts


def _keys(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("id").values_list("dedupe_key", flat=True))


def test_funded_line_is_told_before_then_renewed_once_and_told_after(line, user, simulator, run_tasks):
    # given a funded wallet and auto-renew 3 days before the restriction on 2 May
    fund(user, 5000)

    # when auto-renew runs every day from 10 days before the deadline to the day after
    outcomes = [_day(RESTRICTED_ON - timedelta(days=days), run_tasks) for days in range(10, -2, -1)]

    # then the upcoming notice went 2 days before the charge, the charge on 29 April, once
    assert outcomes == [{}] * 5 + [{"upcoming": 1}, {"upcoming": 1}, {"ordered": 1}] + [{}] * 4
    [order] = RenewalOrder.objects.all()
    assert (order.channel, order.payment_method, order.status, order.amount_minor) == (
        "auto_renew",
        "wallet",
        "completed",
        1000,
    )
    assert wallet_balance(user=user).amount_minor == 4000
    line.refresh_from_db()
    assert (line.last_recharge_at, line.status) == (CHARGE_ON, LineStatus.ACTIVE)
    [run] = AutoRenewRun.objects.all()
    assert (run.period, run.status, run.order_id, run.attempts) == (RESTRICTED_ON, "ordered", order.pk, 1)
    # and the subscriber heard before (once) and after (the pipeline's renewal notice), nothing else
    assert _keys(user) == [
        f"autorenew:{line.pk}:2026-05-02:upcoming",
        f"order:{order.pk}:succeeded",
    ]
    upcoming = Notification.objects.get(dedupe_key=f"autorenew:{line.pk}:2026-05-02:upcoming")
    assert upcoming.context["body"].startswith(
        "On April 29, 2026 we will renew +51 912 345 678 with Claro Max S/ 10 · 7 days for S/\xa010.00 from "
        "your wallet."
    )
    assert simulator.carrier.stats()["double_topups"] == 0


def test_repeated_runs_the_same_day_make_one_order(line, user, simulator):
    fund(user, 5000)

    results = [_day(CHARGE_ON) for _ in range(3)]

    assert results == [{"ordered": 1}, {"in_progress": 1}, {"in_progress": 1}]
    assert RenewalOrder.objects.count() == 1
    assert AutoRenewRun.objects.count() == 1
    assert wallet_balance(user=user).amount_minor == 4000


def test_wallet_emptied_between_reminder_and_charge(line, user, simulator, run_tasks):
    # given a funded wallet when the 7-day reminder goes, emptied before the charge
    fund(user, 1000)
    reminders_send(at=lima(RESTRICTED_ON - timedelta(days=7)))
    drain(user)
    transactions_before = LedgerTransaction.objects.count()

    # when the charge day comes, and auto-renew runs again that day and the next
    first = _day(CHARGE_ON, run_tasks)
    again = _day(CHARGE_ON, run_tasks, at=time(12, 30))

    # then nothing is charged or ordered, the run waits to try again, and the failure notice with the
    # top-up link went once
    assert first == {"failed": 1}
    assert again == {"waiting": 1}
    assert RenewalOrder.objects.count() == 0
    assert LedgerTransaction.objects.count() == transactions_before
    assert wallet_balance(user=user).amount_minor == 0
    run = AutoRenewRun.objects.get()
    assert (run.status, run.attempts, run.failure_code) == ("pending", 1, "insufficient_funds")
    failed = Notification.objects.filter(
        dedupe_key=f"autorenew:{line.pk}:2026-05-02:failed:insufficient_funds"
    )
    assert failed.count() == 1
    assert "http://127.0.0.1:8000/wallet/" in failed.get().context["body"]

    # when the subscriber tops up and the retry comes (the next day)
    fund(user, 1000, key="again")
    assert _day(CHARGE_ON + timedelta(days=1), run_tasks) == {"ordered": 1}

    # then the line is renewed once and the failure notice was not repeated
    assert RenewalOrder.objects.get().status == "completed"
    assert failed.count() == 1
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("ordered", 2)


def test_a_retired_plan_fails_clearly_once_until_the_owner_chooses_another(
    line, user, claro, plan, simulator
):
    # given a funded wallet and the chosen plan taken off sale
    fund(user, 5000)
    Plan.objects.filter(pk=plan.pk).update(is_active=False)

    # when the charge day comes, and the day after
    assert _day(CHARGE_ON) == {"failed": 1}
    assert _day(CHARGE_ON + timedelta(days=1)) == {"failed": 1}

    # then nothing was ordered, the run gave up, and one notice asks to choose another plan
    assert RenewalOrder.objects.count() == 0
    assert wallet_balance(user=user).amount_minor == 5000
    run = AutoRenewRun.objects.get()
    assert (run.status, run.failure_code) == ("failed", "plan_not_on_sale")
    assert _keys(user) == [f"autorenew:{line.pk}:2026-05-02:failed:plan_not_on_sale"]

    # when the owner picks another plan
    other = Plan.objects.get(carrier=claro, code="max-5")
    autorenew_set(line=line, enabled=True, plan=other, days_before=3)

    # then the next run renews with it
    assert _day(CHARGE_ON + timedelta(days=1), at=time(13, 0)) == {"ordered": 1}
    assert RenewalOrder.objects.get().plan_code == "max-5"


def test_a_carrier_decline_is_refunded_and_tried_again(line, user, simulator, run_tasks):
    fund(user, 1000)
    simulator.decline_next(1)

    assert _day(CHARGE_ON, run_tasks) == {"ordered": 1}
    assert RenewalOrder.objects.get().status == "refunded"
    assert wallet_balance(user=user).amount_minor == 1000

    assert _day(CHARGE_ON + timedelta(days=1), run_tasks) == {"ordered": 1}

    assert list(RenewalOrder.objects.order_by("id").values_list("status", flat=True)) == [
        "refunded",
        "completed",
    ]
    assert wallet_balance(user=user).amount_minor == 0
    run = AutoRenewRun.objects.get()
    assert (run.status, run.attempts) == ("ordered", 2)


def test_an_overdue_line_is_renewed_at_once(user, claro, plan, simulator, run_tasks):
    # given a line already restricted when auto-renew is turned on
    line = Line.objects.create(
        owner=user, msisdn="+51912345679", carrier=claro, last_recharge_at=D0, status=LineStatus.RESTRICTED
    )
    autorenew_set(line=line, enabled=True, plan=plan, days_before=3)
    fund(user, 1000)

    assert _day(RESTRICTED_ON + timedelta(days=10), run_tasks) == {"ordered": 1}

    line.refresh_from_db()
    assert line.status == LineStatus.ACTIVE


def test_turned_off_means_nothing_happens(line, user, plan, simulator):
    fund(user, 1000)
    autorenew_set(line=line, enabled=False, plan=plan, days_before=3)

    assert _day(CHARGE_ON) == {}
    assert RenewalOrder.objects.count() == 0


@pytest.mark.parametrize("days_before", [0, 1, 61, -3, True, "3"])
def test_bad_days_before_is_refused_and_nothing_is_written(user, claro, plan, days_before):
    line = Line.objects.create(owner=user, msisdn="+51912345678", carrier=claro, last_recharge_at=D0)

    with pytest.raises(InvalidInput) as error:
        autorenew_set(line=line, enabled=True, plan=plan, days_before=days_before)

    assert error.value.code == "invalid_days_before"
    assert AutoRenewSetting.objects.count() == 0


def test_a_plan_of_another_carrier_or_off_sale_or_a_lost_number_is_refused(user, claro, plan, demo_catalog):
    line = Line.objects.create(owner=user, msisdn="+51912345678", carrier=claro, last_recharge_at=D0)
    movistar_plan = Plan.objects.filter(carrier__code="movistar-pe").first()
    with pytest.raises(InvalidInput) as error:
        autorenew_set(line=line, enabled=True, plan=movistar_plan, days_before=3)
    assert error.value.code == "plan_wrong_carrier"

    Plan.objects.filter(pk=plan.pk).update(is_active=False)
    with pytest.raises(InvalidInput) as error:
        autorenew_set(line=line, enabled=True, plan=plan, days_before=3)
    assert error.value.code == "plan_not_on_sale"

    Plan.objects.filter(pk=plan.pk).update(is_active=True)
    Line.objects.filter(pk=line.pk).update(status=LineStatus.RECYCLED)
    line.refresh_from_db()
    with pytest.raises(Conflict) as conflict:
        autorenew_set(line=line, enabled=True, plan=plan, days_before=3)
    assert conflict.value.code == "line_recycled"
    assert AutoRenewSetting.objects.count() == 0


def test_a_carrier_that_keeps_declining_is_given_up_after_the_last_attempt(
    line, user, simulator, run_tasks, settings
):
    # given a carrier that declines every top-up and a run with one attempt left
    from vigencia.lines import autorenew

    fund(user, 1000)
    simulator.decline_next(100)
    original = autorenew.MAX_ATTEMPTS
    autorenew.MAX_ATTEMPTS = 2
    try:
        assert _day(CHARGE_ON, run_tasks) == {"ordered": 1}
        assert _day(CHARGE_ON + timedelta(days=1), run_tasks) == {"ordered": 1}
        # when the second order is declined too
        assert _day(CHARGE_ON + timedelta(days=2), run_tasks) == {"failed": 1}
    finally:
        autorenew.MAX_ATTEMPTS = original

    # then the run gave up, the money is all back in the wallet, and the subscriber was told to act
    run = AutoRenewRun.objects.get()
    assert (run.status, run.attempts, run.failure_code) == ("failed", 2, "carrier_declined")
    assert list(RenewalOrder.objects.values_list("status", flat=True)) == ["refunded", "refunded"]
    assert wallet_balance(user=user).amount_minor == 1000
    assert (
        Notification.objects.filter(
            dedupe_key=f"autorenew:{line.pk}:2026-05-02:failed:carrier_declined"
        ).count()
        == 1
    )
