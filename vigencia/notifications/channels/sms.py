"""SMS through a gateway adapter (VIGENCIA_SMS_GATEWAY, a dotted path to a class). In development
the file gateway appends each message as a JSON line to var/sms/outbox.jsonl; a real gateway (Jasmin
over HTTP, a later issue) implements the same `send`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from vigencia.core import clock
from vigencia.notifications.channels import DeliveryError
from vigencia.notifications.models import Notification
from vigencia.notifications.rendering import Rendered


class SmsGateway(Protocol):
    def send(self, *, to: str, text: str, reference: str) -> None:
        """Hand one message to the gateway; raise DeliveryError if it refuses it."""


class FileSmsGateway:
    """Development gateway: one JSON line per message in `<VIGENCIA_SMS_DIR>/outbox.jsonl`."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory or settings.VIGENCIA_SMS_DIR)

    def send(self, *, to: str, text: str, reference: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        line = {"at": clock.now().isoformat(), "to": to, "text": text, "reference": reference}
        with (self.directory / "outbox.jsonl").open("a", encoding="utf-8") as outbox:
            outbox.write(json.dumps(line, ensure_ascii=False) + "\n")


def sms_gateway() -> SmsGateway:
    gateway: SmsGateway = import_string(settings.VIGENCIA_SMS_GATEWAY)()
    return gateway


def deliver(notification: Notification, rendered: Rendered) -> None:
    phone = notification.user.phone
    if not phone:
        raise DeliveryError("the user has no phone number", permanent=True)
    sms_gateway().send(
        to=phone, text=f"{rendered.subject}\n{rendered.text}".strip(), reference=str(notification.event_id)
    )
