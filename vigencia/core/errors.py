"""One hierarchy of domain errors; each carries a stable code and maps to one HTTP status in one place."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "error"
    default_message: str | Promise = _("The request could not be completed.")

    def __init__(
        self, message: str | Promise | None = None, *, code: str | None = None, details: Any = None
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.details = details
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "details": self.details}


class InvalidInput(DomainError):
    status = 422
    code = "invalid"
    default_message = _("The request is not valid.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("The request conflicts with the current state.")


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"
    default_message = _("You are not allowed to do this.")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _("Too many attempts. Try again later.")


# The API's answers that no domain error raises (config/api.py maps them), kept here so that they
# are in core's catalog like the rest.
UNAUTHORIZED_MESSAGE = _("Log in first: send a valid bearer token.")
MALFORMED_BODY_MESSAGE = _("The request body must be a JSON object.")
