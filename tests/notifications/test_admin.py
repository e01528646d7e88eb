"""The back office shows the outbox read-only, and never a webhook's signing secret."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from vigencia.notifications.services import notification_send, webhook_endpoint_set

pytestmark = pytest.mark.django_db


def test_admin_pages_render_read_only_without_secrets(client, user):
    _endpoint, secret = webhook_endpoint_set(user=user, url="https://hooks.example.com/h")
    [email_row, _webhook_row] = notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="admin"
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing = client.get("/admin/notifications/notification/")
    detail = client.get(f"/admin/notifications/notification/{email_row.pk}/change/")
    endpoints = client.get("/admin/notifications/webhookendpoint/")
    endpoint = client.get(f"/admin/notifications/webhookendpoint/{user.webhook_endpoint.pk}/change/")

    assert listing.status_code == 200
    assert user.email in listing.content.decode()
    assert detail.status_code == 200
    assert "Queued" in detail.content.decode()
    assert endpoints.status_code == 200
    assert endpoint.status_code == 200
    assert secret not in endpoint.content.decode()
    assert client.get("/admin/notifications/notification/add/").status_code == 403
    assert client.get("/admin/notifications/webhookendpoint/add/").status_code == 403
