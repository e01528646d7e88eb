from django.contrib import admin

from vigencia.core.admin import ReadOnlyAdmin
from vigencia.vouchers.models import (
    RedemptionAttempt,
    ResellerApiKey,
    ResellerProfile,
    VoucherBatch,
    VoucherCode,
    VoucherEvent,
)


@admin.register(VoucherBatch)
class VoucherBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "plan",
        "reseller",
        "count",
        "face_minor",
        "currency",
        "expires_on",
        "sold_at",
        "exported_at",
    ]
    list_filter = ["plan__carrier", "expires_on"]
    search_fields = ["reseller__email"]


@admin.register(VoucherCode)
class VoucherCodeAdmin(ReadOnlyAdmin):
    list_display = ["serial", "batch", "status", "redeemed_at", "redeemed_by"]
    list_filter = ["status"]
    search_fields = ["serial"]
    exclude = ["pin_digest"]


@admin.register(VoucherEvent)
class VoucherEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "batch", "code", "from_status", "to_status", "count", "actor", "created_at"]


@admin.register(RedemptionAttempt)
class RedemptionAttemptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "outcome", "user", "ip", "channel", "code"]
    list_filter = ["outcome", "channel"]
    date_hierarchy = "created_at"


@admin.register(ResellerApiKey)
class ResellerApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "digest", "user", "created_at", "last_used_at"]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(ResellerProfile)
class ResellerProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "city", "listed"]
