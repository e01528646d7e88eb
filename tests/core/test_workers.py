"""A task is not lost with its worker: one left RUNNING by a worker that stopped, or FAILED because the
database was away, runs again — a limited number of times."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django_tasks_db.models import DBTaskResult

from tests.core import tasks_for_tests
from vigencia.core import clock, workers
from vigencia.core.models import Worker

ROOT = Path(__file__).resolve().parents[2]


def _task(status: str, worker_ids: list[str], exception: str = "") -> DBTaskResult:
    result = tasks_for_tests.noop.enqueue()
    DBTaskResult.objects.filter(id=result.id).update(
        status=status, worker_ids=worker_ids, exception_class_path=exception
    )
    return DBTaskResult.objects.get(id=result.id)


def _seen(worker_id: str, ago: timedelta) -> None:
    at = clock.now() - ago
    Worker.objects.create(worker_id=worker_id, started_at=at, seen_at=at)


@pytest.mark.django_db
def test_a_task_left_running_by_a_lost_worker_runs_again_and_one_on_a_live_worker_is_left(
    settings, run_tasks
):
    # given a worker seen a minute ago and one not seen for ten, each with a task RUNNING
    settings.VIGENCIA_WORKER_LOST_AFTER = timedelta(minutes=5)
    _seen("alive", timedelta(minutes=1))
    _seen("gone", timedelta(minutes=10))
    running = _task("RUNNING", ["alive"])
    lost = _task("RUNNING", ["earlier", "gone"])
    tasks_for_tests.RAN.clear()

    # when tasks are recovered
    assert workers.tasks_recover() == 1

    # then the lost worker's task is ready again (its tries kept) and runs once; the other is untouched
    lost.refresh_from_db()
    assert (lost.status, lost.started_at, lost.worker_ids) == ("READY", None, ["earlier", "gone"])
    assert run_tasks() == 1
    assert tasks_for_tests.RAN == ["noop"]
    running.refresh_from_db()
    assert running.status == "RUNNING"
    assert list(Worker.objects.values_list("worker_id", flat=True)) == ["alive"]
    # and recovering again changes nothing
    assert workers.tasks_recover() == 0


@pytest.mark.django_db
def test_a_task_failed_by_the_database_being_away_runs_again_and_a_bug_does_not():
    # given one task failed with the database away and one failed by a bug
    away = _task("FAILED", ["w1"], "django.db.utils.OperationalError")
    bug = _task("FAILED", ["w1"], "builtins.ValueError")

    # when tasks are recovered
    assert workers.tasks_recover() == 1

    # then only the first is ready again
    away.refresh_from_db()
    bug.refresh_from_db()
    assert (away.status, away.exception_class_path) == ("READY", "")
    assert (bug.status, bug.exception_class_path) == ("FAILED", "builtins.ValueError")


@pytest.mark.django_db
def test_a_task_that_lost_its_worker_every_try_stays_failed(settings):
    # given a task whose worker stopped on each of its five tries, and one failed with the database
    # away five times
    settings.VIGENCIA_TASK_MAX_ATTEMPTS = 5
    spent = _task("RUNNING", ["w1", "w2", "w3", "w4", "w5"])
    away = _task("FAILED", ["w1", "w2", "w3", "w4", "w5"], "django.db.utils.OperationalError")

    # when tasks are recovered
    assert workers.tasks_recover() == 0

    # then both stay failed, for a person to look at, and say why
    spent.refresh_from_db()
    away.refresh_from_db()
    assert (spent.status, spent.exception_class_path) == ("FAILED", "vigencia.core.workers.WorkerLost")
    assert spent.traceback == "WorkerLost: its worker stopped while running it, 5 times\n"
    assert spent.finished_at is not None
    assert away.status == "FAILED"


@pytest.mark.django_db
def test_a_worker_cut_off_by_an_outage_runs_the_task_again_when_it_starts_over(monkeypatch):
    # given a ready task, and a database that goes away while the worker runs it, before the worker
    # could record anything
    result = tasks_for_tests.noop.enqueue()
    tasks_for_tests.RAN.clear()
    monkeypatch.setattr("vigencia.core.db.time.sleep", lambda seconds: None)
    monkeypatch.setattr("vigencia.core.db.connections.close_all", lambda: None)  # the test's transaction
    real_call_command = call_command
    runs: list[str] = []

    def db_worker(name: str, **options: object) -> None:
        runs.append(str(options["worker_id"]))
        if len(runs) == 1:
            DBTaskResult.objects.get(id=result.id).claim(str(options["worker_id"]))
            raise OperationalError("server closed the connection unexpectedly")
        with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
            real_call_command(name, **options)

    # when the worker runs through it
    with mock.patch("vigencia.core.management.commands.worker.call_command", db_worker):
        real_call_command("worker", burst=True, beat=0, verbosity=0)

    # then it started over under a new id, and ran the task it was cut off from, once
    task = DBTaskResult.objects.get(id=result.id)
    assert len(set(runs)) == 2
    assert (task.status, task.worker_ids) == ("SUCCESSFUL", runs)
    assert tasks_for_tests.RAN == ["noop"]
    assert not Worker.objects.exists()


def _run(database: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env={**_env(database), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _env(database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigencia.config.settings",
        "DATABASE_URL": f"sqlite:///{database}",
    }


def test_a_task_whose_worker_was_killed_runs_again_once_the_worker_is_missed(tmp_path):
    # given a worker killed while it runs a task
    database, marker = tmp_path / "vigencia.sqlite3", tmp_path / "started"
    assert _run(database, "migrate", "--verbosity", "0").returncode == 0
    enqueue = f"from tests.core.tasks_for_tests import hold; hold.enqueue({str(marker)!r})"
    assert _run(database, "shell", "-c", enqueue).returncode == 0
    worker = subprocess.Popen(
        [sys.executable, "-m", "django", "worker", "--interval", "0.1", "--beat", "0.2"],
        cwd=ROOT,
        env=_env(database),
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline, "the worker never started the task"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    with sqlite3.connect(database) as reader:
        assert reader.execute("SELECT status FROM django_tasks_database_dbtaskresult").fetchall() == [
            ("RUNNING",)
        ]

    # when the periodic jobs run once the worker has not been seen for a while
    time.sleep(1.5)
    assert _run(database, "scheduler", "--once").returncode == 0
    burst = _run(database, "worker", "--burst", VIGENCIA_WORKER_LOST_AFTER_SECONDS="1")

    # then the task ran again, to its end, on the second worker
    assert burst.returncode == 0, burst.stderr
    with sqlite3.connect(database) as reader:
        rows = reader.execute(
            "SELECT status, return_value, json_array_length(worker_ids)"
            " FROM django_tasks_database_dbtaskresult WHERE task_path LIKE '%hold'"
        ).fetchall()
        assert rows == [("SUCCESSFUL", '"done"', 2)]
        assert reader.execute("SELECT count(*) FROM core_worker").fetchone() == (0,)
