"""The lifecycle sweep: set-based, idempotent, each transition once, notifications through a hook."""

from __future__ import annotations

import sys
import types
from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory
from vigencia.catalog.models import Carrier
from vigencia.core.models import PeriodicRun
from vigencia.core.scheduler import scheduler_tick
from vigencia.lines.lifecycle import lifecycle_sweep
from vigencia.lines.models import Line, LineEvent, LineEventKind, LineStatus
from vigencia.lines.numbers import msisdn_display

pytestmark = pytest.mark.django_db

# 1 December 2026, 12:00 in Lima.
AT = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
NONE_MOVED = {
    "active->restricted": 0,
    "active->suspended": 0,
    "restricted->suspended": 0,
    "active->recycled": 0,
    "restricted->recycled": 0,
    "suspended->recycled": 0,
}

_numbers = iter(range(10_000_000, 99_999_999))


def make_line(carrier: Carrier, owner=None, **fields) -> Line:
    return Line.objects.create(
        owner=owner or UserFactory(), msisdn=f"+519{next(_numbers)}", carrier=carrier, **fields
    )


def status_events(line: Line) -> list[dict]:
    return list(
        LineEvent.objects.filter(line=line, kind=LineEventKind.STATUS_CHANGED)
        .order_by("id")
        .values_list("data", flat=True)
    )


def test_the_sweep_moves_each_due_line_straight_to_its_due_status(demo_catalog):
    # given Claro lines (restricted after 60 days, cut off at 270, number lost at 360) on 1 Dec 2026
    claro = Carrier.objects.get(code="claro-pe")
    fresh = make_line(claro, last_recharge_at=date(2026, 10, 2))  # day 60: last good day
    restricted = make_line(claro, last_recharge_at=date(2026, 10, 1))  # day 61
    suspended = make_line(claro, last_recharge_at=date(2026, 3, 5))  # day 271
    lost = make_line(claro, last_recharge_at=date(2025, 12, 5))  # day 361
    already = make_line(claro, last_recharge_at=date(2026, 3, 5), status=LineStatus.RESTRICTED)
    unknown = make_line(claro)
    removed = make_line(claro, last_recharge_at=date(2025, 1, 1), removed_at=AT)

    # when the sweep runs
    counts = lifecycle_sweep(at=AT, notify=None)

    # then every due line made exactly one move, and wrote one event saying so
    assert counts == {
        **NONE_MOVED,
        "active->restricted": 1,
        "active->suspended": 1,
        "restricted->suspended": 1,
        "active->recycled": 1,
    }
    statuses = dict(Line.objects.values_list("pk", "status"))
    assert statuses == {
        fresh.pk: "active",
        restricted.pk: "restricted",
        suspended.pk: "suspended",
        lost.pk: "recycled",
        already.pk: "suspended",
        unknown.pk: "active",
        removed.pk: "active",
    }
    assert status_events(lost) == [{"from": "active", "to": "recycled", "reason": "carrier_rules"}]
    assert status_events(already) == [{"from": "restricted", "to": "suspended", "reason": "carrier_rules"}]
    assert status_events(fresh) == status_events(unknown) == status_events(removed) == []
    assert LineEvent.objects.filter(kind=LineEventKind.STATUS_CHANGED, at=AT).count() == 4


def test_running_the_sweep_again_changes_nothing_more(demo_catalog):
    claro = Carrier.objects.get(code="claro-pe")
    make_line(claro, last_recharge_at=date(2026, 10, 1))
    make_line(claro, last_recharge_at=date(2025, 12, 5))
    lifecycle_sweep(at=AT, notify=None)
    events = LineEvent.objects.count()

    assert lifecycle_sweep(at=AT, notify=None) == NONE_MOVED
    assert lifecycle_sweep(at=datetime(2026, 12, 1, 23, 0, tzinfo=UTC), notify=None) == NONE_MOVED
    assert LineEvent.objects.count() == events


