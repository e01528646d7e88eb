"""`vigencia serve`: the production web server (gunicorn), static files served by WhiteNoise."""

import os
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the production web server (gunicorn) with static files collected and served."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        # 4 processes x 2 threads: on 2 cores as many renewals/s as 2 x 4, with half the p99 (fewer
        # threads waiting for one interpreter lock between their database round trips).
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "4")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("VIGENCIA_WEB_THREADS", "2")))
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "vigencia.config.wsgi:application",
            "--bind",
            f"{options['host']}:{options['port']}",
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--worker-class",
            "gthread",
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
            # gunicorn's most (its default, 4094, answered longer query strings with its own page):
            # Django then refuses what is past core.middleware.MAX_URI_LENGTH in the API's shape.
            "--limit-request-line",
            "8190",
        ]
        sys.stdout.flush()
        os.execv(sys.executable, argv)
