"""ID documents: validation, AES-GCM encryption with key rotation, the blind index, the mask."""

from __future__ import annotations

import base64

import pytest

from vigencia.core.errors import InvalidInput
from vigencia.stores.iddocs import (
    IdDocument,
    UndecryptableError,
    id_blind_index,
    id_decrypt,
    id_document_validate,
    id_encrypt,
    id_reencrypt,
    mask,
)

OLD_KEY = base64.b64encode(b"o" * 32).decode()
NEW_KEY = base64.b64encode(b"n" * 32).decode()


@pytest.fixture(autouse=True)
def _keys(settings):
    settings.VIGENCIA_ID_KEYS = [OLD_KEY]
    settings.VIGENCIA_ID_INDEX_KEY = base64.b64encode(b"i" * 32).decode()


def test_round_trip_hides_the_number():
    token = id_encrypt("10117410")

    assert "10117410" not in token
    assert token.startswith("v1.")
    assert id_decrypt(token) == "10117410"
    assert id_encrypt("10117410") != token  # a fresh nonce every time


def test_rotation_old_key_still_decrypts_and_reencrypt_moves_to_the_new(settings):
    # given a document encrypted under the old key
    old_token = id_encrypt("10117410")

    # when a new key is put in front
    settings.VIGENCIA_ID_KEYS = [NEW_KEY, OLD_KEY]
    new_token = id_reencrypt(old_token)

    # then both decrypt; the new token names the new key and survives dropping the old one
    assert id_decrypt(old_token) == "10117410"
    assert new_token.split(".")[1] != old_token.split(".")[1]
    assert id_reencrypt(new_token) == new_token
    settings.VIGENCIA_ID_KEYS = [NEW_KEY]
    assert id_decrypt(new_token) == "10117410"
    with pytest.raises(UndecryptableError):
        id_decrypt(old_token)


def test_an_altered_ciphertext_is_refused():
    version, key_id, body = id_encrypt("10117410").split(".")
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]

    with pytest.raises(UndecryptableError):
        id_decrypt(f"{version}.{key_id}.{flipped}")


@pytest.mark.parametrize(
    ("kind", "number", "country", "expected"),
    [
        ("dni", "10117410", None, IdDocument("dni", "10117410")),
        ("dni", " 10117410-2 ", None, IdDocument("dni", "10117410")),
        ("dni", "10117410G", None, IdDocument("dni", "10117410")),
        ("ce", "001234567", None, IdDocument("ce", "001234567")),
        ("passport", "ab 123456", "cn", IdDocument("passport", "AB123456", "CN")),
    ],
)
def test_valid_documents_are_normalised(kind, number, country, expected):
    assert id_document_validate(type=kind, number=number, country=country) == expected


@pytest.mark.parametrize(
    ("kind", "number", "country", "code"),
    [
        ("dni", "10117410-3", None, "invalid_dni_check"),
        ("dni", "10117410H", None, "invalid_dni_check"),
        ("dni", "1011741", None, "invalid_dni"),
        ("dni", "00000000", None, "invalid_dni"),
        ("dni", "11111111", None, "invalid_dni"),
        ("dni", "99999999-4", None, "invalid_dni"),
        ("dni", "1011741O", None, "invalid_dni"),
        ("dni", "١٠١١٧٤١٠", None, "invalid_dni"),
        ("ce", "12345678", None, "invalid_ce"),
        ("ce", "1234567890", None, "invalid_ce"),
        ("passport", "AB12", "CN", "invalid_passport"),
        ("passport", "AB12345678901", "CN", "invalid_passport"),
        ("passport", "AB123456", "XX", "invalid_country"),
        ("passport", "AB123456", None, "invalid_country"),
        ("license", "123", None, "invalid_id_type"),
    ],
)
def test_invalid_documents_are_refused(kind, number, country, code):
    with pytest.raises(InvalidInput) as refused:
        id_document_validate(type=kind, number=number, country=country)

    assert refused.value.code == code


def test_blind_index_finds_the_same_document_however_typed(settings):
    typed_plain = id_document_validate(type="dni", number="10117410")
    typed_with_check = id_document_validate(type="dni", number="10117410-2")
    other_kind = IdDocument("ce", "10117410")

    index = id_blind_index(typed_plain)
    assert index == id_blind_index(typed_with_check)
    assert len(index) == 64
    assert "10117410" not in index
    assert index != id_blind_index(other_kind)
    settings.VIGENCIA_ID_INDEX_KEY = base64.b64encode(b"j" * 32).decode()
    assert id_blind_index(typed_plain) != index


def test_mask_shows_only_the_last_four():
    assert mask("12345678") == "****5678"
    assert IdDocument("passport", "AB123456", "CN").masked() == "****3456"
