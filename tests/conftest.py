"""Shared fixtures. Tests read given / when / then and assert exact values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.test import Client

from vigencia.accounts.models import User
from vigencia.accounts.services import api_token_issue
from vigencia.catalog.models import Carrier
from vigencia.core import clock

from .factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_catalog(db) -> None:
    """The demo carriers and plans, exactly as `vigencia seed_demo` loads them."""
    from io import StringIO

    from vigencia.catalog import demo

    demo.seed(StringIO())


@pytest.fixture
def claro(demo_catalog) -> Carrier:
    return Carrier.objects.get(code="claro-pe")


@pytest.fixture
def user(db) -> User:
    return UserFactory()


@pytest.fixture
def other_user(db) -> User:
    return UserFactory()


class ApiClient(Client):
    """A test client that speaks JSON to /api/v1 with a bearer token."""

    def __init__(self, token: str | None = None, **defaults) -> None:
        if token:
            defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        super().__init__(**defaults)

    def post_json(self, path: str, data=None, **extra):
        return self.post(
            path, data=data if data is not None else {}, content_type="application/json", **extra
        )

    def patch_json(self, path: str, data=None, **extra):
        return self.patch(
            path, data=data if data is not None else {}, content_type="application/json", **extra
        )

    def put_json(self, path: str, data=None, **extra):
        return self.put(path, data=data if data is not None else {}, content_type="application/json", **extra)


@pytest.fixture
def anon_api() -> ApiClient:
    return ApiClient()


@pytest.fixture
def api(user) -> ApiClient:
    _row, token = api_token_issue(user=user)
    return ApiClient(token)


@pytest.fixture
def other_api(other_user) -> ApiClient:
    _row, token = api_token_issue(user=other_user)
    return ApiClient(token)


@pytest.fixture
def frozen_clock() -> Iterator:
    """Use as `with frozen_clock(at): ...` to run services at another instant."""
    return clock.frozen


@pytest.fixture
def seeded(db) -> None:
    call_command("seed_demo", verbosity=0)


@pytest.fixture
def run_tasks(db):
    """Run every ready background task, as `vigencia worker --burst` does; returns how many ran.

    Inside a test's transaction the worker must not close the connection between tasks (it does so
    in production to drop stale connections), so that call is neutralised here."""
    from unittest import mock

    from django_tasks_db.models import DBTaskResult

    def run() -> int:
        before = DBTaskResult.objects.filter(status="SUCCESSFUL").count()
        with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
            call_command("worker", burst=True, verbosity=0)
        return DBTaskResult.objects.filter(status="SUCCESSFUL").count() - before

    return run


@pytest.fixture(autouse=True)
def _ledger_verifies(request):
    """After every test that used the database, the ledger's invariants hold."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if transactional:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        yield
        return
    yield
    from vigencia.ledger.selectors import ledger_verify

    assert ledger_verify() == [], "the ledger does not verify after this test"
