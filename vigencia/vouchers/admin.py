from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vigencia.accounts.roles import is_operator
from vigencia.core.admin import ReadOnlyAdmin
from vigencia.vouchers.models import (
    RedemptionAttempt,
    ResellerApiKey,
    ResellerProfile,
    VoucherBatch,
    VoucherCode,
    VoucherEvent,
)
from vigencia.vouchers.services import reseller_api_key_revoke


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
class ResellerApiKeyAdmin(ReadOnlyAdmin):
    """Keys are issued with `vigencia vouchers api-key`; an operator revokes them here (the service
    stamps when), never edits them."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__email"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected API keys"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ResellerApiKey]) -> None:
        revoked = sum(
            reseller_api_key_revoke(user=key.user, key_id=key.pk) for key in queryset.select_related("user")
        )
        self.message_user(
            request,
            ngettext("%(count)d API key revoked.", "%(count)d API keys revoked.", revoked)
            % {"count": revoked},
            messages.SUCCESS,
        )

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return is_operator(request.user)


@admin.register(ResellerProfile)
class ResellerProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "city", "listed"]
