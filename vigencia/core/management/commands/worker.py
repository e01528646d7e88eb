"""`vigencia worker`: run background tasks continuously, or with --burst until none is ready."""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.crypto import get_random_string

from vigencia.core import workers
from vigencia.core.db import DatabaseUnavailable, outlast_database_outages


class Command(BaseCommand):
    help = "Run the background worker (django-tasks database backend)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--burst", action="store_true", help="Process every ready task, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls when idle.")
        parser.add_argument(
            "--beat",
            type=float,
            default=settings.VIGENCIA_WORKER_BEAT_SECONDS,
            help="Seconds between the worker's signs of life (0: none after the first).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # django-tasks' worker stops at the first database error it does not expect — under `make run`
        # a SQLite file locked past its timeout by a long import, and honcho then stops the web server
        # too. The worker starts again instead, under a new id, and the task the outage cut off runs
        # again; a burst run gives up after a few tries.
        runs: list[str] = []  # this process's worker ids; all but the last were cut off

        def run() -> None:
            worker_id = get_random_string(32)
            runs.append(worker_id)
            workers.worker_beat(worker_id=worker_id)
            while len(runs) > 1:
                workers.worker_release(worker_id=runs[0])
                runs.pop(0)
            with workers.beating(worker_id=worker_id, every=options["beat"]):
                call_command(
                    "db_worker",
                    queue_name="*",
                    batch=options["burst"],
                    interval=options["interval"],
                    reload=False,
                    startup_delay=not options["burst"],
                    worker_id=worker_id,
                    verbosity=options["verbosity"],
                )
            workers.worker_release(worker_id=worker_id)

        try:
            outlast_database_outages(run, report=self.stderr.write, attempts=5 if options["burst"] else None)
        except DatabaseUnavailable as error:
            raise CommandError(str(error)) from error
