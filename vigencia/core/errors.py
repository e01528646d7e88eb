"""One hierarchy of domain errors; each carries a stable code and maps to one HTTP status in one place."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class DomainError(Exception):
    status = 400
    code = "error"
    default_message: str | Promise = "The request could not be completed."

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
    default_message = "The request is not valid."


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"
    default_message = "You are not allowed to do this."


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = "Too many attempts. Try again later."
