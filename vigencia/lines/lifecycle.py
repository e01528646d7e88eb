"""A line's life under its carrier's keep-alive rules: the computed timeline, and the sweep that applies
due status changes to every line at once.

The four policy kinds differ only in where a line's life is counted from (its *anchor*):

- ``since_recharge``: the last recharge.
- ``chargeable_use``: the later of the last recharge and the last chargeable use.
- ``validity_per_topup`` and ``monthly_plan``: the valid-until (paid-through) date minus the carrier's
  period, i.e. valid-until is the last good day before cut-off; the last recharge counts if no
  valid-until is known.

From the anchor, the carrier's numbers of days give each status's *last good day*; the status changes
on the day after it, in the carrier's timezone. Unused balance may stretch life up to
``balance_max_days``. Recharging on or before the last good day keeps the line where it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import astuple, dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import formats, translation
from django.utils.translation import gettext as _

from vigencia.catalog.models import Carrier, PolicyKind
from vigencia.core import clock
from vigencia.lines.models import LINE_TRANSITIONS, Line, LineEvent, LineEventKind, LineStatus

# The order a line moves in; the sweep only ever moves a line forward (recovery is a renewal's job).
_PROGRESSION = [LineStatus.ACTIVE, LineStatus.RESTRICTED, LineStatus.SUSPENDED, LineStatus.RECYCLED]
_CHUNK = 10_000  # ids per UPDATE: well under every backend's limit on query parameters


class TimelineEvent(NamedTuple):
    kind: str  # "notice" | "restricted" | "suspended" | "recycled"
    at: date  # the first day of that status (for a notice: the day the carrier sends it)


@dataclass(frozen=True)
class Timeline:
    events: list[TimelineEvent]
    next_deadline: TimelineEvent | None  # the next status change after today
    number_lost_at: date | None


@dataclass(frozen=True)
class LifeSpans:
    """Days from the anchor to the last good day before each status (None: the status never comes)."""

    restricted: int | None
    suspended: int
    recycled: int

    def of(self, status: str) -> int | None:
        return {
            LineStatus.RESTRICTED: self.restricted,
            LineStatus.SUSPENDED: self.suspended,
            LineStatus.RECYCLED: self.recycled,
        }[LineStatus(status)]


def carrier_life_spans(carrier: Carrier, *, has_balance: bool = False) -> LifeSpans:
    cutoff = carrier.cutoff_after_days
    if has_balance and carrier.balance_extends_life and carrier.balance_max_days:
        cutoff = max(cutoff, carrier.balance_max_days)
    restricted = carrier.restrict_after_days
    if restricted is not None and restricted >= cutoff:
        restricted = None
    return LifeSpans(
        restricted=restricted, suspended=cutoff, recycled=cutoff + carrier.recycle_after_cutoff_days
    )


def _counts_from_valid_until(carrier: Carrier) -> bool:
    return carrier.policy_kind in (PolicyKind.VALIDITY_PER_TOPUP, PolicyKind.MONTHLY_PLAN)


def _plus(day: date, days: int) -> date:
    """`day + days`, saturating at the calendar's ends (a far-future date must not crash a page)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def line_anchor(line: Line) -> date | None:
    """The date the line's life counts from under its carrier's policy; None if nothing is known."""
    carrier = line.carrier
    if _counts_from_valid_until(carrier) and line.valid_until is not None:
        return _plus(line.valid_until, -carrier.cutoff_after_days)
    if carrier.policy_kind == PolicyKind.CHARGEABLE_USE:
        known = [day for day in (line.last_recharge_at, line.last_chargeable_use_at) if day is not None]
        return max(known, default=None)
    return line.last_recharge_at


def _has_balance(line: Line) -> bool:
    return line.balance_minor is not None and line.balance_minor > 0


def carrier_timeline(carrier: Carrier, *, anchor: date, today: date, has_balance: bool = False) -> Timeline:
    """The timeline of a line of `carrier` whose life counts from `anchor`. Pure: no queries."""
    spans = carrier_life_spans(carrier, has_balance=has_balance)
    status_days = [
        (LineStatus.RESTRICTED, spans.restricted),
        (LineStatus.SUSPENDED, spans.suspended),
        (LineStatus.RECYCLED, spans.recycled),
    ]
    changes: dict[date, str] = {}
    for status, days in status_days:
        if days is not None:
            # Two statuses on one day (a carrier that recycles at cut-off): the later one wins.
            changes[_plus(anchor, days + 1)] = status
    events = [TimelineEvent(str(status), at) for at, status in changes.items()]
    suspended_at = _plus(anchor, spans.suspended + 1)
    if carrier.notice_days and changes.get(suspended_at) is not None:
        events.append(TimelineEvent("notice", _plus(suspended_at, -carrier.notice_days)))
    events.sort(key=lambda event: (event.at, event.kind != "notice"))
    upcoming = [event for event in events if event.kind != "notice" and event.at > today]
    return Timeline(
        events=events,
        next_deadline=upcoming[0] if upcoming else None,
        number_lost_at=_plus(anchor, spans.recycled + 1),
    )


