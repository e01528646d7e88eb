"""Payment reads."""

from __future__ import annotations

from django.db.models import QuerySet

from vigencia.accounts.models import User
from vigencia.payments.models import PaymentEvent, PaymentIntent


def payment_get(*, public_id: str, payer: User | None = None) -> PaymentIntent | None:
    """The intent with this public id (only if `payer` paid it, when given); None otherwise."""
    intents = PaymentIntent.objects.filter(public_id=public_id)
    if payer is not None:
        intents = intents.filter(payer=payer)
    return intents.first()


def payment_events(*, intent: PaymentIntent) -> QuerySet[PaymentEvent]:
    return intent.events.all()
