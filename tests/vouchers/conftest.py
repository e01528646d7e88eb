from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group

from vigencia.accounts import roles
from vigencia.accounts.models import User
from vigencia.catalog.models import Plan
from vigencia.core.money import Money
from vigencia.lines.services import line_add
from vigencia.vouchers.models import VoucherBatch
from vigencia.vouchers.services import batch_create, reseller_prepaid_credit

from ..factories import UserFactory


@pytest.fixture
def plan(claro) -> Plan:
    return Plan.objects.get(carrier=claro, code="max-10")


@pytest.fixture
def line(user, claro):
    return line_add(owner=user, msisdn="+51 912 345 678", carrier=claro)


@pytest.fixture
def reseller(db) -> User:
    roles.roles_ensure()
    user = UserFactory(email="shop@example.com")
    user.groups.add(Group.objects.get(name=roles.RESELLER))
    reseller_prepaid_credit(reseller=user, amount=Money(100_000, "PEN"), reference="test-transfer")
    return user


@pytest.fixture
def operator(db) -> User:
    """Staff with the operator role: runs the business (support agents are staff too)."""
    roles.roles_ensure()
    user = UserFactory(email="ops@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.OPERATOR))
    return user


@dataclass
class Made:
    batch: VoucherBatch
    pins: list[str]
    serials: list[str]


@pytest.fixture
def make_batch(plan, reseller):
    """Create a batch sold to the reseller; returns it with its PINs as the export would carry them."""

    def make(count: int = 3, **kwargs) -> Made:
        pairs: list[tuple[str, str]] = []
        kwargs.setdefault("reseller", reseller)
        batch = batch_create(
            plan=kwargs.pop("plan", plan), count=count, sink=lambda _b, chunk: pairs.extend(chunk), **kwargs
        )
        return Made(batch=batch, pins=[pin for _s, pin in pairs], serials=[serial for serial, _p in pairs])

    return make
