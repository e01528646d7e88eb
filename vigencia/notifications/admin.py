from django.contrib import admin

from vigencia.notifications.models import Notification, NotificationEvent, WebhookEndpoint


class NotificationEventInline(admin.TabularInline):
    model = NotificationEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "data")

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    # Read-only: rows move only through delivery (the outbox and its retries).
    list_display = ("id", "user", "kind", "channel", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel", "kind")
    search_fields = ("user__email", "dedupe_key", "event_id")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    inlines = [NotificationEventInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


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
