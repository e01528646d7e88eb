"""ID documents checked at the counter: validated, encrypted in the application, found by a blind index.

- DNI: 8 digits (not all the same), optionally followed by its check character, verified with
  python-stdnum (`pe.cui`).
- Carné de extranjería (CE): 9 digits.
- Passport: 6 to 12 letters or digits, with the issuing country (ISO 3166 alpha-2).

The number is stored only as AES-GCM ciphertext under `settings.VIGENCIA_ID_KEYS` (newest first). The
ciphertext names its key (`v1.<key id>.<nonce + ciphertext>`), so adding a new key in front rotates:
new documents use it, older ones still decrypt, and `id_reencrypt` moves one to the newest key. Lookup
is by `id_blind_index`, an HMAC-SHA256 under a separate key, and people only ever see `mask()`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from babel import Locale
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.pe import cui

from vigencia.core.errors import InvalidInput

_VERSION = "v1"
_NONCE_BYTES = 12
_CE = re.compile(r"[0-9]{9}")
_PASSPORT = re.compile(r"[A-Z0-9]{6,12}")
_DNI_INPUT = re.compile(r"[0-9]{8}(?:[\s-]?[0-9A-Za-z])?")


class DocumentType(models.TextChoices):
    DNI = "dni", gettext_lazy("DNI")
    CE = "ce", gettext_lazy("Carné de extranjería")
    PASSPORT = "passport", gettext_lazy("Passport")


@dataclass(frozen=True)
class IdDocument:
    type: str
    number: str  # normalised: the DNI's 8 digits (without its check character), the CE, the passport
    country: str = ""  # passports only

    def masked(self) -> str:
        return mask(self.number)


def mask(number: str) -> str:
    """Only the last four characters: `****5678`."""
    return "****" + (number or "")[-4:]


@functools.cache
def _countries() -> frozenset[str]:
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha() and code != "ZZ")


def _invalid(code: str, message: str) -> InvalidInput:
    return InvalidInput(message, code=code, details={"field": "id_document"})


def id_document_validate(*, type: str, number: str, country: str | None = None) -> IdDocument:
    """The document normalised, or InvalidInput: `invalid_id_type`, `invalid_dni`,
    `invalid_dni_check` (a check character that does not match), `invalid_ce`, `invalid_passport`,
    `invalid_country`."""
    text = (number or "").strip() if isinstance(number, str) else ""
    if type == DocumentType.DNI:
        if not _DNI_INPUT.fullmatch(text):
            raise _invalid(
                "invalid_dni", _("A DNI has 8 digits, optionally followed by its check character.")
            )
        if len(set(text[:8])) == 1:
            # 00000000, 11111111, ...: what is typed to get past the field, never a real DNI.
            raise _invalid("invalid_dni", _("A DNI is not 8 identical digits; type the one on the card."))
        try:
            valid = cui.validate(text)
        except InvalidChecksum:
            raise _invalid("invalid_dni_check", _("The DNI's check character does not match its number."))
        except ValidationError:
            raise _invalid(
                "invalid_dni", _("A DNI has 8 digits, optionally followed by its check character.")
            )
        return IdDocument(type=DocumentType.DNI, number=valid[:8])
    if type == DocumentType.CE:
        if not _CE.fullmatch(text):
            raise _invalid("invalid_ce", _("A carné de extranjería has 9 digits."))
        return IdDocument(type=DocumentType.CE, number=text)
    if type == DocumentType.PASSPORT:
        compact = re.sub(r"[\s-]", "", text).upper()
        if not _PASSPORT.fullmatch(compact):
            raise _invalid("invalid_passport", _("A passport number has 6 to 12 letters or digits."))
        issuer = (country or "").strip().upper() if isinstance(country, str) else ""
        if issuer not in _countries():
            raise _invalid("invalid_country", _("Give the passport's country as a two-letter ISO code."))
        return IdDocument(type=DocumentType.PASSPORT, number=compact, country=issuer)
    raise _invalid("invalid_id_type", _("The document type must be dni, ce or passport."))


# --- encryption ----------------------------------------------------------------------------------


def _decode_key(encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) not in (16, 24, 32):
        raise ImproperlyConfigured("VIGENCIA_ID_KEYS holds base64 AES keys of 16, 24 or 32 bytes")
    return key


def _key_id(key: bytes) -> str:
    # Derived from the key, so reordering or adding keys never changes which key a ciphertext names.
    return hashlib.sha256(b"vigencia-id-key:" + key).hexdigest()[:8]


def _keys() -> list[tuple[str, bytes]]:
    if not settings.VIGENCIA_ID_KEYS:
        raise ImproperlyConfigured("VIGENCIA_ID_KEYS is empty")
    return [(_key_id(key), key) for key in map(_decode_key, settings.VIGENCIA_ID_KEYS)]


def id_encrypt(plaintext: str) -> str:
    """`v1.<key id>.<base64 nonce+ciphertext>` under the newest key; the header is authenticated too."""
    key_id, key = _keys()[0]
    header = f"{_VERSION}.{key_id}"
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), header.encode())
    return f"{header}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


class UndecryptableError(ValueError):
    """A ciphertext under a key that is no longer configured, or altered."""


def id_decrypt(token: str) -> str:
    version, _dot, rest = token.partition(".")
    key_id, _dot, body = rest.partition(".")
    key = dict(_keys()).get(key_id)
    if version != _VERSION or key is None:
        raise UndecryptableError("no configured key for this ciphertext")
    try:
        raw = base64.urlsafe_b64decode(body)
        return (
            AESGCM(key)
            .decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], f"{version}.{key_id}".encode())
            .decode()
        )
    except (InvalidTag, binascii.Error, ValueError):
        raise UndecryptableError("the ciphertext was altered")


def id_reencrypt(token: str) -> str:
    """The same plaintext under the newest key (the token itself when it already uses it)."""
    if token.split(".")[1:2] == [_keys()[0][0]]:
        return token
    return id_encrypt(id_decrypt(token))


def id_blind_index(document: IdDocument) -> str:
    """A keyed HMAC-SHA256 (hex) of the normalised document: equal documents, equal index; without the
    key, not reversible by trying every DNI."""
    key = _decode_key(settings.VIGENCIA_ID_INDEX_KEY)
    message = f"{document.type}:{document.country}:{document.number}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
