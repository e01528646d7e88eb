"""The computed timeline of a line under each kind of carrier policy (pure: no sweep)."""

from __future__ import annotations

from datetime import date

import pytest

from vigencia.catalog.models import Carrier
from vigencia.lines.lifecycle import TimelineEvent, line_status_due, line_timeline
from vigencia.lines.models import Line, LineStatus

pytestmark = pytest.mark.django_db


def carrier(code: str) -> Carrier:
    return Carrier.objects.get(code=code)


def test_since_recharge_counts_from_the_last_recharge(demo_catalog):
    # given a Claro line recharged on 1 January (restricted after 60 days, cut off at 270, +90)
    line = Line(carrier=carrier("claro-pe"), last_recharge_at=date(2026, 1, 1))

    # when its timeline is computed in February
    timeline = line_timeline(line, today=date(2026, 2, 1))

    # then each status starts the day after its last good day
    assert timeline.events == [
        TimelineEvent("restricted", date(2026, 3, 3)),
        TimelineEvent("notice", date(2026, 9, 14)),
        TimelineEvent("suspended", date(2026, 9, 29)),
        TimelineEvent("recycled", date(2026, 12, 28)),
    ]
    assert timeline.next_deadline == TimelineEvent("restricted", date(2026, 3, 3))
    assert timeline.number_lost_at == date(2026, 12, 28)


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2026, 3, 2), LineStatus.ACTIVE),  # the last good day
        (date(2026, 3, 3), LineStatus.RESTRICTED),
        (date(2026, 9, 28), LineStatus.RESTRICTED),
        (date(2026, 9, 29), LineStatus.SUSPENDED),
        (date(2026, 12, 27), LineStatus.SUSPENDED),
        (date(2026, 12, 28), LineStatus.RECYCLED),
    ],
)
def test_status_due_changes_the_day_after_each_last_good_day(demo_catalog, today, status):
    line = Line(carrier=carrier("claro-pe"), last_recharge_at=date(2026, 1, 1))

    assert line_status_due(line, today=today) == status


def test_unused_balance_stretches_life_up_to_the_carriers_maximum(demo_catalog):
    # given two Entel lines (cut off at 60 days, up to 210 with balance), one with balance left
    entel = carrier("entel-pe")
    without = Line(carrier=entel, last_recharge_at=date(2026, 1, 1), balance_minor=0)
    with_balance = Line(carrier=entel, last_recharge_at=date(2026, 1, 1), balance_minor=150)

    # then only the one with balance lives 210 days
    assert line_timeline(without, today=date(2026, 1, 2)).events[-2:] == [
        TimelineEvent("suspended", date(2026, 3, 3)),
        TimelineEvent("recycled", date(2026, 6, 1)),
    ]
    assert line_timeline(with_balance, today=date(2026, 1, 2)).events[-2:] == [
        TimelineEvent("suspended", date(2026, 7, 31)),
        TimelineEvent("recycled", date(2026, 10, 29)),
    ]


def test_chargeable_use_counts_from_the_later_of_use_and_recharge(demo_catalog):
    # given a giffgaff line (any chargeable use every 180 days, recycled at once) used on 1 February
    line = Line(
        carrier=carrier("giffgaff-uk"),
        last_recharge_at=date(2025, 12, 1),
        last_chargeable_use_at=date(2026, 2, 1),
    )

    timeline = line_timeline(line, today=date(2026, 2, 1))

    # then the number is recycled the day after 180 days, with no cut-off in between
    assert timeline.events == [
        TimelineEvent("notice", date(2026, 7, 2)),
        TimelineEvent("recycled", date(2026, 8, 1)),
    ]
    assert timeline.next_deadline == TimelineEvent("recycled", date(2026, 8, 1))


