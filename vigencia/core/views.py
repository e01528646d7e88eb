"""Site-wide pages: the home page, the language switch and the health check."""

from __future__ import annotations

from typing import cast

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from vigencia.accounts.models import User
from vigencia.accounts.services import user_set_language


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie + redirect to a safe `next`); a logged-in user's preference is
    saved too, so emails and the next login use the same language."""
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
