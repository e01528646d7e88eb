"""Promotions in the one order pipeline: discount, ledger, reasons a code does not apply, limits."""

from datetime import date, timedelta

import pytest

from vigencia.catalog.models import Carrier, Promotion, PromotionKind, PromotionUse
from vigencia.core import clock
from vigencia.ledger.selectors import ledger_totals, wallet_balance
from vigencia.notifications.models import Notification
from vigencia.orders.models import RenewalOrder

pytestmark = pytest.mark.django_db


def _promo(code="VERANO20", **fields):
    now = clock.now()
    defaults = {
        "name": "Summer",
        "kind": PromotionKind.PERCENT_OFF,
        "percent_off": 20,
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=30),
    }
    return Promotion.objects.create(code=code, **{**defaults, **fields})


def _renew(api, line, plan, promo_code, key, method="wallet"):
    return api.post_json(
        "/api/v1/orders",
        {"line_id": line.pk, "plan_id": plan.pk, "payment_method": method, "promo_code": promo_code},
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_20_percent_code_discounts_the_renewal_and_promotions_expense_pays_the_carrier_the_rest(
    api, user, line, plan, fund_wallet
):
    # given S/ 25.00 in the wallet and a 20% code
    fund_wallet(user, 2500)
    _promo()

    # when the S/ 10 plan is renewed with the code (typed in lower case)
    response = _renew(api, line, plan, " verano20 ", "k1")

    # then the payer pays S/ 8, promotions expense S/ 2, and the carrier is owed the full S/ 10
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == {"amount_minor": 800, "currency": "PEN"}
    assert body["discount"] == {"amount_minor": 200, "currency": "PEN"}
    assert body["promo_code"] == "VERANO20"
    assert wallet_balance(user=user).amount_minor == 1700
    totals = ledger_totals()
    assert totals["promotions_expense"] == {"PEN": -200}
    assert totals["carrier_payable"] == {"PEN": 1000}
    assert Promotion.objects.get().uses_count == 1


def test_a_code_gives_20_percent_exactly_as_many_times_as_its_limit(api, user, line, plan, fund_wallet):
    fund_wallet(user, 5000)
    _promo(max_uses=2)

    statuses = [_renew(api, line, plan, "VERANO20", f"k{n}").status_code for n in range(2)]
    third = _renew(api, line, plan, "VERANO20", "k3")

    assert statuses == [201, 201]
    assert third.status_code == 422
    assert third.json()["code"] == "promo_limit_reached"
    # nothing written for the refused one
    assert RenewalOrder.objects.count() == 2
    assert wallet_balance(user=user).amount_minor == 5000 - 2 * 800
    assert Promotion.objects.get().uses_count == 2


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"ends_at_offset": -1}, "promo_expired"),
        ({"starts_at_offset": 2}, "promo_not_started"),
        ({"is_active": False}, "promo_inactive"),
        ({"other_carrier": True}, "promo_other_carrier"),
        ({"channels": ["store"]}, "promo_other_channel"),
        ({"audience": "existing"}, "promo_existing_customers_only"),
        (
            {"kind": "fixed_off", "percent_off": None, "amount_off_minor": 1000, "currency": "PEN"},
            "promo_exceeds_price",
        ),
    ],
)
def test_a_code_that_does_not_apply_says_why_and_writes_nothing(
    api, user, line, plan, fund_wallet, claro, fields, code
):
    fund_wallet(user, 2500)
    now = clock.now()
    fields = dict(fields)
    if "ends_at_offset" in fields:
        fields["starts_at"] = now - timedelta(days=10)
        fields["ends_at"] = now + timedelta(days=fields.pop("ends_at_offset"))
    if "starts_at_offset" in fields:
        fields["starts_at"] = now + timedelta(days=fields.pop("starts_at_offset"))
        fields["ends_at"] = now + timedelta(days=10)
    other = fields.pop("other_carrier", False)
    promotion = _promo(**fields)
    if other:
        promotion.carriers.add(Carrier.objects.get(code="entel-pe"))

    response = _renew(api, line, plan, "VERANO20", "k1")

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["details"] == {"promo_code": "VERANO20"}
    assert RenewalOrder.objects.count() == 0
    assert wallet_balance(user=user).amount_minor == 2500
    assert Promotion.objects.get().uses_count == 0


