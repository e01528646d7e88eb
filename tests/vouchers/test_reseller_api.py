import io
import zipfile

import pytest

from vigencia.accounts.services import api_token_issue
from vigencia.ledger.models import LedgerTransaction
from vigencia.vouchers import services
from vigencia.vouchers.models import VoucherBatch, VoucherCode

from ..conftest import ApiClient


@pytest.fixture
def reseller_api(reseller):
    _row, key = services.reseller_api_key_issue(user=reseller, name="shop")
    return ApiClient(key)


def _buy(client, plan, count=3, key="k1"):
    return client.post_json(
        "/api/v1/reseller/batches", {"plan_id": plan.pk, "count": count}, HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_reseller_buys_a_batch_downloads_it_once_and_sees_it_listed(reseller_api, reseller, plan):
    # when the reseller buys 3 codes by API
    response = _buy(reseller_api, plan)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["count"], body["plan_code"], body["face_value"], body["active"], body["downloaded"]) == (
        3,
        "max-10",
        {"amount_minor": 1000, "currency": "PEN"},
        3,
        False,
    )
    assert reseller_api.get("/api/v1/reseller/balance").json() == {
        "balance": {"amount_minor": 97_000, "currency": "PEN"}
    }

    # then the PINs download once, and a second download is refused
    first = reseller_api.post(f"/api/v1/reseller/batches/{body['id']}/export")
    second = reseller_api.post(f"/api/v1/reseller/batches/{body['id']}/export")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/zip"
    rows = zipfile.ZipFile(io.BytesIO(first.content)).read("codes.csv").decode().splitlines()
    assert len(rows) == 4
    assert rows[0].startswith("serial,pin,")
    assert (second.status_code, second.json()["code"]) == (409, "export_already_downloaded")
    listed = reseller_api.get("/api/v1/reseller/batches").json()
    assert [(b["id"], b["downloaded"], b["redeemed"]) for b in listed] == [(body["id"], True, 0)]


def test_the_same_idempotency_key_buys_once(reseller_api, plan):
    first, again = _buy(reseller_api, plan), _buy(reseller_api, plan)

    assert again.json() == first.json()
    assert VoucherBatch.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="voucher_sale").count() == 1


def test_buying_beyond_the_prepaid_balance_is_409_and_writes_nothing(reseller_api, plan):
    response = _buy(reseller_api, plan, count=101)

    assert (response.status_code, response.json()["code"]) == (409, "insufficient_funds")
    assert (VoucherBatch.objects.count(), VoucherCode.objects.count()) == (0, 0)


@pytest.mark.parametrize("currency", ["pe", "\x1b\u00e1\x01", "12$"])
def test_a_prepaid_balance_in_a_currency_that_is_no_code_is_422(reseller_api, currency):
    response = reseller_api.get("/api/v1/reseller/balance", {"currency": currency})

    assert (response.status_code, response.json()["code"]) == (422, "invalid")


def test_voiding_a_serial_range_by_api(reseller_api, make_batch):
    made = make_batch(4)

    response = reseller_api.post_json(
        f"/api/v1/reseller/batches/{made.batch.pk}/void",
        {"serial_from": made.serials[1], "serial_to": made.serials[2]},
    )
    bad = reseller_api.post_json(
        f"/api/v1/reseller/batches/{made.batch.pk}/void", {"serial_from": "123", "serial_to": "456"}
    )

    assert response.json() == {"voided": 2}
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_range")
    assert list(VoucherCode.objects.order_by("serial").values_list("status", flat=True)) == [
        "active",
        "void",
        "void",
        "active",
    ]


def test_another_resellers_batch_is_not_found_and_a_subscriber_is_not_a_reseller(
    reseller_api, api, make_batch, user
):
    from ..factories import UserFactory

    stranger = UserFactory()
    stranger_batch = make_batch(1, reseller=None)

    assert reseller_api.post(f"/api/v1/reseller/batches/{stranger_batch.batch.pk}/export").status_code == 404
    assert api.get("/api/v1/reseller/batches").status_code == 401
    with pytest.raises(services.PermissionDenied):
        services.reseller_api_key_issue(user=stranger)


def test_a_revoked_key_stops_working_and_a_reseller_user_token_works(reseller_api, reseller):
    key_id = reseller.reseller_api_keys.get().pk
    assert services.reseller_api_key_revoke(user=reseller, key_id=key_id) is True
    assert reseller_api.get("/api/v1/reseller/batches").status_code == 401
    _row, token = api_token_issue(user=reseller)
    assert ApiClient(token).get("/api/v1/reseller/batches").status_code == 200


@pytest.mark.parametrize("query", ["?limit=0", "?limit=500", "?offset=-1", "?limit=x"])
def test_bad_pagination_is_422(reseller_api, query):
    assert reseller_api.get("/api/v1/reseller/batches" + query).status_code == 422


def test_verify_tells_genuine_and_status_and_nothing_else(anon_api, make_batch, settings):
    made = make_batch(1)
    serial = made.serials[0]
    fake = serial[:-2] + ("9" if serial[-2] != "9" else "8")
    from stdnum import luhn

    fake = fake + luhn.calc_check_digit(fake)

    assert anon_api.get(
        f"/api/v1/vouchers/verify?serial={serial[:6]}-{serial[6:13]}-{serial[13]}"
    ).json() == {"genuine": True, "status": "active"}
    assert anon_api.get(f"/api/v1/vouchers/verify?serial={fake}").json() == {"genuine": False, "status": None}
    assert anon_api.get("/api/v1/vouchers/verify?serial=not-a-serial").json() == {
        "genuine": False,
        "status": None,
    }


def test_verify_without_a_serial_is_refused_in_the_callers_language(db, anon_api):
    missing = anon_api.get("/api/v1/vouchers/verify", HTTP_ACCEPT_LANGUAGE="es")
    blank = anon_api.get("/api/v1/vouchers/verify?serial=%20%20", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert (missing.status_code, missing.json()["code"]) == (422, "serial_required")
    assert missing.json()["message"] == "Indica el número de serie impreso en la tarjeta."
    assert (blank.status_code, blank.json()["message"]) == (422, "请填写卡上印的序列号。")


def test_verify_is_rate_limited_per_ip(db, anon_api, settings, frozen_clock):
    from vigencia.core import clock

    settings.VIGENCIA_VOUCHER_LIMITS = {**settings.VIGENCIA_VOUCHER_LIMITS, "verify_ip": (5, 60)}
    with frozen_clock(clock.now().replace(second=0)):
        statuses = [anon_api.get("/api/v1/vouchers/verify?serial=1").status_code for _ in range(7)]
        other_ip = anon_api.get("/api/v1/vouchers/verify?serial=1", REMOTE_ADDR="10.2.2.2").status_code

    assert statuses == [200] * 5 + [429, 429]
    assert other_ip == 200


def test_a_verify_past_the_limit_says_when_to_retry_in_the_callers_language(
    db, anon_api, settings, frozen_clock
):
    from vigencia.core import clock

    settings.VIGENCIA_VOUCHER_LIMITS = {**settings.VIGENCIA_VOUCHER_LIMITS, "verify_ip": (1, 60)}
    with frozen_clock(clock.now().replace(second=15)):
        anon_api.get("/api/v1/vouchers/verify?serial=1")
        refused = anon_api.get("/api/v1/vouchers/verify?serial=1", HTTP_ACCEPT_LANGUAGE="es")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"
    assert refused.json() == {
        "code": "rate_limited",
        "message": "Demasiados intentos. Inténtalo de nuevo más tarde.",
        "details": {"retry_after": 45},
    }
