"""Back office for people: who they are, their roles, their API tokens (never a secret or a hash)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from vigencia.accounts.models import ApiToken, User
from vigencia.core.admin import ReadOnlyAdminMixin


class ApiTokenInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ApiToken
    extra = 0
    # Only the prefix identifies a token; its digest is never shown.
    fields = ("name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    ordering = ("-created_at",)
    verbose_name_plural = _("API tokens (prefix only)")


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """People sign up themselves; the back office looks them up and manages roles and access.
    The password (even its hash) is never shown here."""

    list_display = ("email", "name", "language", "roles", "is_active", "is_staff", "date_joined")
    list_filter = ("is_active", "is_staff", "language", "groups")
    search_fields = ("email", "name", "phone")
    ordering = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "name", "phone", "language", "timezone")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("date_joined", "last_login")}),
    )
    readonly_fields = ("date_joined", "last_login")
    filter_horizontal = ("groups",)
    inlines = (ApiTokenInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("roles"))
    def roles(self, user: User) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all()))
