"""A fulfilment handler for tests: records what it was called with."""

from vigencia.fulfilment.models import FulfilmentTransaction

CALLS: list[tuple[str, str]] = []


def record(*, transactions: list[FulfilmentTransaction]) -> None:
    CALLS.extend((transaction.external_id, transaction.status) for transaction in transactions)


def explode(*, transactions: list[FulfilmentTransaction]) -> None:
    raise RuntimeError("handler failed")
