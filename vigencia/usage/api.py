"""/api/v1: usage batches (integrators), and per line balances, statements, alerts and anomalies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from vigencia.accounts.auth import api_user, bearer
from vigencia.core import clock
from vigencia.core.errors import InvalidInput, PermissionDenied
from vigencia.core.schemas import ErrorOut, MoneyOut, Text
from vigencia.lines.selectors import line_get
from vigencia.usage import services
from vigencia.usage.ingest import NOT_AN_OBJECT, Rejected, RowError, record_parse
from vigencia.usage.models import AlertRule, BucketKind
from vigencia.usage.selectors import (
    anomaly_list,
    anomaly_resolver,
    bucket_list,
    statement_build,
    statement_period,
)
from vigencia.usage.statements import statement_download

router = Router(tags=["usage"], auth=bearer)

_AUTH = {401: ErrorOut}
_ONE = {**_AUTH, 404: ErrorOut}
MAX_BATCH = 10_000


class BatchIn(Schema):
    source: Text = Field("api", min_length=1, max_length=60)
    # At most MAX_BATCH, checked in the operation: a longer batch is its own error, `batch_too_large`.
    records: list[Any] = Field(..., description="Up to 10,000 records.")


class RejectedOut(Schema):
    line: int
    reason: str


class BatchOut(Schema):
    accepted: int
    duplicates: int
    rejected: int
    rejected_rows: list[RejectedOut]


@router.post(
    "/usage/batches",
    response={200: BatchOut, **_AUTH, 403: ErrorOut, 422: ErrorOut},
    summary="Send up to 10,000 usage records (integrator role)",
    description=(
        "Records use the CSV column names as keys. Idempotent by (source, record_id): a record sent "
        "again counts as a duplicate. Bad records are rejected with their position (`line`, from 1) "
        "and reason (in the caller's language); good ones are kept and rated in the background. 403 "
        "`forbidden` without the integrator role; 422 `batch_too_large` for more than 10,000 records "
        "(none is stored)."
    ),
)
def usage_batch(request: HttpRequest, payload: BatchIn) -> dict[str, Any]:
    user = api_user(request)
    if not (user.is_staff or user.has_role(services.INTEGRATOR)):
        raise PermissionDenied(_("Only integrators may send usage records."))
    if len(payload.records) > MAX_BATCH:
        raise InvalidInput(
            _("A batch holds at most %(max)s records; this one has %(sent)s. Send it in parts.")
            % {
                "max": number_format(MAX_BATCH, force_grouping=True),
                "sent": number_format(len(payload.records), force_grouping=True),
            },
            code="batch_too_large",
            details={"max_records": MAX_BATCH, "records": len(payload.records)},
        )
    now = clock.now()
    rows: list[tuple[int, Any] | Rejected] = []
    for number, raw in enumerate(payload.records, start=1):
        try:
            if not isinstance(raw, dict):
                raise RowError(NOT_AN_OBJECT)
            rows.append((number, record_parse(raw, now=now)))
        except RowError as error:
            rows.append(Rejected(number, str(error)))
    summary = services.usage_records_ingest(source=payload.source, rows=rows).as_dict()
    for row in summary["rejected_rows"]:
        row["reason"] = _(row["reason"])  # kept in English, told in the caller's language
    return summary


class BucketOut(Schema):
    kind: str
    unit: str
    initial: int
    remaining: int
    money: MoneyOut | None
    valid_from: datetime
    expires_at: datetime


@router.get(
    "/lines/{int:line_id}/balances",
    response={200: list[BucketOut], **_ONE},
    summary="A line's live buckets, consumed first first",
)
def balances(request: HttpRequest, line_id: int) -> list[dict[str, Any]]:
    line = line_get(owner=api_user(request), line_id=line_id)
    return [
        {
            "kind": b.kind,
            "unit": b.unit,
            "initial": b.initial,
            "remaining": b.remaining,
            "money": b.remaining_money.as_dict()
            if b.kind == BucketKind.MONEY and b.remaining_money
            else None,
            "valid_from": b.valid_from,
            "expires_at": b.expires_at,
        }
        for b in bucket_list(line=line)
    ]


class StatementQuery(Schema):
    # Read as text and checked by `statement_period`, so a date that is none has its own error.
    date_from: Text | None = Field(None, alias="from", max_length=40)
    date_to: Text | None = Field(None, alias="to", max_length=40)
    format: Literal["json", "csv", "pdf"] = "json"


@router.get(
    "/lines/{int:line_id}/statement",
    response={200: dict[str, Any], **_ONE, 422: ErrorOut},
    summary="A line's statement for a period (json, csv or pdf)",
    description=(
        "`from` and `to` are dates, YYYY-MM-DD (inclusive, Lima time); default: the last 30 days. At "
        "most 366 days, between 2000-01-01 and a year from today. 422 `invalid_date` (not a date), "
        "`invalid_period` (ends before it starts, or too long), `period_out_of_range`."
    ),
)
def statement(request: HttpRequest, line_id: int, query: Query[StatementQuery]) -> Any:
    line = line_get(owner=api_user(request), line_id=line_id)
    date_from, date_to = statement_period(
        date_from=query.date_from, date_to=query.date_to, today=clock.today()
    )
    built = statement_build(line=line, date_from=date_from, date_to=date_to)
    if query.format != "json":
        return statement_download(built, fmt=query.format)
    return {
        "line_id": line.pk,
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "total": built.price_total.as_dict(),
        "totals": {
            kind: {
                "records": t.records,
                "quantity": t.quantity,
                "rated_quantity": t.rated_quantity,
                "in_bundle_quantity": t.in_bundle_quantity,
                "price": {"amount_minor": t.price_minor, "currency": built.currency},
            }
            for kind, t in built.totals.items()
        },
        "daily": [
            {"date": day.isoformat(), **{kind: built.daily[kind][n] for kind in built.daily}}
            for n, day in enumerate(built.days)
        ],
        "records": [
            {
                "record_id": r.record_id,
                "kind": r.kind,
                "started_at": r.started_at.isoformat(),
                "quantity": r.quantity,
                "destination": r.destination,
                "rated_quantity": r.rated_quantity,
                "in_bundle_quantity": r.in_bundle_quantity,
                "price": {"amount_minor": r.price_minor, "currency": r.currency or built.currency},
                "carrier_charged_minor": r.carrier_charged_minor,
            }
            for r in built.records
        ],
    }


class AlertsIn(Schema):
    data_below_mb: int | None = Field(None, ge=0, le=10**9)
    money_below_minor: int | None = Field(None, ge=0, le=10**12)
    monthly_spend_above_minor: int | None = Field(None, ge=0, le=10**12)
    expiring_within_days: int | None = Field(None, ge=0, le=366)


class AlertsOut(AlertsIn):
    pass


def _alerts_out(rule: AlertRule) -> dict[str, int | None]:
    return {name: getattr(rule, name) for name in services.ALERT_FIELDS}


@router.put(
    "/lines/{int:line_id}/alerts",
    response={200: AlertsOut, **_ONE, 422: ErrorOut},
    summary="Set a line's alert thresholds (absent or null: off)",
)
def alerts_put(request: HttpRequest, line_id: int, payload: AlertsIn) -> dict[str, int | None]:
    line = line_get(owner=api_user(request), line_id=line_id)
    return _alerts_out(services.alert_rule_set(line=line, **payload.model_dump()))


@router.patch(
    "/lines/{int:line_id}/alerts",
    response={200: AlertsOut, **_ONE, 422: ErrorOut},
    summary="Change some of a line's alert thresholds (those given; null: off)",
)
def alerts_patch(request: HttpRequest, line_id: int, payload: AlertsIn) -> dict[str, int | None]:
    line = line_get(owner=api_user(request), line_id=line_id)
    given = payload.model_dump(exclude_unset=True)
    return _alerts_out(services.alert_rule_change(line=line, **given))


@router.get(
    "/lines/{int:line_id}/alerts", response={200: AlertsOut, **_ONE}, summary="A line's alert thresholds"
)
def alerts_get(request: HttpRequest, line_id: int) -> dict[str, int | None]:
    line = line_get(owner=api_user(request), line_id=line_id)
    rule = AlertRule.objects.filter(line=line).first() or AlertRule(line=line)
    return _alerts_out(rule)


class AnomalyOut(Schema):
    id: int
    kind: str
    record_id: str | None
    explanation: str
    details: dict[str, Any]
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None = Field(description="Who resolved it (their name; null without one).")
    resolution_note: str = Field(description="The back office's note on what was found; may be empty.")


@router.get(
    "/lines/{int:line_id}/anomalies",
    response={200: list[AnomalyOut], **_ONE},
    summary="Possible wrong charges on a line, newest first",
)
def anomalies(request: HttpRequest, line_id: int) -> list[dict[str, Any]]:
    line = line_get(owner=api_user(request), line_id=line_id)
    return [
        {
            "id": a.pk,
            "kind": a.kind,
            "record_id": a.record.record_id if a.record else None,
            "explanation": services.anomaly_explain(a),
            "details": a.details,
            "detected_at": a.detected_at,
            "resolved_at": a.resolved_at,
            "resolved_by": anomaly_resolver(a),
            "resolution_note": a.resolution_note,
        }
        for a in anomaly_list(line=line)[:500]
    ]
