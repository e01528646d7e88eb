"""Portal pages of the renewal: choose a plan, review and pay, follow the result, receipts, wallet."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from vigencia.catalog.selectors import plan_list_on_sale
from vigencia.core.errors import DomainError
from vigencia.core.forms import form_submit_once
from vigencia.core.money import Money
from vigencia.ledger.selectors import wallet_balance, wallet_balances_other, wallet_history
from vigencia.lines.models import LineStatus
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.selectors import line_deadline, line_get, line_valid_until_after_renewal
from vigencia.orders.forms import CheckoutForm, TopupForm
from vigencia.orders.models import OrderStatus, PaymentMethod, TopupStatus
from vigencia.orders.selectors import order_get, order_list, topup_list
from vigencia.orders.services import order_create, wallet_topup_create
from vigencia.payments.models import PaymentIntent, PaymentStatus
from vigencia.payments.selectors import payment_failure_reason

FINAL_STATUSES = {OrderStatus.COMPLETED, OrderStatus.REFUNDED, OrderStatus.CANCELED}
HISTORY_PAGE = 20  # renewals per page of the history, newest first


def _line_or_404(request: HttpRequest, line_id: int) -> Any:
    try:
        return line_get(owner=request.user, line_id=line_id)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None


def _order_or_404(request: HttpRequest, order_id: int) -> Any:
    try:
        return order_get(payer=request.user, order_id=order_id)  # type: ignore[arg-type]
    except DomainError:
        raise Http404 from None


def _intent(public_id: str) -> PaymentIntent | None:
    return PaymentIntent.objects.filter(public_id=public_id).first() if public_id else None


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
            "recycled": line.status == LineStatus.RECYCLED,
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
    balance = wallet_balance(user=user, currency=plan.currency)
    form = CheckoutForm(
        request.POST if request.method == "POST" else None,
        initial={
            "idempotency_key": uuid.uuid4(),
            "payment_method": PaymentMethod.WALLET if plan.price <= balance else PaymentMethod.SANDBOX_CARD,
        },
    )
    if request.method == "POST" and form.is_valid():
        method = form.cleaned_data["payment_method"]
        promo_code = form.cleaned_data["promo_code"]

        def action() -> tuple[int, Any]:
            order = order_create(
                payer=user, line=line, plan=plan, payment_method=method, promo_code=promo_code
            )
            intent = _intent(order.payment_id)
            target = intent.checkout_url if intent is not None else reverse("orders:detail", args=[order.pk])
            return 201, {"redirect": target}

        done = form_submit_once(
            form,
            request,
            scope="portal.order",
            payload={"line": line.pk, "plan": plan.pk, "method": method, "promo_code": promo_code},
            action=action,
        )
        if done is not None:
            return redirect(done["redirect"])
    elif "idempotency_key" in form.errors:
        form.fresh_key()
    return render(
        request,
        "orders/renew_review.html",
        {
            "line": line,
            "msisdn": msisdn_display(line.msisdn),
            "plan": plan,
            "valid_until_after": line_valid_until_after_renewal(line, validity_days=plan.validity_days),
            "deadline": line_deadline(line),
            "balance": balance,
            "form": form,
            "short_of_funds": getattr(form, "error_code", "") == "insufficient_funds",
        },
    )


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order_or_404(request, order_id)
    intent = _intent(order.payment_id)
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "msisdn": msisdn_display(order.msisdn),
            "intent": intent,
            "final": order.status in FINAL_STATUSES,
            "payment_problem": payment_failure_reason(intent) if order.status == OrderStatus.CANCELED else "",
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
    page = Paginator(order_list(payer=request.user), HISTORY_PAGE).get_page(request.GET.get("page"))  # type: ignore[arg-type]
    orders = [(order, msisdn_display(order.msisdn)) for order in page.object_list]
    return render(request, "orders/list.html", {"orders": orders, "page": page})


@login_required
@require_GET
def order_receipt(request: HttpRequest, order_id: int) -> HttpResponse:
    order = _order_or_404(request, order_id)
    if order.status != OrderStatus.COMPLETED:
        raise Http404
    return render(request, "orders/receipt.html", {"order": order, "msisdn": msisdn_display(order.msisdn)})


def _movement(posting: Any) -> tuple[Any, str, str]:
    """A wallet posting as the subscriber reads it: (posting, what it was, link to the order)."""
    kind = posting.transaction.kind
    label = {
        "wallet_topup": _("Top-up"),
        "order_payment": _("Renewal"),
        "order_refund": _("Refund of a renewal"),
        "voucher_wallet_credit": _("Wallet card"),
    }.get(kind) or (_("Adjustment by support") if kind.startswith("support_") else _("Other movement"))
    reference = posting.transaction.reference
    link = (
        reverse("orders:detail", args=[int(reference[6:])])
        if reference.startswith("order:") and reference[6:].isdigit()
        else ""
    )
    return posting, label, link


def _topup_result(user: Any, topup_id: str) -> dict[str, Any] | None:
    """The top-up the checkout came back from (`?topup=<id>`, the person's own only): how it went and,
    if it failed, why in words."""
    if not (topup_id.isascii() and topup_id.isdecimal() and len(topup_id) < 19):
        return None
    topup = topup_list(user=user).filter(pk=int(topup_id)).first()
    if topup is None:
        return None
    intent = _intent(topup.payment_id)
    return {"topup": topup, "intent": intent, "reason": payment_failure_reason(intent)}


@login_required
@require_http_methods(["GET", "POST"])
def wallet(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = TopupForm(
        request.POST if request.method == "POST" else None, initial={"idempotency_key": uuid.uuid4()}
    )
    if request.method == "POST" and form.is_valid():
        amount = Money.from_decimal(form.cleaned_data["amount"], "PEN")
        method = form.cleaned_data["payment_method"]

        def action() -> tuple[int, Any]:
            topup = wallet_topup_create(user=user, amount=amount, payment_method=method)
            intent = _intent(topup.payment_id)
            assert intent is not None
            return 201, {"redirect": intent.checkout_url}

        done = form_submit_once(
            form,
            request,
            scope="portal.topup",
            payload={"amount": amount.amount_minor, "method": method},
            action=action,
        )
        if done is not None:
            return redirect(done["redirect"])
    elif "idempotency_key" in form.errors:
        form.fresh_key()
    result = _topup_result(user, request.GET.get("topup", ""))
    pending = list(topup_list(user=user).filter(status=TopupStatus.PENDING)[:5])
    intents = {
        i.public_id: i for i in PaymentIntent.objects.filter(public_id__in=[t.payment_id for t in pending])
    }
    pending_topups = [(topup, intents.get(topup.payment_id)) for topup in pending]
    balance = wallet_balance(user=user)
    return render(
        request,
        "orders/wallet.html",
        {
            "balance": balance,
            # Money held in other currencies (refunds of renewals paid in them, API top-ups).
            "other_balances": wallet_balances_other(user=user, currency=balance.currency),
            "history": [_movement(posting) for posting in wallet_history(user=user)[:50]],
            "pending_topups": pending_topups,
            "topup_result": result,
            # Follow the page while a paid top-up waits for the PSP's confirmation.
            "following": any(
                i is not None and i.status == PaymentStatus.PROCESSING for _t, i in pending_topups
            ),
            "state": f"{balance.amount_minor}:{len(pending)}:{result['topup'].status if result else ''}",
            "form": form,
        },
    )
