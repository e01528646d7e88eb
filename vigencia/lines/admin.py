"""Back office for lines: read-only. A line changes only through its services, which write its
history (status moves through the transition table); the admin is for finding and looking."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from vigencia.core.admin import ReadOnlyAdminMixin
from vigencia.lines.models import AutoRenewSetting, Line, LineEvent, ReminderSetting
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.selectors import line_deadline


class LineEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LineEvent
    extra = 0
    fields = ("at", "kind", "actor", "data")
    readonly_fields = fields


class ReminderSettingInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = ReminderSetting
    fields = ("lead_days", "channels", "quiet_start", "quiet_end")
    readonly_fields = fields


class AutoRenewSettingInline(ReadOnlyAdminMixin, admin.StackedInline):
    model = AutoRenewSetting
    fields = ("enabled", "plan", "days_before", "updated_at")
    readonly_fields = fields


class RemovedFilter(admin.SimpleListFilter):
    title = _("removed")
    parameter_name = "removed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("no", _("No")), ("yes", _("Yes"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Line]) -> QuerySet[Line]:
        if self.value() in ("no", "yes"):
            return queryset.filter(removed_at__isnull=self.value() == "no")
        return queryset


@admin.register(Line)
class LineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("number", "owner_email", "carrier", "status", "deadline", "nickname", "removed_at")
    list_filter = ("carrier", "status", RemovedFilter)
    list_select_related = ("owner", "carrier")
    search_fields = ("msisdn", "owner__email", "nickname", "iccid")
    fields = (
        "msisdn",
        "owner",
        "carrier",
        "nickname",
        "iccid",
        "status",
        "last_recharge_at",
        "valid_until",
        "deadline",
        "created_at",
        "updated_at",
        "removed_at",
    )
    readonly_fields = ("deadline", "created_at", "updated_at")
    inlines = (ReminderSettingInline, AutoRenewSettingInline, LineEventInline)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Line], search_term: str
    ) -> tuple[QuerySet[Line], bool]:
        # "+51 912 345 678" as people write it finds "+51912345678" as it is stored.
        if re.fullmatch(r"[+\d\s().-]+", search_term.strip()):
            search_term = re.sub(r"[\s().-]", "", search_term)
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("number"), ordering="msisdn")
    def number(self, line: Line) -> str:
        return msisdn_display(line.msisdn)

    @admin.display(description=_("owner"), ordering="owner__email")
    def owner_email(self, line: Line) -> str:
        return line.owner.email

    @admin.display(description=_("deadline"))
    def deadline(self, line: Line) -> date | None:
        return line_deadline(line)


@admin.register(LineEvent)
class LineEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "line", "kind", "actor")
    list_filter = ("kind",)
    list_select_related = ("line", "actor")
    search_fields = ("line__msisdn",)
    date_hierarchy = "at"
    fields = ("line", "kind", "at", "actor", "data")
    readonly_fields = fields
