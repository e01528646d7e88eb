"""Pages: redeem a code (portal), the reseller's batches, the public list of authorised resellers, and
the operator's view of redemption failures."""

from __future__ import annotations

import io
import uuid
from typing import Any

from babel.numbers import format_percent
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from vigencia.accounts.models import User
from vigencia.accounts.roles import is_operator, role_required
from vigencia.core.errors import DomainError, NotFound, RateLimited
from vigencia.core.forms import form_submit_once
from vigencia.core.money import babel_locale
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.selectors import line_list
from vigencia.vouchers import exports, services
from vigencia.vouchers.codes import ONLINE_MAX_COUNT, serial_clean, serial_display
from vigencia.vouchers.forms import BuyForm, OperatorBatchForm, RedeemForm, VerifyForm, VoidForm
from vigencia.vouchers.models import VoucherBatch
from vigencia.vouchers.selectors import (
    batch_get,
    batch_list,
    redemption_failure_rate,
    reseller_api_keys,
    resellers_listed,
    voidable_count,
    voucher_verify,
)

BATCHES_PAGE = 20  # batches per page, newest first

# Support agents are staff too: creating, voiding and selling codes is the operator's.
operator_required = role_required(is_operator)


def _batch(reseller: User, batch_id: int) -> VoucherBatch:
    try:
        return batch_get(reseller=reseller, batch_id=batch_id)
    except NotFound as error:
        raise Http404 from error


