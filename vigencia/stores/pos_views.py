"""The counter pages under /stores/pos/ (store agents only) and the public receipt check.

Every page is a plain form post: fast on a slow terminal, usable from the keyboard alone."""

from __future__ import annotations

import uuid
from decimal import Decimal
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vigencia.accounts.models import User
from vigencia.catalog.selectors import carrier_get, plan_list_on_sale
from vigencia.core.errors import DomainError, PermissionDenied
from vigencia.core.forms import form_add_domain_error
from vigencia.core.idempotency import idempotent
from vigencia.core.money import Money
from vigencia.lines.numbers import msisdn_display, msisdn_normalize
from vigencia.lines.selectors import line_deadline
from vigencia.stores.forms import LineLookupForm, PosVoucherForm, SaleForm, ShiftCloseForm, ShiftOpenForm
from vigencia.stores.iddocs import IdDocument, id_blind_index, id_document_validate
from vigencia.stores.models import Shift
from vigencia.stores.receipts import msisdn_mask, receipt_pdf, receipt_qr_data_uri, receipt_view
from vigencia.stores.selectors import (
    WALK_IN_EMAIL,
    pos_line_find,
    receipt_cash_owed,
    receipt_for_agent,
    receipt_verify,
    shift_cash_taken,
    shift_current,
    shift_sales,
    shift_totals,
    store_of_agent,
)
from vigencia.stores.services import (
    SalePayment,
    pos_cash_return,
    pos_sale_create,
    pos_voucher_redeem,
    shift_close,
    shift_open,
)

SALE_FIELDS = {
    "id_document": "id_number",
    "msisdn": "plan",
    "tendered": "tendered",
    "card_reference": "card_reference",
}


