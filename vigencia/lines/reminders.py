"""Reminders before a line's next deadline: per line, lead times (default 30, 7 and 1 days before),
channels and quiet hours in the owner's timezone.

On any day, the reminder that is due for a deadline is the one with the smallest lead time already
reached: a line added 5 days before its deadline gets the 7-day reminder (once), then the 1-day one;
never the 30-day one late. Exactly once per line, deadline, lead time and channel: a `ReminderSent`
row with a unique constraint is written in the same transaction as the notification it sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import astuple, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from vigencia.catalog.models import Carrier, PolicyKind
from vigencia.core import clock
from vigencia.core.errors import InvalidInput
from vigencia.lines.lifecycle import TimelineEvent, carrier_life_spans, line_timeline
from vigencia.lines.models import (
    DEFAULT_REMINDER_CHANNELS,
    DEFAULT_REMINDER_LEAD_DAYS,
    Line,
    LineStatus,
    ReminderSent,
    ReminderSetting,
)
from vigencia.lines.numbers import msisdn_display
from vigencia.notifications.selectors import channels_reachable_of

REMINDER_CHANNELS = ("email", "sms", "webhook", "telegram")
LEAD_DAYS_MAX = 90
LEAD_DAYS_COUNT_MAX = 5
DEFAULT_QUIET = (time(21, 0), time(8, 0))
# Channels that need something set up first: (channel, error code, what to do).
_SETUP_NEEDED = (
    ("sms", "phone_missing", gettext_lazy("Add a phone number to your account to get reminders by SMS.")),
    (
        "webhook",
        "webhook_missing",
        gettext_lazy(
            "Set up a webhook endpoint (PUT /api/v1/notifications/webhook) to get reminders by webhook."
        ),
    ),
    (
        "telegram",
        "telegram_missing",
        gettext_lazy("Connect Telegram in My account to get reminders by Telegram."),
    ),
)


@dataclass(frozen=True)
class ReminderPrefs:
    lead_days: list[int]
    channels: list[str]
    quiet_start: time
    quiet_end: time


def reminder_prefs(line: Line) -> ReminderPrefs:
    """The line's reminder settings, or the defaults if the owner never changed them."""
    try:
        setting = line.reminder_setting
    except ReminderSetting.DoesNotExist:
        return ReminderPrefs(
            list(DEFAULT_REMINDER_LEAD_DAYS), list(DEFAULT_REMINDER_CHANNELS), *DEFAULT_QUIET
        )
    return ReminderPrefs(
        list(setting.lead_days), list(setting.channels), setting.quiet_start, setting.quiet_end
    )


def _clean_lead_days(lead_days: object) -> list[int]:
    if not isinstance(lead_days, list | tuple) or len(lead_days) > LEAD_DAYS_COUNT_MAX:
        raise InvalidInput(
            _("Give at most %(count)d lead times.") % {"count": LEAD_DAYS_COUNT_MAX},
            code="invalid_lead_days",
            details={"field": "lead_days"},
        )
    for days in lead_days:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= LEAD_DAYS_MAX:
            raise InvalidInput(
                _("Each lead time is a whole number of days from 1 to %(max)d.") % {"max": LEAD_DAYS_MAX},
                code="invalid_lead_days",
                details={"field": "lead_days"},
            )
    return sorted(set(lead_days), reverse=True)


def _clean_channels(channels: object, *, line: Line) -> list[str]:
    if not isinstance(channels, list | tuple) or not channels:
        raise InvalidInput(
            _("Choose at least one channel."), code="invalid_channels", details={"field": "channels"}
        )
    unknown = sorted({str(channel) for channel in channels} - set(REMINDER_CHANNELS))
    if unknown:
        raise InvalidInput(
            _("Unknown channel."),
            code="invalid_channels",
            details={"field": "channels", "unknown": unknown, "allowed": list(REMINDER_CHANNELS)},
        )
    reachable = channels_reachable_of([line.owner])[line.owner.pk]
    for channel, code, message in _SETUP_NEEDED:
        if channel in channels and channel not in reachable:
            raise InvalidInput(message, code=code, details={"field": "channels"})
    return [channel for channel in REMINDER_CHANNELS if channel in channels]


