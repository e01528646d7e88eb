"""Background work for fulfilment: thin wrappers around the services."""

from __future__ import annotations

from django_tasks import task

from vigencia.fulfilment import services


@task()
def submit_transaction(transaction_id: int) -> None:
    """A new top-up's task: submits it with the others waiting (`fulfilment_submit_waiting`)."""
    services.fulfilment_submit_waiting(transaction_id=transaction_id)


@task()
def submit_transactions(transaction_ids: list[int]) -> None:
    services.fulfilment_submit_many(transaction_ids=transaction_ids)


@task()
def reconcile_pending() -> dict[str, int]:
    return services.fulfilment_reconcile()