def test_an_unknown_or_garbage_code_is_422(api, user, line, plan, fund_wallet):
    fund_wallet(user, 2500)

    for index, code in enumerate(["NOPE", "x" * 5000, "A\x00B"]):
        response = _renew(api, line, plan, code, f"k{index}")
        assert response.status_code == 422
        assert response.json()["code"] == "promo_unknown"
    assert RenewalOrder.objects.count() == 0


def test_per_subscriber_limit(api, user, line, plan, fund_wallet):
    fund_wallet(user, 5000)
    _promo(max_uses_per_subscriber=1)

    assert _renew(api, line, plan, "VERANO20", "k1").status_code == 201
    second = _renew(api, line, plan, "VERANO20", "k2")

    assert second.json()["code"] == "promo_subscriber_limit_reached"
    assert Promotion.objects.get().uses_count == 1
    assert PromotionUse.objects.get().used == 1


def test_a_declined_card_gives_the_use_back(api, user, line, plan, run_tasks):
    _promo(max_uses=1)
    body = _renew(api, line, plan, "VERANO20", "k1", method="sandbox_card").json()
    assert body["total"]["amount_minor"] == 800
    assert Promotion.objects.get().uses_count == 1

    api.post_json(f"/api/v1/test-helpers/payments/{body['payment']['id']}/fail")

    assert RenewalOrder.objects.get().status == "canceled"
    assert Promotion.objects.get().uses_count == 0
    assert PromotionUse.objects.get().used == 0


def test_carrier_decline_refunds_what_was_paid_and_gives_the_discount_and_use_back(
    api, user, line, plan, fund_wallet, run_tasks, simulator
):
    fund_wallet(user, 2500)
    _promo()
    simulator.decline_next(1)

    _renew(api, line, plan, "VERANO20", "k1")
    run_tasks()

    assert RenewalOrder.objects.get().status == "refunded"
    assert wallet_balance(user=user).amount_minor == 2500
    assert ledger_totals()["promotions_expense"] == {"PEN": 0}
    assert Promotion.objects.get().uses_count == 0
    assert Notification.objects.filter(user=user, kind="renewal_failed").count() == 1


def test_an_automatic_campaign_applies_without_a_code(api, user, line, plan, fund_wallet):
    fund_wallet(user, 2500)
    _promo(code="", kind=PromotionKind.EXTRA_DAYS, percent_off=None, extra_days=3)

    body = _renew(api, line, plan, "", "k1").json()

    order = RenewalOrder.objects.get(pk=body["id"])
    assert order.total.amount_minor == 1000
    assert order.validity_days == plan.validity_days + 3
    assert body["promo_code"] == "Summer"


def test_bonus_data_and_extra_days_reach_the_line(api, user, line, plan, fund_wallet, run_tasks):
    from vigencia.usage.models import Bucket

    # given a wallet and two promotions: 500 MB of bonus data, and 3 extra days
    fund_wallet(user, 5000)
    _promo(code="MASDATOS", kind=PromotionKind.BONUS_DATA, percent_off=None, bonus_data_mb=500)
    _promo(code="MASDIAS", kind=PromotionKind.EXTRA_DAYS, percent_off=None, extra_days=3)

    # when the line is renewed with each code
    first = _renew(api, line, plan, "MASDATOS", "bonus-1").json()
    run_tasks()
    second = _renew(api, line, plan, "MASDIAS", "bonus-2").json()
    run_tasks()

    # then the first credit carries the bonus data and the second order buys 3 more days
    data = Bucket.objects.filter(line=line, kind="data").order_by("pk")
    assert [bucket.initial for bucket in data] == [(plan.data_mb + 500) * 1024, plan.data_mb * 1024]
    orders = {order["id"]: order for order in api.get("/api/v1/orders").json()}
    valid_first = date.fromisoformat(orders[first["id"]]["valid_until"])
    valid_second = date.fromisoformat(orders[second["id"]]["valid_until"])
    assert (valid_second - valid_first).days == plan.validity_days + 3
