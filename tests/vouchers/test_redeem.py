from datetime import UTC, datetime, timedelta

import pytest

from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.fulfilment.models import FulfilmentTransaction
from vigencia.ledger.models import LedgerTransaction
from vigencia.ledger.services import account_system
from vigencia.lines.models import Line
from vigencia.orders.models import RenewalOrder
from vigencia.vouchers import services
from vigencia.vouchers.codes import pin_display
from vigencia.vouchers.models import AttemptCounter, RedemptionAttempt, VoucherCode

INVALID = {
    "code": "voucher_invalid",
    "message": "This recharge code cannot be used: the PIN is wrong, or the code was already used, voided or "
    "has expired.",
    "details": None,
}


def _redeem(api, pin, **body):
    return api.post_json("/api/v1/vouchers/redeem", {"pin": pin, **body}, REMOTE_ADDR="10.1.1.1")


def test_redeeming_a_pin_renews_the_line_once_paid_from_the_voucher_liability(api, user, line, make_batch):
    # given a sold code
    made = make_batch(2)

    # when the buyer redeems its PIN, as printed (grouped), on their line
    response = _redeem(api, pin_display(made.pins[0]), line_id=line.pk)

    # then a renewal order with channel voucher is on its way to the carrier
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["channel"], body["line_id"], body["plan_code"]) == (
        "fulfilling",
        "voucher",
        line.pk,
        "max-10",
    )
    assert body["total"] == {"amount_minor": 1000, "currency": "PEN"}
    code = VoucherCode.objects.get(serial=made.serials[0])
    assert (code.status, code.redeemed_by, code.order_id) == ("redeemed", user, body["id"])
    # and the money moved voucher liability -> carrier payable
    assert (
        account_system(
            kind="voucher_liability", currency="PEN", key=made.batch.liability_key
        ).balance.amount_minor
        == 1_000
    )
    assert (
        account_system(kind="carrier_payable", currency="PEN", key="claro-pe").balance.amount_minor == 1_000
    )
    # and the top-up is handed to the carrier in the same transaction (the order pipeline renews the line)
    assert FulfilmentTransaction.objects.get().reference == f"order:{body['id']}"
    assert list(RedemptionAttempt.objects.values_list("outcome", "ip")) == [("redeemed", "10.1.1.1")]


def test_used_unknown_void_expired_and_malformed_pins_get_one_identical_answer(
    api, user, line, make_batch, frozen_clock
):
    made = make_batch(3)
    assert _redeem(api, made.pins[0], line_id=line.pk).status_code == 200
    services.voucher_void(batch=made.batch, serial_from=made.serials[1], serial_to=made.serials[1])
    expired = make_batch(1, expires_on=clock.today() + timedelta(days=1))
    orders, postings = RenewalOrder.objects.count(), LedgerTransaction.objects.count()

    with frozen_clock(clock.now() + timedelta(days=3)):
        answers = [
            _redeem(api, pin, line_id=line.pk)
            for pin in (made.pins[0], made.pins[1], "0000 0000 0000 0000", "12", expired.pins[0])
        ]

    assert [a.status_code for a in answers] == [422] * 5
    assert all(a.json() == INVALID for a in answers)
    # and none of them renewed anything or moved money
    assert (RenewalOrder.objects.count(), LedgerTransaction.objects.count()) == (orders, postings)
    assert VoucherCode.objects.get(serial=expired.serials[0]).status == "active"  # until the sweep
    assert RedemptionAttempt.objects.filter(outcome="invalid").count() == 5


def test_a_gift_registers_the_number_for_the_redeemer_and_renews_it(api, user, claro, make_batch):
    made = make_batch(2)

    response = _redeem(api, made.pins[0], msisdn="987 654 321", carrier="claro-pe")

    assert response.status_code == 200, response.content
    gift = Line.objects.get(owner=user, msisdn="+51987654321")
    assert response.json()["line_id"] == gift.pk
    # a second gift to the same number reuses the line
    assert _redeem(api, made.pins[1], msisdn="+51987654321", carrier="claro-pe").json()["line_id"] == gift.pk


def test_a_code_for_another_carrier_is_refused_and_nothing_is_written(api, user, demo_catalog, make_batch):
    made = make_batch(1)

    response = _redeem(api, made.pins[0], msisdn="987 654 321", carrier="movistar-pe")

    assert (response.status_code, response.json()["code"]) == (422, "voucher_wrong_carrier")
    assert VoucherCode.objects.get().status == "active"
    assert (Line.objects.count(), RenewalOrder.objects.count()) == (0, 0)


