"""Demo: the demo reseller's shop, prepaid balance and one batch of codes, whose export (the one
place PINs ever leave) is written to var/demo_vouchers.csv."""

from __future__ import annotations

from typing import TextIO

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
    if VoucherBatch.objects.filter(reseller=reseller).exists():
        out.write("vouchers: demo batch already there")
        return
    path = settings.VAR_DIR / "demo_vouchers.csv"
    with path.open("w", newline="") as stream:
        export: list[exports.BatchExport] = []

        def sink(batch: VoucherBatch, pairs: list[tuple[str, str]]) -> None:
            if not export:
                export.append(exports.BatchExport(stream, batch=batch))
            export[0].add(pairs)

        batch = services.batch_create(plan=plan, count=5, reseller=reseller, sink=sink)
    path.chmod(0o600)
    services.batch_export_written(batch=batch)
    out.write(f"vouchers: demo batch #{batch.pk} (5 codes for {RESELLER}); its PINs are in {path}")
