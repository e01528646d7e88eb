"""Demo promotion (a code to try at checkout: 20% off an online Peruvian renewal, once each) and demo
exchange rates, so that the approximate CNY and USD amounts show (labelled source "demo": operators
replace them in the admin or with `vigencia fx_import`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TextIO

from vigencia.catalog.fx import fx_rate_set
from vigencia.catalog.models import Carrier, FxRate, Promotion, PromotionKind
from vigencia.core import clock

DEMO_CODE = "VIGENCIA20"
# Round figures near the market in late 2025; only ever shown as approximate.
DEMO_RATES = {
    ("PEN", "USD"): "0.29",
    ("PEN", "CNY"): "2.10",
    ("GBP", "USD"): "1.32",
    ("GBP", "CNY"): "9.40",
    ("HKD", "USD"): "0.128",
    ("HKD", "CNY"): "0.91",
    ("CNY", "USD"): "0.14",
}


def seed(out: TextIO) -> None:
    if not Promotion.objects.filter(code=DEMO_CODE).exists():
        now = clock.now()
        promotion = Promotion.objects.create(
            code=DEMO_CODE,
            name="20% off your online renewal",
            kind=PromotionKind.PERCENT_OFF,
            percent_off=20,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=365),
            channels=["online"],
            max_uses=100,
            max_uses_per_subscriber=1,
        )
        promotion.carriers.set(Carrier.objects.filter(country="PE"))
    if not FxRate.objects.exists():
        today = clock.today()
        for (base, quote), rate in DEMO_RATES.items():
            fx_rate_set(base=base, quote=quote, rate=Decimal(rate), as_of=today, source="demo")
    out.write(f"support: promotion code {DEMO_CODE} (20% off an online renewal in Peru)")
