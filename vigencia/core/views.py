"""Site-wide pages: the home page, the language switch, the health check and the error pages."""

from __future__ import annotations

from typing import cast

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from vigencia.accounts.models import Language, User
from vigencia.accounts.services import user_set_language
from vigencia.core.schemas import ErrorOut


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie + redirect to a safe `next`); a logged-in user's preference is
    saved too, so emails and the next login use the same language. The code is taken in any letter
    case (`ZH-Hans`) and kept in its canonical form, in the cookie as in the profile."""
    language = Language.canonical(request.POST.get("language", ""))
    if language:
        form = request.POST.copy()
        form["language"] = language
        request.POST = form  # type: ignore[assignment]
    response = set_language(request)
    if request.user.is_authenticated and response.status_code == 302:
        user_set_language(user=cast(User, request.user), language=request.POST.get("language", ""))
    return response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok"})


# Error pages (handler400/403/404/500 in the root URLconf, CSRF_FAILURE_VIEW): in the visitor's
# language, on the site's layout for people and in the API's error shape under /api/.


def _error(request: HttpRequest, status: int, code: str, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(ErrorOut(code=code, message=message).model_dump(), status=status)
    return render(request, "core/error.html", {"title": title, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 400, "bad_request", _("Bad request"), _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 403, "forbidden", _("Not allowed"), _("Your account cannot open this page."))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(
        request,
        404,
        "not_found",
        _("Page not found"),
        _("There is nothing at this address. The link may be old or mistyped."),
    )


def method_not_allowed(request: HttpRequest, *, allowed: str) -> HttpResponse:
    """An API route sent a method it does not take (RFC 9110: the Allow header lists those it does)."""
    response = _error(
        request,
        405,
        "method_not_allowed",
        _("Method not allowed"),
        _("This address does not take %(method)s; it takes %(allowed)s.")
        % {"method": request.method, "allowed": allowed},
    )
    response["Allow"] = allowed
    return response


def uri_too_long(request: HttpRequest) -> HttpResponse:
    return _error(
        request,
        414,
        "uri_too_long",
        _("Address too long"),
        _("The address is too long to be served. Send long data in the request body instead."),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token: most often a page left open past the session, or a
    browser that blocks cookies."""
    return _error(
        request,
        403,
        "csrf_failed",
        _("This form has expired"),
        _(
            "Go back, reload the page and send the form again. If it keeps happening, allow cookies "
            "for this site."
        ),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the layout: what failed may be the database the layout reads (the session)."""
    message = _(
        "Something went wrong on our side. Try again in a moment; if it keeps happening, contact support."
    )
    if request.path.startswith("/api/"):
        return JsonResponse(ErrorOut(code="server_error", message=message).model_dump(), status=500)
    return HttpResponse(render_to_string("core/500.html", {"message": message}), status=500)
