"""Notification reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, QuerySet
from django.template import TemplateDoesNotExist
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.notifications.models import Notification, TelegramChat, WebhookEndpoint
from vigencia.notifications.rendering import render


def notification_list(
    *, user: User, status: str | None = None, channel: str | None = None
) -> QuerySet[Notification]:
    """The user's notifications, newest first, optionally of one status and one channel."""
    notifications = Notification.objects.filter(user=user)
    if status:
        notifications = notifications.filter(status=status)
    if channel:
        notifications = notifications.filter(channel=channel)
    return notifications.order_by("-created_at", "-id")


def webhook_endpoint_get(*, user: User) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(user=user).first()


def webhook_endpoint_active(*, user: User) -> bool:
    """Whether the user's notifications can go to a webhook (an active endpoint is set)."""
    return WebhookEndpoint.objects.filter(user=user, active=True).exists()


def telegram_connected_of(users: Iterable[User]) -> set[int]:
    """Which of the users (their ids) have a Telegram chat connected, in one query."""
    return set(
        TelegramChat.objects.filter(user__in=list(users), chat_id__isnull=False).values_list(
            "user_id", flat=True
        )
    )


def telegram_connected_at(*, user: User) -> datetime | None:
    """When the user connected their Telegram chat, or None if none is connected."""
    return (
        TelegramChat.objects.filter(user=user, chat_id__isnull=False)
        .values_list("linked_at", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Message:
    """One thing Vigencia told a person, however many channels carried it."""

    at: datetime
    subject: str
    text: str
    deliveries: list[tuple[str, str]]  # (channel, status), in channel order


def message_keys(*, user: User) -> QuerySet[Notification, dict[str, object]]:
    """The user's messages (one per dedupe key, whatever the channels), newest first, as
    {"dedupe_key", "at"}: page these, then read a page with `messages_of`."""
    return (
        Notification.objects.filter(user=user)
        .values("dedupe_key")
        .annotate(at=Max("created_at"))
        .order_by("-at", "-dedupe_key")
    )


def messages_of(*, user: User, keys: list[str], language: str) -> list[Message]:
    """The messages of `keys` (in that order), each rendered in `language`."""
    by_key: dict[str, list[Notification]] = {}
    for notification in Notification.objects.filter(user=user, dedupe_key__in=keys).order_by("channel"):
        by_key.setdefault(notification.dedupe_key, []).append(notification)
    messages = []
    for key in keys:
        sent = by_key.get(key)
        if not sent:
            continue
        first = sent[0]
        try:
            rendered = render(kind=first.kind, context=first.context, language=language)
            subject, text = rendered.subject, rendered.text
        except (TemplateDoesNotExist, ValueError, TypeError):  # a kind or context of an older release
            subject, text = _("A message that can no longer be shown"), ""
        messages.append(
            Message(
                at=max(notification.created_at for notification in sent),
                subject=subject,
                text=text,
                deliveries=[(notification.channel, notification.status) for notification in sent],
            )
        )
    return messages
