"""The locator reads the nearest stores and everything it shows of them in one query on PostgreSQL
(a nearest-neighbour index), two elsewhere."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.db import connection

from vigencia.stores.models import Holiday
from vigencia.stores.selectors import store_nearest

from .conftest import KENNEDY, lima


@pytest.mark.django_db
def test_nearest_stores_come_with_carriers_services_hours_and_holidays_in_one_or_two_queries(
    make_store, django_assert_num_queries
):
    # given: a store closed on its own holiday, one that stays open across midnight, one elsewhere
    holiday = make_store(
        KENNEDY[0], KENNEDY[1] + 0.001, carriers="claro-pe|movistar-pe", services="sim_sale|renewal"
    )
    late = make_store(KENNEDY[0], KENNEDY[1] + 0.002, hours="daily 20:00-02:00")
    make_store(-16.4, -71.5)
    Holiday.objects.create(date=date(2026, 3, 3), store=holiday)
    at = lima(2026, 3, 3, 12, 0)

    # when
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        found = store_nearest(lat=KENNEDY[0], lng=KENNEDY[1], limit=2, at=at)

    # then
    assert [item.store.pk for item in found] == [holiday.pk, late.pk]
    first, second = found
    assert first.carriers == [("claro-pe", "Claro Perú"), ("movistar-pe", "Movistar Perú")]
    assert first.services == ["renewal", "sim_sale"]
    assert first.hours == [(day, time(0, 0), time(0, 0)) for day in range(7)]
    assert (first.open_now, first.opens_at) == (False, lima(2026, 3, 4, 0, 0))
    assert second.hours == [(day, time(20, 0), time(2, 0)) for day in range(7)]
    assert (second.open_now, second.opens_at) == (False, lima(2026, 3, 3, 20, 0))
