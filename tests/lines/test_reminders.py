"""Reminders before a line's next deadline: lead times, channels, quiet hours, exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail

from tests.lines.keepalive_helpers import lima
from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.core.errors import InvalidInput
from vigencia.lines.models import Line, ReminderSent, ReminderSetting
from vigencia.lines.reminders import in_quiet_hours, reminder_settings_set, reminders_send
from vigencia.notifications.models import Notification

pytestmark = pytest.mark.django_db

D0 = date(2026, 3, 2)  # the last recharge; Claro restricts on D0 + 61 (2 May 2026)
RESTRICTED_ON = D0 + timedelta(days=61)


@pytest.fixture
def claro_line(user, claro) -> Line:
    return Line.objects.create(owner=user, msisdn="+51912345678", carrier=claro, last_recharge_at=D0)


def _sent() -> list[tuple[date, int, str]]:
    return list(ReminderSent.objects.order_by("id").values_list("deadline", "lead_days", "channel"))


def test_thirty_days_before_the_deadline_one_email_reminder_is_sent_once(claro_line, user):
    # given a Claro line 30 days before it is restricted
    at = lima(RESTRICTED_ON - timedelta(days=30))

    # when reminders run three times (retries, a second scheduler)
    counts = [reminders_send(at=at) for _ in range(3)]

    # then exactly one reminder was sent, by email, saying what happens when, with the renew link
    assert counts == [1, 0, 0]
    assert _sent() == [(RESTRICTED_ON, 30, "email")]
    [notification] = Notification.objects.filter(user=user)
    assert notification.channel == "email"
    assert notification.dedupe_key == f"reminder:{claro_line.pk}:2026-05-02:30:email"
    assert notification.context["subject"] == "+51 912 345 678: 29 days left to recharge"
    assert (
        "On May 2, 2026 outgoing service on +51 912 345 678 (Claro Perú) will be restricted."
        in (notification.context["body"])
    )
    assert f"/renew/{claro_line.pk}/" in notification.context["body"]


def test_nothing_is_sent_before_the_longest_lead_time(claro_line):
    assert reminders_send(at=lima(RESTRICTED_ON - timedelta(days=31))) == 0
    assert _sent() == []
    assert Notification.objects.count() == 0


def test_a_line_added_late_gets_the_nearest_reminder_only_then_the_next(claro_line):
    # given a line 5 days before its deadline (the 30- and 7-day lead times both passed)
    # when reminders run that day, the next days, and the day before the deadline
    for days_left in (5, 4, 3, 2, 1):
        reminders_send(at=lima(RESTRICTED_ON - timedelta(days=days_left)))

    # then the 7-day reminder went once, then the 1-day one; never the 30-day one late
    assert _sent() == [(RESTRICTED_ON, 7, "email"), (RESTRICTED_ON, 1, "email")]


def test_the_next_deadline_after_restriction_is_cut_off(claro_line, claro):
    # given a restricted Claro line 7 days before cut-off (D0 + 271)
    cut_off_on = D0 + timedelta(days=271)

    reminders_send(at=lima(cut_off_on - timedelta(days=7)))

    [reminder] = ReminderSent.objects.all()
    assert (reminder.deadline, reminder.deadline_kind, reminder.lead_days) == (cut_off_on, "suspended", 7)
    assert "will cut off +51 912 345 678" in Notification.objects.get().context["body"]


def test_quiet_hours_hold_a_reminder_until_morning_in_the_owners_timezone(claro_line, user):
    # given an owner in Shanghai (13 hours ahead of Lima) and default quiet hours 21:00-08:00
    user.timezone = "Asia/Shanghai"
    user.save()
    day = RESTRICTED_ON - timedelta(days=7)

    # when reminders run at noon in Lima (01:00 in Shanghai): nothing
    assert reminders_send(at=lima(day, time(12, 0))) == 0
    # and at 20:00 in Lima (09:00 in Shanghai): the reminder goes
    assert reminders_send(at=lima(day, time(20, 0))) == 1
    assert _sent() == [(RESTRICTED_ON, 7, "email")]


def test_quiet_hours_follow_daylight_saving_time():
    # 07:30 UTC is 07:30 in London the day before summer time starts, 08:30 the day it starts
    start, end = time(21, 0), time(8, 0)
    assert in_quiet_hours(datetime(2026, 3, 28, 7, 30, tzinfo=UTC), tz="Europe/London", start=start, end=end)
    assert not in_quiet_hours(
        datetime(2026, 3, 29, 7, 30, tzinfo=UTC), tz="Europe/London", start=start, end=end
    )
    # a window within one day, and none at all
    assert in_quiet_hours(datetime(2026, 1, 1, 13, 0, tzinfo=UTC), tz="UTC", start=time(12), end=time(14))
    assert not in_quiet_hours(datetime(2026, 1, 1, 13, 0, tzinfo=UTC), tz="UTC", start=time(0), end=time(0))


def test_month_end_on_a_monthly_plan_carrier(user, demo_catalog):
    # given a China Mobile keep-number line paid through 31 January: cut off on 1 February
    china = Carrier.objects.get(code="china-mobile-cn")
    line = Line.objects.create(
        owner=user, msisdn="+8613812345678", carrier=china, valid_until=date(2026, 1, 31)
    )
    user.timezone = "Asia/Shanghai"
    user.save()

    at = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert reminders_send(at=at) == 1

    assert list(ReminderSent.objects.values_list("line_id", "deadline", "deadline_kind", "lead_days")) == [
        (line.pk, date(2026, 2, 1), "suspended", 1)
    ]


def test_own_lead_times_and_channels(claro_line, user):
    # given an owner who wants reminders 10 and 3 days before, by email and SMS
    user.phone = "+51987654321"
    user.save()
    reminder_settings_set(line=claro_line, lead_days=[3, 10, 10], channels=["sms", "email"])

    for days_left in range(31, 0, -1):
        reminders_send(at=lima(RESTRICTED_ON - timedelta(days=days_left)))

    assert _sent() == [
        (RESTRICTED_ON, 10, "email"),
        (RESTRICTED_ON, 10, "sms"),
        (RESTRICTED_ON, 3, "email"),
        (RESTRICTED_ON, 3, "sms"),
    ]
    assert sorted(Notification.objects.values_list("channel", flat=True)) == ["email", "email", "sms", "sms"]


def test_no_lead_times_turns_reminders_off(claro_line):
    reminder_settings_set(line=claro_line, lead_days=[], channels=["email"])

    assert reminders_send(at=lima(RESTRICTED_ON - timedelta(days=1))) == 0
    assert Notification.objects.count() == 0


def test_removed_and_lost_lines_get_no_reminders(claro_line):
    Line.objects.filter(pk=claro_line.pk).update(removed_at=lima(D0))

    assert reminders_send(at=lima(RESTRICTED_ON - timedelta(days=1))) == 0


@pytest.mark.parametrize(
    ("lead_days", "channels", "code"),
    [
        ([0], ["email"], "invalid_lead_days"),
        ([91], ["email"], "invalid_lead_days"),
        (["7"], ["email"], "invalid_lead_days"),
        ([True], ["email"], "invalid_lead_days"),
        ([1, 2, 3, 4, 5, 6], ["email"], "invalid_lead_days"),
        ("30", ["email"], "invalid_lead_days"),
        ([7], [], "invalid_channels"),
        ([7], ["fax"], "invalid_channels"),
        ([7], ["sms"], "phone_missing"),
        ([7], ["webhook"], "webhook_missing"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(claro_line, lead_days, channels, code):
    with pytest.raises(InvalidInput) as error:
        reminder_settings_set(line=claro_line, lead_days=lead_days, channels=channels)

    assert error.value.code == code
    assert ReminderSetting.objects.count() == 0


def test_reminder_email_is_delivered_once_by_the_worker(claro_line, user, run_tasks):
    reminders_send(at=lima(RESTRICTED_ON - timedelta(days=7)))
    reminders_send(at=lima(RESTRICTED_ON - timedelta(days=7), time(13, 0)))
    run_tasks()

    assert [message.subject for message in mail.outbox] == ["+51 912 345 678: 6 days left to recharge"]
    assert mail.outbox[0].to == [user.email]


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("es", "+51 912 345 678: quedan 6 días para recargar"),
        ("zh-hans", "+51 912 345 678：距离充值截止还剩 6 天"),
    ],
)
def test_the_reminder_speaks_the_owners_language(claro_line, user, language, subject):
    user.language = language
    user.save()

    reminders_send(at=lima(RESTRICTED_ON - timedelta(days=7)))

    assert Notification.objects.get().context["subject"] == subject


def test_the_due_reminders_of_many_lines_are_written_together(claro, django_assert_max_num_queries):
    # given 25 Claro lines of 25 subscribers, all 7 days before they are restricted
    from tests.factories import UserFactory

    for index, owner in enumerate(UserFactory.create_batch(25)):
        Line.objects.create(owner=owner, msisdn=f"+5191234{index:04d}", carrier=claro, last_recharge_at=D0)

    # when reminders run, the number of queries does not grow with the lines
    with django_assert_max_num_queries(30):
        sent = reminders_send(at=lima(RESTRICTED_ON - timedelta(days=7)))

    # then each line got its one 7-day email reminder, queued for delivery
    assert sent == 25
    assert set(_sent()) == {(RESTRICTED_ON, 7, "email")}
    assert ReminderSent.objects.count() == 25
    assert Notification.objects.filter(kind="message", channel="email").count() == 25


@pytest.mark.parametrize(
    ("before", "subject", "days_left"),
    [
        (7, "+51 912 345 678: 6 days left to recharge", "6 days left"),
        (2, "+51 912 345 678: 1 day left to recharge", "1 day left"),
        (1, "+51 912 345 678: today is the last day to recharge", "Last day today"),
    ],
)
def test_a_reminder_counts_the_days_left_as_the_line_page_does(
    claro_line, user, client, before, subject, days_left
):
    # given a Claro line restricted on 2 May (its last day to recharge is 1 May) with a reminder that day
    reminder_settings_set(line=claro_line, lead_days=[before], channels=["email"])
    at = lima(RESTRICTED_ON - timedelta(days=before))

    # when the reminder goes out and the subscriber opens the line's page the same day
    with clock.frozen(at):
        assert reminders_send(at=at) == 1
        client.force_login(user)
        page = client.get(f"/lines/{claro_line.pk}/").content.decode()

    # then the email and the page give the same days left
    [notification] = Notification.objects.filter(user=user)
    assert notification.context["subject"] == subject
    assert days_left in page


def test_a_channel_the_owner_can_no_longer_be_reached_by_sends_by_email_instead(claro_line, user):
    # given reminders chosen by SMS and webhook, then the phone removed and the endpoint deleted
    from vigencia.notifications.services import webhook_endpoint_delete, webhook_endpoint_set

    user.phone = "+51912345678"
    user.save()
    webhook_endpoint_set(user=user, url="https://example.com/hooks/vigencia")
    reminder_settings_set(line=claro_line, lead_days=[7], channels=["sms", "webhook"])
    user.phone = ""
    user.save()
    webhook_endpoint_delete(user=user)

    # when the reminder is due
    sent = reminders_send(at=lima(RESTRICTED_ON - timedelta(days=7)))

    # then it goes once, by email
    assert sent == 1
    assert _sent() == [(RESTRICTED_ON, 7, "email")]
    assert list(Notification.objects.values_list("channel", flat=True)) == ["email"]


def test_with_auto_renew_on_the_reminder_says_when_it_renews_and_with_what(claro_line):
    # given auto-renew on with Claro Max S/ 10, 3 days before the 2 May restriction
    from vigencia.catalog.models import Plan
    from vigencia.lines.autorenew import autorenew_set

    plan = Plan.objects.get(carrier=claro_line.carrier, code="max-10")
    autorenew_set(line=claro_line, enabled=True, plan=plan, days_before=3)

    # when the 7-day reminder goes out
    reminders_send(at=lima(RESTRICTED_ON - timedelta(days=7)))

    # then it tells the holder the day and plan auto-renew will use, before the one-tap link
    body = Notification.objects.get().context["body"]
    assert body.split("\n\n")[1] == (
        f"Auto-renew is on: on April 29, 2026 it renews with {plan.name} from your wallet, "
        "if it holds S/\xa010.00."
    )
    assert body.split("\n\n")[2].startswith("Recharge before then in one tap: ")