def line_timeline(line: Line, *, today: date | None = None) -> Timeline:
    """The line's computed timeline; `today` defaults to today in the carrier's timezone. A line with
    no known dates has an empty timeline."""
    today = today or clock.today(line.carrier.timezone)
    anchor = line_anchor(line)
    if anchor is None:
        return Timeline(events=[], next_deadline=None, number_lost_at=None)
    return carrier_timeline(line.carrier, anchor=anchor, today=today, has_balance=_has_balance(line))


def line_status_due(line: Line, *, today: date) -> LineStatus:
    """The status the carrier's rules give the line on `today` (its stored status if no date is
    known). Says nothing about recovery: only a renewal brings a line back to active."""
    if line_anchor(line) is None:
        return LineStatus(line.status)
    due = LineStatus.ACTIVE
    for event in line_timeline(line, today=today).events:
        if event.kind != "notice" and event.at <= today:
            due = LineStatus(event.kind)
    return due


# --- the sweep ---------------------------------------------------------------------------------------


def _anchor_at_most(carrier: Carrier, day: date) -> Q:
    """Lines of `carrier` whose anchor (see `line_anchor`) is on or before `day`, as a filter."""
    if _counts_from_valid_until(carrier):
        return Q(valid_until__lte=_plus(day, carrier.cutoff_after_days)) | Q(
            valid_until__isnull=True, last_recharge_at__lte=day
        )
    if carrier.policy_kind == PolicyKind.CHARGEABLE_USE:
        return (
            (Q(last_recharge_at__isnull=True) | Q(last_recharge_at__lte=day))
            & (Q(last_chargeable_use_at__isnull=True) | Q(last_chargeable_use_at__lte=day))
            & ~Q(last_recharge_at__isnull=True, last_chargeable_use_at__isnull=True)
        )
    return Q(last_recharge_at__lte=day)


def _due_filter(carrier: Carrier, status: str, today: date) -> Q | None:
    """Lines of `carrier` that have reached `status` by `today`, or None if no line ever does."""
    with_balance = Q(balance_minor__gt=0)
    plain = carrier_life_spans(carrier).of(status)
    rich = carrier_life_spans(carrier, has_balance=True).of(status)
    if plain is None and rich is None:
        return None
    # Due when anchor + days + 1 <= today.
    plain_q = _anchor_at_most(carrier, _plus(today, -plain - 1)) if plain is not None else Q(pk__in=[])
    if rich == plain:
        return plain_q
    rich_q = _anchor_at_most(carrier, _plus(today, -rich - 1)) if rich is not None else Q(pk__in=[])
    return (with_balance & rich_q) | (~with_balance & plain_q)


def anchor_unknown(carrier: Carrier) -> Q:
    """Lines of `carrier` whose life has no anchor (`line_anchor` is None): an empty timeline."""
    return ~_anchor_at_most(carrier, date.max)


def changes_between(carrier: Carrier, first: date, last: date) -> Q:
    """Lines of `carrier` with a status change of their timeline (`line_timeline`, unused balance
    counted) dated in [first, last], as an exact filter."""
    with_balance = Q(balance_minor__gt=0)
    window = Q(pk__in=[])
    for has_balance, of_balance in ((False, ~with_balance), (True, with_balance)):
        for days in astuple(carrier_life_spans(carrier, has_balance=has_balance)):
            if days is not None:  # a change on anchor + days + 1
                low, high = _plus(first, -days - 1), _plus(last, -days - 1)
                window |= (
                    of_balance & _anchor_at_most(carrier, high) & ~_anchor_at_most(carrier, _plus(low, -1))
                )
    return window


TransitionHook = Callable[[Sequence[int], str], None]


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _transition_lines(
    *,
    carrier: Carrier,
    due: Q,
    sources: Sequence[str],
    target: str,
    at: datetime,
    notify: TransitionHook | None,
) -> dict[str, int]:
    """Move every due line of `carrier` from one of `sources` to `target`; returns how many moved from
    each source. Rows another sweep holds are skipped (it is moving them), so concurrent sweeps never
    move a line twice."""
    with transaction.atomic(savepoint=False):  # inside the sweep's transaction
        rows = list(
            Line.objects.filter(due, carrier=carrier, status__in=sources, removed_at__isnull=True)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", "status")
        )
        if not rows:
            return {}
        by_source: dict[str, list[int]] = {}
        for line_id, source in rows:
            by_source.setdefault(source, []).append(line_id)
        for source, ids in by_source.items():
            for batch in _batches(ids):
                # `status=source` again: on SQLite (no row locks) the write lock is the guard.
                Line.objects.filter(pk__in=batch, status=source).update(status=target, updated_at=at)
        LineEvent.objects.bulk_create(
            [
                LineEvent(
                    line_id=line_id,
                    kind=LineEventKind.STATUS_CHANGED,
                    at=at,
                    data={"from": source, "to": target, "reason": "carrier_rules"},
                )
                for line_id, source in rows
            ],
            batch_size=5_000,
        )
        if notify is not None:
            notify([line_id for line_id, _source in rows], target)
    return {source: len(ids) for source, ids in by_source.items()}


