"""The carrier gateway interface: the shape of top-up aggregator APIs (Reloadly, DT One, Ding).

Operator lookup from a number, a product catalog, a transaction created with our unique external id
and then confirmed, its status (CREATED -> CONFIRMED -> SUBMITTED -> COMPLETED | DECLINED | REVERSED),
callbacks on every change and polling as the fallback. A gateway dedupes by external id: creating
the same external id twice returns the first transaction, so a retried submission never tops up twice.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from vigencia.core.money import Money


class GatewayUnavailable(Exception):
    """No definitive answer (timeout, connection error, 5xx, a body we cannot read): the request may
    or may not have been applied, so the caller must ask again later, never assume either way."""


class GatewayTimeout(GatewayUnavailable):
    pass


class GatewayRejected(Exception):
    """A definitive refusal of a request (bad number, unknown product): nothing was applied."""


@dataclass(frozen=True, slots=True)
class GatewayTransaction:
    gateway_transaction_id: str
    external_id: str
    status: str  # a FulfilmentStatus value


@dataclass(frozen=True, slots=True)
class GatewayProduct:
    code: str
    operator: str
    amount: Money


class CarrierGateway(abc.ABC):
    name: str

    @abc.abstractmethod
    def detect_operator(self, *, msisdn: str) -> str: ...

    @abc.abstractmethod
    def products(self, *, operator: str) -> list[GatewayProduct]: ...

    @abc.abstractmethod
    def create_transaction(
        self, *, external_id: str, msisdn: str, operator: str, product: str, amount: Money
    ) -> GatewayTransaction:
        """Create (not yet confirm) a top-up; an existing external id returns the existing one."""

    @abc.abstractmethod
    def confirm_transaction(self, *, gateway_transaction_id: str) -> GatewayTransaction:
        """Confirm a created top-up; confirming one already confirmed returns its current state."""

    @abc.abstractmethod
    def get_transaction(self, *, gateway_transaction_id: str) -> GatewayTransaction: ...

    @abc.abstractmethod
    def find_transaction(self, *, external_id: str) -> GatewayTransaction | None: ...
