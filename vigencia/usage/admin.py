from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
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
    def resolve(self, request: HttpRequest, queryset: QuerySet[Anomaly]) -> None:
        done = 0
        for anomaly in queryset:
            try:
                anomaly_resolve(anomaly=anomaly, actor=request.user)  # type: ignore[arg-type]
                done += 1
            except Conflict:
                continue
        self.message_user(
            request,
            ngettext("%(count)d anomaly resolved.", "%(count)d anomalies resolved.", done) % {"count": done},
            messages.SUCCESS,
        )
