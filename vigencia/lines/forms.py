"""Line forms. They only shape input; the services validate numbers, ICCIDs and dates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vigencia.catalog.models import Carrier
from vigencia.catalog.selectors import carrier_list
from vigencia.core.phones import country_name


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class LineEditForm(forms.Form):
    nickname = forms.CharField(
        label=_("Nickname"), max_length=60, required=False, help_text=_("For example: Mum, work, Lima SIM.")
    )
    iccid = forms.CharField(
        label=_("ICCID (optional)"),
        max_length=32,
        required=False,
        help_text=_("The long number printed on the SIM card, starting with 89."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    last_recharge_at = forms.DateField(
        label=_("Last recharge"), required=False, widget=DateInput(), help_text=_("If you remember it.")
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput(),
        help_text=_("The date your carrier says the line is valid until, if you know it."),
    )


class LineAddForm(LineEditForm):
    carrier = forms.ModelChoiceField(
        label=_("Carrier"), queryset=Carrier.objects.none(), empty_label=_("Choose your carrier")
    )
    msisdn = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        help_text=_("With or without the country code, e.g. +51 912 345 678."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    field_order = ["carrier", "msisdn", "nickname", "iccid", "last_recharge_at", "valid_until"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["carrier"]
        field.queryset = carrier_list()  # type: ignore[attr-defined]
        # Grouped under each country's name in the reader's language, countries and carriers in
        # alphabetical order: the carriers' names alone do not say where they are.
        by_country: dict[str, list[Carrier]] = {}
        for carrier in field.queryset:  # type: ignore[attr-defined]
            by_country.setdefault(country_name(carrier.country), []).append(carrier)
        field.choices = [  # type: ignore[attr-defined]
            ("", field.empty_label),  # type: ignore[attr-defined]
            *(
                (country, [(c.pk, c.name) for c in sorted(carriers, key=lambda c: c.name.casefold())])
                for country, carriers in sorted(by_country.items(), key=lambda item: item[0].casefold())
            ),
        ]
