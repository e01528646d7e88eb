from django.contrib import admin

from vigencia.core.admin import ReadOnlyAdmin, ReadOnlyAdminMixin
from vigencia.notifications.models import Notification, NotificationEvent, TelegramChat, WebhookEndpoint


class NotificationEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = NotificationEvent
    extra = 0
    fields = ("at", "kind", "data")
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    # Read-only: rows move only through delivery (the outbox and its retries).
    list_display = ("id", "user", "kind", "channel", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel", "kind")
    search_fields = ("user__email", "dedupe_key", "event_id")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    # Every field, those only the system sets too (a view-only page would show only the editable).
    readonly_fields = [field.name for field in Notification._meta.fields]
    inlines = [NotificationEventInline]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("user", "url", "active", "created_at", "updated_at")
    list_filter = ("active",)
    search_fields = ("user__email", "url")
    list_select_related = ("user",)
    # The signing secret is never shown here; the user sees it once, from the API.
    exclude = ("secret",)
    readonly_fields = ("user", "url", "created_at", "updated_at")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(TelegramChat)
class TelegramChatAdmin(ReadOnlyAdmin):
    list_display = ("user", "chat_id", "linked_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    # The link token's hash is of no use to a person, and never shown.
    exclude = ("link_token_hash",)
