"""The back office lists payments and webhook events, read-only."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from vigencia.payments.services import payment_process

pytestmark = pytest.mark.django_db


def test_admin_pages_render_read_only(make_intent, deliver, client):
    from .conftest import event_for

    intent = make_intent()
    payment_process(intent=intent)
    deliver(event_for(intent, "payment.succeeded", "evt_admin"))
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get("/admin/payments/paymentintent/")
    assert listing.status_code == 200
    assert intent.public_id in listing.content.decode()
    detail = client.get(f"/admin/payments/paymentintent/{intent.pk}/change/")
    assert detail.status_code == 200
    assert "Save" not in detail.content.decode()
    assert client.get("/admin/payments/webhookevent/").status_code == 200
    assert client.get("/admin/payments/paymentintent/add/").status_code == 403
