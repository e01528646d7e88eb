"""Back office for the catalog: carriers with their keep-alive rules, and the plans they sell."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from vigencia.catalog.models import Carrier, Plan


class PlanInline(admin.TabularInline):
    model = Plan
    extra = 0
    fields = ("code", "name_en", "price_minor", "currency", "validity_days", "is_active")
    show_change_link = True


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "country",
        "currency",
        "policy_kind",
        "restrict_after_days",
        "cutoff_after_days",
        "recycle_after_cutoff_days",
        "is_active",
    )
    list_filter = ("country", "policy_kind", "is_active")
    search_fields = ("code", "name")
    fieldsets = (
        (None, {"fields": ("code", "name", "country", "currency", "timezone", "is_active")}),
        (
            _("Keep-alive policy"),
            {
                "fields": (
                    "policy_kind",
                    "restrict_after_days",
                    "cutoff_after_days",
                    "recycle_after_cutoff_days",
                    "notice_days",
                    "balance_extends_life",
                    "balance_max_days",
                    "policy_notes",
                )
            },
        ),
    )
    inlines = (PlanInline,)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("carrier", "code", "name_en", "price_display", "validity_days", "data_mb", "is_active")
    list_filter = ("carrier", "is_active", "currency")
    list_select_related = ("carrier",)
    search_fields = ("code", "name_en", "name_es", "name_zh_hans", "carrier__code")
    fieldsets = (
        (None, {"fields": ("carrier", "code", "name_en", "name_es", "name_zh_hans")}),
        (_("Price"), {"fields": ("price_minor", "currency", "price_display")}),
        (_("What it gives"), {"fields": ("validity_days", "data_mb", "minutes", "sms")}),
        (_("On sale"), {"fields": ("is_active", "active_from", "active_until")}),
    )
    readonly_fields = ("price_display",)

    @admin.display(description=_("price"), ordering="price_minor")
    def price_display(self, plan: Plan) -> str:
        if plan.price_minor is None or not plan.currency:
            return "-"
        try:
            return plan.price.format()
        except ValueError:  # a currency that is not ISO 4217 yet, while the form is being filled in
            return f"{plan.price_minor} {plan.currency}"

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, str | list[str]]:
        return {"currency": "PEN"}
