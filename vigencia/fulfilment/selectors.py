"""Fulfilment reads."""

from __future__ import annotations

from django.db.models import QuerySet

from vigencia.fulfilment.models import FINAL_STATUSES, FulfilmentTransaction


def fulfilment_for_reference(*, reference: str) -> FulfilmentTransaction | None:
    return FulfilmentTransaction.objects.filter(reference=reference).order_by("-created_at", "-pk").first()


def fulfilment_pending() -> QuerySet[FulfilmentTransaction]:
    """Top-ups not final yet, the next to check first."""
    return FulfilmentTransaction.objects.exclude(status__in=FINAL_STATUSES).order_by("next_check_at", "pk")
