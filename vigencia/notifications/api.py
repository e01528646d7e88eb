"""/api/v1/notifications: the caller's notifications and their webhook endpoint."""

from __future__ import annotations

import json

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from vigencia.accounts.auth import api_user, bearer
from vigencia.core.errors import MALFORMED_BODY_MESSAGE, DomainError, NotFound, PermissionDenied
from vigencia.core.schemas import ErrorOut
from vigencia.notifications.channels.telegram import telegram_configured
from vigencia.notifications.models import Notification, WebhookEndpoint
from vigencia.notifications.schemas import (
    NotificationOut,
    NotificationPagination,
    TelegramUpdateAck,
    WebhookIn,
    WebhookOut,
)
from vigencia.notifications.selectors import notification_list, webhook_endpoint_get
from vigencia.notifications.services import webhook_endpoint_delete, webhook_endpoint_set
from vigencia.notifications.telegram import telegram_secret_valid, telegram_update_receive

router = Router(tags=["notifications"], auth=bearer)

_AUTH = {401: ErrorOut}


def _webhook_out(endpoint: WebhookEndpoint, *, secret: str | None = None) -> WebhookOut:
    # Field by field: the model has a `secret` too, and it must not leak into every answer.
    return WebhookOut(
        url=endpoint.url,
        active=endpoint.active,
        secret=secret,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


@router.get(
    "",
    response={200: list[NotificationOut], **_AUTH},
    summary="The caller's notifications, newest first",
    description="Filter with `status` (pending, sent, failed) and `channel` (email, webhook, sms, telegram).",
)
@paginate(NotificationPagination)
def notifications(
    request: HttpRequest,
    # Builtin annotations only: @paginate resolves them outside this module.
    status: str | None = Query(None, pattern="^(pending|sent|failed)$"),
    channel: str | None = Query(None, pattern="^(email|webhook|sms|telegram)$"),
) -> QuerySet[Notification]:
    return notification_list(user=api_user(request), status=status, channel=channel)


@router.get(
    "/webhook",
    response={200: WebhookOut, **_AUTH, 404: ErrorOut},
    summary="The caller's webhook endpoint (never its secret)",
)
def webhook_get(request: HttpRequest) -> WebhookOut:
    endpoint = webhook_endpoint_get(user=api_user(request))
    if endpoint is None:
        raise NotFound(_("No webhook endpoint is set."), code="no_webhook")
    return _webhook_out(endpoint)


@router.put(
    "/webhook",
    response={200: WebhookOut, 201: WebhookOut, **_AUTH, 422: ErrorOut},
    summary="Set the caller's webhook endpoint",
    description=(
        "201 with the signing `secret` when the endpoint is created; 200 when it changes, with a new "
        "`secret` only if `rotate_secret` is true. Deliveries are POSTs of JSON `{id, kind, "
        "created_at, data}` with `Vigencia-Event-Id` and `Vigencia-Signature: t=<unix>,v1=<hex "
        'HMAC-SHA256(secret, "<t>.<body>")>`. 422 `invalid_webhook_url` for anything but an http or '
        "https URL with a valid host; nothing is written then."
    ),
)
def webhook_put(request: HttpRequest, payload: WebhookIn) -> Status[WebhookOut]:
    user = api_user(request)
    created = webhook_endpoint_get(user=user) is None
    endpoint, secret = webhook_endpoint_set(
        user=user, url=payload.url, active=payload.active, rotate_secret=payload.rotate_secret
    )
    return Status(201 if created else 200, _webhook_out(endpoint, secret=secret))


@router.delete("/webhook", response={204: None, **_AUTH}, summary="Remove the caller's webhook endpoint")
def webhook_delete(request: HttpRequest) -> Status[None]:
    webhook_endpoint_delete(user=api_user(request))
    return Status(204, None)


@router.post(
    "/telegram/webhook",
    auth=None,
    response={200: TelegramUpdateAck, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Receive an update for the platform's Telegram bot",
    description=(
        "Telegram calls it (`vigencia telegram webhook --url ...` sets it up) with the header "
        "`X-Telegram-Bot-Api-Secret-Token`. `/start <token>` from a private chat connects that chat to the "
        "account that asked for the link, `/stop` disconnects it. 403 `invalid_secret`; 404 while no bot "
        "is configured; 400 `malformed_body`. A repeated update changes nothing more."
    ),
)
def telegram_webhook(request: HttpRequest) -> dict[str, str]:
    if not telegram_configured():
        raise NotFound()
    if not telegram_secret_valid(request.headers):
        raise PermissionDenied(code="invalid_secret")
    try:
        update = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise DomainError(MALFORMED_BODY_MESSAGE, code="malformed_body")
    return {"handled": telegram_update_receive(update)}
