"""`vigencia scheduler`: enqueue periodic jobs (once per period, however many schedulers run)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from vigencia.core.scheduler import scheduler_tick


class Command(BaseCommand):
    help = "Enqueue the periodic jobs in VIGENCIA_PERIODIC_JOBS, each once per period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One tick, then exit.")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            for name in scheduler_tick():
                self.stdout.write(f"enqueued {name}")
            if options["once"]:
                return
            time.sleep(options["interval"])
