"""The injectable clock: services ask `clock.now()`, tests and sweeps can run "at" any instant."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_frozen_at: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("frozen_at", default=None)


def now() -> datetime:
    return _frozen_at.get() or timezone.now()


def today(tz: str | None = None) -> date:
    """Today's date in a timezone (by default the platform's display zone, America/Lima)."""
    return now().astimezone(ZoneInfo(tz or settings.VIGENCIA_DISPLAY_TIMEZONE)).date()


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    if timezone.is_naive(at):
        raise ValueError("the clock needs an aware datetime")
    token = _frozen_at.set(at)
    try:
        yield at
    finally:
        _frozen_at.reset(token)


def validate_timezone(value: str) -> None:
    """A model field's validator: an IANA timezone name (pages turn it into a ZoneInfo)."""
    if value not in available_timezones():
        raise ValidationError(_("%(value)s is not a timezone such as America/Lima."), params={"value": value})
