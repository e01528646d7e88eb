"""Notification reads."""

from __future__ import annotations

from django.db.models import QuerySet

from vigencia.accounts.models import User
from vigencia.notifications.models import Notification, WebhookEndpoint


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def webhook_endpoint_get(*, user: User) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(user=user).first()
