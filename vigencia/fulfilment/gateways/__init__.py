"""Choose the carrier gateway from settings: "simulator" (in-process) or an aggregator's base URL."""

from __future__ import annotations

import functools

from django.conf import settings

from vigencia.fulfilment.gateways.base import CarrierGateway


def gateway_get() -> CarrierGateway:
    return _gateway(
        settings.VIGENCIA_CARRIER_GATEWAY,
        settings.VIGENCIA_CARRIER_API_KEY,
        float(settings.VIGENCIA_CARRIER_TIMEOUT_SECONDS),
    )


@functools.lru_cache(maxsize=8)
def _gateway(target: str, api_key: str, timeout: float) -> CarrierGateway:
    if target.startswith(("http://", "https://")):
        from vigencia.fulfilment.gateways.http import AggregatorGateway

        return AggregatorGateway(base_url=target, api_key=api_key, timeout=timeout)
    if target == "simulator":
        from vigencia.fulfilment.gateways.simulator import simulator

        return simulator
    raise ValueError(f"VIGENCIA_CARRIER_GATEWAY must be 'simulator' or an http(s) URL, not {target!r}")
