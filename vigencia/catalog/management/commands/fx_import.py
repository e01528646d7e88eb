from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vigencia.catalog.fx import fx_rates_import
from vigencia.core.errors import DomainError


class Command(BaseCommand):
    help = "Import FX rates (approximate display only) from a CSV with columns base,quote,rate,as_of."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", default="csv")

    def handle(self, *args: Any, path: Path, source: str, **options: Any) -> None:
        try:
            count = fx_rates_import(data=path.read_bytes(), source=source)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error
        except DomainError as error:
            raise CommandError(f"{path}: {error.message} Nothing was imported.") from error
        self.stdout.write(f"imported {count} rates")
