"""Account pages: sign up, log in and out, password reset, profile."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """What django-axes answers while a login is locked out: 429, JSON for the API."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "code": "rate_limited",
                "message": _("Too many failed logins. Try again in 15 minutes."),
                "details": None,
            },
            status=429,
        )
    return render(request, "accounts/locked.html", status=429)
