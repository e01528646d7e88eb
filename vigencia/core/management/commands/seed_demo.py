"""`vigencia seed_demo`: load every app's demo data. Safe to run again: nothing is duplicated."""

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Load the demo catalog, users and lines (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        # Each app owns its demo data in `<app>/demo.py` with a `seed(out)`; apps are seeded in
        # INSTALLED_APPS order, which is also their dependency order.
        for config in apps.get_app_configs():
            module_name = f"{config.name}.demo"
            if not config.name.startswith("vigencia.") or find_spec(module_name) is None:
                continue
            with transaction.atomic():
                import_module(module_name).seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
