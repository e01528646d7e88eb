"""Payment reads."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.payments.models import PaymentEvent, PaymentIntent, PaymentStatus


def payment_get(*, public_id: str, payer: User | None = None) -> PaymentIntent | None:
    """The intent with this public id (only if `payer` paid it, when given); None otherwise."""
    intents = PaymentIntent.objects.filter(public_id=public_id)
    if payer is not None:
        intents = intents.filter(payer=payer)
    return intents.first()


def payment_events(*, intent: PaymentIntent) -> QuerySet[PaymentEvent]:
    return intent.events.all()


def payment_failure_reason(intent: PaymentIntent | None) -> str:
    """Why a payment did not go through, in the payer's words (never the PSP's code, such as
    card_declined); "" while it has not failed."""
    if intent is None or intent.status not in (PaymentStatus.FAILED, PaymentStatus.CANCELED):
        return ""
    if intent.status == PaymentStatus.CANCELED:
        return _("You canceled the payment.")
    return {
        "card_declined": _("Your bank declined the card."),
        "insufficient_funds": _("The card does not have enough funds."),
        "expired_card": _("The card has expired."),
        "incorrect_cvc": _("The card's security code was not right."),
        "ewallet_declined": _("The payment was declined in your e-wallet app."),
        "paypal_declined": _("PayPal declined the payment."),
        "authentication_failed": _("The payment was not authorised with your bank."),
    }.get(intent.failure_code, _("The payment was declined."))
