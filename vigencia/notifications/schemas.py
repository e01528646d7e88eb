"""API shapes of notifications and the webhook endpoint."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

from vigencia.core.schemas import Text


class NotificationOut(Schema):
    id: int
    kind: str
    channel: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


class NotificationPagination(LimitOffsetPagination):
    """`limit` 1..200 (default 50), `offset` from 0; the answer is `{"items": [...], "count": n}`."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=200)
        offset: int = Field(0, ge=0, le=1_000_000)


class WebhookIn(Schema):
    url: Text = Field(..., max_length=2000)
    active: bool = True
    rotate_secret: bool = Field(False, description="Make a new signing secret (shown once, in the answer).")


class WebhookOut(Schema):
    url: str
    active: bool
    secret: str | None = Field(None, description="Only when the endpoint was created or its secret rotated.")
    created_at: datetime
    updated_at: datetime


class TelegramUpdateAck(Schema):
    handled: str = Field(description="linked, link_refused, stopped, help or ignored.")
