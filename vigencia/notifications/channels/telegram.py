"""Telegram: messages from the platform's bot, through the Bot API (`POST <api>/bot<token>/<method>`,
JSON in, `{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description"}` out).

A user connects a chat by opening the bot from their link (`vigencia.notifications.telegram`); from
then on notifications go to that chat. Telegram answers 400 for a chat that is gone and 403 when
the user blocked the bot: permanent. 429 (too many messages), 5xx and no answer are retried by the
outbox."""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from vigencia.notifications.channels import DeliveryError
from vigencia.notifications.models import Notification, TelegramChat
from vigencia.notifications.rendering import Rendered

_PERMANENT = {400, 401, 403, 404}
MAX_TEXT = 4096  # Telegram's longest message


def telegram_configured() -> bool:
    return bool(settings.VIGENCIA_TELEGRAM_BOT_TOKEN and settings.VIGENCIA_TELEGRAM_BOT_USERNAME)


def bot_call(method: str, payload: dict[str, Any], *, timeout: float | None = None) -> Any:
    """Call one Bot API method; its `result`, or DeliveryError. `timeout`: seconds to wait for the
    answer (by default VIGENCIA_TELEGRAM_TIMEOUT_SECONDS; longer for a long poll)."""
    if not telegram_configured():
        raise DeliveryError("no Telegram bot is configured", permanent=True)
    base = settings.VIGENCIA_TELEGRAM_API_URL.rstrip("/")
    url = f"{base}/bot{settings.VIGENCIA_TELEGRAM_BOT_TOKEN}/{method}"
    try:
        response = httpx.post(
            url, json=payload, timeout=timeout or settings.VIGENCIA_TELEGRAM_TIMEOUT_SECONDS
        )
        answer = response.json()
    except httpx.HTTPError as error:  # never the URL in the error: it holds the bot's token
        raise DeliveryError(f"Telegram unreachable: {type(error).__name__}") from None
    except ValueError:
        raise DeliveryError(f"Telegram answered HTTP {response.status_code} without JSON") from None
    if response.is_success and isinstance(answer, dict) and answer.get("ok"):
        return answer.get("result")
    description = str(answer.get("description", "")) if isinstance(answer, dict) else ""
    raise DeliveryError(
        f"Telegram answered HTTP {response.status_code}: {description[:200]}",
        permanent=response.status_code in _PERMANENT,
    )


def send_text(*, chat_id: int, text: str) -> None:
    bot_call(
        "sendMessage",
        {"chat_id": chat_id, "text": text[:MAX_TEXT], "link_preview_options": {"is_disabled": True}},
    )


def deliver(notification: Notification, rendered: Rendered) -> None:
    chat_id = (
        TelegramChat.objects.filter(user_id=notification.user_id, chat_id__isnull=False)
        .values_list("chat_id", flat=True)
        .first()
    )
    if chat_id is None:
        raise DeliveryError("the user has not connected Telegram", permanent=True)
    send_text(chat_id=chat_id, text=f"{rendered.subject}\n\n{rendered.text}".strip())
