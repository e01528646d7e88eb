"""A person's line deadlines as an iCalendar feed (RFC 5545), for the calendar app on their phone:
for each line, the last day to recharge before its next deadline (with alarms at the line's reminder
lead times), the day the number goes to someone else, and the next auto-renew charge. Calendar apps
fetch it again on their own, so it always shows today's dates; each event keeps its UID so that
a new date moves the event rather than adding another."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event, vDuration

from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.lines.autorenew import autorenew_next
from vigencia.lines.lifecycle import TimelineEvent, line_timeline
from vigencia.lines.models import DEFAULT_REMINDER_LEAD_DAYS, AutoRenewSetting, Line, LineStatus
from vigencia.lines.numbers import msisdn_display
from vigencia.lines.reminders import deadline_sentence, reminder_prefs, renew_url
from vigencia.lines.selectors import line_list

REFRESH = timedelta(hours=6)  # how often calendar apps are asked to fetch the feed again
ALARM_HOUR = 9  # alarms ring at 09:00 on the phone's clock


def _event(uid: str, day: date, summary: str, description: str, url: str) -> Event:
    event = Event()
    event.add("uid", f"{uid}@{urlsplit(settings.SITE_URL).hostname}")
    event.add("dtstamp", clock.now())
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    event.add("transp", "TRANSPARENT")  # a reminder, not a busy time
    return event


def _alarm(description: str, before_start: timedelta) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", description)
    alarm.add("trigger", before_start)
    return alarm


def _line_events(line: Line, setting: AutoRenewSetting | None, today: date) -> list[Event]:
    timeline = line_timeline(line, today=today)
    deadline = timeline.next_deadline
    if deadline is None or line.status == LineStatus.RECYCLED:
        return []
    number = msisdn_display(line.msisdn)
    name = f"{line.nickname} ({number})" if line.nickname else number
    url = renew_url(line)
    last_day = max(deadline.at - timedelta(days=1), today)
    recharge = _("Recharge %(line)s") % {"line": name}
    tap = _("Recharge before then in one tap: %(url)s") % {"url": url}
    events = []
    event = _event(
        f"line-{line.pk}-deadline",
        last_day,
        _("Last day to recharge %(line)s") % {"line": name},
        deadline_sentence(line, deadline) + "\n\n" + tap,
        url,
    )
    # An alarm per reminder lead time (days before the deadline), at 09:00; the event starts at the
    # last day's midnight, one day before the deadline.
    for lead in sorted(set(reminder_prefs(line).lead_days or DEFAULT_REMINDER_LEAD_DAYS), reverse=True):
        ring = timedelta(days=1 - lead, hours=ALARM_HOUR)
        if deadline.at - timedelta(days=lead) >= today:
            event.add_component(_alarm(recharge, ring))
    events.append(event)
    lost = timeline.number_lost_at
    if lost is not None and lost > today and lost != deadline.at:
        events.append(
            _event(
                f"line-{line.pk}-number-lost",
                lost,
                _("%(line)s goes to someone else") % {"line": name},
                deadline_sentence(line, TimelineEvent(LineStatus.RECYCLED, lost)),
                url,
            )
        )
    upcoming = (
        autorenew_next(line, setting, today=today, timeline=timeline)
        if setting is not None and setting.enabled
        else None
    )
    if upcoming is not None:
        values = {"line": name, "plan": setting.plan.name, "price": setting.plan.price}  # type: ignore[union-attr]
        events.append(
            _event(
                f"line-{line.pk}-auto-renew",
                max(upcoming.charge_on, today),
                _("Auto-renew of %(line)s") % values,
                _("%(plan)s for %(price)s from your wallet. Keep enough money in it.") % values,
                settings.SITE_URL.rstrip("/") + reverse("lines:detail", args=[line.pk]),
            )
        )
    return events


def deadlines_calendar(*, user: User) -> bytes:
    """The person's live lines' coming dates as an iCalendar file, in their language."""
    with translation.override(user.language):
        calendar = Calendar()
        calendar.add("prodid", "-//Vigencia//Line deadlines//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", _("Vigencia: line deadlines"))
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH))  # an X- property has no type of its own
        lines = line_list(owner=user).select_related("autorenew_setting__plan", "reminder_setting")
        for line in lines:
            today = clock.today(line.carrier.timezone)
            setting = getattr(line, "autorenew_setting", None)
            for event in _line_events(line, setting, today):
                calendar.add_component(event)
        return calendar.to_ical()
