"""Back office: payments and the webhook inbox, read-only (money moves only through the services)."""

from __future__ import annotations

from django.contrib import admin

from vigencia.core.admin import ReadOnlyAdmin, ReadOnlyAdminMixin
from vigencia.payments.models import PaymentEvent, PaymentIntent, WebhookEvent


class PaymentEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentEvent
    extra = 0
    fields = ("from_status", "to_status", "at", "data")
    readonly_fields = fields


@admin.register(PaymentIntent)
class PaymentIntentAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "payer", "amount", "method", "status", "purpose", "purpose_id", "created_at"]
    list_filter = ["status", "method", "purpose"]
    search_fields = ["public_id", "provider_reference", "purpose_id", "payer__email"]
    inlines = [PaymentEventInline]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["provider", "event_id", "type", "outcome", "received_at", "handled_at"]
    list_filter = ["provider", "type", "outcome"]
    search_fields = ["event_id"]
