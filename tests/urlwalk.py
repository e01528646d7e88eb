"""The project's portal and back-office routes, read from the URLconf, for the tests that walk every page
(the admin and the API have their own tests)."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.urls import URLPattern, URLResolver, get_resolver

PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _routes(patterns, prefix: str = "") -> list[str]:
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            routes += _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            routes.append(prefix + str(pattern.pattern))
    return routes


def portal_routes() -> list[str]:
    """Every route of the URLconf outside the admin and the API, as written there (`lines/<int:line_id>/`)."""
    return sorted(
        {route for route in _routes(get_resolver().url_patterns) if not route.startswith(("admin/", "api/"))}
    )


def route_parameters(route: str) -> list[str]:
    """A route's parameter names, in order: `renew/<int:line_id>/<int:plan_id>/` -> line_id, plan_id."""
    return [name for _converter, name in PARAMETER.findall(route)]


def route_url(route: str, value_of: Callable[[str, str], object]) -> str:
    """The route's path with each parameter replaced by `value_of(converter, name)`."""
    return "/" + PARAMETER.sub(lambda match: str(value_of(match[1] or "str", match[2])), route)
