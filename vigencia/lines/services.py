"""Line writes. Each validates everything first and writes nothing on bad input."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.core.errors import Conflict, InvalidInput
from vigencia.lines.lifecycle import line_status_due
from vigencia.lines.models import LINE_TRANSITIONS, Line, LineEvent, LineEventKind, LineStatus
from vigencia.lines.numbers import iccid_normalize, msisdn_normalize
from vigencia.lines.selectors import line_valid_until_after_renewal

_MAX_PAST = timedelta(days=3 * 365)
_MAX_FUTURE = timedelta(days=5 * 365)
_NICKNAME_MAX = 60


def _check_dates(*, last_recharge_at: date | None, valid_until: date | None, today: date) -> None:
    if last_recharge_at is not None:
        if last_recharge_at > today:
            raise InvalidInput(
                _("The last recharge cannot be in the future."),
                code="invalid_date",
                details={"field": "last_recharge_at"},
            )
        if last_recharge_at < today - _MAX_PAST:
            raise InvalidInput(
                _("The last recharge is too long ago; the number would already be lost."),
                code="invalid_date",
                details={"field": "last_recharge_at"},
            )
    if valid_until is not None and not today - _MAX_PAST <= valid_until <= today + _MAX_FUTURE:
        raise InvalidInput(
            _("The valid-until date is out of range."), code="invalid_date", details={"field": "valid_until"}
        )
    if last_recharge_at and valid_until and valid_until < last_recharge_at:
        raise InvalidInput(
            _("The valid-until date cannot be before the last recharge."),
            code="invalid_date",
            details={"field": "valid_until"},
        )


def _clean_nickname(nickname: str | None) -> str:
    nickname = (nickname or "").strip()
    if len(nickname) > _NICKNAME_MAX:
        raise InvalidInput(
            _("The nickname is too long (at most %(max)d characters).") % {"max": _NICKNAME_MAX},
            code="invalid_nickname",
            details={"field": "nickname"},
        )
    return nickname


def _event(line: Line, kind: str, actor: User | None, **data: Any) -> LineEvent:
    return LineEvent.objects.create(line=line, kind=kind, actor=actor, data=data)


def line_add(
    *,
    owner: User,
    msisdn: str,
    carrier: Carrier,
    nickname: str | None = "",
    iccid: str | None = "",
    last_recharge_at: date | None = None,
    valid_until: date | None = None,
) -> Line:
    """Register a line for `owner`. Raises InvalidInput (422) or Conflict (409: already registered)."""
    e164 = msisdn_normalize(msisdn, country=carrier.country)
    clean_iccid = iccid_normalize(iccid or "")
    clean_nickname = _clean_nickname(nickname)
    _check_dates(
        last_recharge_at=last_recharge_at, valid_until=valid_until, today=clock.today(owner.timezone)
    )
    try:
        with transaction.atomic():
            line = Line.objects.create(
                owner=owner,
                msisdn=e164,
                carrier=carrier,
                nickname=clean_nickname,
                iccid=clean_iccid,
                last_recharge_at=last_recharge_at,
                valid_until=valid_until,
            )
            _event(line, LineEventKind.ADDED, owner, carrier=carrier.code, msisdn=e164)
    except IntegrityError:
        raise Conflict(
            _("You have already registered this number."), code="line_exists", details={"msisdn": e164}
        )
    return line


_EDITABLE = ("nickname", "iccid", "last_recharge_at", "valid_until")


def line_update(*, line: Line, actor: User, **changes: Any) -> Line:
    """Change a line's nickname, ICCID or known dates. The number and carrier are fixed: a different
    number is a different line."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise InvalidInput(
            _("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            code="not_editable",
            details={"fields": sorted(unknown)},
        )
    if "nickname" in changes:
        changes["nickname"] = _clean_nickname(changes["nickname"])
    if "iccid" in changes:
        changes["iccid"] = iccid_normalize(changes["iccid"] or "")
    merged = {name: changes.get(name, getattr(line, name)) for name in ("last_recharge_at", "valid_until")}
    _check_dates(**merged, today=clock.today(line.owner.timezone))
    before = {name: getattr(line, name) for name in changes}
    diff = {name: value for name, value in changes.items() if before[name] != value}
    if not diff:
        return line
    with transaction.atomic():
        Line.objects.filter(pk=line.pk).update(**diff, updated_at=timezone.now())
        for name, value in diff.items():
            setattr(line, name, value)
        _event(
            line,
            LineEventKind.UPDATED,
            actor,
            changes={name: [_jsonable(before[name]), _jsonable(value)] for name, value in diff.items()},
        )
    return line


