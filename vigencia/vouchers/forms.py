from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vigencia.catalog.models import Carrier, Plan
from vigencia.lines.models import Line


class RedeemForm(forms.Form):
    pin = forms.CharField(
        label=_("PIN"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    line = forms.ModelChoiceField(label=_("One of my lines"), queryset=Line.objects.none(), required=False)
    msisdn = forms.CharField(label=_("Or another number (a gift)"), max_length=30, required=False)
    carrier = forms.ModelChoiceField(label=_("Its carrier"), queryset=Carrier.objects.all(), required=False)

    def __init__(self, *args: object, lines: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if lines is not None:
            self.fields["line"].queryset = lines  # type: ignore[attr-defined]


class BuyForm(forms.Form):
    plan = forms.ModelChoiceField(
        label=_("Plan"), queryset=Plan.objects.filter(is_active=True).select_related("carrier")
    )
    count = forms.IntegerField(label=_("Codes"), min_value=1, max_value=100_000)


class VoidForm(forms.Form):
    serial_from = forms.CharField(label=_("First serial"), max_length=20, required=False)
    serial_to = forms.CharField(label=_("Last serial"), max_length=20, required=False)
