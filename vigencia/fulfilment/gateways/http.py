"""The HTTP client for an aggregator API (the shape `vigencia carrier-sim` serves)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from vigencia.core.money import Money
from vigencia.fulfilment.gateways.base import (
    CarrierGateway,
    GatewayProduct,
    GatewayRejected,
    GatewayTimeout,
    GatewayTransaction,
    GatewayUnavailable,
)

_WIRE_STATUSES = {"CREATED", "CONFIRMED", "SUBMITTED", "COMPLETED", "DECLINED", "REVERSED"}
API_KEY_HEADER = "X-Api-Key"


def transaction_from_json(data: Any) -> GatewayTransaction:
    """Read the aggregator's transaction JSON; anything unreadable is no answer, not a decline."""
    try:
        status = str(data["status"]).upper()
        if status not in _WIRE_STATUSES:
            raise ValueError(status)
        return GatewayTransaction(
            gateway_transaction_id=str(data["id"]),
            external_id=str(data["external_id"]),
            status=status.lower(),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GatewayUnavailable(f"unreadable transaction from the gateway: {exc!r}")


class AggregatorGateway(CarrierGateway):
    name = "aggregator"

    def __init__(self, *, base_url: str, api_key: str, timeout: float) -> None:
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={API_KEY_HEADER: api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
        )

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise GatewayTimeout(f"{method} {path}: timed out ({exc.__class__.__name__})")
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"{method} {path}: {exc.__class__.__name__}: {exc}")
        if response.status_code >= 500 or response.status_code in {401, 403, 408, 429}:
            raise GatewayUnavailable(f"{method} {path}: HTTP {response.status_code}")
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise GatewayUnavailable(f"HTTP {response.status_code} with a body that is not JSON")

    def detect_operator(self, *, msisdn: str) -> str:
        response = self._request("GET", "/operators/detect", params={"msisdn": msisdn})
        if response.status_code != 200:
            raise GatewayRejected(f"no operator for this number (HTTP {response.status_code})")
        return str(self._json(response).get("operator", ""))

    def products(self, *, operator: str) -> list[GatewayProduct]:
        response = self._request("GET", "/products", params={"operator": operator})
        if response.status_code != 200:
            raise GatewayRejected(f"no products (HTTP {response.status_code})")
        return [
            GatewayProduct(
                code=str(item["code"]),
                operator=operator,
                amount=Money(int(item["amount_minor"]), str(item["currency"])),
            )
            for item in self._json(response).get("products", [])
        ]

    def create_transaction(
        self, *, external_id: str, msisdn: str, operator: str, product: str, amount: Money
    ) -> GatewayTransaction:
        body = {
            "external_id": external_id,
            "msisdn": msisdn,
            "operator": operator,
            "product": product,
            "amount": amount.as_dict(),
        }
        response = self._request("POST", "/transactions", json=body)
        if response.status_code == 409:
            # The external id exists: a retry of a request whose answer was lost. Use that one.
            existing = self._json(response).get("transaction")
            if existing is None:
                found = self.find_transaction(external_id=external_id)
                if found is None:
                    raise GatewayUnavailable("duplicate external id reported but not found")
                return found
            return transaction_from_json(existing)
        if response.status_code in {200, 201}:
            return transaction_from_json(self._json(response))
        raise GatewayRejected(f"create refused: HTTP {response.status_code} {response.text[:200]}")

    def confirm_transaction(self, *, gateway_transaction_id: str) -> GatewayTransaction:
        response = self._request("POST", f"/transactions/{quote(gateway_transaction_id, safe='')}/confirm")
        if response.status_code != 200:
            # Whether it was confirmed is unknown to us: poll, never decline on this alone.
            raise GatewayUnavailable(f"confirm refused: HTTP {response.status_code}")
        return transaction_from_json(self._json(response))

    def get_transaction(self, *, gateway_transaction_id: str) -> GatewayTransaction:
        response = self._request("GET", f"/transactions/{quote(gateway_transaction_id, safe='')}")
        if response.status_code != 200:
            raise GatewayUnavailable(f"status unknown: HTTP {response.status_code}")
        return transaction_from_json(self._json(response))

    def find_transaction(self, *, external_id: str) -> GatewayTransaction | None:
        response = self._request("GET", "/transactions", params={"external_id": external_id})
        if response.status_code != 200:
            raise GatewayUnavailable(f"lookup failed: HTTP {response.status_code}")
        items = self._json(response).get("transactions")
        if not isinstance(items, list):
            raise GatewayUnavailable("lookup answer without a transaction list")
        return transaction_from_json(items[0]) if items else None
