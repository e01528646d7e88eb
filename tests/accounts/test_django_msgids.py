"""Django's own password and auth messages read in the person's language: the ones Django's zh_Hans
and es catalogs lack are translated in the project (vigencia/accounts/django_msgids.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from vigencia.accounts.models import User

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-hans",
            [
                "密码太短，至少需要 8 个字符。",
                "这个密码太常见了。",
                "密码只包含数字。",
            ],
        ),
        (
            "es",
            [
                "La contraseña es demasiado corta. Debe tener al menos 8 caracteres.",
                "Esta contraseña es demasiado común.",
                "Esta contraseña es completamente numérica.",
            ],
        ),
    ],
)
def test_the_sign_up_form_tells_a_weak_password_in_the_readers_language(language, expected) -> None:
    # given someone signing up in `language`
    client = Client(HTTP_ACCEPT_LANGUAGE=language)

    # when they choose a short, common, all-digits password
    response = client.post(
        SIGNUP,
        {"email": "li@example.com", "name": "", "password1": "123", "password2": "123", "language": "en"},
    )

    # then each of Django's reasons is in their language, and no account is made
    assert response.status_code == 200
    assert response.context["form"].errors == {"password1": expected}
    assert User.objects.count() == 0


@pytest.mark.parametrize("language", ["zh-hans", "es"])
def test_every_password_validator_message_and_help_is_translated(language) -> None:
    # given the project's password validators and passwords each one refuses
    user = User(email="ana.maria@example.com", name="Ana María")
    refusals = []
    for password in ["ana.maria@example", "1234", "password", "83920174"]:
        with translation.override(language), pytest.raises(ValidationError) as refused:
            password_validation.validate_password(password, user)
        refusals += refused.value.messages
    with translation.override(language):
        help_texts = password_validation.password_validators_help_texts()

    # then none of it is left in English
    with translation.override("en"):
        english = set(password_validation.password_validators_help_texts())
    assert len(refusals) >= 4
    assert not [text for text in refusals + help_texts if text.startswith(("This password", "The password"))]
    assert not english & set(help_texts)
