from __future__ import annotations

from decimal import Decimal
from itertools import groupby
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vigencia.accounts import roles
from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier, Plan
from vigencia.core.forms import OncePerPageForm
from vigencia.core.money import Money
from vigencia.lines.models import Line
from vigencia.lines.numbers import msisdn_display
from vigencia.orders.selectors import wallet_currencies
from vigencia.vouchers.codes import ONLINE_MAX_COUNT


class LineChoiceField(forms.ModelChoiceField):
    """A line as its holder knows it: the number written for people, its nickname and carrier."""

    def label_from_instance(self, obj: Line) -> str:  # type: ignore[override]
        parts = (msisdn_display(obj.msisdn), obj.nickname, obj.carrier.name)
        return " · ".join(part for part in parts if part)


class PlanChoiceField(forms.ModelChoiceField):
    """A plan by its name in the reader's language (which says its carrier, price and days)."""

    def label_from_instance(self, obj: Plan) -> str:  # type: ignore[override]
        return obj.name


class RedeemForm(forms.Form):
    pin = forms.CharField(
        label=_("PIN"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    line = LineChoiceField(
        label=_("One of my lines"),
        queryset=Line.objects.none(),
        required=False,
        empty_label=_("Choose a line"),
        help_text=_("Not needed for a wallet card: its value goes to your wallet."),
    )
    msisdn = forms.CharField(label=_("Or another number (a gift)"), max_length=30, required=False)
    carrier = forms.ModelChoiceField(
        label=_("Its carrier"),
        queryset=Carrier.objects.all(),
        required=False,
        empty_label=_("Choose your carrier"),
    )

    def __init__(self, *args: object, lines: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if lines is not None:
            self.fields["line"].queryset = lines  # type: ignore[attr-defined]


def _plans_by_carrier(field: forms.ModelChoiceField) -> None:
    """Offer the field's plans grouped by carrier: some plans' names do not say whose they are
    (Plan básico ¥19)."""
    plans = list(field.queryset)  # type: ignore[arg-type]
    field.choices = [
        ("", _("Choose a plan")),
        *(
            (carrier, [(plan.pk, plan.name) for plan in group])
            for carrier, group in groupby(plans, key=lambda plan: plan.carrier.name)
        ),
    ]


class PlanOrValueForm(OncePerPageForm):
    """Codes of a plan, or wallet cards of a value (cleaned_data["face"]: Money, else None)."""

    field_order = ["plan", "face_value", "currency", "count"]
    face_value = forms.DecimalField(
        label=_("Or wallet cards worth"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=9,
        decimal_places=2,
        help_text=_("Leave the plan empty: each card's value goes to the wallet of whoever redeems it."),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=[], required=False)

    def __init__(self, *args: object, currencies: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["currency"].choices = [(code, code) for code in currencies]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        plan, value = data.get("plan"), data.get("face_value")
        if (
            (plan is None) == (value is None)
            and "plan" not in self.errors
            and "face_value" not in self.errors
        ):
            raise forms.ValidationError(_("Choose a plan, or a wallet card's value."), code="plan_or_value")
        data["face"] = None
        if value is not None:
            if not data.get("currency"):
                self.add_error(
                    "currency", forms.ValidationError(_("Choose the cards' currency."), code="required")
                )
            else:
                data["face"] = Money.from_decimal(value, data["currency"])
        return data


class BuyForm(PlanOrValueForm):
    plan = PlanChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.filter(is_active=True).select_related("carrier"),
        required=False,
    )
    count = forms.IntegerField(
        label=_("Codes"),
        min_value=1,
        max_value=ONLINE_MAX_COUNT,
        help_text=_("1 to 100,000. Each code is paid from your prepaid balance at its face value."),
    )

    def __init__(self, *args: object, currencies: list[str], **kwargs: object) -> None:
        super().__init__(*args, currencies=currencies, **kwargs)
        # Only plans the reseller's prepaid balances can pay for.
        field = self.fields["plan"]
        field.queryset = field.queryset.filter(currency__in=currencies)  # type: ignore[attr-defined]
        _plans_by_carrier(field)  # type: ignore[arg-type]


class ResellerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:  # type: ignore[override]
        return f"{obj.name} <{obj.email}>" if obj.name else obj.email


class OperatorBatchForm(PlanOrValueForm):
    """A batch the operator creates: sold at once to a reseller (from their prepaid balance), or the
    operator's own (promotional codes, put on sale after the download)."""

    field_order = ["plan", "face_value", "currency", "count", "reseller", "expires_on"]
    plan = PlanChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.filter(is_active=True)
        .select_related("carrier")
        .order_by("carrier__name", "price_minor"),
        required=False,
    )
    count = forms.IntegerField(
        label=_("Codes"), min_value=1, max_value=ONLINE_MAX_COUNT, help_text=_("1 to 100,000.")
    )
    reseller = ResellerChoiceField(
        label=_("Reseller"),
        queryset=User.objects.filter(is_active=True, groups__name=roles.RESELLER).order_by("email"),
        required=False,
        empty_label=_("None: promotional codes of the operator"),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: in a year."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, currencies=wallet_currencies(), **kwargs)  # type: ignore[arg-type]
        _plans_by_carrier(self.fields["plan"])  # type: ignore[arg-type]


class VoidForm(forms.Form):
    serial_from = forms.CharField(label=_("First serial"), max_length=20, required=False)
    serial_to = forms.CharField(label=_("Last serial"), max_length=20, required=False)


class VerifyForm(forms.Form):
    serial = forms.CharField(
        label=_("Serial number on the card"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "autofocus": True}),
    )
