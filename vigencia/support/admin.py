"""Back office: tickets, their threads and actions (read-only audit), and the catalog's promotions and
FX rates (registered here because they are this work's; they appear under Catalog)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from vigencia.catalog.fx import fx_rates_import
from vigencia.catalog.models import FxRate, Promotion
from vigencia.core.errors import DomainError
from vigencia.support.models import SupportAction, Ticket, TicketEvent, TicketMessage


class MessageInline(admin.TabularInline):
    model = TicketMessage
    extra = 0
    fields = ("created_at", "author", "from_staff", "body")
    readonly_fields = fields
    can_delete = False


class EventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    fields = ("at", "kind", "actor", "from_status", "to_status", "data")
    readonly_fields = fields
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "category", "status", "priority", "assignee", "resolution_due_at")
    list_filter = ("status", "category", "priority")
    search_fields = ("subject", "subscriber__email")
    readonly_fields = [field.name for field in Ticket._meta.fields]
    inlines = [MessageInline, EventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SupportAction)
class SupportActionAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "ticket",
        "kind",
        "status",
        "amount_minor",
        "currency",
        "requested_by",
        "approved_by",
    )
    list_filter = ("kind", "status")
    readonly_fields = [field.name for field in SupportAction._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Promotion)
class PromotionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "starts_at", "ends_at", "uses_count", "max_uses", "is_active")
    list_filter = ("kind", "is_active", "audience")
    search_fields = ("code", "name")
    filter_horizontal = ("carriers", "plans")
    readonly_fields = ("uses_count",)


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):
    list_display = ("base", "quote", "rate", "as_of", "source")
    list_filter = ("base", "quote")
    change_list_template = "support/admin_fx_changelist.html"

    def get_urls(self):  # type: ignore[no-untyped-def]
        return [
            path("import/", self.admin_site.admin_view(self.import_csv), name="catalog_fxrate_import"),
            *super().get_urls(),
        ]

    def import_csv(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:catalog_fxrate_changelist"))
        upload = request.FILES.get("file") if request.method == "POST" else None
        if upload is not None:
            try:
                count = fx_rates_import(data=upload.read(), source="csv")
            except DomainError as error:
                messages.error(request, str(error.message))
            else:
                messages.success(request, _("Imported %(count)d rates.") % {"count": count})
                return HttpResponseRedirect(reverse("admin:catalog_fxrate_changelist"))
        return render(request, "support/admin_fx_import.html", {**self.admin_site.each_context(request)})
