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


@pytest.mark.django_db
def test_open_now_reads_past_many_closed_stores(make_store):
    # given eight closed stores nearest (more than the first read of three times the limit), then two
    # open ones further away
    for step in range(1, 9):
        make_store(KENNEDY[0], KENNEDY[1] + 0.001 * step, hours="mon-fri 09:00-10:00")
    near_open = make_store(KENNEDY[0], KENNEDY[1] + 0.02)
    far_open = make_store(KENNEDY[0], KENNEDY[1] + 0.03)
    at = lima(2026, 3, 3, 12, 0)  # a Tuesday, after ten

    # when
    found = store_nearest(lat=KENNEDY[0], lng=KENNEDY[1], limit=2, open_now=True, at=at)

    # then
    assert [(item.store.pk, item.open_now) for item in found] == [(near_open.pk, True), (far_open.pk, True)]


@pytest.mark.django_db
def test_stores_at_the_same_spot_are_each_listed_once(make_store):
    # given two stores in the same mall (same coordinates) and one next door
    first = make_store(KENNEDY[0], KENNEDY[1] + 0.001)
    second = make_store(KENNEDY[0], KENNEDY[1] + 0.001)
    next_door = make_store(KENNEDY[0], KENNEDY[1] + 0.0015)

    # when
    found = store_nearest(lat=KENNEDY[0], lng=KENNEDY[1], limit=3)

    # then: equal distances in primary-key order
    assert [item.store.pk for item in found] == [first.pk, second.pk, next_door.pk]
    assert found[0].distance_m == found[1].distance_m == 109