def reminder_settings_set(
    *,
    line: Line,
    lead_days: list[int],
    channels: list[str],
    quiet_start: time | None = None,
    quiet_end: time | None = None,
) -> ReminderSetting:
    """Set how the line's owner is reminded. An empty `lead_days` turns reminders off. Validates
    everything first (InvalidInput, nothing written); idempotent (one row per line)."""
    clean_days = _clean_lead_days(lead_days)
    clean_channels = _clean_channels(channels, line=line)
    setting, _created = ReminderSetting.objects.update_or_create(
        line=line,
        defaults={
            "lead_days": clean_days,
            "channels": clean_channels,
            "quiet_start": quiet_start or DEFAULT_QUIET[0],
            "quiet_end": quiet_end or DEFAULT_QUIET[1],
        },
    )
    line.reminder_setting = setting
    return setting


def in_quiet_hours(at: datetime, *, tz: str, start: time, end: time) -> bool:
    """Whether `at` falls in the quiet hours [start, end) of the wall clock in `tz` (may span midnight)."""
    if start == end:
        return False
    local = at.astimezone(ZoneInfo(tz)).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end


def reminder_due(line: Line, *, today: date, lead_days: Iterable[int]) -> tuple[TimelineEvent, int] | None:
    """The (deadline, lead time) a reminder is due for on `today`, or None. Pure."""
    deadline = line_timeline(line, today=today).next_deadline
    if deadline is None:
        return None
    days_left = (deadline.at - today).days
    reached = [days for days in lead_days if days >= days_left]
    return (deadline, min(reached)) if reached else None


def _span_window(carrier: Carrier, first: date, last: date) -> Q:
    """Lines of `carrier` with some status change dated in [first, last]: a superset (it ignores
    which change is next); `reminder_due` decides exactly."""
    spans = {
        days
        for has_balance in (False, True)
        for days in astuple(carrier_life_spans(carrier, has_balance=has_balance))
        if days is not None
    }
    window = Q(pk__in=[])
    for days in spans:
        low, high = _shift(first, -days - 1), _shift(last, -days - 1)
        if carrier.policy_kind in (PolicyKind.VALIDITY_PER_TOPUP, PolicyKind.MONTHLY_PLAN):
            cutoff = carrier.cutoff_after_days
            window |= Q(valid_until__range=(_shift(low, cutoff), _shift(high, cutoff))) | Q(
                valid_until__isnull=True, last_recharge_at__range=(low, high)
            )
        elif carrier.policy_kind == PolicyKind.CHARGEABLE_USE:
            window |= Q(last_recharge_at__range=(low, high)) | Q(last_chargeable_use_at__range=(low, high))
        else:
            window |= Q(last_recharge_at__range=(low, high))
    return window


