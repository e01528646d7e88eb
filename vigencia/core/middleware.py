"""The request edges the URL patterns never see: an address too long to serve, and a method a route
does not take, answered in the API's error shape under /api/ (ninja answers the latter in plain text)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from vigencia.core import views

# A request line longer than this is refused before routing; `vigencia serve` lets gunicorn read
# lines up to its own maximum (8190 bytes), so these get the answer below rather than gunicorn's page.
MAX_URI_LENGTH = 4096


class RequestEdgesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        uri_length = len(request.path_info) + len(request.META.get("QUERY_STRING", "")) + 1
        if uri_length > MAX_URI_LENGTH:
            return views.uri_too_long(request)
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            allowed = response.get("Allow", "")
            response = views.method_not_allowed(request, allowed=allowed)
        return response
