"""Stores fixtures: a store builder, and a stand-in base.html while the portal's own is not there yet."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

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
    try:
        get_template("base.html")
    except TemplateDoesNotExist:
        settings.TEMPLATES = [
            {
                **settings.TEMPLATES[0],
                "DIRS": [*settings.TEMPLATES[0]["DIRS"], Path(__file__).parent / "templates"],
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