def _notify_transitions(line_ids: Sequence[int], to_status: str, *, on: date | None = None) -> None:
    """Tell each owner that their line changed status, in their language; at most once per line,
    status and day (the dedupe key), all sent together (`notification_send_many`)."""
    from vigencia.notifications.services import NotificationRequest, notification_send_many

    requests = []
    for line in Line.objects.filter(pk__in=line_ids).select_related("owner", "carrier").order_by("pk"):
        day = on or clock.today(line.carrier.timezone)
        with translation.override(line.owner.language):
            subject, body = _transition_message(line, to_status)
        requests.append(
            NotificationRequest(
                user=line.owner,
                kind="message",
                context={"subject": subject, "body": body},
                dedupe_key=f"line:{line.pk}:{to_status}:{day.isoformat()}",
            )
        )
    notification_send_many(requests)


def _transition_message(line: Line, status: str) -> tuple[str, str]:
    """Subject and body in the active language, with the number and the date written as the reminders
    and the portal write them."""
    from vigencia.lines.numbers import msisdn_display

    values = {"number": msisdn_display(line.msisdn), "carrier": line.carrier.name}
    if status == LineStatus.RESTRICTED:
        return (
            _("Your line %(number)s is restricted") % values,
            _(
                "Outgoing service on %(number)s (%(carrier)s) is restricted because it was not "
                "recharged in time. Recharge it to use it again."
            )
            % values,
        )
    if status == LineStatus.SUSPENDED:
        lost_at = line_timeline(line).number_lost_at
        values["date"] = formats.date_format(lost_at, "DATE_FORMAT") if lost_at else "?"
        return (
            _("Your line %(number)s is cut off") % values,
            _(
                "%(carrier)s cut off %(number)s because it was not recharged in time. Recharge it "
                "before %(date)s or the number will be given to someone else."
            )
            % values,
        )
    return (
        _("Your number %(number)s is lost") % values,
        _("%(carrier)s has given %(number)s to someone else because it was not recharged in time.") % values,
    )


def lifecycle_sweep(
    *, at: datetime | None = None, notify: TransitionHook | None = _notify_transitions
) -> dict[str, int]:
    """Apply every status change that is due at `at` (default now), set-based: a few UPDATEs per
    carrier and status, never one query per line. Each line moves straight to its due status and
    writes one `status_changed` event per move; `notify(line_ids, status)` (default:
    `_notify_transitions`; None sends nothing) runs once per status with the lines of every carrier
    moved to it, in the same transaction as the moves (the whole sweep is one transaction).

    Idempotent: a second run, or a concurrent one, finds nothing more to move. Returns the number of
    lines per transition, e.g. {"active->restricted": 3, ...}."""
    at = at or clock.now()
    counts = {
        f"{source}->{target}": 0
        for index, target in enumerate(_PROGRESSION)
        for source in _PROGRESSION[:index]
        if LINE_TRANSITIONS.can(source, target)
    }
    with clock.frozen(at):  # everything the sweep calls (the hook too) runs "at" the same instant
        return _sweep(at=at, notify=notify, counts=counts)


def _sweep(*, at: datetime, notify: TransitionHook | None, counts: dict[str, int]) -> dict[str, int]:
    with transaction.atomic():
        moved_to: dict[str, list[int]] = {}
        _sweep_carriers(
            at=at, counts=counts, moved=lambda ids, target: moved_to.setdefault(target, []).extend(ids)
        )
        if notify is not None:
            for target, line_ids in moved_to.items():
                notify(line_ids, target)
    return counts


def _sweep_carriers(*, at: datetime, counts: dict[str, int], moved: TransitionHook) -> None:
    for carrier in Carrier.objects.order_by("pk"):
        today = at.astimezone(ZoneInfo(carrier.timezone)).date()
        # Furthest status first, so that a line overdue for several moves makes only the last one.
        for target in reversed(_PROGRESSION[1:]):
            due = _due_filter(carrier, target, today)
            if due is None:
                continue
            sources = [
                source
                for source in _PROGRESSION[: _PROGRESSION.index(target)]
                if LINE_TRANSITIONS.can(source, target)
            ]
            by_source = _transition_lines(
                carrier=carrier, due=due, sources=sources, target=target, at=at, notify=moved
            )
            for source, count in by_source.items():
                counts[f"{source}->{target}"] += count
