"""`vigencia simulate`: a small population through simulated time with the real services."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper
from django.db.utils import ConnectionHandler

from vigencia.accounts.models import User
from vigencia.catalog.models import Plan
from vigencia.lines.management.commands.simulate import Command as SimulateCommand
from vigencia.lines.models import Line
from vigencia.lines.simulate import private_database, simulate
from vigencia.orders.models import RenewalOrder

pytestmark = pytest.mark.django_db


def test_a_small_population_keeps_every_funded_auto_renew_number_and_leaves_nothing(demo_catalog):
    users_before = User.objects.count()

    report = simulate(lines=40, months=4, failure_rate=0.2, seed=7, start=date(2026, 1, 5))

    assert report.lines == 40
    assert report.days == 120
    assert report.funded_autorenew_lines > 0
    assert report.numbers_lost_funded_autorenew == 0
    assert report.autorenewals > 0
    assert report.reminders_sent > 0
    assert set(report.total_cost) == {"PEN"}
    # the whole run was rolled back
    assert User.objects.count() == users_before
    assert Line.objects.count() == 0
    assert RenewalOrder.objects.count() == 0


def test_the_same_seed_gives_the_same_report(demo_catalog):
    first = simulate(lines=15, months=2, failure_rate=0.1, seed=3, start=date(2026, 1, 5)).as_dict()
    second = simulate(lines=15, months=2, failure_rate=0.1, seed=3, start=date(2026, 1, 5)).as_dict()
    first.pop("seconds"), second.pop("seconds")

    assert first == second


def test_the_command_prints_json(demo_catalog):
    out = StringIO()

    call_command("simulate", lines=5, months=1, failure_rate=0.0, seed=1, json=True, stdout=out)

    report = json.loads(out.getvalue())
    assert report["lines"] == 5
    assert report["numbers_lost_funded_autorenew"] == 0


def test_bad_arguments_are_refused(demo_catalog):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("simulate", lines=0, months=1, stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lines", "0"], "argument --lines: 0 is out of range (1 or more)"),
        (["--months", "ten"], "argument --months: not an integer: 'ten'"),
        (["--failure-rate", "1"], "argument --failure-rate: 1 is out of range (from 0, below 1)"),
    ],
)
def test_bad_arguments_on_the_command_line_are_a_usage_error_before_any_progress(
    demo_catalog, command_line, argv, message
):
    status, out, err = command_line("simulate", *argv)
    assert (status, out) == (2, "")
    assert err.splitlines()[-1] == f"vigencia simulate: error: {message}"
    assert "simulating" not in err


def test_days_with_nothing_due_are_skipped_and_the_progress_reaches_the_last_day(demo_catalog):
    # given a handful of lines over three months
    done: list[int] = []

    # when they are simulated
    report = simulate(
        lines=4, months=3, failure_rate=0.0, seed=5, start=date(2026, 1, 5), progress=done.append
    )

    # then only the days on which something was due were ticks, and the progress went up to the end
    assert report.days == 90
    assert 0 < report.ticks < report.days
    assert len(done) == report.ticks
    assert done == sorted(done)
    assert done[-1] == report.days


def test_auto_renew_buys_the_plan_the_planner_picks_for_the_line(demo_catalog):
    # given a simulated population (its lines and settings, before any tick)
    import random

    from vigencia.core import clock
    from vigencia.lines.lifecycle import line_anchor
    from vigencia.lines.models import AutoRenewSetting
    from vigencia.lines.planner import keepalive_plan
    from vigencia.lines.simulate import SimulationReport, _noon, _population

    start = date(2026, 1, 5)
    report = SimulationReport(lines=30, months=6, days=181, failure_rate=0.0, seed=1)
    with clock.frozen(_noon(start)):
        _population(report, start=start, rng=random.Random(1))

        # then each auto-renew line buys the first plan of its cheapest stay-active schedule (the
        # cheapest plan when the line needs none within the horizon)
        settings = list(AutoRenewSetting.objects.select_related("line__carrier", "plan"))
        assert settings
        for setting in settings:
            schedule = keepalive_plan(
                carrier=setting.line.carrier,
                start=start,
                months=6,
                goal="stay_active",
                state=line_anchor(setting.line),
            )
            cheapest = min(
                Plan.objects.filter(carrier=setting.line.carrier),
                key=lambda p: (p.price_minor, -p.validity_days),
            )
            assert setting.plan == (schedule.steps[0].plan if schedule.steps else cheapest)


def test_on_an_sqlite_file_the_simulation_plays_on_a_private_copy_and_never_locks_the_live_file(tmp_path):
    # given an SQLite file a running server reads and writes, and a Django connection to it
    live = tmp_path / "vigencia.sqlite3"
    with closing(sqlite3.connect(live)) as server:
        server.execute("CREATE TABLE t (note TEXT)")
        server.execute("INSERT INTO t VALUES ('before')")
        server.commit()
    settings = ConnectionHandler().configure_settings(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(live)}}
    )["default"]
    db = DatabaseWrapper(settings, alias="live")
    scratch: list[str] = []

    # when the simulation's long write transaction is open on it
    with private_database(db):
        scratch.append(db.settings_dict["NAME"])
        with db.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("INSERT INTO t VALUES ('simulated')")
            cursor.execute("SELECT note FROM t ORDER BY rowid")
            seen = [row[0] for row in cursor.fetchall()]
            # then the server still writes the live file at once (no "database is locked")
            with closing(sqlite3.connect(live, timeout=0)) as server:
                server.execute("INSERT INTO t VALUES ('served meanwhile')")
                server.commit()
            cursor.execute("ROLLBACK")

    # and the simulation saw the live rows, wrote only to its copy, which is gone; the connection is back
    assert seen == ["before", "simulated"]
    assert scratch[0] != str(live)
    assert not Path(scratch[0]).exists()
    assert db.settings_dict["NAME"] == str(live)
    with closing(sqlite3.connect(live)) as server:
        assert [row[0] for row in server.execute("SELECT note FROM t ORDER BY rowid")] == [
            "before",
            "served meanwhile",
        ]
    db.close()


def test_inside_an_open_transaction_the_simulation_stays_on_its_database(demo_catalog):
    # given the test's own transaction (its rows would not be in a copy)
    name = connection.settings_dict["NAME"]

    # when the private database is asked for, then nothing is copied
    with private_database(connection):
        assert connection.settings_dict["NAME"] == name
        assert Plan.objects.filter(code="ilimitado-5").count() == 1


class _Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_on_a_terminal_is_not_coloured_as_an_error(demo_catalog):
    # given a terminal, on which Django colours a command's stderr red
    terminal = _Terminal()

    # when a small simulation runs
    command = SimulateCommand(stderr=terminal, force_color=True)
    call_command(command, lines=2, months=1, seed=1, stdout=StringIO())

    # then the bar is drawn to the last day, in the terminal's own colour
    shown = terminal.getvalue()
    assert "simulating: 100%" in shown
    assert "\x1b[" not in shown
