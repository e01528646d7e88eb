from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import CarrierFactory, PlanFactory
from vigencia.core import clock
from vigencia.lines.models import Line
from vigencia.usage.models import Tariff

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def plan(db):
    carrier = CarrierFactory(code="claro-test", currency="PEN")
    return PlanFactory(carrier=carrier, validity_days=30, data_mb=10, minutes=5, sms=3, currency="PEN")


@pytest.fixture
def tariff(plan):
    return Tariff.objects.create(
        plan=plan,
        money_credit_minor=1000,
        voice_rounding="per_second",
        data_step_kb=10,
        voice_national_per_minute_minor=20,
        voice_international_per_minute_minor=150,
        sms_national_minor=10,
        sms_international_minor=50,
        data_per_mb_minor=5,
    )


@pytest.fixture
def line(user, plan):
    return Line.objects.create(owner=user, msisdn="+51912345678", carrier=plan.carrier)


@pytest.fixture
def at_t0():
    with clock.frozen(T0):
        yield T0
