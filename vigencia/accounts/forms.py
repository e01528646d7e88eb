"""Account forms: sign up, log in by email, password reset mailed in the user's language, profile."""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any, cast

from babel.dates import get_timezone_location
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from vigencia.accounts.models import Language
from vigencia.accounts.services import password_reset_claim, timezone_choices


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords are not the same."))
        return data


class EmailLoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _("The email or the password is not right."),
        "inactive": _("This account is inactive."),
    }


class LanguagePasswordResetForm(PasswordResetForm):
    """Django's reset form (it answers the same whether or not the email is registered); the email
    goes out in the language the user chose, and at most once per settings.PASSWORD_RESET_EVERY per
    account (`password_reset_claim`), so the form cannot flood an inbox."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if not password_reset_claim(user=context["user"]):
            return
        with translation.override(context["user"].language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class ProfileForm(forms.Form):
    """What a person changes of their account; the service validates the values."""

    name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("Mobile number for SMS"),
        max_length=32,
        required=False,
        help_text=_("SMS reminders go to this number. Numbers abroad start with + and the country code."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    timezone = forms.ChoiceField(
        label=_("Your timezone"),
        help_text=_("Dates and quiet hours follow it: no reminder arrives at night where you are."),
        error_messages={"invalid_choice": _("Choose your timezone from the list.")},
    )

    def __init__(self, *args: Any, current_timezone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _timezone_labels(translation.to_locale(translation.get_language() or "en"))
        if current_timezone not in dict(choices):
            choices = [(current_timezone, current_timezone), *choices]
        cast(forms.ChoiceField, self.fields["timezone"]).choices = choices


@cache
def _timezone_labels(locale: str) -> list[tuple[str, str]]:
    """(zone, its place in the reader's language: "中国（上海）时间"): UTC first, then by that label."""
    utc, *places = timezone_choices()
    labels = sorted(
        ((zone, get_timezone_location(zone, locale=locale)) for zone in places),
        key=lambda item: (unicodedata.normalize("NFKD", item[1]).casefold(), item[0]),
    )
    return [(utc, str(_("UTC (coordinated universal time)"))), *labels]
