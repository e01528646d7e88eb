"""Brute force (OWASP OAT-002): failures are limited per account, per IP and overall; past a limit
even the correct PIN is refused until the window passes."""

import logging
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from vigencia.accounts import roles
from vigencia.core import clock
from vigencia.notifications.models import Notification
from vigencia.orders.models import RenewalOrder
from vigencia.vouchers import services
from vigencia.vouchers.models import AttemptCounter, RedemptionAttempt, VoucherCode
from vigencia.vouchers.selectors import redemption_failure_rate

from ..factories import UserFactory

WRONG = "0000 0000 0000 0000"


def _try(user, pin, ip, line=None):
    try:
        services.voucher_redeem(
            pin=pin,
            redeemer=user,
            ip=ip,
            line=line,
            msisdn="" if line else "987654321",
            carrier=None if line else line_carrier[0],
        )
        return "ok"
    except services.RateLimited:
        return "429"
    except services.VoucherInvalid:
        return "422"


line_carrier: list = []


@pytest.fixture(autouse=True)
def _carrier(claro):
    line_carrier[:] = [claro]


@pytest.fixture
def limits(settings):
    settings.VIGENCIA_VOUCHER_LIMITS = {
        **settings.VIGENCIA_VOUCHER_LIMITS,
        "account": (10, 900),
        "ip": (30, 900),
        "global": (500, 300),
    }


def test_a_thousand_wrong_pins_from_one_account_lock_it_and_refuse_its_correct_pin(
    limits, user, line, make_batch, frozen_clock
):
    made = make_batch(1)
    start = clock.now()

    with frozen_clock(start):
        answers = [_try(user, WRONG, f"10.0.{i // 250}.{i % 250}", line) for i in range(1000)]
        correct = _try(user, made.pins[0], "10.9.9.9", line)
        other = _try(UserFactory(), made.pins[0], "10.9.9.8")

    assert answers[:10] == ["422"] * 10
    assert set(answers[10:]) == {"429"}
    assert correct == "429"
    assert other == "ok"  # someone else, elsewhere, is not locked
    assert RedemptionAttempt.objects.filter(outcome="locked").count() == 991


def test_the_lock_lifts_when_the_window_passes(limits, user, line, make_batch, frozen_clock):
    made = make_batch(1)
    start = clock.now().replace(minute=0, second=0, microsecond=0)
    with frozen_clock(start):
        for _ in range(10):
            _try(user, WRONG, "10.0.0.1", line)
        assert _try(user, made.pins[0], "10.0.0.1", line) == "429"
    with frozen_clock(start + timedelta(minutes=16)):
        assert _try(user, made.pins[0], "10.0.0.1", line) == "ok"


def test_a_thousand_wrong_pins_from_one_ip_across_accounts_lock_the_ip(limits, make_batch, frozen_clock):
    made = make_batch(1)
    users = [UserFactory() for _ in range(200)]

    with frozen_clock(clock.now()):
        answers = [_try(users[i % 200], WRONG, "203.0.113.7") for i in range(1000)]
        correct = _try(UserFactory(), made.pins[0], "203.0.113.7")

    assert answers[:30] == ["422"] * 30
    assert set(answers[30:]) == {"429"}
    assert correct == "429"
    assert VoucherCode.objects.get().status == "active"
    assert RenewalOrder.objects.count() == 0


def test_a_thousand_wrong_pins_spread_over_100_accounts_trip_the_global_limit_and_alert(
    limits, settings, make_batch, frozen_clock, caplog
):
    settings.VIGENCIA_VOUCHER_ALERT_FAILURES = 250
    made = make_batch(1)
    operator = UserFactory(language="es")
    operator.groups.add(Group.objects.get(name=roles.OPERATOR))
    users = [UserFactory() for _ in range(100)]

    with frozen_clock(clock.now()), caplog.at_level(logging.WARNING, logger="vigencia.vouchers.services"):
        answers = [_try(users[i % 100], WRONG, f"198.51.{i % 100}.{i // 100}") for i in range(1000)]
        correct = _try(UserFactory(), made.pins[0], "192.0.2.1")

    # each account and each address stays under its own limit (10 tries each): only the global one trips
    assert answers[:500] == ["422"] * 500
    assert set(answers[500:]) == {"429"}
    assert correct == "429"
    assert [r.getMessage() for r in caplog.records if "spiked" in r.getMessage()] == [
        "voucher redemption failures spiked: 250 failures in the last 300 s"
    ]
    assert [(n.user, n.context) for n in Notification.objects.filter(kind="message")] == [
        (
            operator,
            {
                "subject": "Se dispararon los fallos de códigos de recarga",
                "body": "250 canjes fallidos en 5 minutos: alguien podría estar adivinando PIN.",
            },
        )
    ]
    stats = redemption_failure_rate(minutes=60)
    assert (stats["attempts"], stats["invalid"], stats["locked"], stats["redeemed"]) == (1001, 500, 501, 0)
    assert stats["failure_rate"] == 1.0


def test_a_failure_counts_once_in_each_of_its_scopes(user, line):
    # when one wrong PIN comes from an address and another from no known address
    _try(user, WRONG, "10.0.0.1", line)
    _try(user, WRONG, None, line)

    # then the account and the overall count have two failures each, the address one
    totals: dict[str, int] = {}
    for scope, count in AttemptCounter.objects.values_list("scope", "count"):
        totals[scope] = totals.get(scope, 0) + count
    assert totals == {"global": 2, "account": 2, "ip": 1}
    assert list(AttemptCounter.objects.filter(scope="ip").values_list("key", flat=True)) == ["10.0.0.1"]


def test_attempts_are_audited_without_the_pin(user, line, make_batch):
    made = make_batch(1)
    _try(user, WRONG, "10.0.0.1", line)
    _try(user, made.pins[0], "10.0.0.1", line)

    rows = list(RedemptionAttempt.objects.order_by("id").values("user", "ip", "outcome", "code__serial"))

    assert rows == [
        {"user": user.pk, "ip": "10.0.0.1", "outcome": "invalid", "code__serial": None},
        {"user": user.pk, "ip": "10.0.0.1", "outcome": "redeemed", "code__serial": made.serials[0]},
    ]
    assert {f.name for f in RedemptionAttempt._meta.get_fields()} == {
        "id",
        "user",
        "ip",
        "channel",
        "outcome",
        "code",
        "created_at",
    }


def test_the_counters_of_ended_windows_are_purged_and_current_ones_kept(limits, user, line, frozen_clock):
    # given failures in a window that ended 15 minutes ago and in the current one
    start = clock.now().replace(minute=0, second=0, microsecond=0)
    with frozen_clock(start):
        _try(user, WRONG, "10.0.0.1", line)
    with frozen_clock(start + timedelta(minutes=16)):
        _try(user, WRONG, "10.0.0.2", line)

        # when the purge runs
        deleted = services.attempt_counters_purge()

        # then only the ended windows' rows went, and the current counts are intact
        assert deleted == 3
        assert services._counts(user, "10.0.0.2") == {"global": 1, "account": 1, "ip": 1}
        assert sorted(AttemptCounter.objects.filter(scope="ip").values_list("key", flat=True)) == ["10.0.0.2"]