def _reseller(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not services.reseller_is(user):
        raise DjangoPermissionDenied
    return user


@login_required
def redeem_page(request: HttpRequest) -> HttpResponse:
    """Redeem a PIN on one of my lines or as a gift; on success, the renewal's own page, which follows
    it until the carrier confirms the new valid-until (a wallet card's: the wallet)."""
    user: User = request.user  # type: ignore[assignment]
    form = RedeemForm(request.POST or None, lines=line_list(owner=user))
    if request.method == "POST" and form.is_valid():
        try:
            redeemed = services.voucher_redeem(
                pin=form.cleaned_data["pin"],
                redeemer=user,
                ip=request.META.get("REMOTE_ADDR"),
                line=form.cleaned_data["line"],
                msisdn=form.cleaned_data["msisdn"],
                carrier=form.cleaned_data["carrier"],
                channel="portal",
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            if isinstance(redeemed, services.WalletCredit):
                messages.success(
                    request,
                    _("Done: %(amount)s is in your wallet.")
                    % {"amount": redeemed.amount.format(translation.get_language())},
                )
                return redirect("orders:wallet")
            messages.success(
                request,
                _("Done: %(plan)s is on its way to %(number)s.")
                % {"plan": redeemed.plan.name, "number": msisdn_display(redeemed.msisdn)},
            )
            return redirect("orders:detail", redeemed.pk)
    return render(request, "vouchers/redeem.html", {"form": form})


def verify_page(request: HttpRequest) -> HttpResponse:
    """Public: is the card in my hand genuine, and can it still be redeemed? By its printed serial,
    never the PIN; the same per-IP limit as GET /api/v1/vouchers/verify."""
    form = VerifyForm(request.GET or None)
    context: dict[str, object] = {"form": form}
    status = 200
    if form.is_valid():
        try:
            services.verify_throttle(ip=request.META.get("REMOTE_ADDR"))
        except RateLimited:
            form.add_error(None, _("Too many checks from here. Wait a minute and try again."))
            return render(request, "vouchers/verify.html", context, status=429)
        typed = form.cleaned_data["serial"]
        clean = serial_clean(typed)
        context.update(
            voucher_verify(serial=typed), checked=True, serial=serial_display(clean) if clean else typed
        )
    elif form.is_bound:
        status = 422
    return render(request, "vouchers/verify.html", context, status=status)


def resellers_page(request: HttpRequest) -> HttpResponse:
    return render(request, "vouchers/resellers.html", {"resellers": resellers_listed()})


@login_required
def reseller_dashboard(request: HttpRequest) -> HttpResponse:
    reseller = _reseller(request)
    context = {
        "batches": (page := _batches_page(request, batch_list(reseller=reseller))).object_list,
        "page": page,
        "buy_form": BuyForm(
            currencies=services.reseller_currencies(reseller=reseller),
            initial={"idempotency_key": uuid.uuid4()},
        ),
        "void_form": VoidForm(),
        "balance": services.reseller_prepaid_account(reseller=reseller, currency="PEN").balance,
        "api_keys": reseller_api_keys(reseller=reseller),
    }
    return render(request, "vouchers/reseller.html", context)


def _batch_create_held(**fields: Any) -> VoucherBatch:
    """A new batch (services.batch_create's fields) whose export — its codes as CSV and a printable
    PDF of cards — is held for its one download."""
    stream = io.StringIO()
    export: list[exports.BatchExport] = []

    def sink(batch: VoucherBatch, pairs: list[tuple[str, str]]) -> None:
        if not export:
            export.append(exports.BatchExport(stream, batch=batch))
        export[0].add(pairs)

    batch = services.batch_create(sink=sink, max_count=ONLINE_MAX_COUNT, **fields)
    services.batch_export_hold(batch=batch, csv_text=stream.getvalue(), pdf=export[0].pdf())
    return batch


def _export_response(batch: VoucherBatch, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="vigencia-batch-{batch.pk}.zip"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def reseller_buy(request: HttpRequest) -> HttpResponse:
    reseller = _reseller(request)
    form = BuyForm(request.POST, currencies=services.reseller_currencies(reseller=reseller))
    if not form.is_valid():
        messages.error(request, _("Choose a plan or a wallet card's value, and a number of codes."))
        return redirect("vouchers:reseller")
    plan, face, count = form.cleaned_data["plan"], form.cleaned_data["face"], form.cleaned_data["count"]

    def buy() -> tuple[int, dict[str, Any]]:
        batch = _batch_create_held(plan=plan, face=face, count=count, reseller=reseller, created_by=reseller)
        return 201, {"batch": batch.pk}

    # A double tap or a resent page buys once: the second answer is the first one's batch.
    done = form_submit_once(
        form,
        request,
        scope="portal.reseller_buy",
        payload={"plan": plan.pk if plan else None, "face": face.as_dict() if face else None, "count": count},
        action=buy,
    )
    if done is None:
        for error in form.non_field_errors():
            messages.error(request, str(error))
    else:
        messages.success(
            request, _("Batch #%(id)s is ready: download its codes now.") % {"id": done["batch"]}
        )
    return redirect("vouchers:reseller")


@login_required
@require_POST
def reseller_download(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(_reseller(request), batch_id)
    try:
        content = services.batch_export_take(batch=batch)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("vouchers:reseller")
    return _export_response(batch, content)


@login_required
@require_POST
def reseller_void(request: HttpRequest, batch_id: int) -> HttpResponse:
    reseller = _reseller(request)
    return _void(request, _batch(reseller, batch_id), actor=reseller, back="vouchers:reseller")


@login_required
@require_POST
def reseller_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    """Revoke one of my API keys, once confirmed: calls with it get 401 from then on."""
    reseller = _reseller(request)
    key = reseller_api_keys(reseller=reseller).filter(pk=key_id).first()
    if key is None:
        raise Http404
    if request.POST.get("confirm") != "yes":
        question = _("Revoke the API key %(name)s (%(prefix)s…)? Programs that use it stop working at once.")
        return _confirm(
            request,
            question=question % {"name": key.name, "prefix": key.prefix},
            button=_("Revoke the key"),
            back="vouchers:reseller",
        )
    if services.reseller_api_key_revoke(user=reseller, key_id=key.pk):
        messages.success(request, _("The API key %(name)s is revoked.") % {"name": key.name})
    else:
        messages.info(request, _("The API key %(name)s was already revoked.") % {"name": key.name})
    return redirect("vouchers:reseller")


def _confirm(request: HttpRequest, *, question: str, button: str, back: str) -> HttpResponse:
    """The page that asks before an action that cannot be undone; it posts the same form again, with
    confirm=yes."""
    fields = [
        (name, value)
        for name, value in request.POST.items()
        if name not in {"csrfmiddlewaretoken", "confirm"}
    ]
    return render(
        request,
        "vouchers/confirm.html",
        {"question": question, "button": button, "fields": fields, "back": back},
    )


def _void(request: HttpRequest, batch: VoucherBatch, *, actor: User, back: str) -> HttpResponse:
    """Void the batch, or the range of its serials posted, once confirmed with how many codes it
    voids, and say how it went."""
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Those serials are not valid."))
        return redirect(back)
    bounds = {"serial_from": form.cleaned_data["serial_from"], "serial_to": form.cleaned_data["serial_to"]}
    try:
        if request.POST.get("confirm") != "yes":
            count = voidable_count(batch=batch, **bounds)
            if not count:
                messages.info(
                    request,
                    _("Nothing to void: every code there is already void, redeemed or expired."),
                )
                return redirect(back)
            if bounds["serial_from"]:
                question = ngettext(
                    "Void %(count)d code of batch #%(batch)d, serials %(first)s to %(last)s?",
                    "Void %(count)d codes of batch #%(batch)d, serials %(first)s to %(last)s?",
                    count,
                ) % {
                    "count": count,
                    "batch": batch.pk,
                    "first": serial_display(serial_clean(bounds["serial_from"]) or ""),
                    "last": serial_display(serial_clean(bounds["serial_to"]) or ""),
                }
            else:
                question = ngettext(
                    "Void the whole batch #%(batch)d: %(count)d code?",
                    "Void the whole batch #%(batch)d: %(count)d codes?",
                    count,
                ) % {"count": count, "batch": batch.pk}
            question += " " + _("Void codes can never be redeemed again.")
            return _confirm(request, question=question, button=_("Void them"), back=back)
        voided = services.voucher_void(batch=batch, actor=actor, **bounds)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect(back)
    if voided:
        messages.success(
            request, ngettext("%(count)d code voided.", "%(count)d codes voided.", voided) % {"count": voided}
        )
    else:
        messages.info(request, _("Nothing to void: every code there is already void, redeemed or expired."))
    return redirect(back)


def _with_percent(stats: dict[str, Any]) -> dict[str, Any]:
    percent = format_percent(stats["failure_rate"], "#,##0.0%", locale=babel_locale())
    return {**stats, "failure_percent": percent}


@operator_required
@require_GET
def operator_page(request: HttpRequest) -> HttpResponse:
    return _operator_page(request)


def _batches_page(request: HttpRequest, batches: QuerySet[VoucherBatch]) -> Page[VoucherBatch]:
    """Newest first, BATCHES_PAGE at a time."""
    return Paginator(batches.order_by("-pk"), BATCHES_PAGE).get_page(request.GET.get("page"))


def _operator_page(request: HttpRequest, form: OperatorBatchForm | None = None) -> HttpResponse:
    """The redemption figures, the batches, and the new-batch form (422 when it came back wrong)."""
    return render(
        request,
        "vouchers/operator.html",
        {
            "periods": [
                (_("Last hour"), _with_percent(redemption_failure_rate(minutes=60))),
                (_("Last 24 hours"), _with_percent(redemption_failure_rate(minutes=1440))),
            ],
            "batches": (page := _batches_page(request, batch_list())).object_list,
            "page": page,
            "batch_form": form or OperatorBatchForm(initial={"idempotency_key": uuid.uuid4()}),
            "void_form": VoidForm(),
        },
        status=422 if form is not None else 200,
    )


@operator_required
@require_POST
def operator_batch_create(request: HttpRequest) -> HttpResponse:
    form = OperatorBatchForm(request.POST)
    if not form.is_valid():
        if "idempotency_key" in form.errors:
            form.fresh_key()
        return _operator_page(request, form)
    data = form.cleaned_data
    operator: User = request.user  # type: ignore[assignment]

    def create() -> tuple[int, dict[str, Any]]:
        batch = _batch_create_held(
            plan=data["plan"],
            face=data["face"],
            count=data["count"],
            reseller=data["reseller"],
            expires_on=data["expires_on"],
            created_by=operator,
        )
        return 201, {"batch": batch.pk}

    done = form_submit_once(
        form,
        request,
        scope="portal.operator_batch",
        payload={
            "plan": data["plan"].pk if data["plan"] else None,
            "face": data["face"].as_dict() if data["face"] else None,
            "count": data["count"],
            "reseller": data["reseller"].pk if data["reseller"] else None,
            "expires_on": data["expires_on"],
        },
        action=create,
    )
    if done is None:
        return _operator_page(request, form)
    if data["reseller"] is not None:
        messages.success(
            request,
            _("Batch #%(id)s is sold to %(reseller)s: its codes wait for the reseller's one download.")
            % {"id": done["batch"], "reseller": data["reseller"].email},
        )
    else:
        messages.success(
            request,
            _("Batch #%(id)s is created: download its codes (once), then put it on sale.")
            % {"id": done["batch"]},
        )
    return redirect("vouchers:operator")


def _operator_batch(batch_id: int) -> VoucherBatch:
    """One of the operator's own batches (a reseller's codes are for the reseller alone)."""
    batch = batch_list().filter(pk=batch_id, reseller__isnull=True).first()
    if batch is None:
        raise Http404
    return batch


@operator_required
@require_POST
def operator_batch_download(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _operator_batch(batch_id)
    try:
        content = services.batch_export_take(batch=batch)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("vouchers:operator")
    return _export_response(batch, content)


@operator_required
@require_POST
def operator_batch_activate(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _operator_batch(batch_id)
    moved = services.batch_activate(batch=batch, actor=request.user)  # type: ignore[arg-type]
    if moved:
        messages.success(
            request,
            ngettext("%(count)d code is on sale.", "%(count)d codes are on sale.", moved) % {"count": moved},
        )
    else:
        messages.info(request, _("This batch was already on sale."))
    return redirect("vouchers:operator")


@operator_required
@require_POST
def operator_batch_void(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Void a lost batch or range, any reseller's (a reseller who calls) or the operator's own."""
    batch = batch_list().filter(pk=batch_id).first()
    if batch is None:
        raise Http404
    return _void(request, batch, actor=request.user, back="vouchers:operator")  # type: ignore[arg-type]
