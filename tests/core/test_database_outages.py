"""The worker and the scheduler outlast the database being away: under `make run` a long import keeps
the SQLite file locked past its timeout, and one process of honcho's stopping stops them all."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError

from vigencia.core import db

ROOT = Path(__file__).resolve().parents[2]
VIGENCIA = [sys.executable, "-m", "django"]


def _env(database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "vigencia.config.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "VIGENCIA_SQLITE_TIMEOUT": "0.2",
    }


def _vigencia(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VIGENCIA, *args], cwd=ROOT, env=_env(database), capture_output=True, text=True, timeout=120
    )


def _vigencia_through_a_lock(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command while another process's write transaction holds the file, released only once
    the command has said it waits (however long it takes to start on a loaded machine)."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    process = subprocess.Popen(
        [*VIGENCIA, *args],
        cwd=ROOT,
        env=_env(database),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    said = []
    try:
        for line in process.stderr:  # until it says so, or ends without having met the lock
            said.append(line)
            if "The database is unavailable" in line:
                break
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, "".join(said) + stderr)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("outage") / "migrated.sqlite3"
    assert _vigencia(database, "migrate", "--verbosity", "0").returncode == 0
    return database


@pytest.fixture
def database(migrated: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "vigencia.sqlite3"
    shutil.copy(migrated, copy)
    return copy


@pytest.fixture
def enqueued(database: Path) -> None:
    """The periodic jobs enqueued, as the scheduler does."""
    assert _vigencia(database, "scheduler", "--once").returncode == 0


def _jobs_tasks() -> list[str]:
    return sorted(str(job["task"]).rsplit(".", 1)[1] for job in settings.VIGENCIA_PERIODIC_JOBS.values())


def _tasks(database: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(database) as reader:
        rows = reader.execute("SELECT task_path, status, worker_ids FROM django_tasks_database_dbtaskresult")
        return sorted((path.rsplit(".", 1)[1], status, len(json.loads(ids))) for path, status, ids in rows)


def test_the_worker_waits_out_a_locked_database_and_runs_each_task_once(database, enqueued):
    # given the periodic jobs enqueued
    # when a burst worker starts while another process's write holds the file
    worker = _vigencia_through_a_lock(database, "worker", "--burst")

    # then it said it waited, and ran every task once, once the file was free
    assert worker.returncode == 0, worker.stderr
    assert "The database is unavailable (database is locked); trying again in 1 s." in worker.stderr
    assert _tasks(database) == [(task, "SUCCESSFUL", 1) for task in _jobs_tasks()]


def test_the_scheduler_waits_out_a_locked_database(database):
    # when the scheduler ticks while another process's write holds the file
    scheduler = _vigencia_through_a_lock(database, "scheduler", "--once")

    # then it said it waited, then enqueued each job once
    assert scheduler.returncode == 0, scheduler.stderr
    assert "The database is unavailable (database is locked); trying again in 1 s." in scheduler.stderr
    assert sorted(scheduler.stdout.splitlines()) == [
        f"enqueued {name}" for name in sorted(settings.VIGENCIA_PERIODIC_JOBS)
    ]
    assert _tasks(database) == [(task, "READY", 0) for task in _jobs_tasks()]


def test_an_outage_longer_than_the_attempts_is_reported_not_waited_forever(monkeypatch):
    # given a database that never comes back, and the waits taken without sleeping
    waits: list[float] = []
    monkeypatch.setattr(db.time, "sleep", waits.append)
    said: list[str] = []

    def step() -> None:
        raise OperationalError("connection refused")

    # when a step is tried four times
    with pytest.raises(db.DatabaseUnavailable, match="the database is unavailable: connection refused"):
        db.outlast_database_outages(step, report=said.append, attempts=4)

    # then it waited longer each time, and said so each time
    assert waits == [1.0, 2.0, 4.0]
    assert said == [
        f"The database is unavailable (connection refused); trying again in {wait:g} s." for wait in waits
    ]


def test_a_connection_that_came_back_carries_on_and_other_errors_are_bugs(monkeypatch):
    # given the waits taken without sleeping
    monkeypatch.setattr(db.time, "sleep", lambda seconds: None)
    outcomes: list[Exception | str] = [InterfaceError("connection already closed"), "done"]

    def step() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    # when the step fails once, then works, it returns what it returned
    assert db.outlast_database_outages(step, report=lambda _: None) == "done"

    # and an error that is not about reaching the database is raised at once
    def buggy() -> None:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        db.outlast_database_outages(buggy, report=lambda _: None)
