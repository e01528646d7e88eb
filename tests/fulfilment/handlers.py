"""A fulfilment handler for tests: records what it was called with."""

from vigencia.fulfilment.models import FulfilmentTransaction

CALLS: list[tuple[str, str]] = []


def record(*, transaction: FulfilmentTransaction) -> None:
    CALLS.append((transaction.external_id, transaction.status))


def explode(*, transaction: FulfilmentTransaction) -> None:
    raise RuntimeError("handler failed")
