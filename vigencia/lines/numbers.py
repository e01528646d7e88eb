"""Phone numbers and ICCIDs: parsed and validated with phonenumbers and python-stdnum."""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext as _
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError

from vigencia.core.errors import InvalidInput

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_MAX_INPUT = 32
# What people type in a number: digits (any script), spaces, dashes, dots, brackets, a leading +.
# phonenumbers itself skips leading junk and reads trailing text as an extension ("912345678x"),
# which would accept letters and emoji silently.
_NUMBER_CHARACTERS = re.compile(r"[(\s]*[+＋]?[\d\s().\-]+")


def msisdn_normalize(raw: str, *, country: str) -> str:
    """A mobile number of `country` in E.164. Accepts national or international input with spaces,
    dashes and brackets; refuses anything that is not a valid mobile of that country."""
    text = (raw or "").strip()
    if not text or len(text) > _MAX_INPUT:
        raise InvalidInput(_("Enter a mobile number."), code="invalid_msisdn", details={"field": "msisdn"})
    try:
        if not _NUMBER_CHARACTERS.fullmatch(text):
            raise phonenumbers.NumberParseException(phonenumbers.NumberParseException.NOT_A_NUMBER, text)
        number = phonenumbers.parse(text, country)
        if number.extension:
            raise phonenumbers.NumberParseException(phonenumbers.NumberParseException.NOT_A_NUMBER, text)
    except phonenumbers.NumberParseException:
        raise InvalidInput(
            _("This is not a phone number."), code="invalid_msisdn", details={"field": "msisdn"}
        )
    region = phonenumbers.region_code_for_number(number)
    if region and region != country and phonenumbers.is_valid_number(number):
        raise InvalidInput(
            _("This number is not from the carrier's country (%(country)s).") % {"country": country},
            code="msisdn_wrong_country",
            details={"field": "msisdn", "expected_country": country, "number_country": region},
        )
    valid = phonenumbers.is_valid_number_for_region(number, country)
    if not valid or phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidInput(
            _("This is not a valid mobile number for %(country)s.") % {"country": country},
            code="invalid_msisdn",
            details={"field": "msisdn"},
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def msisdn_display(e164: str) -> str:
    """The number as people write it: +51 912 345 678."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


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
