from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vigencia.lines.numbers import msisdn_display
from vigencia.orders.models import RenewalOrder
from vigencia.support.models import (
    MAX_MESSAGE_LENGTH,
    MAX_SUBJECT_LENGTH,
    TICKET_TRANSITIONS,
    ActionKind,
    TicketCategory,
    TicketPriority,
    TicketStatus,
)
from vigencia.support.selectors import support_agents


class TicketForm(forms.Form):
    # A question needs no colon after it; Django adds one after a full-width "？" (Chinese).
    category = forms.ChoiceField(
        label=_("What is it about?"), label_suffix="", choices=TicketCategory.choices
    )
    subject = forms.CharField(label=_("Subject"), max_length=MAX_SUBJECT_LENGTH)
    message = forms.CharField(label=_("Message"), max_length=MAX_MESSAGE_LENGTH, widget=forms.Textarea)


class ReplyForm(forms.Form):
    message = forms.CharField(label=_("Your message"), max_length=MAX_MESSAGE_LENGTH, widget=forms.Textarea)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Move to"), choices=TicketStatus.choices)

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the moves the transition table allows from where the ticket is.
        field = self.fields["status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (value, label) for value, label in TicketStatus.choices if TICKET_TRANSITIONS.can(current, value)
        ]


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assigned to"), queryset=support_agents(), required=False, empty_label=_("Nobody")
    )


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices)


class OrderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        number = msisdn_display(obj.msisdn)
        return f"#{obj.pk} · {number} · {obj.plan_name} · {obj.total} · {obj.get_status_display()}"


class ActionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Action"), choices=ActionKind.choices)
    order = OrderChoiceField(
        label=_("Order"),
        queryset=RenewalOrder.objects.none(),
        required=False,
        empty_label=_("None (goodwill only)"),
    )
    amount = forms.DecimalField(
        label=_("Amount (S/)"), min_value=0, max_value=100_000, decimal_places=2, required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
    # One key per rendered form: a double click or a resubmitted page never pays out twice.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, subscriber: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any of the ticket's subscriber's orders (the ticket's own is chosen first).
        field = self.fields["order"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = RenewalOrder.objects.filter(payer=subscriber).order_by("-created_at")


class AccountCloseForm(forms.Form):
    password = forms.CharField(
        label=_("Your password, to confirm"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
