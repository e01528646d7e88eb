"""Background work for the core: thin wrappers around its services."""

from __future__ import annotations

from django_tasks import task

from vigencia.core import workers


@task()
def tasks_recover_task() -> int:
    return workers.tasks_recover()
