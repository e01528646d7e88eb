"""Catalog reads."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from vigencia.catalog.models import Carrier, Plan
from vigencia.core import clock


def carrier_list() -> QuerySet[Carrier]:
    return Carrier.objects.filter(is_active=True)


def carrier_get(*, code: str) -> Carrier | None:
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
