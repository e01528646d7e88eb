from django import forms
from django.utils.translation import gettext_lazy as _

from vigencia.core.forms import OncePerPageForm
from vigencia.orders.models import ONLINE_METHODS, PSP_METHODS, PaymentMethod


class CheckoutForm(OncePerPageForm):
    payment_method = forms.ChoiceField(
        label=_("Pay with"),
        # Only what a subscriber can pay with online; cash and codes belong to other channels.
        choices=[(value, label) for value, label in PaymentMethod.choices if value in ONLINE_METHODS],
        widget=forms.RadioSelect,
        initial=PaymentMethod.SANDBOX_CARD,
    )
    promo_code = forms.CharField(label=_("Promotion code"), max_length=40, required=False)


class TopupForm(OncePerPageForm):
    amount = forms.DecimalField(
        label=_("Amount (S/)"), min_value=5, max_value=1000, decimal_places=2, initial=20
    )
    payment_method = forms.ChoiceField(
        label=_("Pay with"),
        choices=[(value, label) for value, label in PaymentMethod.choices if value in PSP_METHODS],
        widget=forms.RadioSelect,
        initial=PaymentMethod.SANDBOX_CARD,
    )
