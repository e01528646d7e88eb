"""The sandbox PSP's hosted pages (checkout, 3-D Secure-style authorisation, PayPal-style approval)
and the payment status page. The page's public id is the capability, as at a real PSP."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from vigencia.core.errors import Conflict, InvalidInput
from vigencia.payments.forms import CardForm, EwalletForm, PaypalForm
from vigencia.payments.models import NextAction, PaymentIntent, PaymentMethod, PaymentStatus
from vigencia.payments.providers.sandbox import TEST_CARDS
from vigencia.payments.selectors import payment_failure_reason
from vigencia.payments.services import payment_cancel, payment_confirm

_FORMS: dict[str, type[forms.Form]] = {
    PaymentMethod.SANDBOX_CARD: CardForm,
    PaymentMethod.SANDBOX_EWALLET: EwalletForm,
    PaymentMethod.SANDBOX_PAYPAL: PaypalForm,
}
_STEP_URLS: dict[str, str] = {
    NextAction.THREE_D_SECURE: "payments:authorise",
    NextAction.PAYPAL_REDIRECT: "payments:paypal",
}
_PAYPAL_SALT = "payments.sandbox.paypal"


def _intent(public_id: str) -> PaymentIntent:
    return get_object_or_404(PaymentIntent, public_id=public_id)


def _sandbox_intent(public_id: str) -> PaymentIntent:
    """An intent at the sandbox PSP, whose pages exist only while test mode is on."""
    if not settings.VIGENCIA_SANDBOX_PAYMENTS:
        raise Http404
    return get_object_or_404(PaymentIntent, public_id=public_id, provider="sandbox")


def _next(intent: PaymentIntent) -> HttpResponse:
    """Where the customer goes from here: the pending step, or back to the return URL."""
    if intent.status == PaymentStatus.REQUIRES_ACTION and intent.next_action:
        return redirect(_STEP_URLS[intent.next_action], intent.public_id)
    return redirect(intent.after_checkout_url)


def _decide(intent: PaymentIntent, decision: str) -> HttpResponse:
    try:
        if decision == "cancel":
            payment_cancel(intent=intent)
        else:
            payment_confirm(intent=intent, payment_method={"decision": decision})
    except (Conflict, InvalidInput):
        intent.refresh_from_db()  # already decided (a second tab, a reload): show where it stands
    return _next(intent)


@sensitive_post_parameters("number", "cvc", "code")
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, public_id: str) -> HttpResponse:
    intent = _sandbox_intent(public_id)
    if intent.status != PaymentStatus.REQUIRES_ACTION or intent.next_action:
        return _next(intent)
    if request.method == "POST" and "cancel" in request.POST:
        return _decide(intent, "cancel")
    form = _FORMS[intent.method](request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            payment_confirm(intent=intent, payment_method=form.payment_method())  # type: ignore[attr-defined]
        except InvalidInput as refused:
            field = (refused.details or {}).get("field")
            form.add_error(field if field in form.fields else None, str(refused.message))
        except Conflict:
            intent.refresh_from_db()
            return _next(intent)
        else:
            return _next(intent)
    test_cards = [
        (" ".join(number[i : i + 4] for i in range(0, 16, 4)), behaviour)
        for number, behaviour in TEST_CARDS.items()
    ]
    return render(
        request, "payments/checkout.html", {"intent": intent, "form": form, "test_cards": test_cards}
    )


@require_http_methods(["GET", "POST"])
def authorise(request: HttpRequest, public_id: str) -> HttpResponse:
    """The card issuer's 3-D Secure-style step: approve or decline."""
    intent = _sandbox_intent(public_id)
    if intent.status != PaymentStatus.REQUIRES_ACTION or intent.next_action != NextAction.THREE_D_SECURE:
        return _next(intent)
    if request.method == "POST":
        return _decide(intent, "approve" if request.POST.get("decision") == "approve" else "decline")
    return render(request, "payments/authorise.html", {"intent": intent})


@require_http_methods(["GET", "POST"])
def paypal(request: HttpRequest, public_id: str) -> HttpResponse:
    """The PayPal-style site: the customer approves or cancels, and is sent back to Vigencia."""
    intent = _sandbox_intent(public_id)
    if intent.status != PaymentStatus.REQUIRES_ACTION or intent.next_action != NextAction.PAYPAL_REDIRECT:
        return _next(intent)
    if request.method == "POST":
        result = "approve" if request.POST.get("decision") == "approve" else "cancel"
        token = signing.dumps({"payment": intent.public_id, "result": result}, salt=_PAYPAL_SALT)
        return redirect(
            reverse("payments:paypal_return", args=[intent.public_id]) + "?" + urlencode({"token": token})
        )
    return render(request, "payments/paypal.html", {"intent": intent})


@require_GET
def paypal_return(request: HttpRequest, public_id: str) -> HttpResponse:
    """Back from the PayPal-style site; the signed token says what the customer chose there."""
    intent = _sandbox_intent(public_id)
    try:
        answer = signing.loads(request.GET.get("token", ""), salt=_PAYPAL_SALT, max_age=3600)
    except signing.BadSignature:
        return HttpResponseBadRequest()
    if not isinstance(answer, dict) or answer.get("payment") != intent.public_id:
        return HttpResponseBadRequest()
    return _decide(intent, "approve" if answer.get("result") == "approve" else "cancel")


@require_GET
def status(request: HttpRequest, public_id: str) -> HttpResponse:
    intent = _intent(public_id)
    return render(
        request, "payments/status.html", {"intent": intent, "failure_reason": payment_failure_reason(intent)}
    )
