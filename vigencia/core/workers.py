"""Workers come and go; their tasks are not lost with them.

django-tasks' database worker marks a task RUNNING when it claims it and marks it again only when the
task ends. A worker that stops in between (killed, out of memory, the machine restarting, the database
going away under it) leaves the task RUNNING for ever: a payment's webhook never handled, a top-up
never sent to the carrier. And a task that met the database away ends FAILED, never tried again.

So each worker beats while it runs (`beating`), and the periodic `tasks_recover` puts back to READY
every task left RUNNING by a worker not seen for VIGENCIA_WORKER_LOST_AFTER, and every task that
failed only because the database was away; a worker that starts over after an outage gives its own
back at once (`worker_release`). After VIGENCIA_TASK_MAX_ATTEMPTS tries a task stays FAILED, for a
person to look at. Running a task again is safe: each service commits all of its writes or none, and
looks before it acts a second time (a notification sent, a top-up submitted, a webhook handled)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction
from django.db.models import Q
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from vigencia.core import clock
from vigencia.core.models import Worker

# How a task that met the database away is recorded (django.db's wrappers of the driver's errors).
DATABASE_AWAY = [f"{error.__module__}.{error.__qualname__}" for error in (OperationalError, InterfaceError)]


class WorkerLost(Exception):
    """Recorded on a task whose worker stopped while running it, once it has had all its tries."""


def worker_beat(*, worker_id: str) -> None:
    """The worker is alive (and registered before it claims its first task)."""
    now = clock.now()
    Worker.objects.update_or_create(
        worker_id=worker_id, defaults={"seen_at": now}, create_defaults={"started_at": now, "seen_at": now}
    )


@contextmanager
def beating(*, worker_id: str, every: float) -> Iterator[None]:
    """Beat every `every` seconds from a thread of its own (its own database connection) while the
    block runs, a long task included. A beat the database refuses is simply missed. `every` 0: none."""
    if every <= 0:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    worker_beat(worker_id=worker_id)
                except (OperationalError, InterfaceError):
                    connections.close_all()  # this thread's connection: a broken one is not reused
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"worker-beat-{worker_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def worker_release(*, worker_id: str) -> int:
    """A worker that has stopped: the tasks it left RUNNING run again, as do the tasks any worker
    saw fail with the database away; returns how many."""
    with transaction.atomic():
        released = _release(lambda workers: bool(workers) and workers[-1] == worker_id)
        Worker.objects.filter(worker_id=worker_id).delete()
    return released


def tasks_recover() -> int:
    """Tasks left RUNNING by a worker not seen for VIGENCIA_WORKER_LOST_AFTER, and tasks failed only
    because the database was away, to run again; returns how many."""
    lost_before = clock.now() - settings.VIGENCIA_WORKER_LOST_AFTER
    with transaction.atomic():
        alive = set(Worker.objects.filter(seen_at__gte=lost_before).values_list("worker_id", flat=True))
        released = _release(lambda workers: not workers or workers[-1] not in alive)
        Worker.objects.filter(seen_at__lt=lost_before).delete()
    return released


def _release(lost: Callable[[list[str]], bool]) -> int:
    """Tasks RUNNING on a lost worker, or FAILED with the database away, back to READY while they
    have tries left; RUNNING ones without tries left become FAILED (WorkerLost)."""
    candidates = DBTaskResult.objects.filter(
        Q(status=TaskResultStatus.RUNNING)
        | Q(status=TaskResultStatus.FAILED, exception_class_path__in=DATABASE_AWAY)
    ).values_list("id", "status", "worker_ids")
    again, spent = [], []
    for task_id, status, workers in candidates:
        if status == TaskResultStatus.RUNNING and not lost(workers):
            continue
        if len(workers) < settings.VIGENCIA_TASK_MAX_ATTEMPTS:
            again.append(task_id)
        elif status == TaskResultStatus.RUNNING:
            spent.append(task_id)
    tasks = DBTaskResult.objects.filter(status__in=[TaskResultStatus.RUNNING, TaskResultStatus.FAILED])
    tasks.filter(id__in=spent).update(
        status=TaskResultStatus.FAILED,
        finished_at=clock.now(),
        exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
        traceback=f"{WorkerLost.__qualname__}: its worker stopped while running it, "
        f"{settings.VIGENCIA_TASK_MAX_ATTEMPTS} times\n",
    )
    return tasks.filter(id__in=again).update(
        status=TaskResultStatus.READY,
        started_at=None,
        finished_at=None,
        exception_class_path="",
        traceback="",
    )
