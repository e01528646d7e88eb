from __future__ import annotations

import pytest

from tests.fulfilment import handlers
from vigencia.core.money import Money
from vigencia.fulfilment.models import FulfilmentTransaction
from vigencia.fulfilment.services import fulfilment_start

SECRET = "test-carrier-secret"


@pytest.fixture(autouse=True)
def _fulfilment_settings(settings):
    settings.VIGENCIA_CARRIER_GATEWAY = "simulator"
    settings.VIGENCIA_CARRIER_CALLBACK_SECRET = SECRET
    settings.VIGENCIA_FULFILMENT_HANDLERS = {"order": "tests.fulfilment.handlers.record"}
    settings.VIGENCIA_FULFILMENT_RETRY_SECONDS = 30
    settings.VIGENCIA_FULFILMENT_RETRY_MAX_SECONDS = 1800
    handlers.CALLS.clear()


@pytest.fixture
def start(db):
    """Start a top-up for order `n` (the task is enqueued, not run)."""

    def start(n: int = 42, msisdn: str = "+51912345678", amount: int = 1000) -> FulfilmentTransaction:
        return fulfilment_start(
            external_id=f"order-{n}",
            reference=f"order:{n}",
            msisdn=msisdn,
            carrier_code="claro-pe",
            plan_code="claro-10",
            amount=Money(amount, "PEN"),
        )

    return start
