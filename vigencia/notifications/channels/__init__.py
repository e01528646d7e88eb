"""Delivery channels, by the name stored on each outbox row. Each one delivers a rendered
notification or raises DeliveryError."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigencia.notifications.models import Notification
    from vigencia.notifications.rendering import Rendered


class DeliveryError(Exception):
    """The channel could not deliver. `permanent` ones (no address, no endpoint) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


ChannelDeliver = Callable[["Notification", "Rendered"], None]


def channel_deliver(name: str) -> ChannelDeliver:
    from vigencia.notifications.channels import email, sms, telegram, webhook

    channels: dict[str, ChannelDeliver] = {
        "email": email.deliver,
        "webhook": webhook.deliver,
        "sms": sms.deliver,
        "telegram": telegram.deliver,
    }
    return channels[name]
