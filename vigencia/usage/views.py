"""The subscriber's statement page: totals, a daily chart drawn server-side in SVG, the records."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from vigencia.core import clock
from vigencia.core.errors import DomainError, NotFound
from vigencia.core.forms import form_add_domain_error
from vigencia.core.money import Money
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.selectors import line_get
from vigencia.usage import services
from vigencia.usage.forms import AlertsForm
from vigencia.usage.models import AlertRule, UsageKind
from vigencia.usage.selectors import MAX_STATEMENT_DAYS, anomaly_list, balance_totals, statement_build
from vigencia.usage.statements import quantity_display, statement_charts

RECORDS_SHOWN = 500  # the page lists the first ones; the CSV has them all


@login_required
def statement_page(request: HttpRequest, line_id: int) -> HttpResponse:
    try:
        line = line_get(owner=request.user, line_id=line_id)  # type: ignore[arg-type]
    except NotFound as error:
        raise Http404 from error
    currency = line.carrier.currency
    if request.method == "POST":
        form = AlertsForm(request.POST, currency=currency)
        if form.is_valid():
            try:
                services.alert_rule_set(line=line, **form.thresholds())
            except DomainError as error:
                form_add_domain_error(
                    form,
                    error,
                    fields={
                        "money_below_minor": "money_below",
                        "monthly_spend_above_minor": "monthly_spend_above",
                    },
                )
            else:
                messages.success(request, _("Alerts saved."))
                return redirect(reverse("usage:statement", args=[line.pk]) + "#alerts")
    else:
        form = AlertsForm(currency=currency, rule=AlertRule.objects.filter(line=line).first())
    date_to = parse_date(request.GET.get("to") or "") if _is_date(request.GET.get("to")) else None
    date_to = date_to or clock.today()
    date_from = parse_date(request.GET.get("from") or "") if _is_date(request.GET.get("from")) else None
    date_from = date_from or date_to - timedelta(days=29)
    if date_from > date_to or (date_to - date_from).days >= MAX_STATEMENT_DAYS:
        date_from = date_to - timedelta(days=29)
    balances = balance_totals(line=line)
    built = statement_build(line=line, date_from=date_from, date_to=date_to)
    totals = [
        (
            UsageKind(kind).label,
            total,
            quantity_display(kind, total.rated_quantity, rated=True),
            quantity_display(kind, total.in_bundle_quantity, rated=True),
            Money(total.price_minor, built.currency),
        )
        for kind, total in built.totals.items()
    ]
    records = [
        (
            record,
            UsageKind(record.kind).label,
            quantity_display(record.kind, record.quantity, rated=False),
            Money(record.price_minor, record.currency or built.currency),
        )
        for record in built.records[:RECORDS_SHOWN]
    ]
    anomalies = [(a, services.anomaly_explain(a)) for a in anomaly_list(line=line)[:50]]
    return render(
        request,
        "usage/statement.html",
        {
            "line": line,
            "number": msisdn_display(line.msisdn),
            "statement": built,
            "totals": totals,
            "records": records,
            "records_total": len(built.records),
            "charts": [
                (chart, quantity_display(chart.kind, chart.peak, rated=True))
                for chart in statement_charts(built)
            ],
            "balances": balances,
            "balance_data": quantity_display(UsageKind.DATA, balances["data"], rated=True),
            "balance_voice": quantity_display(UsageKind.VOICE, balances["voice"], rated=True),
            "balance_money": Money(balances["money"], currency),
            "anomalies": anomalies,
            "alerts_form": form,
        },
    )


def _is_date(value: str | None) -> bool:
    try:
        return bool(value) and parse_date(value or "") is not None
    except ValueError:
        return False
