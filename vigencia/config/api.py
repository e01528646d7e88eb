"""`/api/v1`: one NinjaAPI, one router per app, and the one place domain errors become HTTP."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.parser import Parser

from vigencia.accounts.api import router as accounts_router
from vigencia.catalog.api import router as catalog_router
from vigencia.catalog.api_compare import router as compare_router
from vigencia.core.errors import (
    MALFORMED_BODY_MESSAGE,
    UNAUTHORIZED_MESSAGE,
    DomainError,
    InvalidInput,
    NotFound,
)
from vigencia.core.schemas import ErrorOut
from vigencia.fulfilment.api import router as fulfilment_router
from vigencia.lines.api import router as lines_router
from vigencia.lines.api_keepalive import router as keepalive_router
from vigencia.notifications.api import router as notifications_router
from vigencia.orders.api import router as orders_router
from vigencia.payments.api import (
    router as payments_router,
)
from vigencia.payments.api import (
    test_helpers_router as payments_test_helpers_router,
)
from vigencia.stores.api import pos_router
from vigencia.stores.api import router as stores_router
from vigencia.support.api import account_router
from vigencia.support.api import router as support_router
from vigencia.usage.api import router as usage_router
from vigencia.vouchers.api import reseller_router
from vigencia.vouchers.api import router as vouchers_router


class ObjectParser(Parser):
    """Every JSON request body is an object. ninja reads any JSON value into a body schema (a body of
    [], "x" or null set every optional field of one to null), so anything else is a malformed body."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise TypeError("the body is not a JSON object")
        return data


TEST_HELPERS_PREFIX = "/test-helpers/payments"


class VigenciaAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        """The schema (and so the docs) lists the sandbox's test helpers only while the sandbox is on:
        off, they answer 404 like any address that is not there."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        if not settings.VIGENCIA_SANDBOX_PAYMENTS:
            hidden = self.get_root_path(path_params or {}) + TEST_HELPERS_PREFIX.lstrip("/")
            schema["paths"] = {
                path: item for path, item in schema["paths"].items() if not path.startswith(hidden)
            }
        return schema


api = VigenciaAPI(
    title="Vigencia API",
    parser=ObjectParser(),
    version="1.0.0",
    description="Keep prepaid SIM lines alive: carriers, plans, lines, renewals.",
    urls_namespace="api-v1",
    docs_url="/docs",
    # Swagger UI served from ninja's own static files (no CDN, so the CSP holds); no online validator.
    docs=Swagger(settings={"validatorUrl": None}),
    openapi_url="/openapi.json",
)


def _error(request: HttpRequest, status: int, code: str, message: str, details: Any = None) -> HttpResponse:
    return api.create_response(request, ErrorOut(code=code, message=message, details=details), status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = _error(request, exc.status, exc.code, str(exc.message), exc.details)
    retry_after = exc.details.get("retry_after") if isinstance(exc.details, dict) else None
    if exc.status == 429 and isinstance(retry_after, int):
        # RFC 9110: how many seconds until the limit's window passes.
        response["Retry-After"] = str(retry_after)
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in exc.errors
    ]
    return _error(request, 422, "invalid", str(InvalidInput.default_message), details)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized", str(UNAUTHORIZED_MESSAGE))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", str(NotFound.default_message))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # ninja raises 400 for a body it cannot parse (not JSON, not UTF-8, a form instead of JSON).
        return _error(request, 400, "malformed_body", str(MALFORMED_BODY_MESSAGE))
    return _error(request, exc.status_code, "error", str(exc))


api.add_router("/auth", accounts_router)
api.add_router("/auth", account_router)
api.add_router("/", compare_router)
api.add_router("/", catalog_router)
api.add_router("/lines", lines_router)
api.add_router("/", keepalive_router)
api.add_router("/fulfilment", fulfilment_router)
api.add_router("/", orders_router)
api.add_router("/payments", payments_router)
api.add_router(TEST_HELPERS_PREFIX, payments_test_helpers_router)
api.add_router("/stores", stores_router)
api.add_router("/pos", pos_router)
api.add_router("/", usage_router)
api.add_router("/notifications", notifications_router)
api.add_router("/", vouchers_router)
api.add_router("/reseller", reseller_router)
api.add_router("/", support_router)