def test_each_policy_kind_is_swept_from_its_own_anchor(demo_catalog):
    # given one due and one not-yet-due line per policy kind, on 1 Dec 2026
    def of(code):
        return Carrier.objects.get(code=code)

    # (AT is already 2 December in Hong Kong and Shanghai)
    due = [
        make_line(
            of("giffgaff-uk"), last_recharge_at=date(2026, 1, 1), last_chargeable_use_at=date(2026, 6, 3)
        ),
        make_line(of("cmhk-hk"), valid_until=date(2026, 12, 1)),
        make_line(of("cmhk-hk"), last_recharge_at=date(2026, 6, 4)),  # 180 days of validity ended 1 Dec
        make_line(of("china-mobile-cn"), valid_until=date(2026, 12, 1)),
        make_line(of("entel-pe"), last_recharge_at=date(2026, 5, 4), balance_minor=100),  # 211 days
    ]
    not_due = [
        make_line(
            of("giffgaff-uk"), last_recharge_at=date(2026, 1, 1), last_chargeable_use_at=date(2026, 6, 4)
        ),
        make_line(of("cmhk-hk"), valid_until=date(2026, 12, 2)),
        make_line(of("cmhk-hk"), last_recharge_at=date(2026, 6, 5)),
        make_line(of("china-mobile-cn"), valid_until=date(2026, 12, 2)),
        make_line(of("entel-pe"), last_recharge_at=date(2026, 5, 5), balance_minor=100),
    ]

    counts = lifecycle_sweep(at=AT, notify=None)

    assert counts == {**NONE_MOVED, "active->suspended": 4, "active->recycled": 1}
    assert [Line.objects.get(pk=line.pk).status for line in due] == [
        "recycled",
        "suspended",
        "suspended",
        "suspended",
        "suspended",
    ]
    assert {Line.objects.get(pk=line.pk).status for line in not_due} == {"active"}


def test_the_day_turns_in_the_carriers_timezone_across_daylight_saving(demo_catalog):
    # given a giffgaff line whose number is recycled from 30 March 2026 (London moved to BST on 29 March)
    gg = Carrier.objects.get(code="giffgaff-uk")
    line = make_line(gg, last_chargeable_use_at=date(2025, 9, 30))

    # when the sweep runs at 22:30 UTC on 29 March, still 23:30 on the 29th in London: nothing moves
    assert lifecycle_sweep(at=datetime(2026, 3, 29, 22, 30, tzinfo=UTC), notify=None) == NONE_MOVED

    # then at 23:30 UTC it is already 00:30 on 30 March in London: the number is recycled
    assert lifecycle_sweep(at=datetime(2026, 3, 29, 23, 30, tzinfo=UTC), notify=None)["active->recycled"] == 1
    assert Line.objects.get(pk=line.pk).status == "recycled"


def test_the_number_of_queries_does_not_grow_with_the_number_of_lines(demo_catalog):
    claro = Carrier.objects.get(code="claro-pe")
    owner = UserFactory()

    def queries_for(count: int, at: datetime) -> int:
        for _ in range(count):
            make_line(claro, owner=owner, last_recharge_at=date(2026, 3, 5))
        with CaptureQueriesContext(connection) as captured:
            moved = lifecycle_sweep(at=at, notify=None)
        assert moved["active->suspended"] == count
        return len(captured)

    few = queries_for(2, AT)
    many = queries_for(40, datetime(2026, 12, 2, 17, 0, tzinfo=UTC))

    assert few == many
    assert many <= 10 * Carrier.objects.count()  # a handful per carrier, whatever the number of lines


def test_the_hook_hears_of_every_batch_moved_and_a_line_not_due_is_not_mentioned(demo_catalog):
    claro = Carrier.objects.get(code="claro-pe")
    restricted = make_line(claro, last_recharge_at=date(2026, 10, 1))
    make_line(claro, last_recharge_at=date(2026, 11, 1))
    heard = []

    lifecycle_sweep(at=AT, notify=lambda ids, status: heard.append((list(ids), status)))

    assert heard == [([restricted.pk], "restricted")]


