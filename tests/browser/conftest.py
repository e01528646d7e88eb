"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server (plain http)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from vigencia.accounts.models import User

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def live_http(settings, monkeypatch) -> None:
    """The live server speaks plain http, and serves static files without a manifest."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_SECURE = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def chromium(live_http) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Under Playwright's running event loop the test body's ORM calls get their own database
            # connection, which Django's teardown never sees: close it here, or it outlives the
            # session and the test database cannot be dropped.
            connection.close()


@pytest.fixture
def log_in(live_server) -> Callable[[Any, User], None]:
    """`log_in(context, user)`: the Playwright browser context is logged in as `user` — it carries the
    session cookie of a test client's login, so a test that is not about the login form skips it."""

    def log_in(context: Any, user: User) -> None:
        client = Client()
        client.force_login(user)
        session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )

    return log_in
