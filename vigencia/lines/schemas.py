"""Request and response bodies of /api/v1/lines."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination
from pydantic import BaseModel, ConfigDict

from vigencia.core.schemas import Text
from vigencia.lines.lifecycle import line_timeline
from vigencia.lines.models import Line
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.selectors import line_recharge_by, line_urgency


class LineIn(Schema):
    msisdn: Text = Field(description="National (912345678) or international (+51 912 345 678) form.")
    carrier: Text = Field(description="A carrier code from /api/v1/carriers, e.g. claro-pe.")
    nickname: Text | None = Field("", description="At most 60 characters.")
    iccid: Text | None = Field("", description="The SIM card's 18 to 22 digits, starting with 89.")
    last_recharge_at: date | None = None
    valid_until: date | None = None


class LinePatch(BaseModel):
    """Only the fields sent change; `msisdn` and `carrier` cannot be changed (422 `not_editable`)."""

    # Other fields are let through so that the service names them in its `not_editable` error (a
    # plain pydantic model: ninja's Schema drops extra fields before they can be seen).
    model_config = ConfigDict(extra="allow")

    nickname: Text | None = None
    iccid: Text | None = None
    last_recharge_at: date | None = None
    valid_until: date | None = None


class DeadlineOut(Schema):
    kind: str
    at: date


class LineOut(Schema):
    """A line as its owner sees it; built from a Line with the request in the context (for the
    owner's timezone, which decides what "today" is)."""

    id: int
    msisdn: str = Field(description="E.164, e.g. +51912345678.")
    msisdn_display: str = Field(description="As people write it: +51 912 345 678.")
    carrier: str
    nickname: str
    iccid: str
    status: str = Field(description="active, restricted, suspended (cut off) or recycled (number lost).")
    last_recharge_at: date | None
    valid_until: date | None
    deadline: date | None = Field(
        description="The last day to recharge before the next status change (days_left counts to it); "
        "valid_until may come sooner, when the plan runs out before the carrier restricts the line."
    )
    days_left: int | None
    urgency: str = Field(description="ok, soon, urgent, overdue or unknown.")
    next_deadline: DeadlineOut | None = Field(
        description="The next status change the carrier's rules give: restricted, suspended or recycled."
    )
    number_lost_at: date | None = Field(
        description="The day the carrier may give the number to someone else."
    )
    created_at: datetime

    @staticmethod
    def resolve_msisdn_display(line: Line) -> str:
        return msisdn_display(line.msisdn)

    @staticmethod
    def resolve_carrier(line: Line) -> str:
        return line.carrier.code

    @staticmethod
    def resolve_next_deadline(line: Line) -> dict[str, Any] | None:
        upcoming = line_timeline(line).next_deadline
        return {"kind": upcoming.kind, "at": upcoming.at} if upcoming else None

    @staticmethod
    def resolve_number_lost_at(line: Line) -> date | None:
        return line_timeline(line).number_lost_at

    @staticmethod
    def resolve_deadline(line: Line) -> date | None:
        return line_recharge_by(line)

    @staticmethod
    def resolve_days_left(line: Line) -> int | None:
        return line_urgency(line).days_left

    @staticmethod
    def resolve_urgency(line: Line) -> str:
        return line_urgency(line).level


class LineEventOut(Schema):
    id: int
    kind: str
    at: datetime
    data: dict[str, Any]


class LinePagination(LimitOffsetPagination):
    """`limit` 1..200 (default 50), `offset` from 0; the answer is `{"items": [...], "count": n}`."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=200)
        offset: int = Field(0, ge=0, le=1_000_000)
