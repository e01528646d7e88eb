"""The statement page's alert settings, in the units people think in (MB, the line's currency, days)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from django import forms
from django.core.validators import DecimalValidator
from django.utils.translation import gettext_lazy as _

from vigencia.core.money import Money, currency_symbol
from vigencia.usage.models import AlertRule

_MONEY_MAX = Decimal(10**9)  # far above any prepaid balance, far below the service's 10**12 minor units


class AlertsForm(forms.Form):
    data_below_mb = forms.IntegerField(
        label=_("When data left falls below (MB)"),
        min_value=0,
        max_value=10**6,
        required=False,
    )
    money_below = forms.DecimalField(
        label=_("When the balance falls below"),
        min_value=0,
        max_value=_MONEY_MAX,
        required=False,
    )
    monthly_spend_above = forms.DecimalField(
        label=_("When this month's spending beyond bundles goes over"),
        min_value=0,
        max_value=_MONEY_MAX,
        required=False,
    )
    expiring_within_days = forms.IntegerField(
        label=_("Days before a bundle expires"), min_value=0, max_value=366, required=False
    )
    _MONEY_FIELDS = {"money_below": "money_below_minor", "monthly_spend_above": "monthly_spend_above_minor"}

    def __init__(self, *args: Any, currency: str, rule: AlertRule | None = None, **kwargs: Any) -> None:
        if rule is not None:
            kwargs["initial"] = {
                "data_below_mb": rule.data_below_mb,
                "expiring_within_days": rule.expiring_within_days,
                **{
                    field: Money(getattr(rule, minor), currency).decimal
                    for field, minor in self._MONEY_FIELDS.items()
                    if getattr(rule, minor) is not None
                },
            }
        super().__init__(*args, **kwargs)
        self.currency = currency
        places = get_currency_precision(currency)
        for field in self._MONEY_FIELDS:
            money_field = self.fields[field]
            assert isinstance(money_field, forms.DecimalField)
            money_field.validators.append(DecimalValidator(None, places))
            money_field.widget.attrs["step"] = str(Decimal(1).scaleb(-places))
            money_field.label = f"{money_field.label} ({currency_symbol(currency)})"

    def thresholds(self) -> dict[str, int | None]:
        """The cleaned values as the service takes them: money in minor units, None for off."""
        data = self.cleaned_data
        return {
            "data_below_mb": data["data_below_mb"],
            "expiring_within_days": data["expiring_within_days"],
            **{
                minor: None
                if data[field] is None
                else Money.from_decimal(data[field], self.currency).amount_minor
                for field, minor in self._MONEY_FIELDS.items()
            },
        }
