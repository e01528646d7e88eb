"""Background work of lines: thin tasks that call a service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_tasks import task

from vigencia.lines.lifecycle import lifecycle_sweep

if TYPE_CHECKING:
    from vigencia.lines.keepalive import Tick


@task()
def lifecycle_sweep_task() -> dict[str, int]:
    """The periodic lifecycle sweep (VIGENCIA_PERIODIC_JOBS["lines.sweep"])."""
    return lifecycle_sweep()


@task()
def keepalive_tick_task() -> Tick:
    """The periodic keep-alive tick: sweep, reminders, auto-renew (job "lines.keepalive")."""
    from vigencia.lines.keepalive import keepalive_tick

    return keepalive_tick()
