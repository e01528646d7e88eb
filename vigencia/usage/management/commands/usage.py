"""`vigencia usage import FILE [--format csv|jsonl] [--source S]`, `usage rate`, `usage expire`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from vigencia.core.cli import EXIT_BAD_ROWS, number
from vigencia.usage import services


class Command(BaseCommand):
    help = "Import usage files (resumable: rows already stored count as duplicates), rate, expire buckets."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="Import a CSV or JSONL usage file and rate it.")
        imp.add_argument("file")
        imp.add_argument(
            "--format", choices=["csv", "jsonl"], default=None, help="default: from the extension"
        )
        imp.add_argument(
            "--source", default="file", help="the feed the record ids are unique in (default: file)"
        )
        imp.add_argument("--no-rate", action="store_true", help="store only; the worker rates later")
        imp.add_argument(
            "--show-rejected", type=number(int, low=0), default=20, help="how many rejected rows to list"
        )
        sub.add_parser("rate", help="Rate every unrated record.")
        sub.add_parser("expire", help="Expire buckets past their date.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "rate":
            self.stdout.write(f"rated {services.usage_rate_pending()} records")
            return
        if action == "expire":
            self.stdout.write(f"expired {services.bucket_expire_sweep()} buckets")
            return
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{'not a file' if path.exists() else 'no such file'}: {path}")
        fmt = options["format"] or (
            "jsonl" if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} else "csv"
        )
        with (
            path.open("rb") as stream,
            tqdm(
                total=os.path.getsize(path),
                unit="B",
                unit_scale=True,
                desc="import",
                disable=options["verbosity"] == 0,
            ) as bar,
        ):

            def progress(summary: services.IngestSummary) -> None:
                bar.update(stream.tell() - bar.n)
                bar.set_postfix(
                    accepted=summary.accepted, duplicates=summary.duplicates, rejected=summary.rejected_count
                )

            summary = services.usage_file_import(
                source=options["source"],
                stream=stream,
                fmt=fmt,
                rate=not options["no_rate"],
                on_chunk=progress,
            )
            bar.update(bar.total - bar.n)
        self.stdout.write(
            f"accepted {summary.accepted}, duplicates {summary.duplicates}, rejected {summary.rejected_count}"
        )
        for row in summary.rejected[: options["show_rejected"]]:
            self.stdout.write(f"  line {row.line}: {row.reason}")
        if summary.rejected_count > options["show_rejected"]:
            self.stdout.write(f"  ... and {summary.rejected_count - options['show_rejected']} more")
        if not options["no_rate"]:
            self.stdout.write(f"rated {summary.rated} records")
        if summary.rejected_count:
            raise CommandError(
                f"{summary.rejected_count} row(s) rejected; the other rows were kept.",
                returncode=EXIT_BAD_ROWS,
            )
