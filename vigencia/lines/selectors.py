"""Line reads: a subscriber's lines, and each line's deadline as the subscriber sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet

from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.core.errors import NotFound
from vigencia.lines.lifecycle import line_timeline
from vigencia.lines.models import Line, LineEvent
from vigencia.lines.planner import valid_until_after_recharge

URGENT_DAYS = 7
SOON_DAYS = 30


def line_list(*, owner: User) -> QuerySet[Line]:
    return Line.objects.filter(owner=owner, removed_at__isnull=True).select_related("carrier")


def line_get(*, owner: User, line_id: int) -> Line:
    """A live line of this owner; another user's line or a removed one is simply not found."""
    try:
        return line_list(owner=owner).get(pk=line_id)  # get(): no ORDER BY for a single row
    except Line.DoesNotExist:
        raise NotFound(code="line_not_found") from None


def line_events(*, line: Line) -> QuerySet[LineEvent]:
    return line.events.all()


def line_deadline(line: Line) -> date | None:
    """The date the line needs its next recharge by: the valid-until date the subscriber knows, else
    the first deadline the carrier's rules give from the last recharge."""
    if line.valid_until is not None:
        return line.valid_until
    if line.last_recharge_at is None:
        return None
    carrier = line.carrier
    days = carrier.restrict_after_days or carrier.cutoff_after_days
    return line.last_recharge_at + timedelta(days=days)


def line_recharge_by(line: Line) -> date | None:
    """The last day to recharge before the line's next status change under its carrier's rules (as
    the reminders and the calendar count it): a renewal's plan may run out sooner (a 7-day bundle on
    a carrier that restricts 60 days after a recharge) without putting the number at risk. Once a
    change has come, its eve, so the days left go below zero. Without the dates the rules need, the
    valid-until date known; else None."""
    changes = [event for event in line_timeline(line).events if event.kind != "notice"]
    if changes:
        return changes[0].at - timedelta(days=1)
    return line_deadline(line)


def line_valid_until_after_renewal(line: Line, *, validity_days: int) -> date:
    """Where a renewal bought now moves the deadline, by the same rule as the keep-alive planner
    (`planner.valid_until_after_recharge`): `validity_days` past the later of today (in the carrier's
    timezone) and the current deadline, so renewing early never loses days; on a monthly-plan carrier,
    calendar months past the paid-through date, arrears included."""
    today = clock.today(line.carrier.timezone)
    current = line_deadline(line)
    return valid_until_after_recharge(
        line.carrier, valid_until=current or today, day=today, validity_days=validity_days
    )


@dataclass(frozen=True)
class Urgency:
    days_left: int | None
    level: str  # "ok" | "soon" | "urgent" | "overdue" | "unknown"


def line_urgency(line: Line) -> Urgency:
    """Days left to the line's recharge-by day (`line_recharge_by`), counted in the carrier's
    calendar, where the deadline is a date (as the timeline, the reminders and the calendar count
    them): someone in Shanghai keeping a Lima number, past midnight at home, still has Lima's today
    to recharge."""
    deadline = line_recharge_by(line)
    if deadline is None:
        return Urgency(None, "unknown")
    days_left = (deadline - clock.today(line.carrier.timezone)).days
    if days_left < 0:
        level = "overdue"
    elif days_left <= URGENT_DAYS:
        level = "urgent"
    elif days_left <= SOON_DAYS:
        level = "soon"
    else:
        level = "ok"
    return Urgency(days_left, level)
