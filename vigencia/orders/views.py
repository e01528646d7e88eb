"""Portal pages of the renewal: choose a plan, review and pay, follow the result, receipts, wallet."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from vigencia.catalog.selectors import plan_list_on_sale
from vigencia.core.errors import DomainError
from vigencia.core.idempotency import idempotent
from vigencia.core.money import Money
from vigencia.ledger.selectors import wallet_balance, wallet_history
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.selectors import line_deadline, line_get, line_valid_until_after_renewal
from vigencia.orders.forms import CheckoutForm, TopupForm
from vigencia.orders.models import OrderStatus
from vigencia.orders.selectors import order_get, order_list
from vigencia.orders.services import order_create, wallet_topup_create
from vigencia.payments.models import PaymentIntent

FINAL_STATUSES = {OrderStatus.COMPLETED, OrderStatus.REFUNDED, OrderStatus.CANCELED}


def _line_or_404(request: HttpRequest, line_id: int) -> Any:
    try:
        return line_get(owner=request.user, line_id=line_id)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None


@login_required
@require_GET
def renew_choose(request: HttpRequest, line_id: int) -> HttpResponse:
    line = _line_or_404(request, line_id)
    plans = [
        (plan, line_valid_until_after_renewal(line, validity_days=plan.validity_days))
        for plan in plan_list_on_sale(carrier=line.carrier)
    ]
    return render(
        request,
        "orders/renew_choose.html",
        {
            "line": line,
            "msisdn": msisdn_display(line.msisdn),
            "deadline": line_deadline(line),
            "plans": plans,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def renew_review(request: HttpRequest, line_id: int, plan_id: int) -> HttpResponse:
    line = _line_or_404(request, line_id)
    plan = plan_list_on_sale(carrier=line.carrier).filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    user: Any = request.user
    form = CheckoutForm(request.POST or None, initial={"idempotency_key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        method = form.cleaned_data["payment_method"]
        promo_code = form.cleaned_data["promo_code"]

        def action() -> tuple[int, Any]:
            order = order_create(
                payer=user, line=line, plan=plan, payment_method=method, promo_code=promo_code
            )
            target = reverse("orders:detail", args=[order.pk])
            if order.payment_id:
                target = PaymentIntent.objects.get(public_id=order.payment_id).checkout_url
            return 201, {"redirect": target}

        try:
            _status, body = idempotent(
                owner_id=user.pk,
                key=str(form.cleaned_data["idempotency_key"]),
                scope="portal.order",
                payload={"line": line.pk, "plan": plan.pk, "method": method, "promo_code": promo_code},
                action=action,
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            return redirect(body["redirect"])
    return render(
        request,
        "orders/renew_review.html",
        {
            "line": line,
            "msisdn": msisdn_display(line.msisdn),
            "plan": plan,
            "valid_until_after": line_valid_until_after_renewal(line, validity_days=plan.validity_days),
            "deadline": line_deadline(line),
            "balance": wallet_balance(user=user, currency=plan.currency),
            "form": form,
        },
    )


def _order_or_404(request: HttpRequest, order_id: int) -> Any:
    try:
        return order_get(payer=request.user, order_id=order_id)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order_or_404(request, order_id)
    intent = PaymentIntent.objects.filter(public_id=order.payment_id).first() if order.payment_id else None
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "msisdn": msisdn_display(order.msisdn),
            "intent": intent,
            "final": order.status in FINAL_STATUSES,
        },
    )


@login_required
@require_GET
def order_status(request: HttpRequest, order_id: int) -> JsonResponse:
    order = _order_or_404(request, order_id)
    return JsonResponse({"status": order.status, "final": order.status in FINAL_STATUSES})


@login_required
@require_GET
def order_history(request: HttpRequest) -> HttpResponse:
    return render(request, "orders/list.html", {"orders": order_list(payer=request.user)[:100]})  # type: ignore[arg-type]


@login_required
@require_GET
def order_receipt(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order_or_404(request, order_id)
    if order.status != OrderStatus.COMPLETED:
        raise Http404
    return render(request, "orders/receipt.html", {"order": order, "msisdn": msisdn_display(order.msisdn)})


@login_required
@require_http_methods(["GET", "POST"])
def wallet(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = TopupForm(request.POST or None, initial={"idempotency_key": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        amount = Money.from_decimal(form.cleaned_data["amount"], "PEN")
        method = form.cleaned_data["payment_method"]

        def action() -> tuple[int, Any]:
            topup = wallet_topup_create(user=user, amount=amount, payment_method=method)
            return 201, {"redirect": PaymentIntent.objects.get(public_id=topup.payment_id).checkout_url}

        try:
            _status, body = idempotent(
                owner_id=user.pk,
                key=str(form.cleaned_data["idempotency_key"]),
                scope="portal.topup",
                payload={"amount": amount.amount_minor, "method": method},
                action=action,
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            return redirect(body["redirect"])
    return render(
        request,
        "orders/wallet.html",
        {"balance": wallet_balance(user=user), "history": wallet_history(user=user)[:50], "form": form},
    )
