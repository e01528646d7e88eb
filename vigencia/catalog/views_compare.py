"""The plan comparison page: plans side by side, filtered and sorted, with approximate CNY/USD."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from vigencia.catalog.compare import SORTS, compare_carriers_parse, plan_compare
from vigencia.catalog.fx import approx_currency_for, money_approx_label
from vigencia.catalog.selectors import carrier_list
from vigencia.core.errors import DomainError


@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    # The form's checkboxes (carrier=a&carrier=b), or the API's spelling (carriers=a,b) in a shared link.
    given = [*request.GET.getlist("carrier"), *request.GET.get("carriers", "").split(",")]
    chosen = list(dict.fromkeys(code.strip() for code in given if code.strip()))
    sort = request.GET.get("sort", "price")
    try:
        months = int(request.GET.get("months", "12"))
    except ValueError:
        months = 0
    error = ""
    rows = []
    try:
        rows = plan_compare(carriers=compare_carriers_parse(",".join(chosen)), sort=sort, months=months)
    except DomainError as exc:
        error = str(exc.message)
    currency = approx_currency_for()
    return render(
        request,
        "catalog/compare.html",
        {
            "rows": [(row, money_approx_label(row.plan.price, currency=currency)) for row in rows],
            "carriers": carrier_list(),
            "chosen": chosen,
            "sort": sort,
            "sorts": SORTS,
            "months": months,
            "error": error,
        },
    )
