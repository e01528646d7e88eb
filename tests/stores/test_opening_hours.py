"""Open or closed at an instant, and the next opening: past midnight, holidays, other zones, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from vigencia.core.errors import InvalidInput
from vigencia.stores.hours import hours_format, hours_parse
from vigencia.stores.models import Holiday
from vigencia.stores.selectors import store_next_opening, store_open_at

from .conftest import lima

# 2026-03-06 is a Friday.
FRIDAY = (2026, 3, 6)
SATURDAY = (2026, 3, 7)


@pytest.mark.django_db
def test_a_night_opening_runs_past_midnight(make_store):
    # given a bar-hours store: Friday 20:00 to Saturday 02:00
    store = make_store(hours="fri 20:00-02:00")

    # then
    assert store_open_at(store, lima(*FRIDAY, 19, 59)) is False
    assert store_open_at(store, lima(*FRIDAY, 20, 0)) is True
    assert store_open_at(store, lima(*FRIDAY, 23, 59)) is True
    assert store_open_at(store, lima(*SATURDAY, 1, 59)) is True
    assert store_open_at(store, lima(*SATURDAY, 2, 0)) is False
    assert store_next_opening(store, lima(*SATURDAY, 2, 0)) == lima(2026, 3, 13, 20, 0)
    assert store_next_opening(store, lima(*FRIDAY, 12, 0)) == lima(*FRIDAY, 20, 0)


@pytest.mark.django_db
def test_a_holiday_closes_every_store_but_not_the_night_before(make_store):
    # given Friday night hours, and Saturday a holiday for all stores
    store = make_store(hours="fri-sat 20:00-02:00")
    Holiday.objects.create(date=date(*SATURDAY), name="Fiesta")

    # then: Friday's opening still runs past midnight into the holiday; Saturday's does not happen
    assert store_open_at(store, lima(*SATURDAY, 1, 0)) is True
    assert store_open_at(store, lima(*SATURDAY, 21, 0)) is False
    assert store_next_opening(store, lima(*SATURDAY, 3, 0)) == lima(2026, 3, 13, 20, 0)


@pytest.mark.django_db
def test_a_stores_own_row_overrides_the_all_stores_holiday(make_store):
    # given a public holiday, one store that opens on it anyway, and one that closes the day after
    open_anyway = make_store(hours="daily 09:00-18:00")
    ordinary = make_store(hours="daily 09:00-18:00")
    Holiday.objects.create(date=date(*FRIDAY), name="Fiesta")
    Holiday.objects.create(date=date(*FRIDAY), store=open_anyway, closed=False)
    Holiday.objects.create(date=date(*SATURDAY), store=ordinary, name="Inventario")

    # then
    assert store_open_at(open_anyway, lima(*FRIDAY, 12, 0)) is True
    assert store_open_at(ordinary, lima(*FRIDAY, 12, 0)) is False
    assert store_next_opening(ordinary, lima(*FRIDAY, 12, 0)) == lima(2026, 3, 8, 9, 0)
    assert store_open_at(open_anyway, lima(*SATURDAY, 12, 0)) is True


@pytest.mark.django_db
def test_hours_are_read_in_the_stores_timezone(make_store):
    # given a store in Shanghai open 09:00-18:00 on weekdays
    store = make_store(31.23, 121.47, hours="mon-fri 09:00-18:00", timezone="Asia/Shanghai")
    shanghai = ZoneInfo("Asia/Shanghai")

    # then: Friday 21:00 in Lima is Saturday 10:00 in Shanghai: closed until Monday 09:00 there
    assert store_open_at(store, lima(2026, 3, 5, 21, 0)) is True  # Friday 10:00 in Shanghai
    assert store_open_at(store, lima(*FRIDAY, 21, 0)) is False
    opens = store_next_opening(store, lima(*FRIDAY, 21, 0))
    assert opens == datetime(2026, 3, 9, 9, 0, tzinfo=shanghai)
    assert opens is not None
    assert opens.isoformat() == "2026-03-09T09:00:00+08:00"


@pytest.mark.django_db
def test_daylight_saving_moves_the_instants_not_the_hours(make_store):
    # given a New York store open 09:00-17:00 daily, and one open 01:00-03:00 across the spring gap
    store = make_store(40.71, -74.0, hours="daily 09:00-17:00", timezone="America/New_York")
    night = make_store(40.72, -74.0, hours="daily 01:00-03:00", timezone="America/New_York")

    # then: on 2026-03-08 clocks go 02:00 EST -> 03:00 EDT; 09:00 EDT is 13:00 UTC (14:00 UTC before)
    assert store_open_at(store, datetime(2026, 3, 7, 13, 30, tzinfo=UTC)) is False  # 08:30 EST
    assert store_open_at(store, datetime(2026, 3, 8, 13, 30, tzinfo=UTC)) is True  # 09:30 EDT
    assert store_next_opening(store, datetime(2026, 3, 8, 0, 0, tzinfo=UTC)).isoformat() == (  # type: ignore[union-attr]
        "2026-03-08T09:00:00-04:00"
    )
    # the night opening lasts one hour that night: 01:00 EST (06:00 UTC) to 03:00 EDT (07:00 UTC)
    assert store_open_at(night, datetime(2026, 3, 8, 6, 30, tzinfo=UTC)) is True
    assert store_open_at(night, datetime(2026, 3, 8, 7, 0, tzinfo=UTC)) is False


@pytest.mark.django_db
def test_all_day_and_never(make_store):
    always = make_store(hours="daily 00:00-24:00")
    never = make_store(hours="")

    assert store_open_at(always, lima(*SATURDAY, 3, 17)) is True
    assert store_open_at(never, lima(*SATURDAY, 12, 0)) is False
    assert store_next_opening(never, lima(*SATURDAY, 12, 0)) is None


def test_hours_are_written_the_way_people_write_them():
    assert hours_parse("mon-fri 09:00-20:00; sat 10:00-14:00; sun closed") == [
        *[(day, time(9), time(20)) for day in range(5)],
        (5, time(10), time(14)),
    ]
    assert hours_parse("Vie-Lun 20:00-24:00") == [(day, time(20), time(0)) for day in (0, 4, 5, 6)]
    assert hours_format(hours_parse("lunes-viernes 09:00-13:00, 14:30-18:30; sáb 09:00-13:00")) == (
        "Mon-Fri 09:00-13:00 14:30-18:30; Sat 09:00-13:00"
    )


def test_hours_are_shown_in_the_readers_language():
    rows = hours_parse("mon-fri 09:00-20:00; sun 10:00-14:00")

    with translation.override("es"):
        assert hours_format(rows, localized=True) == "lun-vie 09:00-20:00; dom 10:00-14:00"
    with translation.override("zh-hans"):
        assert hours_format(rows, localized=True) == "星期一-星期五 09:00-20:00; 星期日 10:00-14:00"
    # the written form stays the one the CSV import reads
    assert hours_parse(hours_format(rows)) == rows


@pytest.mark.parametrize(
    "text",
    [
        "mon 9-20",
        "funday 09:00-10:00",
        "mon 24:00-10:00",
        "mon 09:60-10:00",
        "09:00-10:00",
        "mon",
        "mon 09:00-10:00; mon 09:00-11:00",
    ],
)
def test_unreadable_hours_are_refused(text):
    with pytest.raises(InvalidInput) as refused:
        hours_parse(text)

    assert refused.value.code == "invalid_hours"
