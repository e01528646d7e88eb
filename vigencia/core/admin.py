"""Back office pieces shared by the apps, and the core's own records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from vigencia.core.models import PeriodicRun, Worker


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