def _shift(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def renew_url(line: Line) -> str:
    try:
        path = reverse("orders:renew", args=[line.pk])
    except NoReverseMatch:  # a deployment without the orders pages: the line's page has the way
        path = reverse("lines:detail", args=[line.pk])
    return settings.SITE_URL.rstrip("/") + path


def reminder_message(line: Line, deadline: TimelineEvent, *, today: date) -> tuple[str, str]:
    """Subject and body of a reminder, in the active language: what happens on which date, and the
    one-tap renew link. The days left count to the last day to recharge, the day before the deadline
    (as the line's page and the deadline calendar count them), so all three agree on any day."""
    days_left = max((deadline.at - today).days - 1, 0)
    values = {"number": msisdn_display(line.msisdn), "days": days_left, "url": renew_url(line)}
    if days_left == 0:
        subject = _("%(number)s: today is the last day to recharge") % values
    else:
        subject = (
            ngettext(
                "%(number)s: %(days)d day left to recharge",
                "%(number)s: %(days)d days left to recharge",
                days_left,
            )
            % values
        )
    body = deadline_sentence(line, deadline) + "\n\n" + _autorenew_sentence(line, today=today)
    body += _("Recharge before then in one tap: %(url)s") % values
    return subject, body


def _autorenew_sentence(line: Line, *, today: date) -> str:
    """When auto-renew is on, what it will do and when (so the holder knows they need not act if the
    wallet can pay), as a paragraph; else nothing."""
    from vigencia.lines.autorenew import autorenew_next

    try:
        setting = line.autorenew_setting
    except ObjectDoesNotExist:
        return ""
    upcoming = autorenew_next(line, setting, today=today) if setting.enabled else None
    if upcoming is None:
        return ""
    values = {
        "date": formats.date_format(upcoming.charge_on, "DATE_FORMAT"),
        "plan": setting.plan.name,
        "price": setting.plan.price.format(translation.get_language()),
    }
    sentence = _(
        "Auto-renew is on: on %(date)s it renews with %(plan)s from your wallet, if it holds %(price)s."
    )
    return sentence % values + "\n\n"


def deadline_sentence(line: Line, deadline: TimelineEvent) -> str:
    """What happens to the line on the deadline's date, in the active language."""
    values = {
        "number": msisdn_display(line.msisdn),
        "carrier": line.carrier.name,
        "date": formats.date_format(deadline.at, "DATE_FORMAT"),
    }
    if deadline.kind == LineStatus.RESTRICTED:
        return _("On %(date)s outgoing service on %(number)s (%(carrier)s) will be restricted.") % values
    if deadline.kind == LineStatus.SUSPENDED:
        return _("On %(date)s %(carrier)s will cut off %(number)s.") % values
    return (
        _("On %(date)s %(carrier)s will give %(number)s to someone else; it cannot be recovered then.")
        % values
    )


def _send_one(
    line: Line, *, deadline: TimelineEvent, lead_days: int, channels: list[str], today: date
) -> int:
    """Claim and send the reminder on each channel not sent yet; returns how many were sent."""
    from vigencia.notifications.services import notification_send

    sent = 0
    with translation.override(line.owner.language):
        subject, body = reminder_message(line, deadline, today=today)
    for channel in channels:
        try:
            with transaction.atomic():
                ReminderSent.objects.create(
                    line=line,
                    deadline=deadline.at,
                    deadline_kind=deadline.kind,
                    lead_days=lead_days,
                    channel=channel,
                )
                notification_send(
                    user=line.owner,
                    kind="message",
                    context={"subject": subject, "body": body},
                    dedupe_key=_dedupe_key(line, deadline, lead_days, channel),
                    channels=[channel],
                )
        except IntegrityError:
            continue  # another run sent this one
        sent += 1
    return sent


def reminders_send(*, at: datetime | None = None) -> int:
    """Send every reminder due at `at` (default now) whose owner is not in quiet hours; returns how
    many were sent (one per channel). Reads candidates set-based, every carrier in one query (lines
    with a status change within the longest lead time, in the carrier's own timezone's today), then
    decides each exactly.

    Exactly once per (line, deadline, lead time, channel): a repeat, a retry or a concurrent run
    sends nothing more. A reminder held back by quiet hours goes on the first run after them. The
    due reminders are written together (see `_send_batch`)."""
    at = at or clock.now()
    with clock.frozen(at):
        return _send_batch(_due_batch(at))


def _due_batch(at: datetime) -> list[tuple[Line, TimelineEvent, int, list[str], date]]:
    # Only carriers with live lines: an empty carrier costs no query.
    live = Line.objects.filter(removed_at__isnull=True).exclude(status=LineStatus.RECYCLED)
    carriers = {carrier.pk: carrier for carrier in Carrier.objects.filter(pk__in=live.values("carrier_id"))}
    if not carriers:
        return []
    with_settings = set(ReminderSetting.objects.values_list("line__carrier_id", flat=True).distinct())
    today = {pk: at.astimezone(ZoneInfo(carrier.timezone)).date() for pk, carrier in carriers.items()}
    window = Q(pk__in=[])
    for pk, carrier in carriers.items():
        longest = max([LEAD_DAYS_MAX] if pk in with_settings else DEFAULT_REMINDER_LEAD_DAYS)
        window |= Q(carrier_id=pk) & _span_window(carrier, _shift(today[pk], 1), _shift(today[pk], longest))
    candidates = live.filter(window)
    # Most candidates have nothing due today or had it sent already: they are read as plain rows
    # (the dates the timeline needs and their lead times), and only the lines with a reminder to
    # send are loaded whole, with their owner and settings.
    # Lines with the same carrier, dates and lead times have the same reminder due: each such
    # combination is decided once, so the work follows the distinct dates, not the lines.
    columns = ("carrier_id", *_TIMELINE_FIELDS)
    found: dict[int, tuple[TimelineEvent, int, list[str]]] = {}
    decided: dict[tuple[object, ...], tuple[TimelineEvent, int] | None] = {}
    rows = candidates.values_list("pk", *columns, "reminder_setting__lead_days", "reminder_setting__channels")
    for pk, *row, lead_days, channels in rows.order_by("carrier_id", "pk"):
        has_setting = lead_days is not None
        leads = tuple(lead_days if has_setting else DEFAULT_REMINDER_LEAD_DAYS)
        key = (*row[:-1], bool(row[-1] and row[-1] > 0), leads)
        if key not in decided:
            line = Line(**dict(zip(columns, row, strict=True)))
            line.carrier = carriers[line.carrier_id]
            decided[key] = reminder_due(line, today=today[line.carrier_id], lead_days=leads)
        due_now = decided[key]
        if due_now is not None:
            found[pk] = (*due_now, channels if has_setting else DEFAULT_REMINDER_CHANNELS)
    if not found:
        return []
    # Every deadline found is after its carrier's today, so after the earliest of them.
    done = set(
        ReminderSent.objects.filter(line_id__in=list(found), deadline__gt=min(today.values())).values_list(
            "line_id", "deadline", "lead_days", "channel"
        )
    )
    undone = [
        pk
        for pk, (deadline, lead_days, channels) in found.items()
        if any((pk, deadline.at, lead_days, channel) not in done for channel in channels)
    ]
    batch: list[tuple[Line, TimelineEvent, int, list[str], date]] = []
    lines = list(
        Line.objects.filter(pk__in=undone).select_related(
            "owner", "reminder_setting", "autorenew_setting", "autorenew_setting__plan"
        )
    )
    # A channel the owner can no longer be reached by (the phone removed, the webhook or the Telegram
    # chat gone since they chose it): that reminder goes by email instead.
    reachable = channels_reachable_of({line.owner for line in lines})
    for line in sorted(lines, key=lambda line: (line.carrier_id, line.pk)):
        line.carrier = carriers[line.carrier_id]
        prefs = reminder_prefs(line)
        deadline, lead_days, _channels = found[line.pk]
        chosen = dict.fromkeys(
            channel if channel in reachable[line.owner_id] else "email" for channel in prefs.channels
        )
        channels = [c for c in chosen if (line.pk, deadline.at, lead_days, c) not in done]
        if not channels:
            continue
        if in_quiet_hours(at, tz=line.owner.timezone, start=prefs.quiet_start, end=prefs.quiet_end):
            continue
        batch.append((line, deadline, lead_days, channels, today[line.carrier_id]))
    return batch


# What a line's timeline is computed from (see `lifecycle.line_anchor`).
_TIMELINE_FIELDS = ("last_recharge_at", "valid_until", "last_chargeable_use_at", "balance_minor")


def _send_batch(batch: list[tuple[Line, TimelineEvent, int, list[str], date]]) -> int:
    """Claim and send the due reminders (each with its carrier's today) together: the `ReminderSent`
    rows in one insert and their notifications through `notification_send_many`, in one transaction.
    If a concurrent run claimed any of them first (the unique constraint), they are settled one by
    one instead."""
    from vigencia.notifications.services import NotificationRequest, notification_send_many

    rows, requests = [], []
    for line, deadline, lead_days, channels, today in batch:
        with translation.override(line.owner.language):
            subject, body = reminder_message(line, deadline, today=today)
        for channel in channels:
            rows.append(
                ReminderSent(
                    line=line,
                    deadline=deadline.at,
                    deadline_kind=deadline.kind,
                    lead_days=lead_days,
                    channel=channel,
                )
            )
            requests.append(
                NotificationRequest(
                    user=line.owner,
                    kind="message",
                    context={"subject": subject, "body": body},
                    dedupe_key=_dedupe_key(line, deadline, lead_days, channel),
                    channels=[channel],
                )
            )
    if not rows:
        return 0
    try:
        with transaction.atomic():
            ReminderSent.objects.bulk_create(rows, batch_size=1_000)
            notification_send_many(requests)
    except IntegrityError:
        return sum(
            _send_one(line, deadline=deadline, lead_days=lead_days, channels=channels, today=today)
            for line, deadline, lead_days, channels, today in batch
        )
    return len(rows)


def _dedupe_key(line: Line, deadline: TimelineEvent, lead_days: int, channel: str) -> str:
    return f"reminder:{line.pk}:{deadline.at.isoformat()}:{lead_days}:{channel}"
