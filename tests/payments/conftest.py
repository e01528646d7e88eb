from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import RequestFactory

from vigencia.core import clock
from vigencia.core.money import Money
from vigencia.core.signing import signature_header
from vigencia.payments.models import PaymentIntent
from vigencia.payments.services import payment_create

# What the test handler saw: (payment id, status) per call.
HANDLED: list[tuple[str, str]] = []


def record(*, intent: PaymentIntent) -> None:
    HANDLED.append((intent.public_id, intent.status))


@pytest.fixture(autouse=True)
def _pages(settings) -> None:
    """Pages render without a collected static manifest; and the portal's base.html is another
    app's, so stand in for it while it cannot render."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    if not _base_template_renders():
        settings.TEMPLATES = [
            {
                **settings.TEMPLATES[0],
                "DIRS": [Path(__file__).parent / "templates", *settings.TEMPLATES[0]["DIRS"]],
            }
        ]


def _base_template_renders() -> bool:
    # base.html is being written beside this app (it may still miss the pages it links to); these
    # tests are about the payment pages, so they fall back to a bare stand-in while it cannot render.
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    try:
        render_to_string("base.html", request=request)
    except Exception:  # any failure of another app's template
        return False
    return True


@pytest.fixture
def handled(settings) -> list[tuple[str, str]]:
    settings.VIGENCIA_PAYMENT_HANDLERS = {"test": "tests.payments.conftest.record"}
    HANDLED.clear()
    return HANDLED


@pytest.fixture
def make_intent(user):
    def make(
        method: str = "sandbox_card", amount_minor: int = 1500, payer=None, **extra: Any
    ) -> PaymentIntent:
        return payment_create(
            payer=payer or user,
            amount=Money(amount_minor, "PEN"),
            method=method,
            purpose="test",
            purpose_id="T-1",
            **extra,
        )

    return make


def signed(event: dict[str, Any], *, secret: str | None = None, at: int | None = None) -> tuple[bytes, str]:
    from django.conf import settings

    body = json.dumps(event).encode()
    timestamp = at if at is not None else int(clock.now().timestamp())
    return body, signature_header(
        secret=secret or settings.VIGENCIA_SANDBOX_WEBHOOK_SECRET, body=body, timestamp=timestamp
    )


def event_for(intent: PaymentIntent, type: str, event_id: str, **data: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": type,
        "created": 0,
        "data": {
            "payment_id": intent.public_id,
            "amount_minor": intent.amount_minor,
            "currency": intent.currency,
            **data,
        },
    }


@pytest.fixture
def deliver(anon_api):
    """POST an event to the webhook endpoint, signed as the sandbox signs it (or not)."""

    def post(
        event: dict[str, Any],
        *,
        secret: str | None = None,
        at: int | None = None,
        signature: str | None = None,
    ):
        body, header = signed(event, secret=secret, at=at)
        return anon_api.generic(
            "POST",
            "/api/v1/payments/webhooks/sandbox",
            body,
            content_type="application/json",
            HTTP_VIGENCIA_SIGNATURE=signature if signature is not None else header,
        )

    return post
