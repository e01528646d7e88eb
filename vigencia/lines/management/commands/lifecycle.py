"""`vigencia lifecycle sweep [--at ISO-8601]`: one keep-alive tick as of any instant — due line status
changes, then due reminders, then due auto-renewals (each exactly once however often it runs)."""

from __future__ import annotations

from argparse import ArgumentTypeError
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from vigencia.lines.keepalive import keepalive_tick


def _instant(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        # argparse turns this into a usage error (exit 2) rather than a traceback.
        raise ArgumentTypeError(f"not an ISO 8601 instant: {text!r} (e.g. 2026-05-01T09:00:00-05:00)")
    if timezone.is_naive(at):
        # A bare date or time is read in the platform's display timezone.
        at = at.replace(tzinfo=ZoneInfo(settings.VIGENCIA_DISPLAY_TIMEZONE))
    return at


class Command(BaseCommand):
    help = (
        "Line lifecycle: `sweep` applies every due status change (restricted, cut off, number lost), "
        "sends due reminders and runs due auto-renewals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        sweep = actions.add_parser("sweep", help="Run one keep-alive tick.")
        sweep.add_argument("--at", type=_instant, default=None, help="Run as of this ISO 8601 instant.")

    def handle(self, *args: Any, **options: Any) -> None:
        tick = keepalive_tick(at=options["at"])
        counts = tick["sweep"]
        for transition, count in counts.items():
            self.stdout.write(f"{transition}: {count}")
        self.stdout.write(f"total: {sum(counts.values())}")
        self.stdout.write(f"reminders sent: {tick['reminders']}")
        for outcome, count in tick["autorenew"].items():
            self.stdout.write(f"auto-renew {outcome}: {count}")
