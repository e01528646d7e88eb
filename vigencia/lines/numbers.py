"""Phone numbers and ICCIDs: parsed and validated with phonenumbers and python-stdnum."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _
from phonenumbers import PhoneNumberFormat
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError

from vigencia.core.errors import InvalidInput
from vigencia.core.phones import MOBILE_TYPES, country_name, phone_display, phone_parse


def msisdn_normalize(raw: str, *, country: str) -> str:
    """A mobile number of `country` in E.164. Accepts national or international input with spaces,
    dashes and brackets; refuses anything that is not a valid mobile of that country."""
    number = phone_parse(raw, region=country, field="msisdn")
    region = phonenumbers.region_code_for_number(number)
    if region and region != country and phonenumbers.is_valid_number(number):
        raise InvalidInput(
            _("This number is not from the carrier's country (%(country)s).")
            % {"country": country_name(country)},
            code="msisdn_wrong_country",
            details={"field": "msisdn", "expected_country": country, "number_country": region},
        )
    valid = phonenumbers.is_valid_number_for_region(number, country)
    if not valid or phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise InvalidInput(
            _("This is not a valid mobile number for %(country)s.") % {"country": country_name(country)},
            code="invalid_msisdn",
            details={"field": "msisdn"},
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def msisdn_display(e164: str) -> str:
    """The number as people write it: +51 912 345 678."""
    return phone_display(e164)


def iccid_normalize(raw: str) -> str:
    """An ICCID: 18 to 22 digits starting with 89 (telecom) and a valid Luhn check digit."""
    text = "".join((raw or "").split())
    if not text:
        return ""
    if not text.isdigit() or not 18 <= len(text) <= 22 or not text.startswith("89"):
        raise InvalidInput(
            _("An ICCID has 18 to 22 digits and starts with 89."),
            code="invalid_iccid",
            details={"field": "iccid"},
        )
    try:
        luhn.validate(text)
    except StdnumError:
        raise InvalidInput(
            _("The ICCID's check digit is wrong; check the number on the SIM card."),
            code="invalid_iccid",
            details={"field": "iccid"},
        )
    return text
