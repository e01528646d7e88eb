"""GET /api/v1/stores: nearest first, exact distances, open state, filters, and bad input as 422."""

from __future__ import annotations

import random

import pytest

from vigencia.stores.models import Store
from vigencia.stores.selectors import haversine_m, store_nearest

from .conftest import KENNEDY, lima

URL = "/api/v1/stores"


def _get(client, **params):
    return client.get(URL, {"lat": KENNEDY[0], "lng": KENNEDY[1], **params})


@pytest.mark.django_db
def test_nearest_first_with_hand_computed_distances(anon_api, make_store, frozen_clock):
    # given stores 0.02° south, 0.01° north and 0.005° east of Parque Kennedy. On a sphere of radius
    # 6,371,000 m: 0.01° of latitude is 6,371,000 × 0.01 × π/180 = 1,111.95 m; 0.005° of longitude at
    # 12.1211° S is 6,371,000 × 0.005 × π/180 × cos(12.1211°) = 555.97 × 0.97771 = 543.58 m.
    south = make_store(KENNEDY[0] - 0.02, KENNEDY[1], name="South")
    north = make_store(KENNEDY[0] + 0.01, KENNEDY[1], name="North")
    east = make_store(KENNEDY[0], KENNEDY[1] + 0.005, name="East")

    # when
    with frozen_clock(lima(2026, 3, 3, 12, 0)):
        response = _get(anon_api)

    # then
    assert response.status_code == 200
    body = response.json()
    assert [(row["id"], row["distance_m"]) for row in body] == [
        (east.pk, 544),
        (north.pk, 1112),
        (south.pk, 2224),
    ]
    assert body[0]["name"] == "East"
    assert body[0]["carriers"] == ["claro-pe"]
    assert body[0]["services"] == ["renewal"]
    assert body[0]["open_now"] is True
    assert body[0]["opens_at"] is None


@pytest.mark.django_db
def test_closed_store_says_when_it_opens_in_its_timezone(anon_api, make_store, frozen_clock):
    # given a store open on weekdays 09:00-20:00, and it is Tuesday 21:30 in Lima
    make_store(hours="mon-fri 09:00-20:00")

    # when
    with frozen_clock(lima(2026, 3, 3, 21, 30)):
        body = _get(anon_api).json()

    # then
    assert body[0]["open_now"] is False
    assert body[0]["opens_at"] == "2026-03-04T09:00:00-05:00"


@pytest.mark.django_db
def test_open_now_keeps_only_open_stores(anon_api, make_store, frozen_clock):
    # given a closed store next door and an open one farther away
    make_store(KENNEDY[0] + 0.001, KENNEDY[1], hours="mon-fri 09:00-10:00")
    far_open = make_store(KENNEDY[0] + 0.05, KENNEDY[1], hours="daily 08:00-22:00")

    # when
    with frozen_clock(lima(2026, 3, 3, 12, 0)):
        body = _get(anon_api, open_now="true").json()

    # then
    assert [(row["id"], row["open_now"]) for row in body] == [(far_open.pk, True)]


@pytest.mark.django_db
def test_filters_by_carrier_and_service_and_skips_inactive(anon_api, make_store):
    # given
    make_store(name="Claro renewals", carriers="claro-pe", services="renewal")
    both = make_store(name="Both", carriers="claro-pe|bitel-pe", services="renewal|id_check")
    make_store(name="Bitel inactive", carriers="bitel-pe", services="id_check", active=False)

    # when
    bitel = _get(anon_api, carrier="bitel-pe").json()
    id_check = _get(anon_api, service="id_check").json()

    # then
    assert [row["id"] for row in bitel] == [both.pk]
    assert bitel[0]["carriers"] == ["bitel-pe", "claro-pe"]
    assert [row["id"] for row in id_check] == [both.pk]


@pytest.mark.django_db
def test_limit_and_widening_to_far_stores(anon_api, make_store):
    # given two stores in Miraflores and one in Cusco, ~580 km away
    near = [make_store(KENNEDY[0] + 0.001 * step, KENNEDY[1]) for step in (1, 2)]
    cusco = make_store(-13.52, -71.977)

    # when
    two = _get(anon_api, limit=2).json()
    three = _get(anon_api, limit=3).json()

    # then
    assert [row["id"] for row in two] == [store.pk for store in near]
    assert [row["id"] for row in three] == [*[store.pk for store in near], cusco.pk]
    assert three[2]["distance_m"] == round(haversine_m(*KENNEDY, -13.52, -71.977))


@pytest.mark.django_db
def test_across_the_antimeridian(make_store):
    # given a store just east of the date line, and a point just west of it
    fiji_east = make_store(-16.5, -179.99)
    make_store(-16.5, 170.0)

    # when
    found = store_nearest(lat=-16.5, lng=179.99, limit=1)

    # then
    assert [(item.store.pk, item.distance_m) for item in found] == [(fiji_east.pk, 2132)]


@pytest.mark.django_db
def test_same_as_brute_force_on_random_stores(make_store):
    # given 300 stores scattered over Peru
    rng = random.Random(6)
    for _ in range(300):
        make_store(rng.uniform(-18, -3), rng.uniform(-81, -69))
    stores = list(Store.objects.values_list("pk", "latitude", "longitude"))

    for _ in range(20):
        lat, lng = rng.uniform(-18, -3), rng.uniform(-81, -69)
        # when
        found = [item.store.pk for item in store_nearest(lat=lat, lng=lng, limit=10)]
        # then
        expected = sorted(stores, key=lambda row: haversine_m(lat, lng, row[1], row[2]))[:10]
        assert found == [row[0] for row in expected]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lat", "lng"),
    [
        ("abc", "-77"),
        ("NaN", "-77"),
        ("-12", "nan"),
        ("91", "-77"),
        ("-90.0001", "-77"),
        ("-12", "180.5"),
        ("-12", "-181"),
        ("inf", "-77"),
        ("-12", "1e400"),
        ("", "-77"),
        ("-12", ""),
        ("1" * 40, "-77"),
    ],
)
def test_invalid_coordinates_are_422(anon_api, lat, lng):
    response = anon_api.get(URL, {"lat": lat, "lng": lng})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_coordinates"


@pytest.mark.django_db
def test_missing_coordinates_are_422(anon_api):
    response = anon_api.get(URL)

    assert response.status_code == 422
    assert response.json() == {
        "code": "invalid_coordinates",
        "message": "Coordinates must be a latitude between -90 and 90 and a longitude between -180 and 180.",
        "details": {"field": "lat"},
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": 0}, "invalid"),
        ({"limit": 51}, "invalid"),
        ({"limit": "x"}, "invalid"),
        ({"carrier": "nope"}, "unknown_carrier"),
        ({"carrier": "a\x00b"}, "unknown_carrier"),
        ({"service": "haircut"}, "unknown_service"),
        ({"open_now": "maybe"}, "invalid"),
    ],
)
def test_bad_filters_are_422(anon_api, demo_catalog, params, code):
    response = _get(anon_api, **params)

    assert response.status_code == 422
    assert response.json()["code"] == code


@pytest.mark.django_db
def test_edges_of_the_range_are_valid(anon_api, make_store):
    make_store()

    assert anon_api.get(URL, {"lat": "90", "lng": "-180"}).status_code == 200
    assert anon_api.get(URL, {"lat": "-90", "lng": "180", "limit": 50}).status_code == 200
