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
