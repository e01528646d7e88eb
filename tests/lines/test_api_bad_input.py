"""POST /api/v1/lines with bad input: always a clear 4xx JSON error, never a 500, nothing written."""

import pytest

from vigencia.lines.models import Line, LineEvent

pytestmark = pytest.mark.django_db

OK = {"msisdn": "912345678", "carrier": "claro-pe"}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        # numbers that are not Peruvian mobiles
        ({"msisdn": "+86 138 0013 8000"}, "msisdn_wrong_country"),
        ({"msisdn": "+44 7400 123456"}, "msisdn_wrong_country"),
        ({"msisdn": "+1 202 555 0123"}, "msisdn_wrong_country"),
        ({"msisdn": "+51 1 4567890"}, "invalid_msisdn"),  # a Lima landline
        ({"msisdn": "91234567"}, "invalid_msisdn"),
        ({"msisdn": "9123456789"}, "invalid_msisdn"),
        ({"msisdn": "+999 123 456 789"}, "invalid_msisdn"),
        ({"msisdn": ""}, "invalid_msisdn"),
        ({"msisdn": "+"}, "invalid_msisdn"),
        # letters, emoji, junk around a valid number, huge and binary strings
        ({"msisdn": "nine one two"}, "invalid_msisdn"),
        ({"msisdn": "912345678x"}, "invalid_msisdn"),
        ({"msisdn": "📱912345678"}, "invalid_msisdn"),
        ({"msisdn": "+51912345678 ext 5"}, "invalid_msisdn"),
        ({"msisdn": "tel:+51912345678"}, "invalid_msisdn"),
        ({"msisdn": "9" * 10_000}, "invalid_msisdn"),
        ({"msisdn": "912345678\x00"}, "invalid"),
        ({"msisdn": "\ud83d"}, "invalid"),
        # ICCID and nickname
        ({"iccid": "8951100000123456788"}, "invalid_iccid"),
        ({"iccid": "12345"}, "invalid_iccid"),
        ({"iccid": "89ABCDEF0000000000"}, "invalid_iccid"),
        ({"iccid": "8" * 10_000}, "invalid_iccid"),
        ({"nickname": "x" * 10_000}, "invalid_nickname"),
        ({"nickname": "nul\x00"}, "invalid"),
        # carriers
        ({"carrier": "nope-pe"}, "unknown_carrier"),
        ({"carrier": "x" * 10_000}, "unknown_carrier"),
        ({"carrier": "claro\x00"}, "invalid"),
        # dates far away or the wrong way round
        ({"last_recharge_at": "1900-01-01"}, "invalid_date"),
        ({"last_recharge_at": "2999-01-01"}, "invalid_date"),
        ({"valid_until": "0001-01-01"}, "invalid_date"),
        ({"valid_until": "9999-12-31"}, "invalid_date"),
        ({"valid_until": "10000-01-01"}, "invalid"),
        ({"valid_until": "2025-02-30"}, "invalid"),
        ({"valid_until": "tomorrow"}, "invalid"),
        # wrong types
        ({"msisdn": 912345678}, "invalid"),
        ({"msisdn": ["912345678"]}, "invalid"),
        ({"carrier": None}, "invalid"),
        ({"nickname": {"a": 1}}, "invalid"),
        ({"valid_until": 20250101}, "invalid"),
    ],
)
def test_bad_line_input_is_422_and_writes_nothing(api, claro, body, code):
    response = api.post_json("/api/v1/lines", {**OK, **body})

    assert response.status_code == 422, response.content
    error = response.json()
    assert error["code"] == code
    assert error["message"]
    assert Line.objects.count() == 0
    assert LineEvent.objects.count() == 0


@pytest.mark.parametrize("missing", ["msisdn", "carrier"])
def test_missing_fields_are_422_naming_the_field(api, claro, missing):
    body = {name: value for name, value in OK.items() if name != missing}

    response = api.post_json("/api/v1/lines", body)

    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "invalid"
    assert error["details"][0]["loc"] == ["body", "payload", missing]
    assert error["details"][0]["type"] == "missing"
    assert Line.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    ["{", '{"msisdn": "912345678", "carrier": "claro-pe"', "\xff", "null", "[]", '"912345678"', "1e999"],
)
def test_malformed_or_non_object_bodies_are_4xx(api, claro, raw):
    response = api.post("/api/v1/lines", raw, content_type="application/json")

    assert response.status_code in (400, 422), response.content
    assert response.json()["code"] in ("malformed_body", "invalid")
    assert Line.objects.count() == 0


def test_an_empty_body_is_422(api, claro):
    response = api.post("/api/v1/lines", "", content_type="application/json")

    assert response.status_code == 422
    assert Line.objects.count() == 0


def test_error_messages_follow_the_request_language(api, claro):
    response = api.post_json("/api/v1/lines", {**OK, "carrier": "nope"}, HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_carrier"
