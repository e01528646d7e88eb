"""Each kind of notification: the context it needs, and its subject, text and HTML in a language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

# kind -> the context keys its templates need; a caller that leaves one out gets InvalidInput.
KINDS: dict[str, frozenset[str]] = {
    "renewal_succeeded": frozenset(
        {"msisdn_display", "carrier_name", "plan_name", "amount", "valid_until", "receipt_url"}
    ),
    "renewal_failed": frozenset(
        {"msisdn_display", "plan_name", "amount", "reason", "refunded", "wallet_url"}
    ),
    "wallet_topped_up": frozenset({"amount", "balance"}),
    "message": frozenset({"subject", "body"}),
    # support (templates in vigencia/support/templates/notifications/)
    "ticket_reply": frozenset({"ticket_id", "subject", "body", "ticket_url"}),
    "support_credit": frozenset({"ticket_id", "amount", "destination", "reason", "ticket_url"}),
}
# Context values that are ISO dates, shown to people as dates in their language.
DATE_KEYS = frozenset({"valid_until"})


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def context_dates(context: dict[str, Any]) -> dict[str, Any]:
    """The context with its ISO dates as `date`s; raises ValueError/TypeError for one that is not."""
    return {key: date.fromisoformat(value) if key in DATE_KEYS else value for key, value in context.items()}


def render(*, kind: str, context: dict[str, Any], language: str) -> Rendered:
    """Render a notification in `language` ("en", "es", "zh-hans"): a one-line subject (a mail
    header holds no line break), a plain-text body and an HTML body."""
    values = context_dates(context)
    with translation.override(language):
        values["language"] = translation.get_language()
        subject = render_to_string(f"notifications/{kind}/subject.txt", values)
        text = render_to_string(f"notifications/{kind}/body.txt", values)
        html = render_to_string(f"notifications/{kind}/body.html", values)
    return Rendered(subject=" ".join(subject.split()), text=text.strip() + "\n", html=html.strip() + "\n")
