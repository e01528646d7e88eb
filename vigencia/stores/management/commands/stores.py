"""`vigencia stores import FILE.csv`: load or update stores from a spreadsheet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from vigencia.core.cli import EXIT_BAD_ROWS
from vigencia.core.errors import InvalidInput
from vigencia.stores.services import stores_import

IMPORT_HELP = """\
Import stores from a CSV file (UTF-8, comma-separated, first line = column names).

Required columns:
  name       the store's name
  address    street and number
  district   e.g. Miraflores (may be empty)
  city       e.g. Lima
  lat, lng   decimal degrees, e.g. -12.1211 and -77.0297
  carriers   carrier codes separated by |, e.g. claro-pe|movistar-pe
  services   any of renewal, sim_sale, voucher_redeem, id_check, separated by |
  phone      e.g. 01 445 2101 or +51 1 445 2101 (may be empty)
  hours      e.g. "mon-fri 09:00-20:00; sat 10:00-14:00; sun closed"; 20:00-02:00 runs past
             midnight, 00:00-24:00 is all day, "mon-fri 09:00-13:00 14:30-18:30" has a break
Optional columns:
  code       your own store code: rows are matched by it; without it, by name and address
  timezone   e.g. America/Lima (the default)
  active     yes or no (default yes)

Importing the same file again changes nothing. Good rows are saved and each bad row is reported with
its line number and the reason. Exit code: 0 all rows imported, 3 some rows refused (the others
saved), 1 the file could not be read (nothing saved)."""


class Command(BaseCommand):
    help = "Manage stores: `vigencia stores import FILE.csv`."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{import}")
        importer = actions.add_parser(
            "import",
            help="Import stores from a CSV file",
            description=IMPORT_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        importer.add_argument("file", type=Path, help="the CSV file")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}")
        try:
            report = stores_import(
                data=data,
                progress=lambda rows: iter(
                    tqdm(
                        rows,
                        desc="stores",
                        unit="row",
                        file=self.stderr._out,
                        disable=options["verbosity"] == 0,
                    )
                ),
            )
        except InvalidInput as error:
            raise CommandError(f"{path}: {error.message} Nothing was imported.")
        self.stdout.write(
            f"{report.created} created, {report.updated} updated, {len(report.errors)} refused."
        )
        for refused in report.errors:
            self.stdout.write(f"  line {refused.line}: {refused.reason}")
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} row(s) refused; the other rows were saved.", returncode=EXIT_BAD_ROWS
            )
