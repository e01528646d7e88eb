"""Shared fixtures. Tests read given / when / then and assert exact values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import ManagementUtility, call_command
from django.test import Client
from django.utils import translation

from vigencia.accounts.models import User
from vigencia.accounts.services import api_token_issue
from vigencia.catalog.models import Carrier, Plan
from vigencia.core import clock
from vigencia.core.money import Money
from vigencia.ledger.services import account_system, account_wallet, ledger_post
from vigencia.lines.services import line_add

from .factories import UserFactory

# Fixtures of fake outside services, shared by the apps' tests and the browser tests.
pytest_plugins = ["tests.telegram_api"]


@pytest.fixture(autouse=True, scope="session")
def _own_var_dir(tmp_path_factory) -> Iterator[None]:
    """Tests write their files (demo exports with their PINs, held voucher exports, mail, SMS) in a
    folder of their own: in the project's var/ they replaced the demo's PIN files and held exports of
    the install the developer runs with `make run`, whose database knows other PINs and batches."""
    from django.test import override_settings

    var = tmp_path_factory.mktemp("var")
    with override_settings(
        VAR_DIR=var,
        VIGENCIA_VOUCHER_EXPORT_DIR=var / "voucher_exports",
        VIGENCIA_SMS_DIR=var / "sms",
        EMAIL_FILE_PATH=str(var / "mail"),
    ):
        yield


@pytest.fixture(autouse=True)
def _fast_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_carrier() -> None:
    """Every test starts with an empty in-process carrier and no faults armed: a top-up another test
    left under the same external id (ids repeat across tests) would otherwise answer for this one."""
    from vigencia.fulfilment.gateways.simulator import simulator

    simulator.reset()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language: a request answered in a user's language (the API
    activates it for the thread) must not decide the language of the next test's service calls."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _plain_static(settings) -> None:
    """Pages render from a fresh clone: static files by their plain names, no collected manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def command_line(capsys, monkeypatch):
    """Run `vigencia ARG…` as a shell does, argument parsing included (call_command skips the
    argument types): returns (exit status, stdout, stderr). A traceback fails the test.

    A command run from the shell closes its database connections when it ends; here that would
    close the test's own transaction (PostgreSQL), so they stay open."""
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            ManagementUtility(["vigencia", *argv]).execute()
            status = 0
        except SystemExit as exit_:
            status = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return status, out, err

    return run


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
            call_command("worker", burst=True, beat=0, verbosity=0)
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


# The renewal fixtures every app's tests share: a Claro line, its S/ 10 plan, a funded wallet and the
# in-process carrier simulator.
@pytest.fixture
def line(user, claro):
    return line_add(owner=user, msisdn="+51 912 345 678", carrier=claro)


@pytest.fixture
def plan(claro):
    return Plan.objects.get(carrier=claro, code="max-10")


@pytest.fixture
def fund_wallet():
    """Credit a user's wallet as a card top-up would (PSP clearing -> wallet)."""

    def fund(user, amount_minor: int, currency: str = "PEN"):
        ledger_post(
            kind="wallet_topup",
            idempotency_key=f"test-fund:{user.pk}:{amount_minor}:{account_wallet(user=user).balance_minor}",
            postings=[
                (
                    account_system(kind="psp_clearing", currency=currency, key="sandbox"),
                    Money(-amount_minor, currency),
                ),
                (account_wallet(user=user, currency=currency), Money(amount_minor, currency)),
            ],
        )

    return fund


@pytest.fixture
def simulator(settings):
    """The in-process carrier simulator (the default gateway; reset before every test)."""
    from vigencia.fulfilment.gateways.simulator import simulator

    settings.VIGENCIA_CARRIER_GATEWAY = "simulator"
    return simulator
