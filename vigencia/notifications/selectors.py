"""Notification reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, Max, OuterRef, QuerySet
from django.template import TemplateDoesNotExist
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.notifications.models import Channel, Notification, TelegramChat, WebhookEndpoint
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


def channels_reachable_of(users: Iterable[User]) -> dict[int, set[str]]:
    """For each user (by id), the channels a message reaches them by now: email always, SMS with a
    phone on the account, the webhook with an active endpoint, Telegram with a connected chat. One
    query for all of them."""
    rows = (
        User.objects.filter(pk__in=[user.pk for user in users])
        .annotate(
            webhook=Exists(WebhookEndpoint.objects.filter(user=OuterRef("pk"), active=True)),
            telegram=Exists(TelegramChat.objects.filter(user=OuterRef("pk"), chat_id__isnull=False)),
        )
        .values_list("pk", "phone", "webhook", "telegram")
    )
    return {
        pk: {
            Channel.EMAIL.value,
            *(name for name, on in (("sms", phone), ("webhook", webhook), ("telegram", telegram)) if on),
        }
        for pk, phone, webhook, telegram in rows
    }


def telegram_chat_get(*, user: User) -> TelegramChat | None:
    """The user's Telegram chat: connected (`chat_id`), or a link asked for (`link_expires_at`)."""
    return TelegramChat.objects.filter(user=user).first()


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
