"""Stores fixtures: a store builder, and a stand-in base.html while the portal's own is not there yet."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from vigencia.stores.hours import hours_parse
from vigencia.stores.models import Store
from vigencia.stores.services import store_upsert

LIMA = ZoneInfo("America/Lima")
# Parque Kennedy, Miraflores.
KENNEDY = (-12.1211, -77.0297)


def lima(*args: int) -> datetime:
    return datetime(*args, tzinfo=LIMA)


@pytest.fixture
def base_template(settings) -> None:
    # Tests do not run collectstatic; the manifest storage would refuse every {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # The page is tested inside a stand-in base.html with the same blocks, so these tests do not
    # depend on the portal's navigation (other apps' URLs) being in place.
    settings.TEMPLATES = [
        {
            **settings.TEMPLATES[0],
            "DIRS": [Path(__file__).parent / "templates", *settings.TEMPLATES[0]["DIRS"]],
        }
    ]


@pytest.fixture
def make_store(demo_catalog):
    counter = iter(range(1, 10_000))

    def make(
        lat: float = KENNEDY[0],
        lng: float = KENNEDY[1],
        *,
        name: str | None = None,
        carriers: str = "claro-pe",
        services: str = "renewal",
        hours: str = "daily 00:00-24:00",
        timezone: str = "America/Lima",
        active: bool = True,
    ) -> Store:
        number = next(counter)
        store, _created = store_upsert(
            code=f"T-{number}",
            name=name or f"Store {number}",
            address=f"Street {number}",
            district="Miraflores",
            city="Lima",
            latitude=lat,
            longitude=lng,
            carrier_codes=carriers.split("|"),
            services=services.split("|"),
            hours=hours_parse(hours),
            timezone=timezone,
            active=active,
        )
        return store

    return make


# --- the counter (POS, shifts, receipts) -----------------------------------------------------------

DNI = "10117410"  # its check character is 2 (or G)


@pytest.fixture
def counter_store(make_store):
    return make_store(name="Counter Miraflores", carriers="claro-pe|movistar-pe", services="renewal")


def _agent_at(store):
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory
    from vigencia.accounts import roles
    from vigencia.stores.models import StoreAgent

    user = UserFactory(name="Carla Cajera")
    user.groups.add(Group.objects.get_or_create(name=roles.STORE_AGENT)[0])
    StoreAgent.objects.create(user=user, store=store)
    return user


@pytest.fixture
def agent(counter_store):
    return _agent_at(counter_store)


@pytest.fixture
def agent_at():
    return _agent_at


@pytest.fixture
def agent_api(agent):
    from tests.conftest import ApiClient
    from vigencia.accounts.services import api_token_issue

    _row, token = api_token_issue(user=agent)
    return ApiClient(token)


@pytest.fixture
def open_shift(agent):
    from vigencia.stores.services import shift_open

    return shift_open(agent=agent, float_minor=10_000)


@pytest.fixture
def claro_plan(claro):
    from vigencia.catalog.models import Plan

    return Plan.objects.get(carrier=claro, code="max-10")  # S/ 10.00, 7 days


@pytest.fixture
def sale_body(claro_plan):
    def body(**changes):
        data = {
            "msisdn": "+51 912 345 678",
            "carrier": "claro-pe",
            "plan_id": claro_plan.pk,
            "id_document": {"type": "dni", "number": f"{DNI}-2"},
            "payment": {"method": "cash", "tendered_minor": 2000},
        }
        data.update(changes)
        return data

    return body


@pytest.fixture
def api_for():
    from tests.conftest import ApiClient
    from vigencia.accounts.services import api_token_issue

    def make(user):
        _row, token = api_token_issue(user=user)
        return ApiClient(token)

    return make


@pytest.fixture
def seeded_operator(db):
    """The demo operator (staff), with the store permissions of the operator role."""
    from io import StringIO

    from vigencia.accounts import demo as accounts_demo
    from vigencia.accounts.models import User

    accounts_demo.seed(StringIO())
    return User.objects.get(email="operator@demo.vigencia.pe")
