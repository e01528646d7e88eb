"""Back office for stores: edit a store with its carriers, services, hours and own holidays; the
holidays that close every store; agents, shifts (a supervisor reviews them) and receipts."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vigencia.core.admin import AutocompleteAdminMixin
from vigencia.core.errors import DomainError
from vigencia.stores.hours import hours_format
from vigencia.stores.iddocs import DocumentType, id_blind_index, id_document_validate
from vigencia.stores.models import (
    Holiday,
    OpeningHours,
    Receipt,
    Shift,
    ShiftStatus,
    Store,
    StoreAgent,
    StoreService,
)
from vigencia.stores.services import shift_review


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
        return hours_format(
            ((row.weekday, row.opens, row.closes) for row in store.hours.all()), localized=True
        )

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).prefetch_related("hours")


@admin.register(Holiday)
class HolidayAdmin(AutocompleteAdminMixin, admin.ModelAdmin):
    list_display = ("date", "name", "store", "closed")
    list_filter = ("closed", ("store", admin.EmptyFieldListFilter))
    search_fields = ("name", "store__name")
    date_hierarchy = "date"
    autocomplete_fields = ("store",)


# --- the counter -----------------------------------------------------------------------------------


@admin.register(StoreAgent)
class StoreAgentAdmin(AutocompleteAdminMixin, admin.ModelAdmin):
    list_display = ("user", "store", "active")
    list_filter = ("active", "store")
    search_fields = ("user__email", "user__name", "store__name", "store__code")
    autocomplete_fields = ("store",)
    raw_id_fields = ("user",)


class ReceiptInline(admin.TabularInline):
    model = Receipt
    fk_name = "shift"
    extra = 0
    can_delete = False
    fields = ("number", "order", "payment", "id_type", "id_masked", "created_at", "cash_returned_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    """Supervisors review closed shifts here: expected against counted, and the difference posted."""

    list_display = (
        "id",
        "store",
        "agent",
        "status",
        "opened_at",
        "closed_at",
        "expected",
        "counted",
        "difference",
    )
    list_filter = ("status", "store")
    search_fields = ("agent__email", "store__name", "store__code")
    date_hierarchy = "opened_at"
    actions = ("review",)
    inlines = (ReceiptInline,)
    readonly_fields = (
        "agent",
        "store",
        "status",
        "currency",
        "opened_at",
        "float_minor",
        "closed_at",
        "counted_minor",
        "expected_minor",
        "difference_minor",
        "reviewed_by",
        "reviewed_at",
    )
    fields = (*readonly_fields, "review_note")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description=_("Mark the selected closed shifts as reviewed"), permissions=["change"])
    def review(self, request, queryset):  # type: ignore[no-untyped-def]
        reviewed = 0
        for shift in queryset.filter(status=ShiftStatus.CLOSED):
            try:
                shift_review(shift=shift, supervisor=request.user, note=shift.review_note)
                reviewed += 1
            except DomainError as error:
                self.message_user(request, f"#{shift.pk}: {error.message}", messages.ERROR)
        self.message_user(
            request,
            ngettext("%(count)d shift reviewed.", "%(count)d shifts reviewed.", reviewed)
            % {"count": reviewed},
            messages.SUCCESS,
        )


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin):
    """Read only. The ID number is never shown: only its type, country and mask."""

    list_display = ("number", "store", "agent", "payment", "id_type", "id_masked", "created_at")
    list_filter = ("payment", "store", "id_type")
    search_fields = ("number", "store__name")
    exclude = ("id_number_encrypted", "id_blind_index")
    readonly_fields = (
        "store",
        "sequence",
        "number",
        "verification_code",
        "order",
        "shift",
        "agent",
        "payment",
        "tendered_minor",
        "change_minor",
        "card_reference",
        "id_type",
        "id_country",
        "id_masked",
    )

    def get_search_results(self, request, queryset, search_term):  # type: ignore[no-untyped-def]
        """A DNI or CE typed in the search box is found through its blind index, never in clear."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        for kind in (DocumentType.DNI, DocumentType.CE):
            try:
                document = id_document_validate(type=kind, number=search_term)
            except DomainError:
                continue
            found |= queryset.filter(id_blind_index=id_blind_index(document))
        return found, may_have_duplicates

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
