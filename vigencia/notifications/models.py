"""The notifications outbox: one row per message and channel, delivered by a task after commit."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vigencia.core import clock
from vigencia.core.models import TimeStampedModel
from vigencia.core.transitions import TransitionTable


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")
    SMS = "sms", _("SMS")
    TELEGRAM = "telegram", _("Telegram")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


# A retry keeps the row pending (attempts, last_error and next_attempt_at move); only the outcome is
# a transition.
NOTIFICATION_TRANSITIONS = TransitionTable(
    "notification",
    {
        NotificationStatus.PENDING: {NotificationStatus.SENT, NotificationStatus.FAILED},
        NotificationStatus.SENT: set(),
        NotificationStatus.FAILED: set(),
    },
)


class Notification(TimeStampedModel):
    """One message to one user over one channel, rendered at delivery in the user's language."""

    # The id a webhook subscriber sees (`Vigencia-Event-Id`): the same on every retry, so they dedupe.
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=40)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    context = models.JSONField(_("context"), default=dict, blank=True)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # A worker that claims the row holds it until then; another may take it over only after, so a
    # row is never sent by two workers at once (and is sent again if its worker died).
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key", "channel"], name="notifications_once_per_channel"),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="notifications_channel_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=NotificationStatus.values), name="notifications_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notifications_user_created"),
            models.Index(fields=["status", "claimed_until"], name="notifications_claims"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.user_id} by {self.channel} ({self.status})"


class NotificationEventKind(models.TextChoices):
    QUEUED = "queued", _("Queued")
    ATTEMPT_FAILED = "attempt_failed", _("Attempt failed")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed for good")


class NotificationEvent(models.Model):
    """The history of one outbox row: queued, each failed attempt, and its outcome."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="events", verbose_name=_("notification")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationEventKind.choices)
    at = models.DateTimeField(_("at"), default=clock.now)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("notification event")
        verbose_name_plural = _("notification events")

    def __str__(self) -> str:
        return f"{self.notification_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class WebhookEndpoint(TimeStampedModel):
    """Where a user's notifications are POSTed, signed with `secret` (HMAC-SHA256). One per user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoint",
        verbose_name=_("user"),
    )
    url = models.URLField(_("URL"), max_length=500)
    # Kept in clear because every delivery is signed with it; the API shows it only when it is made.
    secret = models.CharField(_("signing secret"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.url} ({self.user_id})"


class TelegramChat(TimeStampedModel):
    """The user's chat with the platform's Telegram bot, where their notifications go once linked.

    The user asks for a link (`https://t.me/<bot>?start=<token>`) and opens it; Telegram sends the
    bot `/start <token>` from their chat, and that chat is the user's. Only a hash of the token is
    kept, and it works once, for a limited time. One per user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="telegram_chat",
        verbose_name=_("user"),
    )
    chat_id = models.BigIntegerField(_("chat id"), null=True, blank=True)
    linked_at = models.DateTimeField(_("connected at"), null=True, blank=True)
    link_token_hash = models.CharField(
        _("link token hash"), max_length=64, unique=True, null=True, blank=True
    )
    link_expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Telegram chat")
        verbose_name_plural = _("Telegram chats")
        indexes = [models.Index(fields=["chat_id"], name="notifications_telegram_chat")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.chat_id or '-'}"
