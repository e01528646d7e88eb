"""One keep-alive tick: the lifecycle sweep, then reminders, then auto-renew, all as of one instant."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from vigencia.core import clock
from vigencia.lines.autorenew import autorenew_sweep
from vigencia.lines.lifecycle import lifecycle_sweep
from vigencia.lines.reminders import reminders_send


class Tick(TypedDict):
    sweep: dict[str, int]
    reminders: int
    autorenew: dict[str, int]


def keepalive_tick(*, at: datetime | None = None) -> Tick:
    """Apply due status changes, send due reminders, and run due auto-renewals as of `at` (default
    now). Each step is idempotent, so a repeated or concurrent tick changes nothing more."""
    at = at or clock.now()
    return {
        "sweep": lifecycle_sweep(at=at),
        "reminders": reminders_send(at=at),
        "autorenew": autorenew_sweep(at=at),
    }
