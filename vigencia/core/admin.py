"""Back office pieces shared by the apps, and the core's own records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import ForeignKey
from django.http import HttpRequest

from vigencia.core.models import PeriodicRun, Worker


class _AutocompleteSelect(AutocompleteSelect):
    """Django's, except that re-showing a form whose posted value is no id at all ("abc" for a store)
    leaves that value out instead of failing on it: the field's own error says what is wrong."""

    def optgroups(self, name: str, value: Sequence[str], attr: dict[str, Any] | None = None) -> Any:
        target = self.field.remote_field.get_related_field()
        kept = []
        for item in value:
            try:
                target.to_python(item)
            except ValidationError:
                continue
            kept.append(item)
        return super().optgroups(name, kept, attr)


class AutocompleteAdminMixin:
    """For a ModelAdmin with `autocomplete_fields` on foreign keys."""

    def formfield_for_foreignkey(self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in self.get_autocomplete_fields(request):  # type: ignore[attr-defined]
            site = self.admin_site  # type: ignore[attr-defined]
            kwargs["widget"] = _AutocompleteSelect(db_field, site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class ReadOnlyAdminMixin:
    """For records that change only through their services (orders, money, events): shown, never
    added, edited or deleted by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


@admin.register(PeriodicRun)
class PeriodicRunAdmin(ReadOnlyAdmin):
    list_display = ("name", "period_start", "enqueued_at")
    list_filter = ("name",)
    date_hierarchy = "period_start"


@admin.register(Worker)
class WorkerAdmin(ReadOnlyAdmin):
    list_display = ("worker_id", "started_at", "seen_at")