def agent_required(view: Any) -> Any:
    """Logged in and an active agent of a store; anyone else gets a 403 page that says why."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            store_of_agent(user=cast(User, request.user))
        except PermissionDenied as denied:
            return render(request, "stores/pos/denied.html", {"message": denied.message}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _agent(request: HttpRequest) -> User:
    return cast(User, request.user)


def _minor(amount: Decimal | None, currency: str = "PEN") -> int | None:
    return None if amount is None else Money.from_decimal(amount, currency).amount_minor


def _carriers(request: HttpRequest) -> list[tuple[str, str]]:
    store = store_of_agent(user=_agent(request)).store
    return [(carrier.code, carrier.name) for carrier in store.carriers.order_by("name")]


@agent_required
@require_GET
def pos_home(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    shift = shift_current(agent=agent)
    context: dict[str, Any] = {"store": store_of_agent(user=agent).store, "shift": shift}
    if shift is None:
        context["open_form"] = ShiftOpenForm()
    else:
        context["lookup_form"] = LineLookupForm(carriers=_carriers(request))
        context["totals"] = shift_totals(shift)
        context["sales"] = shift_sales(shift)
    return render(request, "stores/pos/home.html", context)


@agent_required
@require_POST
def pos_shift_open(request: HttpRequest) -> HttpResponse:
    form = ShiftOpenForm(request.POST)
    if form.is_valid():
        try:
            shift_open(agent=_agent(request), float_minor=_minor(form.cleaned_data["float_amount"]) or 0)
            return redirect("stores:pos")
        except DomainError as error:
            form_add_domain_error(form, error, fields={"float": "float_amount"})
    store = store_of_agent(user=_agent(request)).store
    return render(
        request, "stores/pos/home.html", {"store": store, "shift": None, "open_form": form}, status=422
    )


@agent_required
@require_http_methods(["GET", "POST"])
def pos_shift_close(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    shift = shift_current(agent=agent)
    if shift is None:
        return redirect("stores:pos")
    form = ShiftCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            closed = shift_close(agent=agent, counted_minor=_minor(form.cleaned_data["counted"]) or 0)
            return redirect("stores:pos_shift", closed.pk)
        except DomainError as error:
            form_add_domain_error(form, error, fields={"counted": "counted"})
    # The drawer's cash from the ledger (what closing compares with), and the totals that make it up.
    cash_taken = shift_cash_taken(shift)
    return render(
        request,
        "stores/pos/shift_close.html",
        {
            "shift": shift,
            "form": form,
            "totals": shift_totals(shift),
            "expected": shift.float_amount + cash_taken,
        },
        status=422 if request.method == "POST" else 200,
    )


@agent_required
@require_GET
def pos_shift(request: HttpRequest, shift_id: int) -> HttpResponse:
    shift = Shift.objects.select_related("store").filter(pk=shift_id, agent=_agent(request)).first()
    if shift is None:
        return render(request, "stores/pos/denied.html", {"message": ""}, status=404)
    return render(
        request,
        "stores/pos/shift.html",
        {"shift": shift, "sales": shift_sales(shift), "totals": shift_totals(shift)},
    )


def _sale_context(request: HttpRequest, lookup: LineLookupForm) -> dict[str, Any] | None:
    """The line and plans for a looked-up number, or None with the error on the lookup form."""
    if not lookup.is_valid():
        return None
    carrier = carrier_get(code=lookup.cleaned_data["carrier"])
    if carrier is None:
        return None
    try:
        e164 = msisdn_normalize(lookup.cleaned_data["msisdn"], country=carrier.country)
    except DomainError as error:
        form_add_domain_error(lookup, error)
        return None
    line = pos_line_find(msisdn=e164, carrier=carrier)
    plans = list(plan_list_on_sale(carrier=carrier).order_by("price_minor"))
    return {
        "carrier": carrier,
        "msisdn": e164,
        "number": msisdn_display(e164),
        "masked": msisdn_mask(e164),
        "line": line,
        "deadline": line_deadline(line) if line else None,
        "walk_in": line is None or line.owner.email == WALK_IN_EMAIL,
        "plans": plans,
        "plan_choices": [(plan.pk, f"{plan.name} — {plan.price.format()}") for plan in plans],
    }


def _counter(request: HttpRequest) -> tuple[User, Shift | None, LineLookupForm, dict[str, Any] | None]:
    """The agent, their open shift, and the number looked up (in the query) with its line and plans
    — None with the error on the lookup form if it is not one the counter can renew."""
    agent = _agent(request)
    shift = shift_current(agent=agent)
    lookup = LineLookupForm(request.GET, carriers=_carriers(request))
    return agent, shift, lookup, _sale_context(request, lookup) if shift is not None else None


def _lookup_failed(request: HttpRequest, shift: Shift, lookup: LineLookupForm) -> HttpResponse:
    return render(
        request,
        "stores/pos/home.html",
        {
            "store": shift.store,
            "shift": shift,
            "lookup_form": lookup,
            "totals": shift_totals(shift),
            "sales": shift_sales(shift),
        },
        status=422,
    )


def _sale_page(
    request: HttpRequest,
    found: dict[str, Any],
    *,
    shift: Shift,
    lookup: LineLookupForm,
    form: SaleForm | None = None,
    voucher_form: PosVoucherForm | None = None,
) -> HttpResponse:
    """The number's page: the plans to sell, and a code to redeem; 422 when a form came back wrong."""
    return render(
        request,
        "stores/pos/sale.html",
        {
            **found,
            "shift": shift,
            "lookup": lookup,
            "form": form or SaleForm(plans=found["plan_choices"], initial={"idempotency_key": uuid.uuid4()}),
            "voucher_form": voucher_form or PosVoucherForm(),
        },
        status=422 if request.method == "POST" else 200,
    )


