"""The counter's forms: they parse what the agent typed; the services decide what is allowed."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vigencia.stores.iddocs import DocumentType
from vigencia.stores.models import SALE_PAYMENTS, PosPayment

# Large, keyboard-first fields: the number field takes the focus, digits bring up the number pad.
_NUMERIC = {"inputmode": "decimal", "autocomplete": "off"}
# Soles as agents type them: "20", "20.5", "20,50", "S/ 20", "S/. 20.00"; no sign, exponent or
# thousands separator, at most two decimals.
_SOLES = re.compile(r"(?:S/\.?)?\s*([0-9]{1,9})(?:[.,]([0-9]{1,2}))?", re.IGNORECASE)


class SolesField(forms.CharField):
    """An amount in soles typed at the counter, as a Decimal; anything else is refused in words."""

    def __init__(self, *, max_value: int = 100_000, **kwargs: Any) -> None:
        self.max_value = Decimal(max_value)
        kwargs.setdefault("widget", forms.TextInput(attrs=_NUMERIC))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        match = _SOLES.fullmatch(text) if len(text) <= 20 else None
        if match is None:
            raise ValidationError(_("Enter an amount in soles, such as 20 or 20.50."), code="invalid_amount")
        amount = Decimal(f"{match[1]}.{match[2] or 0}")
        if amount > self.max_value:
            raise ValidationError(
                _("Enter an amount of at most S/ %(max)s.") % {"max": f"{self.max_value:,.2f}"},
                code="invalid_amount",
            )
        return amount


class ShiftOpenForm(forms.Form):
    float_amount = SolesField(
        label=_("Cash float (S/)"), widget=forms.TextInput(attrs={**_NUMERIC, "autofocus": True})
    )


class ShiftCloseForm(forms.Form):
    counted = SolesField(
        label=_("Cash counted in the drawer (S/)"),
        widget=forms.TextInput(attrs={**_NUMERIC, "autofocus": True}),
    )


class LineLookupForm(forms.Form):
    msisdn = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "autofocus": True}),
    )
    carrier = forms.ChoiceField(label=_("Carrier"))

    def __init__(self, *args, carriers: list[tuple[str, str]], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        # With several, the agent chooses: a preselected first carrier is looked up by mistake.
        prompt = [("", _("Choose the carrier"))] if len(carriers) > 1 else []
        cast(forms.ChoiceField, self.fields["carrier"]).choices = [*prompt, *carriers]


class SaleForm(forms.Form):
    plan = forms.TypedChoiceField(label=_("Plan"), coerce=int, widget=forms.RadioSelect)
    id_type = forms.ChoiceField(
        label=_("ID document"),
        choices=DocumentType.choices,
        initial=DocumentType.DNI,
        widget=forms.RadioSelect,
    )
    id_number = forms.CharField(
        label=_("Document number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    id_country = forms.CharField(
        label=_("Passport country"),
        max_length=2,
        required=False,
        help_text=_("Two letters, e.g. CN, US (passports only)"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "size": 3}),
    )
    payment = forms.ChoiceField(
        label=_("Payment"),
        choices=[(value, label) for value, label in PosPayment.choices if value in SALE_PAYMENTS],
        initial=PosPayment.CASH,
        widget=forms.RadioSelect,
    )
    tendered = SolesField(label=_("Cash tendered (S/)"), required=False)
    card_reference = forms.CharField(
        label=_("Terminal reference"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    promo_code = forms.CharField(
        label=_("Promotion code"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    # One key per rendered form: a double tap or a resubmitted page never sells twice.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, plans: list[tuple[int, str]], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["plan"]).choices = plans


class PosVoucherForm(forms.Form):
    pin = forms.CharField(
        label=_("Recharge code PIN"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
