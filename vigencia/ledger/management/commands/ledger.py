"""`vigencia ledger verify` proves the ledger's invariants; `vigencia ledger balances` lists totals."""

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from vigencia.ledger.selectors import ledger_totals, ledger_verify


class Command(BaseCommand):
    help = "Ledger tools: `verify` (exit 0 and print ok when every invariant holds) and `balances`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="check every transaction balances and every cached balance is right")
        sub.add_parser("balances", help="totals per account kind and currency")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "balances":
            self.stdout.write(json.dumps(ledger_totals(), indent=2, sort_keys=True))
            return
        problems = ledger_verify()
        if not problems:
            self.stdout.write("ok")
            return
        for problem in problems:
            self.stderr.write(json.dumps(problem, sort_keys=True))
        self.stderr.write(f"{len(problems)} problem(s)")
        sys.exit(1)
