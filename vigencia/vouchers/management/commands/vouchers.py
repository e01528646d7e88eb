"""`vigencia vouchers generate|activate|void|expire|credit|api-key|stats`: the operator's tools."""

from __future__ import annotations

import io
import json
from argparse import ArgumentTypeError
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from vigencia.accounts.models import User
from vigencia.catalog.models import Plan
from vigencia.core.cli import number
from vigencia.core.errors import DomainError
from vigencia.core.money import CURRENCIES, Money
from vigencia.vouchers import exports, services
from vigencia.vouchers.codes import MAX_BATCH_SIZE
from vigencia.vouchers.models import VoucherBatch
from vigencia.vouchers.selectors import redemption_failure_rate


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ArgumentTypeError(f"not an amount: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise ArgumentTypeError(f"not a positive amount: {text!r}")
    return value


def _currency(text: str) -> str:
    if text.upper() not in CURRENCIES:
        raise ArgumentTypeError(f"not an ISO 4217 currency code: {text!r}")
    return text.upper()


class Command(BaseCommand):
    help = "Recharge codes: generate batches (PINs leave once, in the export), sell, void, expire."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        generate = sub.add_parser("generate", help="Create a batch of codes and write its one export.")
        kind = generate.add_mutually_exclusive_group(required=True)
        kind.add_argument("--plan", help="plan code, or carrier/plan")
        kind.add_argument(
            "--wallet",
            type=_amount,
            metavar="AMOUNT",
            help="wallet cards worth AMOUNT each (e.g. 20.00), credited to the wallet of who redeems one",
        )
        generate.add_argument("--currency", type=_currency, default="PEN", help="with --wallet (default PEN)")
        generate.add_argument("--count", type=number(int, low=1, high=MAX_BATCH_SIZE), required=True)
        generate.add_argument("--reseller", help="reseller email: the batch is sold to them at once")
        generate.add_argument("--expires", type=date.fromisoformat, help="YYYY-MM-DD (default: in a year)")
        generate.add_argument(
            "--out",
            help="CSV file for the PINs (a PDF of cards is written next to it). Without it, a reseller's "
            "batch is held, encrypted, for the reseller's one download.",
        )
        generate.add_argument("--no-progress", action="store_true")
        activate = sub.add_parser("activate", help="Put an operator batch on sale (promotional codes).")
        activate.add_argument("batch", type=int)
        void = sub.add_parser("void", help="Void a batch or a range of its serials.")
        void.add_argument("batch", type=int)
        void.add_argument("--from", dest="serial_from", default="")
        void.add_argument("--to", dest="serial_to", default="")
        sub.add_parser("expire", help="Expire codes past their date (breakage).")
        credit = sub.add_parser("credit", help="Credit a reseller's prepaid balance (money received).")
        credit.add_argument("--reseller", required=True)
        credit.add_argument("--amount-minor", type=int, required=True)
        credit.add_argument("--currency", type=_currency, default="PEN")
        credit.add_argument("--reference", required=True, help="e.g. the bank transfer's id (once per id)")
        key = sub.add_parser("api-key", help="Issue an API key for a reseller (shown once).")
        key.add_argument("--reseller", required=True)
        key.add_argument("--name", default="api")
        sub.add_parser("stats", help="Redemption attempts and failure rate in the last hour.")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, "_" + action.replace("-", "_"))(**options)
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from error

    def _batch(self, pk: int) -> VoucherBatch:
        batch = VoucherBatch.objects.select_related("plan", "reseller").filter(pk=pk).first()
        if batch is None:
            raise CommandError(f"no batch #{pk}")
        return batch

    def _plan(self, plan: str) -> Plan:
        carrier_code, _sep, plan_code = plan.rpartition("/")
        plans = Plan.objects.select_related("carrier").filter(code=plan_code)
        if carrier_code:
            plans = plans.filter(carrier__code=carrier_code)
        if plans.count() != 1:
            raise CommandError(f"plan {plan!r} matches {plans.count()} plans; use carrier/plan")
        return plans.get()

    def _user(self, email: str) -> User:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"no user {email}")
        return user

    def _generate(
        self,
        *,
        plan: str | None,
        wallet: Decimal | None,
        currency: str,
        count: int,
        reseller: str | None,
        expires: date | None,
        out: str | None,
        no_progress: bool,
        **_: Any,
    ) -> None:
        chosen = self._plan(plan) if plan else None
        try:
            face = Money.from_decimal(wallet, currency) if wallet is not None else None
        except ValueError as error:
            raise CommandError(f"--wallet {wallet}: {error}") from error
        seller = self._user(reseller) if reseller else None
        if out is None and seller is None:
            raise CommandError("--out is required for a batch without a reseller")
        csv_path = Path(out) if out else None
        try:  # before the batch exists: a file that cannot be written must not cost its PINs
            stream: io.StringIO | Any = csv_path.open("w", newline="") if csv_path else io.StringIO()
        except OSError as error:
            raise CommandError(f"Cannot write {csv_path}: {error.strerror or error}") from error
        export: exports.BatchExport | None = None
        bar = tqdm(total=count, unit="code", disable=no_progress, file=self.stderr._out)

        def sink(batch: VoucherBatch, pairs: list[tuple[str, str]]) -> None:
            nonlocal export
            if export is None:
                export = exports.BatchExport(stream, batch=batch)
            export.add(pairs)

        try:
            batch = services.batch_create(
                plan=chosen,
                face=face,
                count=count,
                reseller=seller,
                expires_on=expires,
                sink=sink,
                progress=bar.update,
            )
        except BaseException:
            stream.close()
            if csv_path:
                csv_path.unlink(missing_ok=True)
            raise
        finally:
            bar.close()
        assert export is not None
        pdf = export.pdf()
        if csv_path:
            stream.close()
            services.batch_export_written(batch=batch)
            if pdf is not None:
                csv_path.with_suffix(".pdf").write_bytes(pdf)
            where = f"{csv_path}" + (
                f" and {csv_path.with_suffix('.pdf')}" if pdf else " (too many codes for a PDF)"
            )
        else:
            services.batch_export_hold(batch=batch, csv_text=stream.getvalue(), pdf=pdf)
            where = f"held for {seller}'s one download"
        self.stdout.write(
            f"batch #{batch.pk}: {count} codes of {batch.label} until {batch.expires_on}; PINs {where}"
        )

    def _activate(self, *, batch: int, **_: Any) -> None:
        moved = services.batch_activate(batch=self._batch(batch))
        self.stdout.write(f"batch #{batch}: {moved} codes on sale")

    def _void(self, *, batch: int, serial_from: str, serial_to: str, **_: Any) -> None:
        voided = services.voucher_void(batch=self._batch(batch), serial_from=serial_from, serial_to=serial_to)
        self.stdout.write(f"batch #{batch}: {voided} codes voided")

    def _expire(self, **_: Any) -> None:
        self.stdout.write(f"{services.voucher_expire()} codes expired")

    def _credit(self, *, reseller: str, amount_minor: int, currency: str, reference: str, **_: Any) -> None:
        entry = services.reseller_prepaid_credit(
            reseller=self._user(reseller), amount=Money(amount_minor, currency), reference=reference
        )
        self.stdout.write(f"ledger transaction #{entry.pk}")

    def _api_key(self, *, reseller: str, name: str, **_: Any) -> None:
        row, key = services.reseller_api_key_issue(user=self._user(reseller), name=name)
        self.stdout.write(f"key #{row.pk} (shown once): {key}")

    def _stats(self, **_: Any) -> None:
        self.stdout.write(json.dumps(redemption_failure_rate(), indent=2))
