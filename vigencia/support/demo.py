"""Demo promotion: a code to try at checkout (20% off an online Peruvian renewal, once each)."""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from vigencia.catalog.models import Carrier, Promotion, PromotionKind
from vigencia.core import clock

DEMO_CODE = "VIGENCIA20"


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
    out.write(f"support: promotion code {DEMO_CODE} (20% off an online renewal in Peru)")
