"""/stores/: the server-rendered list works alone; the map's assets are local; the CSP opens OSM tiles
for images on this page only."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from vigencia.stores.models import Store

from .conftest import KENNEDY, lima


@pytest.fixture
def page(base_template, seeded_stores):
    return Client()


@pytest.fixture
def seeded_stores(demo_catalog):
    from io import StringIO

    from vigencia.stores import demo

    demo.seed(StringIO())


@pytest.mark.django_db
def test_the_list_is_rendered_without_javascript(page, frozen_clock):
    # when: a point in Miraflores on a Tuesday at noon
    with frozen_clock(lima(2026, 3, 3, 12, 0)):
        response = page.get("/stores/", {"lat": KENNEDY[0], "lng": KENNEDY[1]})

    # then: the nearest store first, with its distance and open state in the HTML itself
    assert response.status_code == 200
    html = response.content.decode()
    first = html.index("Vigencia Miraflores Larco")
    assert first < html.index("Vigencia Benavides") < html.index("Vigencia Rivera Navarrete")
    assert "95 m" in html
    assert "1.0 km" in html
    assert "Open now" in html
    assert "Mon-Sun 10:00-22:00" in html
    assert '<a class="nowrap" href="tel:+5114452101">+51 1 4452101</a>' in html
    assert len(response.context["rows"]) == 20


@pytest.mark.django_db
def test_a_district_and_filters(page):
    response = page.get(
        "/stores/", {"district": "Barranco, Lima", "carrier": "movistar-pe", "service": "renewal"}
    )

    rows = response.context["rows"]
    assert response.status_code == 200
    assert rows[0].store.code == "LIM-BAR-02"
    assert all("Movistar Perú" in row.carriers for row in rows)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params", [{"lat": "abc", "lng": "x"}, {"lat": "NaN", "lng": "-77"}, {"lat": "-95", "lng": "0"}]
)
def test_bad_coordinates_are_a_message_not_an_error(page, params):
    response = page.get("/stores/", params)

    assert response.status_code == 200
    assert "Coordinates must be a latitude" in response.content.decode()
    assert len(response.context["rows"]) == 20  # the first page of every store


@pytest.mark.django_db
def test_junk_filters_are_ignored(page):
    response = page.get(
        "/stores/", {"district": "Atlantis", "carrier": "\x00", "service": "x", "open_now": "2"}
    )

    assert response.status_code == 200


@pytest.mark.django_db
def test_map_assets_are_local_and_tiles_allowed_only_here(page):
    response = page.get("/stores/")
    html = response.content.decode()

    assert "/static/leaflet/leaflet.js" in html
    assert "/static/stores/locator.js" in html
    assert "<script>" not in html
    assert finders.find("leaflet/leaflet.js")
    assert finders.find("leaflet/leaflet.css")
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip()
    )
    assert "https://tile.openstreetmap.org" in policy["img-src"]
    assert "openstreetmap" not in policy["script-src"] + policy["connect-src"] + policy["default-src"]
    other = Client().get("/api/v1/docs")
    assert "openstreetmap" not in other.get("Content-Security-Policy", "")


@pytest.fixture
def site_pages(settings):
    # The real base.html (with the site's navigation); no collectstatic in tests.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.mark.django_db
def test_every_page_links_to_the_locator_and_agents_to_their_counter(site_pages, client, agent, user):
    # anyone: the home page's navigation leads to the locator
    assert 'href="/stores/"' in client.get("/").content.decode()

    # a subscriber sees no counter
    client.force_login(user)
    assert 'href="/stores/pos/"' not in client.get("/stores/").content.decode()

    # a store agent does
    client.force_login(agent)
    assert 'href="/stores/pos/"' in client.get("/stores/").content.decode()


@pytest.mark.django_db
def test_map_markers_come_from_the_local_leaflet_images(page):
    html = page.get("/stores/", {"lat": KENNEDY[0], "lng": KENNEDY[1]}).content.decode()

    for image in ("marker-icon.png", "marker-icon-2x.png", "marker-shadow.png"):
        assert f'"/static/leaflet/images/{image}"' in html
        assert finders.find(f"leaflet/images/{image}") is not None


@pytest.mark.django_db
def test_without_a_place_the_stores_come_a_page_at_a_time_by_city_and_name(page, frozen_clock):
    # given the demo's 39 stores, and a visitor who gives no place
    every = list(
        Store.objects.filter(active=True)
        .order_by("city", "district", "name", "pk")
        .values_list("name", flat=True)
    )

    # when they read the list, then follow its link to the next page
    first = page.get("/stores/", {"carrier": "", "service": ""})
    html = first.content.decode()
    second = page.get("/stores/", {"carrier": "", "service": "", "page": "2"})

    # then each page has 20 at most, in order, and the link keeps what they chose
    assert [row.store.name for row in first.context["rows"]] == every[:20]
    assert [row.store.name for row in second.context["rows"]] == every[20:]
    assert '<a class="button" href="?carrier=&amp;service=&amp;page=2">More stores</a>' in html
    assert "Page 1 of 2" in html
    assert "Previous stores" in second.content.decode()
    assert page.get("/stores/", {"page": "junk"}).context["rows"][0].store.name == every[0]

    # and "open now" pages among the open ones only (Tuesday noon: all but the closed ones)
    with frozen_clock(lima(2026, 3, 3, 12, 0)):
        open_rows = page.get("/stores/", {"open_now": "1", "page": "1"}).context["rows"]
    assert len(open_rows) == 20
    assert all(row.open_now for row in open_rows)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"district": "Atlantis"}, "There is no such district; choose one from the list."),
        ({"carrier": "\x00"}, "There is no such carrier; showing stores of every carrier."),
        ({"carrier": "nope-pe"}, "There is no such carrier; showing stores of every carrier."),
        ({"service": "x"}, "There is no such service; showing stores with any service."),
        (
            {"carrier": "nope-pe", "lat": "abc", "lng": "x"},
            "There is no such carrier; showing stores of every carrier. Coordinates must be a latitude "
            "between -90 and 90 and a longitude between -180 and 180.",
        ),
    ],
)
def test_a_filter_that_names_nothing_known_is_said_and_left_out(page, params, message):
    # when
    response = page.get("/stores/", params)

    # then the stores are listed without it, and the page says so
    assert response.status_code == 200
    assert response.context["error"] == message
    assert len(response.context["rows"]) == 20


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "says"),
    [("en", "opens Wed, Mar 4, 10:00"), ("es", "abre mié, 4 mar., 10:00"), ("zh-hans", "3月4日周三 10:00")],
)
def test_when_a_closed_store_opens_is_written_in_the_readers_language(page, frozen_clock, language, says):
    # when: Tuesday at 23:30 in Lima, when every store is closed
    with frozen_clock(lima(2026, 3, 3, 23, 30)):
        response = page.get("/stores/", {"lat": KENNEDY[0], "lng": KENNEDY[1]}, HTTP_ACCEPT_LANGUAGE=language)

    # then
    assert says in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_carrier_is_said_in_chinese(page):
    response = page.get("/stores/", {"carrier": "nope-pe"}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.context["error"] == "没有这个运营商，现显示所有运营商的门店。"
