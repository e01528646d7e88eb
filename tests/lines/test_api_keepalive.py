"""GET /api/v1/lines/{id}/timeline, /lines/{id}/keepalive-plan and /keepalive/compare."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from vigencia.catalog.models import Carrier, Plan
from vigencia.core import clock
from vigencia.lines.models import Line, LineStatus

pytestmark = pytest.mark.django_db

# 1 December 2026, noon in Lima.
NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def bitel_line(user, demo_catalog) -> Line:
    # A Bitel line recharged 250 days ago: cut off at 255 days, number lost 90 days later.
    return Line.objects.create(
        owner=user,
        msisdn="+51912345678",
        carrier=Carrier.objects.get(code="bitel-pe"),
        last_recharge_at=date(2026, 3, 26),
    )


def test_the_timeline_shows_the_next_deadline_and_when_the_number_is_lost(api, bitel_line, frozen):
    response = api.get(f"/api/v1/lines/{bitel_line.pk}/timeline")

    assert response.status_code == 200
    assert response.json() == {
        "status": "active",
        "status_due": "active",
        "next_deadline": {"kind": "suspended", "at": "2026-12-07"},
        "number_lost_at": "2027-03-07",
        "events": [
            {"kind": "notice", "at": "2026-11-22"},
            {"kind": "suspended", "at": "2026-12-07"},
            {"kind": "recycled", "at": "2027-03-07"},
        ],
    }


def test_a_line_with_no_dates_has_an_empty_timeline(api, user, demo_catalog, frozen):
    line = Line.objects.create(
        owner=user, msisdn="+51912345679", carrier=Carrier.objects.get(code="claro-pe")
    )

    body = api.get(f"/api/v1/lines/{line.pk}/timeline").json()

    assert body == {
        "status": "active",
        "status_due": "active",
        "next_deadline": None,
        "number_lost_at": None,
        "events": [],
    }


def test_another_users_line_is_not_found_and_anonymous_callers_are_refused(other_api, anon_api, bitel_line):
    for path in (f"/api/v1/lines/{bitel_line.pk}/timeline", f"/api/v1/lines/{bitel_line.pk}/keepalive-plan"):
        response = other_api.get(path)
        assert (response.status_code, response.json()["code"]) == (404, "line_not_found")
        assert anon_api.get(path).status_code == 401
    assert anon_api.get("/api/v1/keepalive/compare").status_code == 401
    assert other_api.get("/api/v1/lines/999999/timeline").status_code == 404


def test_the_keepalive_plan_lists_the_recharges_with_their_plans_and_prices(api, bitel_line, frozen):
    response = api.get(f"/api/v1/lines/{bitel_line.pk}/keepalive-plan?months=12&goal=keep_number")

    # the number is kept until 6 March 2027: S/ 5 then, and again 345 days later (past 1 Dec 2027)
    cheapest = Plan.objects.get(carrier__code="bitel-pe", code="ilimitado-5")
    assert response.status_code == 200
    assert response.json() == {
        "steps": [
            {
                "date": "2027-03-06",
                "plan_id": cheapest.pk,
                "plan_code": "ilimitado-5",
                "price": {"amount_minor": 500, "currency": "PEN"},
            }
        ],
        "total": {"amount_minor": 500, "currency": "PEN"},
    }


def test_staying_active_means_recharging_before_every_cut_off(api, bitel_line, frozen):
    body = api.get(f"/api/v1/lines/{bitel_line.pk}/keepalive-plan?months=12&goal=stay_active").json()

    # the last day before the cut-off, then 255 days later
    assert [step["date"] for step in body["steps"]] == ["2026-12-06", "2027-08-18"]
    assert body["total"] == {"amount_minor": 1000, "currency": "PEN"}


@pytest.mark.parametrize(
    "query",
    [
        "months=0",
        "months=61",
        "months=abc",
        "months=1.5",
        "goal=cheapest",
        "goal=",
        "months=99999999999999999999",
    ],
)
def test_bad_parameters_are_422(api, bitel_line, query):
    response = api.get(f"/api/v1/lines/{bitel_line.pk}/keepalive-plan?{query}")

    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert api.get(f"/api/v1/keepalive/compare?{query}").status_code == 422


def test_a_lost_number_has_no_plan(api, bitel_line, frozen):
    Line.objects.filter(pk=bitel_line.pk).update(status=LineStatus.RECYCLED)

    response = api.get(f"/api/v1/lines/{bitel_line.pk}/keepalive-plan")

    assert (response.status_code, response.json()["code"]) == (409, "number_lost")


def test_a_deadline_that_passed_before_the_line_was_added_is_a_lost_number(api, bitel_line, frozen):
    # given a line whose last recharge is so long ago the rules say its number is gone (not swept yet)
    Line.objects.filter(pk=bitel_line.pk).update(last_recharge_at=date(2025, 6, 1))

    timeline = api.get(f"/api/v1/lines/{bitel_line.pk}/timeline").json()
    plan = api.get(f"/api/v1/lines/{bitel_line.pk}/keepalive-plan")

    assert (timeline["status"], timeline["status_due"], timeline["next_deadline"]) == (
        "active",
        "recycled",
        None,
    )
    assert (plan.status_code, plan.json()["code"]) == (409, "number_lost")


def test_compare_costs_a_year_of_keeping_a_number_on_every_carrier(api, demo_catalog, frozen):
    response = api.get("/api/v1/keepalive/compare?months=12&goal=keep_number")

    # no FX rates: by currency, then total; China Mobile: paid through 1 Jan 2027, then nine ¥8 months
    # keep the arrears under 90 days until the horizon's end (2 Dec 2027 in Shanghai)

    assert response.status_code == 200
    assert response.json() == [
        {"carrier": "china-mobile-cn", "total": {"amount_minor": 7200, "currency": "CNY"}, "steps_count": 9},
        {"carrier": "giffgaff-uk", "total": {"amount_minor": 1200, "currency": "GBP"}, "steps_count": 2},
        {"carrier": "cmhk-hk", "total": {"amount_minor": 5000, "currency": "HKD"}, "steps_count": 1},
        {"carrier": "bitel-pe", "total": {"amount_minor": 500, "currency": "PEN"}, "steps_count": 1},
        {"carrier": "claro-pe", "total": {"amount_minor": 500, "currency": "PEN"}, "steps_count": 1},
        {"carrier": "movistar-pe", "total": {"amount_minor": 500, "currency": "PEN"}, "steps_count": 1},
        {"carrier": "entel-pe", "total": {"amount_minor": 1000, "currency": "PEN"}, "steps_count": 2},
    ]


def test_compare_puts_the_cheapest_first_across_currencies_at_the_newest_rates(api, demo_catalog, frozen):
    from decimal import Decimal

    from vigencia.catalog.fx import fx_rate_set

    for base, rate in {"PEN": "0.29", "GBP": "1.32", "HKD": "0.128", "CNY": "0.14"}.items():
        fx_rate_set(base=base, quote="USD", rate=Decimal(rate), as_of=date(2026, 1, 1))

    carriers = [row["carrier"] for row in api.get("/api/v1/keepalive/compare?months=12").json()]

    # US$ 1.45 three times, 2.90, HK$ 50 = 6.40, ¥72 = 10.08, £12 = 15.84
    assert carriers == [
        "bitel-pe",
        "claro-pe",
        "movistar-pe",
        "entel-pe",
        "cmhk-hk",
        "china-mobile-cn",
        "giffgaff-uk",
    ]


def test_compare_leaves_out_a_carrier_with_nothing_on_sale(api, demo_catalog, frozen):
    Plan.objects.filter(carrier__code="entel-pe").update(is_active=False)

    carriers = [row["carrier"] for row in api.get("/api/v1/keepalive/compare?months=12").json()]

    assert "entel-pe" not in carriers
    assert len(carriers) == 6


def test_with_auto_renew_on_the_timeline_has_the_next_auto_renewal_among_its_events(api, bitel_line, frozen):
    # given auto-renew on with a S/ 10 plan, 3 days before the 7 December cut-off
    from vigencia.lines.autorenew import autorenew_set

    plan = Plan.objects.get(code="ilimitado-10")
    autorenew_set(line=bitel_line, enabled=True, plan=plan, days_before=3)

    body = api.get(f"/api/v1/lines/{bitel_line.pk}/timeline").json()
    schema = api.get("/api/v1/openapi.json").json()["components"]["schemas"]

    # then the events have the auto-renewal on 4 December, the other fields are as before, and the
    # schema documents the new kind
    assert body["events"] == [
        {"kind": "notice", "at": "2026-11-22"},
        {"kind": "auto_renewal", "at": "2026-12-04", "plan_id": plan.pk, "plan_code": "ilimitado-10"},
        {"kind": "suspended", "at": "2026-12-07"},
        {"kind": "recycled", "at": "2027-03-07"},
    ]
    assert (body["next_deadline"], body["number_lost_at"]) == (
        {"kind": "suspended", "at": "2026-12-07"},
        "2027-03-07",
    )
    assert schema["AutoRenewalEventOut"]["properties"]["kind"]["const"] == "auto_renewal"
    assert {"$ref": "#/components/schemas/AutoRenewalEventOut"} in schema["TimelineOut"]["properties"][
        "events"
    ]["items"]["anyOf"]