def line_remove(*, line: Line, actor: User) -> None:
    """Remove a line from the subscriber's list. The row stays for its history and orders."""
    with transaction.atomic():
        updated = Line.objects.filter(pk=line.pk, removed_at__isnull=True).update(removed_at=clock.now())
        if updated:
            _event(line, LineEventKind.REMOVED, actor)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _renewed(
    line: Line, *, validity_days: int, reference: str, actor: User | None
) -> tuple[date, list[LineEvent]]:
    """Apply a completed recharge to `line` in memory (its dates, and its status if it comes back) and
    return the new valid-until and the events to write: the one rule of `line_renew_many`."""
    today = clock.today(line.carrier.timezone)
    new_valid_until = line_valid_until_after_renewal(line, validity_days=validity_days)
    before = line.valid_until
    line.valid_until, line.last_recharge_at = new_valid_until, today
    events = []
    # A monthly-plan payment in arrears may settle only the unpaid months: the line comes back only
    # once the carrier's rules say so.
    if line.status != LineStatus.ACTIVE and line_status_due(line, today=today) == LineStatus.ACTIVE:
        LINE_TRANSITIONS.check(line.status, LineStatus.ACTIVE)
        events.append(
            LineEvent(
                line=line,
                kind=LineEventKind.STATUS_CHANGED,
                actor=actor,
                data={"from": line.status, "to": LineStatus.ACTIVE},
            )
        )
        line.status = LineStatus.ACTIVE
    events.append(
        LineEvent(
            line=line,
            kind=LineEventKind.RENEWED,
            actor=actor,
            data={
                "reference": reference,
                "valid_until_before": _jsonable(before),
                "valid_until": new_valid_until.isoformat(),
                "validity_days": validity_days,
            },
        )
    )
    return new_valid_until, events


def line_renew(*, line: Line, validity_days: int, reference: str, actor: User | None = None) -> date:
    """Apply a completed recharge: the last recharge is today, valid-until moves as
    `line_valid_until_after_renewal` says (the planner's rule), and a restricted or cut-off line is
    active again once the carrier's rules give it that. Locks the line row; returns the new
    valid-until date."""
    [valid_until] = line_renew_many(renewals=[(line, validity_days, reference)], actor=actor)
    return valid_until


def line_renew_many(*, renewals: Sequence[tuple[Line, int, str]], actor: User | None = None) -> list[date]:
    """`line_renew` for many (line, validity days, reference) at once, in that order (a line renewed
    twice counts from its first renewal): the lines are locked in one query in primary-key order,
    written with one UPDATE and their events inserted in bulk. Returns each renewal's new valid-until."""
    with transaction.atomic():
        locked = {
            line.pk: line
            for line in Line.objects.select_for_update(of=("self",))
            .select_related("carrier")
            .filter(pk__in=[line.pk for line, _days, _reference in renewals])
            .order_by("pk")
        }
        statuses = {pk: line.status for pk, line in locked.items()}
        events: list[LineEvent] = []
        valid_until: list[date] = []
        for line, validity_days, reference in renewals:
            new_valid_until, line_events = _renewed(
                locked[line.pk], validity_days=validity_days, reference=reference, actor=actor
            )
            valid_until.append(new_valid_until)
            events += line_events
        now = timezone.now()
        for line in locked.values():
            line.updated_at = now
        # One UPDATE per status read under the lock, conditional on it (as a transition is).
        for status in sorted(set(statuses.values())):
            same = [line for pk, line in locked.items() if statuses[pk] == status]
            LINE_TRANSITIONS.apply_many(
                same,
                field="status",
                source=status,
                fields=["valid_until", "last_recharge_at", "status", "updated_at"],
            )
        LineEvent.objects.bulk_create(events, batch_size=1_000)
    return valid_until
