"""Back office: renewal orders and wallet top-ups, read-only — they move only through the pipeline
(a refund or goodwill goes through support)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from vigencia.core.admin import ReadOnlyAdmin, ReadOnlyAdminMixin
from vigencia.core.money import Money
from vigencia.lines.numbers import msisdn_display
from vigencia.orders.models import OrderEvent, RenewalOrder, WalletTopup


class OrderEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderEvent
    extra = 0
    fields = ("at", "kind", "from_status", "to_status", "data")
    readonly_fields = fields


@admin.register(RenewalOrder)
class RenewalOrderAdmin(ReadOnlyAdmin):
    list_display = (
        "receipt",
        "number",
        "carrier_code",
        "plan_code",
        "total",
        "channel",
        "status",
        "created_at",
    )
    list_filter = ("status", "channel", "payment_method", "carrier_code")
    list_select_related = ("payer",)
    search_fields = ("=id", "msisdn", "payer__email", "payment_id", "plan_code")
    date_hierarchy = "created_at"
    inlines = (OrderEventInline,)

    @admin.display(description=_("receipt"), ordering="id")
    def receipt(self, order: RenewalOrder) -> str:
        return order.receipt_number

    @admin.display(description=_("number"), ordering="msisdn")
    def number(self, order: RenewalOrder) -> str:
        return msisdn_display(order.msisdn)

    @admin.display(description=_("total"), ordering="amount_minor")
    def total(self, order: RenewalOrder) -> Money:
        return order.total


@admin.register(WalletTopup)
class WalletTopupAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "amount", "payment_method", "status", "created_at")
    list_filter = ("status", "payment_method")
    list_select_related = ("user",)
    search_fields = ("=id", "user__email", "payment_id")
    date_hierarchy = "created_at"
