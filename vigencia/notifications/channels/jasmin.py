"""SMS through Jasmin's HTTP API (`GET/POST <base>/send?username&password&to&content[&from]`),
an adapter for `VIGENCIA_SMS_GATEWAY = "vigencia.notifications.channels.jasmin.JasminSmsGateway"`.

Jasmin answers 200 `Success "<message id>"`, or an error status with `Error "<reason>"`: 400 and
412 (a malformed request or number) are permanent; 403 (credentials), 5xx and no answer are retried
by the outbox, since a fixed configuration or a gateway back up delivers them.
"""

from __future__ import annotations

import httpx
from django.conf import settings

from vigencia.notifications.channels import DeliveryError

_PERMANENT = {400, 412}


class JasminSmsGateway:
    def __init__(self, client: httpx.Client | None = None) -> None:
        self.base_url = str(getattr(settings, "VIGENCIA_JASMIN_URL", "http://127.0.0.1:1401")).rstrip("/")
        self.username = str(getattr(settings, "VIGENCIA_JASMIN_USERNAME", ""))
        self.password = str(getattr(settings, "VIGENCIA_JASMIN_PASSWORD", ""))
        self.sender = str(getattr(settings, "VIGENCIA_JASMIN_SENDER", ""))
        self.client = client or httpx.Client(
            timeout=float(getattr(settings, "VIGENCIA_JASMIN_TIMEOUT_SECONDS", 5))
        )

    def send(self, *, to: str, text: str, reference: str) -> None:
        """Hand one message to Jasmin; `reference` is logged by the caller (Jasmin makes its own id)."""
        params = {
            "username": self.username,
            "password": self.password,
            "to": to.lstrip("+"),  # Jasmin takes the number without the plus
            "content": text,
            "coding": "8",  # UCS2: Spanish accents and Chinese arrive intact
        }
        if self.sender:
            params["from"] = self.sender
        try:
            response = self.client.post(f"{self.base_url}/send", data=params)
        except httpx.HTTPError as error:
            raise DeliveryError(f"jasmin unreachable: {type(error).__name__}: {error}")
        body = response.text.strip()
        if response.status_code == 200 and body.startswith("Success"):
            return
        raise DeliveryError(
            f"jasmin answered HTTP {response.status_code}: {body[:200]}",
            permanent=response.status_code in _PERMANENT,
        )
