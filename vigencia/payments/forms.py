"""The sandbox checkout's forms: they shape input for the provider, which validates it."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


class CardForm(forms.Form):
    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )
    expiry = forms.CharField(
        label=_("Expiry (MM/YY)"),
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "placeholder": "12/30"}),
    )
    cvc = forms.CharField(
        label=_("Security code"),
        max_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )

    def clean_expiry(self) -> tuple[str, str]:
        match = _EXPIRY.match(self.cleaned_data["expiry"])
        if match is None:
            raise forms.ValidationError(_("Write the expiry as MM/YY."), code="invalid_expiry")
        return match.group(1), match.group(2)

    def payment_method(self) -> dict[str, str]:
        month, year = self.cleaned_data["expiry"]
        return {
            "number": self.cleaned_data["number"],
            "exp_month": month,
            "exp_year": year,
            "cvc": self.cleaned_data["cvc"],
        }


class EwalletForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "912 345 678"}
        ),
    )
    code = forms.CharField(
        label=_("Approval code"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def payment_method(self) -> dict[str, str]:
        return {"phone": self.cleaned_data["phone"], "code": self.cleaned_data["code"]}


class PaypalForm(forms.Form):
    """Nothing to enter: the customer continues to the PayPal-style page."""

    def payment_method(self) -> dict[str, str]:
        return {}
