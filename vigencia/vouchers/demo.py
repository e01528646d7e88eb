"""Demo: the demo reseller's shop, prepaid balance, one batch of codes and one of wallet cards, whose
exports (the one place PINs ever leave) are written to var/demo_vouchers.csv and
var/demo_wallet_cards.csv."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from django.conf import settings

from vigencia.accounts.models import User
from vigencia.catalog.models import Plan
from vigencia.core.money import Money
from vigencia.vouchers import exports, services
from vigencia.vouchers.models import ResellerProfile, VoucherBatch

RESELLER = "reseller@demo.vigencia.pe"


def seed(out: TextIO) -> None:
    reseller = User.objects.filter(email=RESELLER).first()
    plan = Plan.objects.filter(carrier__code="claro-pe", code="max-10").first()
    if reseller is None or plan is None:
        out.write("vouchers: no demo reseller or plan, skipped")
        return
    ResellerProfile.objects.get_or_create(
        user=reseller, defaults={"display_name": "Bodega Rosa", "city": "Lima"}
    )
    services.reseller_prepaid_credit(
        reseller=reseller, amount=Money(50_000, "PEN"), reference="demo-transfer-1"
    )
    made = []
    fields: dict[str, Any]
    for name, fields, what in (
        ("demo_vouchers.csv", {"plan": plan, "count": 5}, "5 codes of Claro Max S/ 10"),
        ("demo_wallet_cards.csv", {"face": Money(2_000, "PEN"), "count": 3}, "3 wallet cards of S/ 20"),
    ):
        if VoucherBatch.objects.filter(reseller=reseller, plan__isnull="plan" not in fields).exists():
            continue
        batch = _batch(settings.VAR_DIR / name, reseller=reseller, **fields)
        made.append(f"batch #{batch.pk} ({what} for {RESELLER}), PINs in {settings.VAR_DIR / name}")
    out.write("vouchers: demo " + "; ".join(made) if made else "vouchers: demo batch already there")


def _batch(path: Path, **fields: Any) -> VoucherBatch:
    """A demo batch whose one export is written to `path` (readable by its owner only)."""
    with path.open("w", newline="") as stream:
        export: list[exports.BatchExport] = []

        def sink(batch: VoucherBatch, pairs: list[tuple[str, str]]) -> None:
            if not export:
                export.append(exports.BatchExport(stream, batch=batch))
            export[0].add(pairs)

        batch = services.batch_create(sink=sink, **fields)
    path.chmod(0o600)
    services.batch_export_written(batch=batch)
    return batch