@pytest.fixture
def sent(monkeypatch):
    """A stand-in for the notifications app's service."""
    calls = []
    module = types.ModuleType("vigencia.notifications.services")
    module.NotificationRequest = dict  # type: ignore[attr-defined]
    module.notification_send_many = calls.extend  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vigencia.notifications.services", module)
    return calls


@pytest.mark.parametrize(
    ("language", "subject", "body"),
    [
        (
            "en",
            "Your line +51 912 345 678 is cut off",
            "Claro Perú cut off +51 912 345 678 because it was not recharged in time. Recharge it "
            "before March 1, 2027 or the number will be given to someone else.",
        ),
        (
            "es",
            "Tu línea +51 912 345 678 está suspendida",
            "Claro Perú suspendió +51 912 345 678 porque no se recargó a tiempo. Recarga la línea antes "
            "del 1 de marzo de 2027 o el número se asignará a otra persona.",
        ),
        (
            "zh-hans",
            "您的号码 +51 912 345 678 已停机",
            "Claro Perú 因 +51 912 345 678 未及时充值已将其停机。"
            "请在 2027年3月1日 之前充值，否则该号码将被分配给他人。",
        ),
    ],
)
def test_owners_are_told_in_their_language_with_one_dedupe_key_per_line_status_and_day(
    demo_catalog, sent, language, subject, body
):
    # given a Claro line whose owner reads `language`, cut off at the sweep
    claro = Carrier.objects.get(code="claro-pe")
    owner = UserFactory(language=language)
    line = Line.objects.create(
        owner=owner, msisdn="+51912345678", carrier=claro, last_recharge_at=date(2026, 3, 5)
    )

    # when the sweep runs
    lifecycle_sweep(at=AT)

    # then they are told once, the number and the date written as the reminders and the portal write them
    assert sent == [
        {
            "user": owner,
            "kind": "message",
            "context": {"subject": subject, "body": body},
            "dedupe_key": f"line:{line.pk}:suspended:2026-12-01",
        }
    ]


def test_nothing_is_sent_when_nothing_moves(demo_catalog, sent):
    make_line(Carrier.objects.get(code="claro-pe"), last_recharge_at=date(2026, 11, 1))

    lifecycle_sweep(at=AT)

    assert sent == []


def test_the_command_sweeps_as_of_the_instant_given(demo_catalog):
    line = make_line(Carrier.objects.get(code="claro-pe"), last_recharge_at=date(2026, 10, 1))
    out = StringIO()

    call_command("lifecycle", "sweep", "--at", "2026-12-01T12:00:00-05:00", stdout=out)

    assert "active->restricted: 1\n" in out.getvalue()
    assert out.getvalue().endswith("total: 1\nreminders sent: 0\n")
    assert Line.objects.get(pk=line.pk).status == "restricted"


def test_the_command_refuses_an_instant_it_cannot_read(demo_catalog, command_line):
    status, out, err = command_line("lifecycle", "sweep", "--at", "next tuesday")
    assert (status, out) == (2, "")
    assert err.splitlines()[-1] == (
        "vigencia lifecycle sweep: error: argument --at: not an ISO 8601 instant: 'next tuesday' "
        "(e.g. 2026-05-01T09:00:00-05:00)"
    )


def test_the_scheduler_runs_the_sweep_every_hour(demo_catalog, settings, run_tasks, frozen_clock):
    line = make_line(Carrier.objects.get(code="claro-pe"), last_recharge_at=date(2025, 1, 1))
    assert settings.VIGENCIA_PERIODIC_JOBS["lines.sweep"] == {
        "task": "vigencia.lines.tasks.lifecycle_sweep_task",
        "every": 3600,
    }
    settings.VIGENCIA_PERIODIC_JOBS = {"lines.sweep": settings.VIGENCIA_PERIODIC_JOBS["lines.sweep"]}

    assert scheduler_tick(at=AT) == ["lines.sweep"]
    run_tasks()

    assert Line.objects.get(pk=line.pk).status == "recycled"
    assert PeriodicRun.objects.filter(name="lines.sweep").count() == 1


