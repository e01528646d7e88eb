from django.contrib import admin

from vigencia.fulfilment.models import FulfilmentEvent, FulfilmentTransaction


class FulfilmentEventInline(admin.TabularInline):
    model = FulfilmentEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "kind", "data")

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(FulfilmentTransaction)
class FulfilmentTransactionAdmin(admin.ModelAdmin):
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
    inlines = [FulfilmentEventInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
