"""Catalog reads."""

from __future__ import annotations

from datetime import datetime

from django.core.validators import slug_re
from django.db.models import Q, QuerySet

from vigencia.catalog.models import Carrier, Plan
from vigencia.core import clock


def carrier_list() -> QuerySet[Carrier]:
    return Carrier.objects.filter(is_active=True)


def carrier_get(*, code: str) -> Carrier | None:
    """An active carrier by code; None for anything that is not one (including text that is no slug,
    which would otherwise reach the database: NUL bytes make PostgreSQL raise)."""
    if not isinstance(code, str) or len(code) > 40 or not slug_re.fullmatch(code):
        return None
    return Carrier.objects.filter(code=code, is_active=True).first()


def plan_list_on_sale(*, carrier: Carrier | None = None) -> QuerySet[Plan]:
    """Plans a subscriber can buy now: active and inside their sale window."""
    now = clock.now()
    plans = (
        Plan.objects.select_related("carrier")
        .filter(is_active=True, carrier__is_active=True)
        .filter(Q(active_from__isnull=True) | Q(active_from__lte=now))
        .filter(Q(active_until__isnull=True) | Q(active_until__gt=now))
    )
    if carrier is not None:
        plans = plans.filter(carrier=carrier)
    return plans


def plan_is_on_sale(*, plan: Plan, carrier: Carrier, at: datetime | None = None) -> bool:
    """`plan` (of `carrier`, both as loaded) passes plan_list_on_sale's filter, without a query."""
    at = at or clock.now()
    return (
        plan.is_active
        and carrier.is_active
        and plan.carrier_id == carrier.pk
        and (plan.active_from is None or plan.active_from <= at)
        and (plan.active_until is None or plan.active_until > at)
    )
