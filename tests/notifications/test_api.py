"""/api/v1/notifications: the webhook endpoint (secret shown once) and the caller's notifications."""

from __future__ import annotations

import pytest

from vigencia.notifications.models import WebhookEndpoint
from vigencia.notifications.services import notification_send

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/webhook"


def test_creating_the_endpoint_shows_its_secret_once(api, user):
    # when
    created = api.put_json(URL, {"url": "https://hooks.example.com/vigencia"})

    # then
    assert created.status_code == 201
    body = created.json()
    assert (body["url"], body["active"]) == ("https://hooks.example.com/vigencia", True)
    assert body["secret"].startswith("whsec_")
    assert body["secret"] == WebhookEndpoint.objects.get(user=user).secret
    shown = api.get(URL)
    assert shown.status_code == 200
    assert (shown.json()["url"], shown.json()["secret"]) == ("https://hooks.example.com/vigencia", None)


def test_changing_the_url_keeps_the_secret_unless_rotated(api, user):
    secret = api.put_json(URL, {"url": "https://a.example.com/h"}).json()["secret"]

    changed = api.put_json(URL, {"url": "http://b.example.com:8080/h", "active": False})
    rotated = api.put_json(URL, {"url": "http://b.example.com:8080/h", "rotate_secret": True})

    assert changed.status_code == 200
    assert (changed.json()["url"], changed.json()["active"], changed.json()["secret"]) == (
        "http://b.example.com:8080/h",
        False,
        None,
    )
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (None, secret)
    assert WebhookEndpoint.objects.get(user=user).secret == rotated.json()["secret"]
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "https://exa mple.com/hook",
        "https://-bad-.com/hook",
        "http://example..com/",
        "not a url",
        "",
        "https://example.com/" + "a" * 500,
    ],
)
def test_a_bad_url_is_422_and_writes_nothing(api, url):
    response = api.put_json(URL, {"url": url})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_webhook_url"
    assert response.json()["details"] == {"field": "url"}
    assert WebhookEndpoint.objects.count() == 0


def test_a_bad_url_leaves_the_existing_endpoint_as_it_was(api, user):
    api.put_json(URL, {"url": "https://a.example.com/h"})

    response = api.put_json(URL, {"url": "gopher://a.example.com/h", "rotate_secret": True})

    assert response.status_code == 422
    endpoint = WebhookEndpoint.objects.get(user=user)
    assert endpoint.url == "https://a.example.com/h"


@pytest.mark.parametrize("body", [{}, {"url": None}, {"url": 5}, {"url": "https://a.example.com/\x00"}])
def test_a_malformed_body_is_422(api, body):
    response = api.put_json(URL, body)

    assert response.status_code == 422
    assert WebhookEndpoint.objects.count() == 0


def test_get_without_an_endpoint_is_404(api):
    response = api.get(URL)

    assert response.status_code == 404
    assert response.json()["code"] == "no_webhook"


def test_delete_removes_the_endpoint_and_is_idempotent(api, user):
    api.put_json(URL, {"url": "https://a.example.com/h"})

    assert api.delete(URL).status_code == 204
    assert api.delete(URL).status_code == 204
    assert WebhookEndpoint.objects.count() == 0
    assert api.get(URL).status_code == 404


def test_the_endpoint_is_the_callers_own(api, other_api, other_user):
    api.put_json(URL, {"url": "https://a.example.com/h"})

    assert other_api.get(URL).status_code == 404
    assert other_api.delete(URL).status_code == 204
    assert WebhookEndpoint.objects.filter(user__isnull=False).count() == 1


def test_notifications_are_listed_newest_first_and_paginated(api, user, other_user):
    for n in range(3):
        notification_send(
            user=user, kind="message", context={"subject": f"s{n}", "body": "b"}, dedupe_key=f"k{n}"
        )
    notification_send(
        user=other_user, kind="message", context={"subject": "x", "body": "y"}, dedupe_key="other"
    )

    page = api.get("/api/v1/notifications?limit=2&offset=0")
    rest = api.get("/api/v1/notifications?limit=2&offset=2")

    assert page.status_code == 200
    assert page.json()["count"] == 3
    first = page.json()["items"][0]
    assert set(first) == {"id", "kind", "channel", "status", "attempts", "created_at", "sent_at"}
    assert (first["kind"], first["channel"], first["status"], first["sent_at"]) == (
        "message",
        "email",
        "pending",
        None,
    )
    ids = [item["id"] for item in page.json()["items"] + rest.json()["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 3


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "limit=abc"])
def test_bad_pagination_is_422(api, query):
    assert api.get(f"/api/v1/notifications?{query}").status_code == 422


@pytest.mark.parametrize(
    ("method", "path"), [("get", ""), ("get", "/webhook"), ("put", "/webhook"), ("delete", "/webhook")]
)
def test_without_a_token_it_is_401(anon_api, method, path):
    response = getattr(anon_api, method)(f"/api/v1/notifications{path}")

    assert response.status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/h",
        "http://localhost/h",
        "https://api.localhost/h",
        "http://10.0.0.5/h",
        "http://192.168.1.1/h",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/h",
        "http://0.0.0.0/h",
    ],
)
def test_internal_hosts_are_refused_outside_development(api, settings, url):
    settings.VIGENCIA_WEBHOOK_ALLOW_INTERNAL_HOSTS = False

    response = api.put_json(URL, {"url": url})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_webhook_url"
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/h", "http://8.8.8.8:8080/h", "https://[2001:4860:4860::8888]/h"]
)
def test_public_hosts_are_accepted_outside_development(api, settings, url):
    settings.VIGENCIA_WEBHOOK_ALLOW_INTERNAL_HOSTS = False

    assert api.put_json(URL, {"url": url}).status_code == 201


def test_notifications_filter_by_status_and_channel(api, user, run_tasks):
    WebhookEndpoint.objects.create(user=user, url="https://hooks.example.com/h", secret="s", active=False)
    notification_send(user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="a")
    run_tasks()
    notification_send(
        user=user, kind="message", context={"subject": "s", "body": "b"}, dedupe_key="b", channels=["sms"]
    )

    sent = api.get("/api/v1/notifications?status=sent").json()
    sms = api.get("/api/v1/notifications?channel=sms&status=pending").json()

    assert [(item["channel"], item["status"]) for item in sent["items"]] == [("email", "sent")]
    assert [(item["channel"], item["status"]) for item in sms["items"]] == [("sms", "pending")]
    assert api.get("/api/v1/notifications?status=lost").status_code == 422
    assert api.get("/api/v1/notifications?channel=fax").status_code == 422
