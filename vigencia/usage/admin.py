from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from vigencia.core.errors import Conflict
from vigencia.usage.models import AlertRule, Anomaly, Bucket, Charge, Credit, Rerating, Tariff, UsageRecord
from vigencia.usage.services import anomaly_explain, anomaly_resolve


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["plan", "money_credit_minor", "voice_rounding", "data_step_kb", "allows_overage"]
    list_select_related = ["plan__carrier"]


@admin.register(Bucket)
class BucketAdmin(admin.ModelAdmin):
    list_display = ["line", "kind", "remaining", "initial", "expires_at", "expired_at", "expired_amount"]
    list_filter = ["kind"]
    raw_id_fields = ["line", "credit"]
    search_fields = ["line__msisdn"]


@admin.register(Credit)
class CreditAdmin(admin.ModelAdmin):
    list_display = ["reference", "line", "plan", "credited_at"]
    raw_id_fields = ["line"]
    search_fields = ["reference", "line__msisdn"]


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = [
        "source",
        "record_id",
        "line",
        "kind",
        "started_at",
        "quantity",
        "price_minor",
        "carrier_charged_minor",
        "rated_at",
    ]
    list_filter = ["kind", "source"]
    raw_id_fields = ["line", "charged_bucket"]
    search_fields = ["record_id", "line__msisdn"]


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ["record", "bucket", "amount", "reversed_by"]
    raw_id_fields = ["record", "bucket"]


@admin.register(Rerating)
class ReratingAdmin(admin.ModelAdmin):
    list_display = [
        "at",
        "actor",
        "reason",
        "line",
        "plan",
        "records",
        "price_before_minor",
        "price_after_minor",
    ]


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = [
        "line",
        "data_below_mb",
        "money_below_minor",
        "monthly_spend_above_minor",
        "expiring_within_days",
    ]
    raw_id_fields = ["line"]


@admin.register(Anomaly)
class AnomalyAdmin(admin.ModelAdmin):
    list_display = ["line", "kind", "explanation", "detected_at", "resolved_at", "resolved_by"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    raw_id_fields = ["line", "record"]
    search_fields = ["line__msisdn"]
    actions = ["resolve"]

    @admin.display(description=_("explanation"))
    def explanation(self, anomaly: Anomaly) -> str:
        return anomaly_explain(anomaly)

    @admin.action(description=_("Mark resolved"))
    def resolve(self, request: HttpRequest, queryset: QuerySet[Anomaly]) -> HttpResponse | None:
        """First a page that takes an optional note (kept with who resolved each and when), then the
        resolution."""
        form = AnomalyResolveForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": _("Resolve anomalies"),
                "opts": self.model._meta,
                "anomalies": [(anomaly, anomaly_explain(anomaly)) for anomaly in queryset],
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/usage/anomaly/resolve.html", context)
        done = 0
        for anomaly in queryset:
            try:
                anomaly_resolve(
                    anomaly=anomaly,
                    actor=request.user,  # type: ignore[arg-type]
                    note=form.cleaned_data["note"],
                )
                done += 1
            except Conflict:
                continue
        self.message_user(
            request,
            ngettext("%(count)d anomaly resolved.", "%(count)d anomalies resolved.", done) % {"count": done},
            messages.SUCCESS,
        )
        return None


class AnomalyResolveForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was found and what was done; the subscriber sees it beside the charge."),
    )
