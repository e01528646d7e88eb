"""Opening hours as people write them: "mon-fri 09:00-20:00; sat 10:00-14:00; sun closed".

Days in English or Spanish (mon/lun … sun/dom), single or ranges ("fri-mon" wraps past Sunday) or
lists ("mon,wed"), "daily"; one or more ranges per day ("09:00-13:00 15:00-19:00"); a range that
ends before it starts runs past midnight ("20:00-02:00"), "24:00" is midnight, and "00:00-24:00" is
the whole day."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import time

from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from vigencia.core.errors import InvalidInput

DayHours = tuple[int, time, time]  # (weekday, opens, closes); Monday is 0

_DAY_NAMES = {
    **{name: day for day, name in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])},
    **{name: day for day, name in enumerate(["lun", "mar", "mie", "jue", "vie", "sab", "dom"])},
    "mié": 2,
    "sáb": 5,
}
_LONG_NAMES = {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "lunes",
    "martes",
    "miercoles",
    "miércoles",
    "jueves",
    "viernes",
    "sabado",
    "sábado",
    "domingo",
}
_ALL_DAYS = {"daily", "diario", "todos"}
_SEGMENT = re.compile(r"(?P<days>[^\d\s][^\s]*(?:\s*[,\-]\s*[^\d\s][^\s]*)*)\s+(?P<ranges>.+)")
_RANGE = re.compile(r"(?P<oh>\d{1,2}):(?P<om>\d{2})\s*-\s*(?P<ch>\d{1,2}):(?P<cm>\d{2})")
_CLOSED = {"closed", "cerrado"}
_SHORT = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _bad(segment: str) -> InvalidInput:
    return InvalidInput(
        _('Opening hours "%(segment)s" are not like "mon-fri 09:00-20:00; sat 10:00-14:00".')
        % {"segment": segment},
        code="invalid_hours",
        details={"field": "hours", "segment": segment},
    )


def _day(name: str, segment: str) -> int:
    name = name.strip().lower()
    if name in _LONG_NAMES:
        name = name[:3]
    if name not in _DAY_NAMES:
        raise _bad(segment)
    return _DAY_NAMES[name]


def _days(spec: str, segment: str) -> list[int]:
    spec = spec.strip().lower()
    if spec in _ALL_DAYS:
        return list(range(7))
    days: list[int] = []
    for part in spec.split(","):
        first, dash, last = part.partition("-")
        start = _day(first, segment)
        end = _day(last, segment) if dash else start
        days += [(start + step) % 7 for step in range((end - start) % 7 + 1)]
    return days


def _time(hour: str, minute: str, segment: str, *, closing: bool) -> time:
    h, m = int(hour), int(minute)
    if closing and (h, m) == (24, 0):
        return time(0, 0)
    if h > 23 or m > 59:
        raise _bad(segment)
    return time(h, m)


def hours_parse(text: str) -> list[DayHours]:
    """Rows of opening hours from their written form; InvalidInput `invalid_hours` when unreadable."""
    rows: list[DayHours] = []
    for raw in (text or "").split(";"):
        segment = " ".join(raw.split())
        if not segment:
            continue
        match = _SEGMENT.fullmatch(segment)
        if match is None:
            raise _bad(segment)
        days = _days(match["days"], segment)
        ranges = match["ranges"].strip().lower()
        if ranges in _CLOSED:
            continue
        parts = [part for part in re.split(r"[,\s]+(?=\d)", ranges) if part]
        for part in parts:
            found = _RANGE.fullmatch(part.strip())
            if found is None:
                raise _bad(segment)
            opens = _time(found["oh"], found["om"], segment, closing=False)
            closes = _time(found["ch"], found["cm"], segment, closing=True)
            rows += [(day, opens, closes) for day in days]
    starts = [(day, opens) for day, opens, _closes in rows]
    if len(set(starts)) != len(starts):
        raise InvalidInput(
            _("Opening hours give one day two openings at the same time."),
            code="invalid_hours",
            details={"field": "hours"},
        )
    return sorted(rows)


def hours_format(rows: Iterable[DayHours], *, localized: bool = False) -> str:
    """The written form back, consecutive days with the same hours grouped: "Mon-Fri 09:00-20:00".
    `localized` names the days in the active language ("lun-vie 09:00-20:00"), for people to read."""
    names = [str(WEEKDAYS_ABBR[day]) for day in range(7)] if localized else _SHORT
    by_day: dict[int, str] = {}
    for day, opens, closes in sorted(rows):
        end = "24:00" if closes == time(0, 0) else f"{closes:%H:%M}"
        text = f"{opens:%H:%M}-{end}"
        by_day[day] = f"{by_day[day]} {text}" if day in by_day else text
    groups: list[tuple[int, int, str]] = []
    for day in range(7):
        if day not in by_day:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == by_day[day]:
            groups[-1] = (groups[-1][0], day, by_day[day])
        else:
            groups.append((day, day, by_day[day]))
    return "; ".join(
        f"{names[first]}{'' if first == last else '-' + names[last]} {text}" for first, last, text in groups
    )
