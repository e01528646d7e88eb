"""A carrier aggregator simulated in memory: the engine behind both the in-process gateway (the
default, deterministic, completes immediately) and the `vigencia carrier-sim` HTTP server.

Like a real aggregator it dedupes by external id and confirms at most once, and it counts every
top-up it applies per external id and per number so tests can prove nothing was topped up twice.
"""

from __future__ import annotations

import collections
import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigencia.core.money import Money
from vigencia.fulfilment.gateways.base import (
    CarrierGateway,
    GatewayProduct,
    GatewayRejected,
    GatewayTimeout,
    GatewayTransaction,
    GatewayUnavailable,
)

# Operators by country calling code: portability makes the prefix a guess, as it is for real APIs.
OPERATORS = {
    "+51": "claro-pe",
    "+44": "giffgaff-uk",
    "+852": "cmhk-hk",
    "+86": "china-mobile-cn",
}
CURRENCIES = {"claro-pe": "PEN", "giffgaff-uk": "GBP", "cmhk-hk": "HKD", "china-mobile-cn": "CNY"}
# A ranged product: any amount in these bounds (minor units) is sold.
MIN_AMOUNT, MAX_AMOUNT = 100, 1_000_000
# Test numbers, like a PSP's test cards: the carrier declines every top-up to them, so anyone trying
# Vigencia can watch a carrier decline end with the money back (README, "Renew online").
DECLINED_NUMBERS = frozenset({"+51999000002"})


@dataclass
class SimTopup:
    id: str
    external_id: str
    msisdn: str
    operator: str
    product: str
    amount_minor: int
    currency: str
    status: str = "CREATED"  # the aggregator's wire states are upper case
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["amount"] = {"amount_minor": data.pop("amount_minor"), "currency": data.pop("currency")}
        return data


class SimulatorInputError(ValueError):
    pass


