"""Notification reads."""

from __future__ import annotations

from django.db.models import QuerySet

from vigencia.accounts.models import User
from vigencia.notifications.models import Notification, WebhookEndpoint


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
