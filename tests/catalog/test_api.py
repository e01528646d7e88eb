"""/api/v1/carriers and /api/v1/plans: public, localized, only what is on sale."""

from datetime import timedelta

import pytest

from tests.factories import PlanFactory
from vigencia.core import clock

pytestmark = pytest.mark.django_db


def test_carriers_are_public_with_their_keep_alive_policy(anon_api, demo_catalog):
    response = anon_api.get("/api/v1/carriers")

    assert response.status_code == 200
    carriers = {carrier["code"]: carrier for carrier in response.json()}
    assert {"claro-pe", "movistar-pe", "entel-pe", "bitel-pe"} <= set(carriers)
    assert carriers["claro-pe"] == {
        "code": "claro-pe",
        "name": "Claro Perú",
        "country": "PE",
        "currency": "PEN",
        "policy": {
            "kind": "since_recharge",
            "restrict_after_days": 60,
            "cutoff_after_days": 270,
            "recycle_after_cutoff_days": 90,
            "notice_days": 15,
            "balance_extends_life": True,
            "balance_max_days": 210,
        },
    }
    assert carriers["entel-pe"]["policy"]["cutoff_after_days"] == 60
    assert carriers["entel-pe"]["policy"]["restrict_after_days"] is None


def test_inactive_carriers_are_not_listed(anon_api, claro):
    claro.is_active = False
    claro.save()

    codes = [carrier["code"] for carrier in anon_api.get("/api/v1/carriers").json()]

    assert "claro-pe" not in codes


def test_plans_of_a_carrier_with_money_and_english_names(anon_api, claro):
    response = anon_api.get("/api/v1/plans?carrier=claro-pe")

    assert response.status_code == 200
    plans = response.json()
    assert [plan["code"] for plan in plans] == ["max-5", "max-10", "max-20", "max-30", "max-55"]
    max10 = plans[1]
    assert max10 == {
        "id": claro.plans.get(code="max-10").pk,
        "code": "max-10",
        "carrier": "claro-pe",
        "name": "Claro Max S/ 10 · 7 days",
        "price": {"amount_minor": 1000, "currency": "PEN"},
        "validity_days": 7,
        "data_mb": 3072,
        "minutes": 9999,
        "sms": 100,
    }


@pytest.mark.parametrize(
    ("accept_language", "name"),
    [
        ("es-PE,es;q=0.9", "Claro Max S/ 10 · 7 días"),
        ("zh-Hans", "Claro Max 10 索尔 · 7 天"),
        ("fr", "Claro Max S/ 10 · 7 days"),
    ],
)
def test_plan_names_follow_accept_language(anon_api, claro, accept_language, name):
    plans = anon_api.get("/api/v1/plans?carrier=claro-pe", HTTP_ACCEPT_LANGUAGE=accept_language).json()

    assert plans[1]["name"] == name


def test_plans_without_a_carrier_lists_every_carrier(anon_api, demo_catalog):
    carriers = {plan["carrier"] for plan in anon_api.get("/api/v1/plans").json()}

    assert {"claro-pe", "movistar-pe", "entel-pe", "bitel-pe"} <= carriers


def test_only_plans_on_sale_are_listed(anon_api, claro):
    now = clock.now()
    PlanFactory(carrier=claro, code="retired", is_active=False)
    PlanFactory(carrier=claro, code="later", active_from=now + timedelta(days=1))
    PlanFactory(carrier=claro, code="ended", active_until=now - timedelta(days=1))
    PlanFactory(
        carrier=claro,
        code="window",
        active_from=now - timedelta(days=1),
        active_until=now + timedelta(days=1),
    )

    codes = [plan["code"] for plan in anon_api.get("/api/v1/plans?carrier=claro-pe").json()]

    assert "window" in codes
    assert {"retired", "later", "ended"}.isdisjoint(codes)


@pytest.mark.parametrize("code", ["nope-pe", "", "claro pe", "x" * 1_000, "nul\x00", "📱", "CLARO-PE"])
def test_unknown_carrier_is_422_unknown_carrier(anon_api, demo_catalog, code):
    response = anon_api.get("/api/v1/plans", {"carrier": code})

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_carrier"
