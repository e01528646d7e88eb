"""Plans browser: carriers, and each carrier's plans on sale with its keep-alive rules in plain words."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from vigencia.catalog.selectors import carrier_get, carrier_list, plan_list_on_sale


@require_GET
def carriers(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/carriers.html", {"carriers": carrier_list()})


@require_GET
def carrier_detail(request: HttpRequest, code: str) -> HttpResponse:
    carrier = carrier_get(code=code)
    if carrier is None:
        raise Http404
    return render(
        request, "catalog/carrier.html", {"carrier": carrier, "plans": plan_list_on_sale(carrier=carrier)}
    )
