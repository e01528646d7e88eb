import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from vigencia.orders.models import ONLINE_METHODS, PSP_METHODS, PaymentMethod

_EXPIRED = _("This page has expired. Check your choices and send it again.")


class _OncePerPage(forms.Form):
    # One key per rendered form: a double tap or a resubmitted page never buys twice.
    idempotency_key = forms.UUIDField(
        widget=forms.HiddenInput, error_messages={"required": _EXPIRED, "invalid": _EXPIRED}
    )

    def fresh_key(self) -> None:
        """Give the re-rendered form a new key (the old one is missing, broken or used)."""
        self.data = {**self.data, "idempotency_key": str(uuid.uuid4())}


class CheckoutForm(_OncePerPage):
    payment_method = forms.ChoiceField(
        label=_("Pay with"),
        # Only what a subscriber can pay with online; cash and codes belong to other channels.
        choices=[(value, label) for value, label in PaymentMethod.choices if value in ONLINE_METHODS],
        widget=forms.RadioSelect,
        initial=PaymentMethod.SANDBOX_CARD,
    )
    promo_code = forms.CharField(label=_("Promotion code"), max_length=40, required=False)


class TopupForm(_OncePerPage):
    amount = forms.DecimalField(
        label=_("Amount (S/)"), min_value=5, max_value=1000, decimal_places=2, initial=20
    )
    payment_method = forms.ChoiceField(
        label=_("Pay with"),
        choices=[(value, label) for value, label in PaymentMethod.choices if value in PSP_METHODS],
        widget=forms.RadioSelect,
        initial=PaymentMethod.SANDBOX_CARD,
    )
