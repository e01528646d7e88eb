"""The demo stores: enough of them, where they should be, loaded twice without duplicates."""

from __future__ import annotations

from io import StringIO

import pytest

from vigencia.stores import demo
from vigencia.stores.models import Holiday, Store
from vigencia.stores.selectors import store_nearest

from .conftest import KENNEDY, lima


@pytest.mark.django_db
def test_demo_is_idempotent_and_around_lima(demo_catalog, frozen_clock):
    # when
    with frozen_clock(lima(2026, 3, 3, 12, 0)):
        demo.seed(StringIO())
        demo.seed(StringIO())

    # then
    assert Store.objects.count() == len(demo.STORES) == 39
    lima_stores = Store.objects.filter(city__in=["Lima", "Callao"])
    assert lima_stores.count() == 33
    assert all(-12.3 < s.latitude < -11.9 and -77.2 < s.longitude < -76.85 for s in lima_stores)
    assert set(Store.objects.exclude(city__in=["Lima", "Callao"]).values_list("city", flat=True)) == {
        "Arequipa",
        "Cusco",
        "Trujillo",
    }
    assert Holiday.objects.filter(store=None, date__year=2026).count() == 16
    assert all(store.hours.exists() and store.carriers.exists() for store in Store.objects.all())


@pytest.mark.django_db
def test_nearest_open_store_from_miraflores_and_on_a_holiday(demo_catalog, frozen_clock):
    with frozen_clock(lima(2026, 3, 3, 12, 0)):
        demo.seed(StringIO())

    tuesday = store_nearest(
        lat=KENNEDY[0], lng=KENNEDY[1], limit=1, open_now=True, at=lima(2026, 3, 3, 12, 0)
    )
    fiestas_patrias = store_nearest(
        lat=KENNEDY[0], lng=KENNEDY[1], limit=1, open_now=True, at=lima(2026, 7, 28, 12, 0)
    )

    assert [item.store.code for item in tuesday] == ["LIM-MIR-01"]
    # on 28 July every store closes but the airport, which keeps its own row
    assert [item.store.code for item in fiestas_patrias] == ["LIM-CAL-02"]
