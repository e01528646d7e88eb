from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from vigencia.catalog.models import Carrier
from vigencia.core.money import CurrencyMismatch, Money


def test_adds_and_subtracts_in_minor_units():
    assert Money(1000, "PEN") + Money(250, "PEN") - Money(50, "PEN") == Money(1200, "PEN")


def test_refuses_to_mix_currencies():
    with pytest.raises(CurrencyMismatch):
        Money(100, "PEN") + Money(100, "USD")


def test_refuses_floats():
    with pytest.raises(TypeError):
        Money(10.5, "PEN")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["XYZ", "pen", "PE", "PENN", ""])
def test_refuses_what_is_not_an_iso_4217_code(code):
    with pytest.raises(ValueError, match="not an ISO 4217 currency code"):
        Money(100, code)


def test_a_carrier_in_an_unknown_currency_is_refused_by_its_form(demo_catalog):
    # given a carrier edited in the back office with a three-letter code that is no currency
    carrier = Carrier.objects.get(code="claro-pe")
    carrier.currency = "XYZ"
    # when it is validated, then the field says why, before anything is saved
    with pytest.raises(ValidationError) as error:
        carrier.full_clean()
    assert error.value.message_dict == {"currency": ["XYZ is not an ISO 4217 currency code (e.g. PEN)."]}


def test_from_decimal_refuses_sub_minor_precision():
    assert Money.from_decimal("29.90", "PEN") == Money(2990, "PEN")
    with pytest.raises(ValueError, match="more decimals"):
        Money.from_decimal(Decimal("1.005"), "PEN")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("es", "S/\xa01,234.50"), ("en", "S/\xa01,234.50"), ("zh-hans", "S/\xa01,234.50")],
)
def test_formats_soles_as_peruvians_write_them(language, expected):
    assert Money(123450, "PEN").format(language) == expected


def test_formats_yuan_with_its_symbol():
    assert Money(800, "CNY").format("zh-hans") == "¥\xa08.00"


@pytest.mark.parametrize(
    ("money", "language", "expected"),
    [
        (Money(-1000, "PEN"), "es", "-S/\xa010.00"),
        (Money(-123450, "PEN"), "zh-hans", "-S/\xa01,234.50"),
        (Money(-800, "CNY"), "en", "-¥\xa08.00"),
        (Money(-1, "PEN"), "en", "-S/\xa00.01"),
    ],
)
def test_a_negative_amount_has_its_sign_before_the_symbol(money, language, expected):
    assert money.format(language) == expected