class CarrierSimulator:
    """Thread-safe aggregator state. `on_change(topup)` is called after every status change."""

    def __init__(self, on_change: Callable[[SimTopup], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.on_change = on_change
        self.transactions: dict[str, SimTopup] = {}
        self.by_external_id: dict[str, SimTopup] = {}
        self.topups_by_external_id: collections.Counter[str] = collections.Counter()
        self.topups_by_msisdn: collections.Counter[str] = collections.Counter()

    def detect_operator(self, msisdn: str) -> str | None:
        for prefix in sorted(OPERATORS, key=len, reverse=True):
            if msisdn.startswith(prefix):
                return OPERATORS[prefix]
        return None

    def products(self, operator: str) -> list[dict[str, Any]]:
        currency = CURRENCIES.get(operator)
        if currency is None:
            return []
        return [
            {
                "code": f"{operator}-topup-{amount}",
                "operator": operator,
                "amount_minor": amount,
                "currency": currency,
            }
            for amount in (500, 1000, 2000, 3000)
        ]

    def create(
        self, *, external_id: str, msisdn: str, operator: str, product: str, amount_minor: int, currency: str
    ) -> tuple[SimTopup, bool]:
        """Returns (top-up, created); an existing external id returns the first one, unchanged."""
        if not external_id or not msisdn.startswith("+") or not msisdn[1:].isdigit() or not product:
            raise SimulatorInputError("external_id, msisdn (E.164) and product are required")
        if not isinstance(amount_minor, int) or not MIN_AMOUNT <= amount_minor <= MAX_AMOUNT:
            raise SimulatorInputError("amount out of range")
        with self._lock:
            existing = self.by_external_id.get(external_id)
            if existing is not None:
                return existing, False
            topup = SimTopup(
                id=f"sim-{next(self._ids):06d}",
                external_id=external_id,
                msisdn=msisdn,
                operator=operator,
                product=product,
                amount_minor=amount_minor,
                currency=currency,
            )
            self.transactions[topup.id] = topup
            self.by_external_id[external_id] = topup
        self._changed(SimTopup(**asdict(topup)))
        return topup, True

    def confirm(self, topup_id: str, *, decline: bool = False) -> SimTopup:
        """CREATED -> CONFIRMED -> SUBMITTED -> COMPLETED (one top-up) or DECLINED; any later
        confirm returns the top-up as it is. Raises KeyError for an unknown id."""
        with self._lock:
            topup = self.transactions[topup_id]
            if topup.status != "CREATED":
                return topup
            decline = decline or topup.msisdn in DECLINED_NUMBERS
            steps = ["CONFIRMED", "SUBMITTED", "DECLINED" if decline else "COMPLETED"]
            topup.status = steps[-1]
            if not decline:
                self.topups_by_external_id[topup.external_id] += 1
                self.topups_by_msisdn[topup.msisdn] += 1
        for step in steps:
            self._changed(SimTopup(**{**asdict(topup), "status": step}))
        return topup

    def get(self, topup_id: str) -> SimTopup | None:
        return self.transactions.get(topup_id)

    def find(self, external_id: str) -> SimTopup | None:
        return self.by_external_id.get(external_id)

    def stats(self) -> dict[str, object]:
        with self._lock:
            return {
                "transactions": len(self.transactions),
                "by_status": dict(collections.Counter(t.status for t in self.transactions.values())),
                "topups_by_external_id": dict(self.topups_by_external_id),
                "topups_by_msisdn": dict(self.topups_by_msisdn),
                "double_topups": sum(1 for count in self.topups_by_external_id.values() if count > 1),
            }

    def _changed(self, topup: SimTopup) -> None:
        if self.on_change is not None:
            self.on_change(topup)


def _as_gateway_transaction(topup: SimTopup) -> GatewayTransaction:
    return GatewayTransaction(
        gateway_transaction_id=topup.id, external_id=topup.external_id, status=topup.status.lower()
    )


class SimulatorGateway(CarrierGateway):
    """The in-process gateway: deterministic and immediate. Test hooks: `fail_next(n, fault)` makes
    the next n calls fail with "timeout" (lost request: nothing applied), "lost_response" (applied,
    then the answer is lost) or "error" (a 5xx, nothing applied); `decline_next(n)` declines the
    next n confirmations; `fault_rate(rate, rng)` makes each new top-up fail on its own, as real
    faults do (with probability `rate`: half declined, half a timeout with nothing applied)."""

    name = "simulator"

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.carrier = CarrierSimulator()
        self._faults: collections.deque[str] = collections.deque()
        self._declines = 0
        self._declined: set[str] = set()
        self._drawn: set[str] = set()
        self._rate = 0.0
        self._rng = random.Random(0)  # noqa: S311 - fault injection, not secrets
        self.faults_injected = 0
        self.calls: list[str] = []

    def fault_rate(self, rate: float, rng: random.Random) -> None:
        if not 0 <= rate < 1:
            raise ValueError(rate)
        self._rate, self._rng = rate, rng

    def _draw_fault(self, external_id: str) -> None:
        """A new top-up's own fault, drawn once: raise the timeout now, or mark it to be declined."""
        if not self._rate or external_id in self._drawn:
            return
        self._drawn.add(external_id)
        if self._rng.random() >= self._rate:
            return
        self.faults_injected += 1
        if self._rng.random() < 0.5:
            self._declined.add(external_id)
            return
        raise GatewayTimeout("simulated timeout on create")

    def fail_next(self, count: int, fault: str = "timeout") -> None:
        if fault not in {"timeout", "lost_response", "error"}:
            raise ValueError(fault)
        self._faults.extend([fault] * count)

    def decline_next(self, count: int) -> None:
        self._declines += count

    def _call(self, operation: str, apply: Callable[[], SimTopup | None]) -> SimTopup | None:
        self.calls.append(operation)
        fault = self._faults.popleft() if self._faults else None
        if fault == "timeout":
            raise GatewayTimeout(f"simulated timeout on {operation}")
        if fault == "error":
            raise GatewayUnavailable(f"simulated 503 on {operation}")
        result = apply()
        if fault == "lost_response":
            raise GatewayTimeout(f"simulated lost response on {operation}")
        return result

    def detect_operator(self, *, msisdn: str) -> str:
        operator = self.carrier.detect_operator(msisdn)
        if operator is None:
            raise GatewayRejected("no operator for this number")
        return operator

    def products(self, *, operator: str) -> list[GatewayProduct]:
        return [
            GatewayProduct(
                code=str(p["code"]),
                operator=operator,
                amount=Money(int(p["amount_minor"]), str(p["currency"])),
            )
            for p in self.carrier.products(operator)
        ]

    def create_transaction(
        self, *, external_id: str, msisdn: str, operator: str, product: str, amount: Money
    ) -> GatewayTransaction:
        def apply() -> SimTopup:
            try:
                topup, _created = self.carrier.create(
                    external_id=external_id,
                    msisdn=msisdn,
                    operator=operator,
                    product=product,
                    amount_minor=amount.amount_minor,
                    currency=amount.currency,
                )
            except SimulatorInputError as exc:
                raise GatewayRejected(str(exc))
            return topup

        self._draw_fault(external_id)
        topup = self._call("create", apply)
        assert topup is not None
        return _as_gateway_transaction(topup)

    def confirm_transaction(self, *, gateway_transaction_id: str) -> GatewayTransaction:
        def apply() -> SimTopup:
            decline = False
            topup = self.carrier.get(gateway_transaction_id)
            if topup is None:
                raise GatewayUnavailable("unknown transaction")
            if topup.status == "CREATED" and topup.external_id in self._declined:
                self._declined.discard(topup.external_id)
                decline = True
            elif topup.status == "CREATED" and self._declines:
                self._declines -= 1
                decline = True
            return self.carrier.confirm(gateway_transaction_id, decline=decline)

        topup = self._call("confirm", apply)
        assert topup is not None
        return _as_gateway_transaction(topup)

    def get_transaction(self, *, gateway_transaction_id: str) -> GatewayTransaction:
        topup = self._call("get", lambda: self.carrier.get(gateway_transaction_id))
        if topup is None:
            raise GatewayUnavailable("unknown transaction")
        return _as_gateway_transaction(topup)

    def find_transaction(self, *, external_id: str) -> GatewayTransaction | None:
        topup = self._call("find", lambda: self.carrier.find(external_id))
        return _as_gateway_transaction(topup) if topup else None


# One per process, like the state a real aggregator keeps; tests call `simulator.reset()`.
simulator = SimulatorGateway()
