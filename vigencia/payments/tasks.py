"""Background work for payments: thin wrappers around the providers and services."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from vigencia.payments import services
from vigencia.payments.providers.sandbox import SandboxProvider


@task()
def sandbox_webhook_deliver(event: dict[str, Any]) -> bool:
    """The sandbox PSP sends an event: a request signed at sending time, received by the same
    service the HTTP endpoint calls. Returns whether this delivery handled it."""
    headers, body = SandboxProvider().webhook_request(event=event)
    _row, handled = services.webhook_receive(provider=SandboxProvider.name, headers=headers, body=body)
    return handled


@task()
def payments_cancel_abandoned_task() -> int:
    return services.payments_cancel_abandoned()
