"""Phone numbers as people type them, parsed with phonenumbers: a line's number (`lines.numbers`)
and a person's contact mobile."""

from __future__ import annotations

import re

import phonenumbers
from babel import Locale
from django.utils.translation import gettext as _
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

from vigencia.core.errors import InvalidInput
from vigencia.core.money import babel_locale

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_MAX_INPUT = 32
# What people type in a number: digits (any script), spaces, dashes, dots, brackets, a leading +.
# phonenumbers itself skips leading junk and reads trailing text as an extension ("912345678x"),
# which would accept letters and emoji silently.
_NUMBER_CHARACTERS = re.compile(r"[(\s]*[+＋]?[\d\s().\-]+")


def country_name(code: str) -> str:
    """A country's name in the active language (CLDR, through Babel): "PE" is Peru, Perú, 秘鲁."""
    return Locale.parse(babel_locale()).territories.get(code.upper(), code)


def phone_parse(raw: str, *, region: str, field: str) -> PhoneNumber:
    """`raw` as typed, national for `region` or international with +, parsed (not yet validated);
    InvalidInput (code `invalid_<field>`, on `field`) for anything that is not a number."""
    text = (raw or "").strip()
    details = {"field": field}
    if not text or len(text) > _MAX_INPUT:
        raise InvalidInput(_("Enter a mobile number."), code=f"invalid_{field}", details=details)
    try:
        if not _NUMBER_CHARACTERS.fullmatch(text):
            raise phonenumbers.NumberParseException(phonenumbers.NumberParseException.NOT_A_NUMBER, text)
        number = phonenumbers.parse(text, region)
        if number.extension:
            raise phonenumbers.NumberParseException(phonenumbers.NumberParseException.NOT_A_NUMBER, text)
    except phonenumbers.NumberParseException:
        raise InvalidInput(_("This is not a phone number."), code=f"invalid_{field}", details=details)
    return number


def mobile_normalize(raw: str, *, region: str) -> str:
    """A person's mobile number of any country in E.164 (typed national for `region`, or with +);
    InvalidInput `invalid_phone` unless it is a valid mobile number."""
    number = phone_parse(raw, region=region, field="phone")
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise InvalidInput(
            _("This is not a valid mobile number. Numbers abroad start with + and the country code."),
            code="invalid_phone",
            details={"field": "phone"},
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_normalize(raw: str, *, region: str) -> str:
    """Any valid phone number (a shop's landline too) in E.164, typed national for `region` or with +;
    InvalidInput `invalid_phone` for anything else."""
    number = phone_parse(raw, region=region, field="phone")
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            _(
                "This is not a valid phone number in %(country)s. "
                "Numbers abroad start with + and the country code."
            )
            % {"country": region},
            code="invalid_phone",
            details={"field": "phone"},
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """A number as people write it: +51 912 345 678 (as stored, if it does not parse)."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