def test_validity_per_topup_counts_from_valid_until(demo_catalog):
    # given a CMHK line valid until 30 June (recycled 30 days after expiry)
    line = Line(carrier=carrier("cmhk-hk"), last_recharge_at=date(2026, 1, 1), valid_until=date(2026, 6, 30))

    timeline = line_timeline(line, today=date(2026, 6, 30))

    assert timeline.events == [
        TimelineEvent("notice", date(2026, 6, 17)),
        TimelineEvent("suspended", date(2026, 7, 1)),
        TimelineEvent("recycled", date(2026, 7, 31)),
    ]
    assert line_status_due(line, today=date(2026, 6, 30)) == LineStatus.ACTIVE


def test_validity_per_topup_without_valid_until_uses_the_last_top_up(demo_catalog):
    line = Line(carrier=carrier("cmhk-hk"), last_recharge_at=date(2026, 1, 1))

    assert line_timeline(line, today=date(2026, 1, 1)).next_deadline == TimelineEvent(
        "suspended", date(2026, 7, 1)
    )


def test_monthly_plan_is_in_arrears_the_day_after_the_paid_through_date(demo_catalog):
    # given a China Mobile keep-number line paid through 31 January (recycled after 90 days in arrears)
    line = Line(carrier=carrier("china-mobile-cn"), valid_until=date(2026, 1, 31))

    timeline = line_timeline(line, today=date(2026, 1, 31))

    assert timeline.events == [
        TimelineEvent("notice", date(2026, 1, 25)),
        TimelineEvent("suspended", date(2026, 2, 1)),
        TimelineEvent("recycled", date(2026, 5, 2)),
    ]
    assert timeline.number_lost_at == date(2026, 5, 2)


def test_a_line_with_no_known_dates_has_an_empty_timeline_and_keeps_its_status(demo_catalog):
    line = Line(carrier=carrier("claro-pe"), status=LineStatus.RESTRICTED)

    timeline = line_timeline(line, today=date(2026, 1, 1))

    assert (timeline.events, timeline.next_deadline, timeline.number_lost_at) == ([], None, None)
    assert line_status_due(line, today=date(2026, 1, 1)) == LineStatus.RESTRICTED


def test_a_deadline_long_passed_means_the_number_is_lost_and_nothing_is_next(demo_catalog):
    # given a line added with a last recharge years ago
    line = Line(carrier=carrier("bitel-pe"), last_recharge_at=date(1990, 5, 1))

    timeline = line_timeline(line, today=date(2026, 1, 1))

    assert timeline.next_deadline is None
    assert timeline.number_lost_at == date(1991, 4, 12)
    assert line_status_due(line, today=date(2026, 1, 1)) == LineStatus.RECYCLED


def test_dates_at_the_end_of_the_calendar_do_not_crash(demo_catalog):
    # given a valid-until date near the largest date Python knows
    line = Line(carrier=carrier("cmhk-hk"), valid_until=date(9999, 12, 1))

    timeline = line_timeline(line, today=date(2026, 1, 1))

    # then the later events saturate at the calendar's end instead of overflowing
    assert timeline.events == [
        TimelineEvent("notice", date(9999, 11, 18)),
        TimelineEvent("suspended", date(9999, 12, 2)),
        TimelineEvent("recycled", date.max),
    ]
    assert line_status_due(line, today=date(2026, 1, 1)) == LineStatus.ACTIVE


def test_a_policy_change_moves_the_timeline(demo_catalog):
    # given a Bitel line and its timeline under the 255-day rule
    bitel = carrier("bitel-pe")
    line = Line(carrier=bitel, last_recharge_at=date(2026, 1, 1))
    assert line_timeline(line, today=date(2026, 1, 1)).next_deadline == TimelineEvent(
        "suspended", date(2026, 9, 14)
    )

    # when the operator changes the rule to 240 days and adds a restriction after 30
    Carrier.objects.filter(pk=bitel.pk).update(cutoff_after_days=240, restrict_after_days=30)
    line.carrier = carrier("bitel-pe")

    # then the recomputed timeline follows the new rule
    timeline = line_timeline(line, today=date(2026, 1, 1))
    assert timeline.next_deadline == TimelineEvent("restricted", date(2026, 2, 1))
    assert timeline.number_lost_at == date(2026, 11, 28)
