"""Response bodies of /api/v1/carriers and /api/v1/plans."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from vigencia.catalog.models import Carrier, Plan
from vigencia.core.schemas import MoneyOut


class PolicyOut(Schema):
    kind: str
    restrict_after_days: int | None
    cutoff_after_days: int
    recycle_after_cutoff_days: int
    notice_days: int
    balance_extends_life: bool
    balance_max_days: int | None


class CarrierOut(Schema):
    code: str
    name: str
    country: str
    currency: str
    policy: PolicyOut

    @staticmethod
    def resolve_policy(carrier: Carrier) -> dict[str, Any]:
        return carrier.policy()


class PlanOut(Schema):
    """A plan; `name` is in the language of the request."""

    id: int
    code: str
    carrier: str
    name: str
    price: MoneyOut
    validity_days: int
    data_mb: int
    minutes: int
    sms: int

    @staticmethod
    def resolve_carrier(plan: Plan) -> str:
        return plan.carrier.code

    @staticmethod
    def resolve_price(plan: Plan) -> dict[str, Any]:
        return plan.price.as_dict()