@agent_required
@require_http_methods(["GET", "POST"])
def pos_sale(request: HttpRequest) -> HttpResponse:
    agent, shift, lookup, found = _counter(request)
    if shift is None:
        return redirect("stores:pos")
    if found is None:
        return _lookup_failed(request, shift, lookup)
    form = SaleForm(
        request.POST or None, plans=found["plan_choices"], initial={"idempotency_key": uuid.uuid4()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            number = _sell(agent, found, data)
            return redirect("stores:pos_receipt", number)
        except DomainError as error:
            form_add_domain_error(form, error, fields=SALE_FIELDS)
        # A corrected form is a new sale attempt: give it a new key.
        fresh = request.POST.copy()
        fresh["idempotency_key"] = str(uuid.uuid4())
        form.data = fresh
    return _sale_page(request, found, shift=shift, lookup=lookup, form=form)


@agent_required
@require_POST
def pos_voucher(request: HttpRequest) -> HttpResponse:
    """Redeem a recharge code the customer brings for the looked-up number (on the sale page)."""
    agent, shift, lookup, found = _counter(request)
    if shift is None:
        return redirect("stores:pos")
    if found is None:
        return _lookup_failed(request, shift, lookup)
    voucher_form = PosVoucherForm(request.POST)
    if voucher_form.is_valid():
        try:
            receipt = pos_voucher_redeem(
                agent=agent,
                msisdn=found["msisdn"],
                carrier_code=found["carrier"].code,
                pin=voucher_form.cleaned_data["pin"],
                ip=request.META.get("REMOTE_ADDR"),
            )
        except DomainError as error:
            form_add_domain_error(voucher_form, error, fields={"pin": "pin"})
        else:
            messages.success(
                request,
                _("Code redeemed: %(plan)s for %(number)s. The renewal is on its way to the carrier.")
                % {"plan": receipt.order.plan.name, "number": found["number"]},
            )
            return redirect("stores:pos_receipt", receipt.number)
    return _sale_page(request, found, shift=shift, lookup=lookup, voucher_form=voucher_form)


def _sell(agent: User, found: dict[str, Any], data: dict[str, Any]) -> str:
    def action() -> tuple[int, Any]:
        document = id_document_validate(
            type=data["id_type"], number=data["id_number"], country=data["id_country"]
        )
        receipt = pos_sale_create(
            agent=agent,
            msisdn=found["msisdn"],
            carrier_code=found["carrier"].code,
            plan_id=data["plan"],
            id_document=document,
            payment=SalePayment(
                method=data["payment"],
                tendered_minor=_minor(data["tendered"]),
                card_reference=data["card_reference"],
            ),
            promo_code=data["promo_code"],
        )
        return 201, {"number": receipt.number}

    payload = {
        "msisdn": found["msisdn"],
        "carrier": found["carrier"].code,
        "plan": data["plan"],
        "id": id_blind_index(
            IdDocument(type=data["id_type"], number=data["id_number"], country=data["id_country"])
        ),
        "payment": data["payment"],
        "tendered": _minor(data["tendered"]),
        "card_reference": data["card_reference"],
        "promo_code": data["promo_code"],
    }
    _status, body = idempotent(
        owner_id=agent.pk,
        key=str(data["idempotency_key"]),
        scope="pos.sale.page",
        payload=payload,
        action=action,
    )
    return str(body["number"])


@agent_required
@require_GET
def pos_receipt(request: HttpRequest, number: str) -> HttpResponse:
    try:
        receipt = receipt_for_agent(agent=_agent(request), number=number)
    except DomainError as error:
        return render(request, "stores/pos/denied.html", {"message": error.message}, status=404)
    return render(
        request,
        "stores/pos/receipt.html",
        {
            "receipt": receipt,
            "view": receipt_view(receipt),
            "qr": receipt_qr_data_uri(receipt),
            "cash_owed": receipt_cash_owed(receipt),
        },
    )


@agent_required
@require_POST
def pos_receipt_cash_return(request: HttpRequest, number: str) -> HttpResponse:
    """The agent gave back the cash of a declined sale (once, however often the button is sent)."""
    try:
        receipt = pos_cash_return(agent=_agent(request), number=number)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            _("Recorded: %(amount)s given back to the customer.") % {"amount": receipt.order.total},
        )
    return redirect("stores:pos_receipt", number)


@agent_required
@require_GET
def pos_receipt_pdf(request: HttpRequest, number: str) -> HttpResponse:
    try:
        receipt = receipt_for_agent(agent=_agent(request), number=number)
    except DomainError as error:
        return render(request, "stores/pos/denied.html", {"message": error.message}, status=404)
    response = HttpResponse(receipt_pdf(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{receipt.number}.pdf"'
    return response


@require_GET
def receipt_check(request: HttpRequest) -> HttpResponse:
    """Public: is this receipt real? A wrong code and an unknown number get the same answer."""
    number, code = request.GET.get("number", ""), request.GET.get("code", "")
    receipt = receipt_verify(number=number, code=code) if number or code else None
    return render(
        request,
        "stores/receipt_verify.html",
        {
            "asked": bool(number or code),
            "receipt": receipt,
            "view": receipt_view(receipt) if receipt else None,
            "number": number[:60],
        },
        status=200 if receipt or not (number or code) else 404,
    )
