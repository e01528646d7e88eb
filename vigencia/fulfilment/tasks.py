"""Background work for fulfilment: thin wrappers around the services."""

from __future__ import annotations

from django_tasks import task

from vigencia.fulfilment import services
from vigencia.fulfilment.models import FulfilmentTransaction


@task()
def submit_transaction(transaction_id: int) -> None:
    transaction = FulfilmentTransaction.objects.filter(pk=transaction_id).first()
    if transaction is not None:
        services.fulfilment_submit(transaction=transaction)


@task()
def submit_transactions(transaction_ids: list[int]) -> None:
    services.fulfilment_submit_many(transaction_ids=transaction_ids)


@task()
def reconcile_pending() -> dict[str, int]:
    return services.fulfilment_reconcile()
