from django.contrib import admin

from vigencia.core.admin import ReadOnlyAdmin, ReadOnlyAdminMixin
from vigencia.fulfilment.models import FulfilmentEvent, FulfilmentTransaction


class FulfilmentEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FulfilmentEvent
    extra = 0
    fields = ("created_at", "kind", "data")
    readonly_fields = fields


@admin.register(FulfilmentTransaction)
class FulfilmentTransactionAdmin(ReadOnlyAdmin):
    # Read-only: states move only through the services (callbacks, polling, reconciliation).
    list_display = (
        "external_id",
        "reference",
        "msisdn",
        "carrier_code",
        "plan_code",
        "status",
        "attempts",
        "next_check_at",
        "created_at",
    )
    list_filter = ("status", "carrier_code", "gateway")
    search_fields = ("external_id", "reference", "msisdn", "gateway_transaction_id")
    date_hierarchy = "created_at"
    # Every field, those only the system sets too (a view-only page would show only the editable).
    readonly_fields = [field.name for field in FulfilmentTransaction._meta.fields]
    inlines = [FulfilmentEventInline]
