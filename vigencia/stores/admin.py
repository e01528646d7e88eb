"""Back office for stores: edit a store with its carriers, services, hours and own holidays; and the
holidays that close every store."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from vigencia.stores.hours import hours_format
from vigencia.stores.models import Holiday, OpeningHours, Store, StoreService


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class StoreServiceInline(admin.TabularInline):
    model = StoreService
    extra = 0


class StoreHolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0
    verbose_name_plural = _("holidays of this store (override the all-stores holidays)")


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "district", "city", "opening_hours", "active")
    list_filter = ("active", "city", "carriers")
    search_fields = ("name", "code", "address", "district", "city")
    filter_horizontal = ("carriers",)
    inlines = (StoreServiceInline, OpeningHoursInline, StoreHolidayInline)
    fieldsets = (
        (None, {"fields": ("code", "name", "active", "carriers")}),
        (_("Where"), {"fields": ("address", "district", "city", "latitude", "longitude", "timezone")}),
        (_("Contact"), {"fields": ("phone",)}),
    )

    @admin.display(description=_("opening hours"))
    def opening_hours(self, store: Store) -> str:
        return hours_format((row.weekday, row.opens, row.closes) for row in store.hours.all())

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("hours")


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "store", "closed")
    list_filter = ("closed", ("store", admin.EmptyFieldListFilter))
    search_fields = ("name", "store__name")
    date_hierarchy = "date"
    autocomplete_fields = ("store",)
