"""`vigencia scheduler`: enqueue periodic jobs (once per period, however many schedulers run)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vigencia.core.db import DatabaseUnavailable, outlast_database_outages
from vigencia.core.scheduler import scheduler_tick


class Command(BaseCommand):
    help = "Enqueue the periodic jobs in VIGENCIA_PERIODIC_JOBS, each once per period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One tick, then exit.")
        parser.add_argument("--interval", type=float, default=5.0)

    def handle(self, *args: Any, **options: Any) -> None:
        # A tick enqueues each job's period in its own transaction, so one cut short by the database
        # going away is simply ticked again.
        attempts = 5 if options["once"] else None
        while True:
            try:
                names = outlast_database_outages(scheduler_tick, report=self.stderr.write, attempts=attempts)
            except DatabaseUnavailable as error:
                raise CommandError(str(error)) from error
            for name in names:
                self.stdout.write(f"enqueued {name}")
            if options["once"]:
                return
            time.sleep(options["interval"])
