"""`vigencia worker`: run background tasks continuously, or with --burst until none is ready."""

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vigencia.core.db import DatabaseUnavailable, outlast_database_outages


class Command(BaseCommand):
    help = "Run the background worker (django-tasks database backend)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--burst", action="store_true", help="Process every ready task, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle.")

    def handle(self, *args: Any, **options: Any) -> None:
        # django-tasks' worker stops at the first database error it does not expect — under `make run`
        # a SQLite file locked past its timeout by a long import, and honcho then stops the web server
        # too. The worker starts again instead; a burst run gives up after a few tries.
        def run() -> None:
            call_command(
                "db_worker",
                queue_name="*",
                batch=options["burst"],
                interval=options["interval"],
                reload=False,
                startup_delay=not options["burst"],
                verbosity=options["verbosity"],
            )

        try:
            outlast_database_outages(run, report=self.stderr.write, attempts=5 if options["burst"] else None)
        except DatabaseUnavailable as error:
            raise CommandError(str(error)) from error
