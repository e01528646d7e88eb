"""The subscriber's statement page: totals, a daily chart drawn server-side in SVG, the records."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vigencia.core import clock
from vigencia.core.errors import DomainError, InvalidInput, NotFound
from vigencia.core.forms import form_add_domain_error
from vigencia.core.money import Money
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.selectors import line_get
from vigencia.usage import services
from vigencia.usage.forms import AlertsForm
from vigencia.usage.models import AlertRule, UsageKind
from vigencia.usage.selectors import anomaly_list, balance_totals, statement_build, statement_period
from vigencia.usage.statements import quantity_display, statement_charts, statement_download

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
    period_error = ""
    try:
        date_from, date_to = statement_period(
            date_from=request.GET.get("from"), date_to=request.GET.get("to"), today=clock.today()
        )
    except InvalidInput as error:
        # The page still shows the default period, under the reason the one asked for is not shown.
        period_error = str(error.message)
        date_from, date_to = statement_period(date_from=None, date_to=None, today=clock.today())
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
            "period_error": period_error,
        },
    )


@require_GET
@login_required
def statement_file(request: HttpRequest, line_id: int, fmt: str) -> HttpResponse:
    """The page's statement as CSV or PDF, for the page's period; the same file the API gives. A
    period that cannot be shown goes back to the page, which says why."""
    try:
        line = line_get(owner=request.user, line_id=line_id)  # type: ignore[arg-type]
    except NotFound as error:
        raise Http404 from error
    try:
        date_from, date_to = statement_period(
            date_from=request.GET.get("from"), date_to=request.GET.get("to"), today=clock.today()
        )
    except InvalidInput:
        query = request.GET.urlencode()
        return redirect(reverse("usage:statement", args=[line.pk]) + (f"?{query}" if query else ""))
    built = statement_build(line=line, date_from=date_from, date_to=date_to)
    return statement_download(built, fmt=fmt)
