"""`vigencia fulfilment reconcile`: ask the gateway about every due open top-up, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from vigencia.fulfilment.services import fulfilment_reconcile


class Command(BaseCommand):
    help = "Carrier fulfilment operations."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("reconcile", help="Poll the gateway for every due open top-up (one batch).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "reconcile":
            counts = fulfilment_reconcile()
            self.stdout.write(", ".join(f"{name}: {count}" for name, count in counts.items()))