def test_a_spanish_speaking_owner_is_told_in_spanish(demo_catalog, sent):
    owner = UserFactory(language="es")
    line = make_line(Carrier.objects.get(code="claro-pe"), owner=owner, last_recharge_at=date(2026, 10, 1))

    lifecycle_sweep(at=AT)

    assert [call["context"]["subject"] for call in sent] == [
        f"Tu línea {msisdn_display(line.msisdn)} está restringida"
    ]


def test_the_command_walks_a_bitel_line_through_reminders_and_its_auto_renewal_once(
    demo_catalog, user, run_tasks, mailoutbox
):
    # given a Bitel line recharged on 20 March (suspended from 1 December), reminders 30, 7 and 1 day
    # before, auto-renew on the cheapest plan 3 days before, and a funded wallet
    from tests.lines.keepalive_helpers import fund, lima
    from vigencia.catalog.models import Plan
    from vigencia.core import clock
    from vigencia.lines.autorenew import autorenew_set
    from vigencia.lines.reminders import reminder_settings_set
    from vigencia.notifications.models import Notification
    from vigencia.orders.models import RenewalOrder

    bitel = Carrier.objects.get(code="bitel-pe")
    line = Line.objects.create(
        owner=user, msisdn="+51987654321", carrier=bitel, last_recharge_at=date(2026, 3, 20)
    )
    reminder_settings_set(line=line, lead_days=[30, 7, 1], channels=["email"])
    autorenew_set(
        line=line, enabled=True, plan=Plan.objects.get(carrier=bitel, code="ilimitado-5"), days_before=3
    )
    fund(user, 2000)

    # when the sweep runs at noon in Lima on these days, twice on some, with the worker after each
    outputs = []
    for day in (1, 1, 24, 25, 26, 28, 28, 30):
        at = lima(date(2026, 11, day))
        out = StringIO()
        call_command("lifecycle", "sweep", "--at", at.isoformat(), stdout=out)
        outputs.append(out.getvalue())
        with clock.frozen(at):
            run_tasks()
    with clock.frozen(lima(date(2026, 12, 2))):
        call_command("lifecycle", "sweep", "--at", lima(date(2026, 12, 2)).isoformat(), stdout=StringIO())
        run_tasks()

    # then each reminder, the upcoming-charge notice and the renewal happened once, on their day
    assert [o.split("total: 0\n")[1] for o in outputs] == [
        "reminders sent: 1\n",  # 1 Nov: 30 days before the suspension on 1 Dec
        "reminders sent: 0\n",
        "reminders sent: 1\n",  # 24 Nov: 7 days before
        "reminders sent: 0\n",
        "reminders sent: 0\nauto-renew upcoming: 1\n",  # 26 Nov: 2 days before the charge
        "reminders sent: 0\nauto-renew ordered: 1\n",  # 28 Nov: 3 days before the deadline
        "reminders sent: 0\n",
        "reminders sent: 0\n",  # 30 Nov: no 1-day reminder, the deadline moved
    ]
    assert [m.subject for m in mailoutbox] == [
        "+51 987 654 321: 29 days left to recharge",
        "+51 987 654 321: 6 days left to recharge",
        "Auto-renew of +51 987 654 321 on Nov. 28, 2026",
        "Your line +51 987 654 321 is renewed until Dec. 5, 2026",
    ]
    assert list(RenewalOrder.objects.values_list("channel", "status", "amount_minor")) == [
        ("auto_renew", "completed", 500)
    ]
    line.refresh_from_db()
    assert (line.status, line.last_recharge_at) == ("active", date(2026, 11, 28))
    assert Notification.objects.filter(user=user).count() == 4
