from django import forms
from django.utils.translation import gettext_lazy as _

from vigencia.support.models import (
    MAX_MESSAGE_LENGTH,
    MAX_SUBJECT_LENGTH,
    ActionKind,
    TicketCategory,
    TicketStatus,
)


class TicketForm(forms.Form):
    category = forms.ChoiceField(label=_("What is it about?"), choices=TicketCategory.choices)
    subject = forms.CharField(label=_("Subject"), max_length=MAX_SUBJECT_LENGTH)
    message = forms.CharField(label=_("Message"), max_length=MAX_MESSAGE_LENGTH, widget=forms.Textarea)


class ReplyForm(forms.Form):
    message = forms.CharField(label=_("Your message"), max_length=MAX_MESSAGE_LENGTH, widget=forms.Textarea)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=TicketStatus.choices)


class ActionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Action"), choices=ActionKind.choices)
    amount = forms.DecimalField(
        label=_("Amount (S/)"), min_value=0, max_value=100_000, decimal_places=2, required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
