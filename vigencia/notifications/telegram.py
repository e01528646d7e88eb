"""Telegram: connecting a user's chat with the platform's bot, and the bot's side of the chat.

The user asks for a link on their account page; opening it in Telegram sends the bot `/start
<token>` from their chat (Telegram passes the token on), and that chat is theirs from then on.
`/stop` in the chat, or "Disconnect" on the account page, ends it. Telegram calls the webhook with
the secret set by `vigencia telegram webhook`, and calls it again until it answers 200: every update
is handled so that a repeat changes nothing more."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.core.errors import InvalidInput
from vigencia.notifications.channels import DeliveryError
from vigencia.notifications.channels.telegram import send_text, telegram_configured
from vigencia.notifications.models import TelegramChat

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TELEGRAM_LINK_SESSION_KEY = "telegram_link"  # the link a person asked for, shown until it is used

# The bot's answers, in the language of the account the chat is connected to (or of the chat's app).
LINKED = gettext_lazy("Connected: Vigencia sends your reminders and notices here. Send /stop to stop them.")
LINK_REFUSED = gettext_lazy(
    "This link has expired or was already used. Open My account on Vigencia and connect Telegram again."
)
STOPPED = gettext_lazy(
    "Disconnected: Vigencia sends nothing more here. You can connect again from My account."
)
HELP = gettext_lazy(
    "This bot sends your Vigencia reminders and notices. Connect it from My account on Vigencia."
)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def telegram_link_start(*, user: User) -> str:
    """A new link for the user to open in Telegram; an earlier link stops working. A chat already
    connected stays connected until the link is used from another one."""
    if not telegram_configured():
        raise InvalidInput(_("Telegram is not available on this site."), code="telegram_unavailable")
    token = secrets.token_urlsafe(24)  # Telegram's start parameter: up to 64 of A-Z a-z 0-9 _ -
    TelegramChat.objects.update_or_create(
        user=user,
        defaults={
            "link_token_hash": _token_hash(token),
            "link_expires_at": clock.now() + settings.VIGENCIA_TELEGRAM_LINK_LIFETIME,
        },
    )
    return f"https://t.me/{settings.VIGENCIA_TELEGRAM_BOT_USERNAME}?start={token}"


def telegram_unlink(*, user: User) -> bool:
    """No more messages to the user's chat; whether one was connected."""
    return bool(
        TelegramChat.objects.filter(user=user, chat_id__isnull=False).update(
            chat_id=None, linked_at=None, link_token_hash=None, link_expires_at=None
        )
    )


def telegram_chat_delete(*, user: User) -> None:
    """Forget the user's chat altogether (their account closes)."""
    TelegramChat.objects.filter(user=user).delete()


def telegram_secret_valid(headers: Any) -> bool:
    given = str(headers.get(SECRET_HEADER, ""))
    return hmac.compare_digest(given.encode(), settings.VIGENCIA_TELEGRAM_WEBHOOK_SECRET.encode())


def telegram_update_receive(update: Any) -> str:
    """Handle one update Telegram sent the bot; returns what was done: "linked", "link_refused",
    "stopped", "help" or "ignored" (anything that is not a private text message)."""
    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict):
        return "ignored"
    chat, text = message.get("chat"), message.get("text")
    if not isinstance(chat, dict) or chat.get("type") != "private" or not isinstance(text, str):
        return "ignored"
    chat_id = chat.get("id")
    if isinstance(chat_id, bool) or not isinstance(chat_id, int) or not -(2**63) <= chat_id < 2**63:
        return "ignored"  # Telegram's chat ids fit in 52 bits; the column holds 64
    sender = message.get("from")
    language = str(sender.get("language_code") or "") if isinstance(sender, dict) else ""
    command, _space, argument = text.strip().partition(" ")
    command = command.split("@", 1)[0]  # "/start@VigenciaBot" in a client that adds the bot's name
    if command == "/start" and argument.strip():
        return _link(chat_id, argument.strip(), language)
    if command == "/stop":
        stopped = list(TelegramChat.objects.filter(chat_id=chat_id).select_related("user"))
        TelegramChat.objects.filter(chat_id=chat_id).update(chat_id=None, linked_at=None)
        _reply(chat_id, stopped[0].user.language if stopped else language, STOPPED)
        return "stopped"
    _reply(chat_id, language, HELP)
    return "help"


def _link(chat_id: int, token: str, language: str) -> str:
    """`/start <token>`: a link works once, before it expires; the same chat sending it again (a
    repeated update, the link opened twice) is answered the same way and changes nothing."""
    found = TelegramChat.objects.filter(link_token_hash=_token_hash(token)).select_related("user").first()
    if found is not None and found.chat_id != chat_id:
        now = clock.now()
        unused = found.link_expires_at is not None and found.link_expires_at > now
        # The link is taken by one conditional update: of two chats sending it at once, one gets it.
        taken = unused and TelegramChat.objects.filter(
            pk=found.pk, link_expires_at=found.link_expires_at
        ).update(chat_id=chat_id, linked_at=now, link_expires_at=None)
        if not taken and not TelegramChat.objects.filter(pk=found.pk, chat_id=chat_id).exists():
            found = None  # expired, used by another chat, or taken by one just now
    if found is None:
        _reply(chat_id, language, LINK_REFUSED)
        return "link_refused"
    _reply(chat_id, found.user.language, LINKED)
    return "linked"


def _reply(chat_id: int, language: str, text: Promise) -> None:
    """The bot's answer in the chat: best effort (the update is handled whether or not it arrives)."""
    try:
        with translation.override(_language(language)):
            send_text(chat_id=chat_id, text=str(text))
    except DeliveryError as error:
        logger.warning("telegram reply to %s not sent: %s", chat_id, error)


def _language(code: str) -> str:
    try:
        return translation.get_supported_language_variant(code.lower()) if code else settings.LANGUAGE_CODE
    except LookupError:
        return settings.LANGUAGE_CODE