def test_a_code_for_another_carrier_is_an_audited_failed_attempt_that_counts(
    api, user, demo_catalog, make_batch
):
    # given a live Claro code and a Movistar line of the user
    made = make_batch(1)
    movistar = Line.objects.create(
        owner=user, msisdn="+51987654321", carrier=Carrier.objects.get(code="movistar-pe")
    )

    # when they try it on the Movistar line
    response = _redeem(api, made.pins[0], line_id=movistar.pk)

    # then it is refused, audited as a failed attempt with its code, and counted like a wrong PIN
    assert response.json() == {
        "code": "voucher_wrong_carrier",
        "message": "This recharge code is for another carrier.",
        "details": None,
    }
    attempts = list(RedemptionAttempt.objects.values_list("outcome", "code__serial", "user", "channel"))
    assert attempts == [("invalid", made.serials[0], user.pk, "api")]
    assert dict(AttemptCounter.objects.filter(scope="account").values_list("key", "count")) == {
        str(user.pk): 1
    }
    assert VoucherCode.objects.get().status == "active"
    assert RenewalOrder.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"line_id": 999999}, 404, "line_not_found"),
        ({}, 422, "line_required"),
        ({"msisdn": "123", "carrier": "claro-pe"}, 422, "invalid_msisdn"),
        ({"msisdn": "987654321", "carrier": "nope"}, 422, "carrier_not_found"),
        ({"line_id": "x"}, 422, "invalid"),
    ],
)
def test_bad_requests_are_refused_before_the_pin_is_read(api, claro, make_batch, body, status, code):
    made = make_batch(1)

    response = _redeem(api, made.pins[0], **body)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert VoucherCode.objects.get().status == "active"
    assert RedemptionAttempt.objects.count() == 0


def test_redeem_needs_a_login(anon_api):
    assert anon_api.post_json("/api/v1/vouchers/redeem", {"pin": "1"}).status_code == 401


def test_an_unparseable_body_is_400_not_500(api):
    response = api.post("/api/v1/vouchers/redeem", data=b"\xff", content_type="application/json")
    assert response.status_code == 400


def test_expiry_turns_unredeemed_liability_into_revenue_and_the_code_stays_dead(
    api, line, make_batch, frozen_clock
):
    made = make_batch(3, expires_on=clock.today() + timedelta(days=1))
    assert _redeem(api, made.pins[0], line_id=line.pk).status_code == 200

    with frozen_clock(clock.now() + timedelta(days=3)):
        assert services.voucher_expire() == 2
        assert services.voucher_expire() == 0  # a repeat expires nothing

    assert sorted(VoucherCode.objects.values_list("status", flat=True)) == ["expired", "expired", "redeemed"]
    assert (
        account_system(
            kind="voucher_liability", currency="PEN", key=made.batch.liability_key
        ).balance.amount_minor
        == 0
    )
    assert (
        account_system(kind="revenue", currency="PEN", key="voucher_breakage").balance.amount_minor == 2_000
    )
    assert _redeem(api, made.pins[1], line_id=line.pk).json() == INVALID


def test_voiding_a_range_gives_the_reseller_back_the_face_value_of_the_sold_codes(
    reseller, make_batch, user, line
):
    made = make_batch(5)
    services.voucher_redeem(pin=made.pins[1], redeemer=user, ip=None, line=line)

    voided = services.voucher_void(batch=made.batch, serial_from=made.serials[0], serial_to=made.serials[2])
    again = services.voucher_void(batch=made.batch, serial_from=made.serials[0], serial_to=made.serials[2])

    assert (voided, again) == (2, 0)
    assert list(VoucherCode.objects.order_by("serial").values_list("status", flat=True)) == [
        "void",
        "redeemed",
        "void",
        "active",
        "active",
    ]
    assert (
        services.reseller_prepaid_account(reseller=reseller, currency="PEN").balance_minor
        == 100_000 - 5_000 + 2_000
    )
    assert (
        account_system(
            kind="voucher_liability", currency="PEN", key=made.batch.liability_key
        ).balance.amount_minor
        == 2_000
    )


def test_a_locked_account_is_told_when_to_come_back_in_its_language(
    api, user, line, make_batch, settings, frozen_clock
):
    # given an account that has used up its wrong PINs, 100 s into a 15-minute window
    settings.VIGENCIA_VOUCHER_LIMITS = {**settings.VIGENCIA_VOUCHER_LIMITS, "account": (2, 900)}
    made = make_batch(1)
    now = int(clock.now().timestamp())
    start = datetime.fromtimestamp(now - now % 900 + 100, tz=UTC)
    with frozen_clock(start):
        for _ in range(2):
            _redeem(api, "1111 2222 3333 4444", line_id=line.pk)

        # when it tries the right PIN, in Chinese
        response = api.post_json(
            "/api/v1/vouchers/redeem",
            {"pin": made.pins[0], "line_id": line.pk},
            REMOTE_ADDR="10.1.1.1",
            HTTP_ACCEPT_LANGUAGE="zh-CN,zh",
        )

    # then 429 with the seconds left in the window, as a header and in the body
    assert response.status_code == 429
    assert response["Retry-After"] == "800"
    assert response.json() == {
        "code": "rate_limited",
        "message": "错误的充值码次数过多，请稍后再试。",
        "details": {"limits": ["account"], "retry_after": 800},
    }
    assert VoucherCode.objects.get().status == "active"


def test_another_persons_line_is_not_found_in_the_callers_language(api, other_user, claro, make_batch):
    from vigencia.lines.services import line_add

    theirs = line_add(owner=other_user, msisdn="+51 987 654 321", carrier=claro)
    made = make_batch(1)

    response = api.post_json(
        "/api/v1/vouchers/redeem",
        {"pin": made.pins[0], "line_id": theirs.pk},
        HTTP_ACCEPT_LANGUAGE="es",
    )

    assert response.status_code == 404
    assert response.json() == {"code": "line_not_found", "message": "No encontrado.", "details": None}
    assert VoucherCode.objects.get().status == "active"
