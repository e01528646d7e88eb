"""Plan comparison: API and page, filters, sorting, unit prices, keep-the-number cost, bad input."""

import pytest

from vigencia.catalog.models import Plan
from vigencia.catalog.selectors import plan_list_on_sale

pytestmark = pytest.mark.django_db


def test_compare_two_carriers_by_price_per_day(anon_api, demo_catalog):
    response = anon_api.get("/api/v1/plans/compare?carriers=claro-pe,entel-pe&sort=price_per_day&months=12")

    assert response.status_code == 200
    rows = response.json()
    assert {row["carrier"] for row in rows} == {"claro-pe", "entel-pe"}
    per_day = [row["price_per_day"]["amount_minor"] for row in rows]
    assert per_day == sorted(per_day)
    plan = Plan.objects.get(pk=rows[0]["id"])
    assert rows[0]["price_per_day"]["amount_minor"] == (2 * plan.price_minor + plan.validity_days) // (
        2 * plan.validity_days
    )
    claro = [row for row in rows if row["carrier"] == "claro-pe"]
    assert all(row["keep_number_cost"] == claro[0]["keep_number_cost"] for row in claro)
    assert claro[0]["keep_number_cost"]["currency"] == "PEN"
    assert claro[0]["keep_number_recharges"] >= 1


def test_sort_by_keep_cost_finds_the_cheapest_way_to_keep_a_number_a_year(anon_api, demo_catalog):
    rows = anon_api.get("/api/v1/plans/compare?sort=keep_cost&months=12").json()

    costs = [row["keep_number_cost"] for row in rows if row["keep_number_cost"]]
    # No FX rates: each currency's amounts together, cheapest first.
    currencies = [cost["currency"] for cost in costs]
    assert currencies == sorted(currencies)
    assert costs == sorted(costs, key=lambda cost: (cost["currency"], cost["amount_minor"]))


def test_plans_in_several_currencies_sort_by_their_worth_not_their_minor_units(anon_api, demo_catalog):
    """Given S/ 1 = US$ 0.29 and HK$ 1 = US$ 0.128, when sorting by price, HK$ 50 (US$ 6.40) comes
    before S/ 30 (US$ 8.70), though 5000 > 3000."""
    from datetime import date
    from decimal import Decimal

    from vigencia.catalog.fx import fx_rate_set

    fx_rate_set(base="PEN", quote="USD", rate=Decimal("0.29"), as_of=date(2026, 1, 1))
    fx_rate_set(base="HKD", quote="USD", rate=Decimal("0.128"), as_of=date(2026, 1, 1))

    rows = anon_api.get("/api/v1/plans/compare?carriers=claro-pe,cmhk-hk&sort=price").json()

    worth = [
        Decimal(row["price"]["amount_minor"])
        * {"PEN": Decimal("0.29"), "HKD": Decimal("0.128")}[row["price"]["currency"]]
        for row in rows
    ]
    assert {row["price"]["currency"] for row in rows} == {"PEN", "HKD"}
    assert worth == sorted(worth)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("carriers=nope", "unknown_carrier"),
        ("carriers=claro-pe,%00", "unknown_carrier"),
        ("sort=cheapest", "invalid_sort"),
        ("months=0", "invalid_months"),
        ("months=61", "invalid_months"),
        ("approx=EUR", "invalid_approx"),
        ("months=abc", "invalid"),
    ],
)
def test_bad_input_is_422(anon_api, demo_catalog, query, code):
    response = anon_api.get(f"/api/v1/plans/compare?{query}")

    assert response.status_code == 422
    assert response.json()["code"] == code


def test_compare_page_in_chinese_shows_approximate_cny(client, demo_catalog):
    from datetime import date
    from decimal import Decimal

    from vigencia.catalog.fx import fx_rate_set

    fx_rate_set(base="PEN", quote="CNY", rate=Decimal("1.9"), as_of=date(2026, 1, 1))

    page = client.get("/plans/compare/?carrier=claro-pe&sort=price", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert page.status_code == 200
    html = page.content.decode()
    assert "比较套餐" in html
    assert "（约）" in html
    assert client.get("/plans/compare/?months=x&sort=%00").status_code == 200


def test_the_page_finds_the_cheapest_way_to_keep_a_claro_number_a_year(client, demo_catalog):
    # given the page asked as the API is (carriers=…), or as its form sends it (carrier=…)
    for query in ("carriers=claro-pe", "carrier=claro-pe"):
        page = client.get(f"/plans/compare/?{query}&sort=keep_cost&months=12", HTTP_ACCEPT_LANGUAGE="en")
        html = page.content.decode()
        table = html[html.index("<table") : html.index("</table>")]

        # then only Claro's plans are listed, the cheapest first, and each says what a year costs
        assert page.status_code == 200
        assert 'value="claro-pe" checked' in html
        assert "Entel" not in table
        assert "Bitel" not in table
        claro_plans = plan_list_on_sale().filter(carrier__code="claro-pe").count()
        assert table.count('S/\xa05.00 <small class="muted">(1 recharge)</small>') == claro_plans
        assert table.index("Claro Max S/ 5 ") < table.index("Claro Max S/ 10 ")
