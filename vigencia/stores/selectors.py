"""Reads: when a store is open, and which stores are nearest to a point."""

from __future__ import annotations

import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Avg, Count, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import ASin, Cos, Least, Radians, Sin, Sqrt
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.core.errors import InvalidInput, NotFound, PermissionDenied
from vigencia.core.money import Money
from vigencia.ledger.models import AccountKind, LedgerAccount, Posting
from vigencia.lines.models import Line
from vigencia.orders.models import OrderStatus
from vigencia.stores.hours import DayHours
from vigencia.stores.models import (
    SALE_PAYMENTS,
    Holiday,
    OpeningHours,
    PosPayment,
    Receipt,
    Shift,
    ShiftStatus,
    Store,
    StoreAgent,
    StoreService,
)

EARTH_RADIUS_M = 6_371_000.0
# Far enough to step over a long run of holidays; a store with no hours at all never opens.
NEXT_OPENING_HORIZON_DAYS = 31
MAX_LIMIT = 50
_FIRST_RADIUS_M = 2_000.0
_HALF_CIRCUMFERENCE_M = math.pi * EARTH_RADIUS_M


# --- opening hours ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A store's week of opening hours and its holidays, as instants in UTC.

    Wall times are read in the store's timezone, so a DST change moves the instants and not the
    hours; an opening at a wall time that does not exist (a spring-forward gap) starts when the clock
    reaches it. A holiday cancels the openings that start on that local date; an opening that began
    the evening before still runs past midnight."""

    tz: ZoneInfo
    hours: dict[int, list[tuple[time, time]]]
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def _instant(self, day: date, wall: time) -> datetime:
        return datetime.combine(day, wall, tzinfo=self.tz).astimezone(UTC)

    def openings(self, day: date) -> list[tuple[datetime, datetime]]:
        """The (start, end) instants of the openings that start on a local date."""
        if day in self.closed_dates:
            return []
        result = []
        for opens, closes in self.hours.get(day.weekday(), ()):
            closing_day = day if closes > opens else day + timedelta(days=1)
            result.append((self._instant(day, opens), self._instant(closing_day, closes)))
        return sorted(result)

    def open_at(self, at: datetime) -> bool:
        local_day = at.astimezone(self.tz).date()
        return any(
            start <= at < end
            for day in (local_day - timedelta(days=1), local_day)
            for start, end in self.openings(day)
        )

    def next_opening(self, at: datetime) -> datetime | None:
        """The first opening that starts at or after `at`, in the store's timezone."""
        local_day = at.astimezone(self.tz).date()
        for offset in range(NEXT_OPENING_HORIZON_DAYS + 1):
            for start, _end in self.openings(local_day + timedelta(days=offset)):
                if start >= at:
                    return start.astimezone(self.tz)
        return None


HolidayRow = tuple[int | None, date, bool]  # (store_id or None for every store, date, closed)


def _closed_dates(rows: Iterable[HolidayRow]) -> frozenset[date]:
    # A store's own row overrides the all-stores row of the same date.
    closed: dict[date, bool] = {}
    for _store_id, day, is_closed in sorted(rows, key=lambda row: row[0] is not None):
        closed[day] = is_closed
    return frozenset(day for day, is_closed in closed.items() if is_closed)


def _schedule(timezone: str, rows: Iterable[DayHours], holidays: Iterable[HolidayRow]) -> Schedule:
    hours: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in rows:
        hours.setdefault(weekday, []).append((opens, closes))
    return Schedule(tz=ZoneInfo(timezone), hours=hours, closed_dates=_closed_dates(holidays))


def _holidays_by_store(pks: list[int], *, at: datetime) -> dict[int | None, list[HolidayRow]]:
    found: dict[int | None, list[HolidayRow]] = {}
    first, last = _holiday_window(at)
    rows = Holiday.objects.filter(date__gte=first, date__lte=last).filter(
        Q(store__isnull=True) | Q(store__in=pks)
    )
    for row in rows.values_list("store_id", "date", "closed"):
        found.setdefault(row[0], []).append(row)
    return found


def _holiday_window(at: datetime) -> tuple[date, date]:
    day = at.astimezone(UTC).date()
    return day - timedelta(days=2), day + timedelta(days=NEXT_OPENING_HORIZON_DAYS + 2)


def store_schedules(stores: Iterable[Store], *, at: datetime) -> dict[int, Schedule]:
    """Each store's schedule around `at` (hours prefetched or not), one query for all the holidays."""
    stores = list(stores)
    holidays = _holidays_by_store([store.pk for store in stores], at=at)
    return {
        store.pk: _schedule(
            store.timezone,
            ((row.weekday, row.opens, row.closes) for row in store.hours.all()),
            holidays.get(None, []) + holidays.get(store.pk, []),
        )
        for store in stores
    }


def store_open_at(store: Store, at: datetime) -> bool:
    """Whether the store is open at the instant `at` (opening hours, midnight, holidays, DST)."""
    return store_schedules([store], at=at)[store.pk].open_at(at)


def store_next_opening(store: Store, at: datetime) -> datetime | None:
    """When the store next opens at or after `at`, in its timezone; None if not within a month."""
    return store_schedules([store], at=at)[store.pk].next_opening(at)


# --- the locator -------------------------------------------------------------------------------------


def _coordinate(raw: str | float | None, *, name: str, bound: float) -> float:
    try:
        value = float(raw) if raw is not None and len(str(raw)) <= 32 else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not -bound <= value <= bound:
        raise InvalidInput(
            _("Coordinates must be a latitude between -90 and 90 and a longitude between -180 and 180."),
            code="invalid_coordinates",
            details={"field": name},
        )
    return value


def coordinates_parse(lat: str | float | None, lng: str | float | None) -> tuple[float, float]:
    """(latitude, longitude) as floats; InvalidInput `invalid_coordinates` for text, NaN or out of range."""
    return _coordinate(lat, name="lat", bound=90), _coordinate(lng, name="lng", bound=180)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres on a sphere of the Earth's mean radius."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _distance_sql(lat: float, lng: float) -> Any:
    """The haversine distance in metres as a SQL expression (PostgreSQL, and SQLite's math functions)."""
    half_dlat = Sin((Radians(F("latitude")) - math.radians(lat)) / 2)
    half_dlng = Sin((Radians(F("longitude")) - math.radians(lng)) / 2)
    a = (
        half_dlat * half_dlat
        + math.cos(math.radians(lat)) * Cos(Radians(F("latitude"))) * half_dlng * half_dlng
    )
    return 2 * EARTH_RADIUS_M * ASin(Sqrt(Least(a, Value(1.0))))


def _bounding_box(lat: float, lng: float, radius_m: float) -> Q | None:
    """A lat/lng box holding every point within `radius_m`; None when that is the whole Earth."""
    if radius_m >= _HALF_CIRCUMFERENCE_M:
        return None
    angular = radius_m / EARTH_RADIUS_M
    lat_min, lat_max = lat - math.degrees(angular), lat + math.degrees(angular)
    if lat_min <= -90 or lat_max >= 90:
        return Q(latitude__gte=max(lat_min, -90), latitude__lte=min(lat_max, 90))  # a pole is inside
    spread = math.degrees(math.asin(min(1.0, math.sin(angular) / math.cos(math.radians(lat)))))
    box = Q(latitude__gte=lat_min, latitude__lte=lat_max)
    lng_min, lng_max = lng - spread, lng + spread
    if lng_min < -180:  # across the antimeridian: two ranges
        return box & (Q(longitude__gte=lng_min + 360) | Q(longitude__lte=lng_max))
    if lng_max > 180:
        return box & (Q(longitude__gte=lng_min) | Q(longitude__lte=lng_max - 360))
    return box & Q(longitude__gte=lng_min, longitude__lte=lng_max)


@dataclass(frozen=True)
class NearbyStore:
    store: Store
    distance_m: int
    open_now: bool
    opens_at: datetime | None  # when closed: the next opening, in the store's timezone
    carriers: list[tuple[str, str]]  # (code, name), by code
    services: list[str]
    hours: list[DayHours]


@dataclass
class _Loaded:
    store: Store
    carriers: list[tuple[str, str]] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    hours: list[DayHours] = field(default_factory=list)
    schedule: Schedule = field(default_factory=lambda: Schedule(tz=ZoneInfo("UTC"), hours={}))


def _related_sql(count: int) -> str:
    """One query for what the locator shows of `count` stores: carriers, services, hours and the
    holidays around the instant, as (store_id, kind, a, b) text rows (UNION ALL needs one type per
    column, so times and dates come as text)."""
    marks = ", ".join(["%s"] * count)
    through = Store.carriers.through._meta.db_table
    # Only table names from the models go into the text; every value is a parameter.
    return f"""
        SELECT sc.store_id, 'carrier', c.code, c.name
          FROM {through} sc JOIN {Carrier._meta.db_table} c ON c.id = sc.carrier_id
         WHERE sc.store_id IN ({marks})
        UNION ALL
        SELECT store_id, 'service', service, NULL FROM {StoreService._meta.db_table}
         WHERE store_id IN ({marks})
        UNION ALL
        SELECT store_id, CAST(weekday AS TEXT), CAST(opens AS TEXT), CAST(closes AS TEXT)
          FROM {OpeningHours._meta.db_table} WHERE store_id IN ({marks})
        UNION ALL
        SELECT store_id, CASE WHEN closed THEN 'closed' ELSE 'open' END, CAST(date AS TEXT), NULL
          FROM {Holiday._meta.db_table}
         WHERE date >= %s AND date <= %s AND (store_id IS NULL OR store_id IN ({marks}))
    """  # noqa: S608


def _load(pks: list[int], *, at: datetime, known: dict[int, Store]) -> dict[int, _Loaded]:
    """Stores with their carriers, services, hours and schedule, in one query (two for stores not
    yet read): the locator answers in a few milliseconds. `known` stores are not read again."""
    missing = [pk for pk in pks if pk not in known]
    stores = [known[pk] for pk in pks if pk in known]
    if missing:
        stores += list(Store.objects.filter(pk__in=missing))
    loaded = {store.pk: _Loaded(store) for store in stores}
    holidays: dict[int | None, list[HolidayRow]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_related_sql(len(pks)), [*pks, *pks, *pks, *_holiday_window(at), *pks])
        rows = cursor.fetchall()
    for store_id, kind, first, second in rows:
        if kind == "carrier":
            loaded[store_id].carriers.append((first, second))
        elif kind == "service":
            loaded[store_id].services.append(first)
        elif kind in ("closed", "open"):
            holidays.setdefault(store_id, []).append((store_id, date.fromisoformat(first), kind == "closed"))
        else:
            loaded[store_id].hours.append((int(kind), time.fromisoformat(first), time.fromisoformat(second)))
    for pk, item in loaded.items():
        item.carriers.sort()
        item.services.sort()
        item.hours.sort()
        item.schedule = _schedule(
            item.store.timezone, item.hours, holidays.get(None, []) + holidays.get(pk, [])
        )
    return loaded


def _candidates(*, carrier: Carrier | None, service: str | None) -> QuerySet[Store]:
    queryset = Store.objects.filter(active=True)
    if carrier is not None:
        queryset = queryset.filter(carriers=carrier)
    if service is not None:
        queryset = queryset.filter(services__service=service)
    return queryset


Ranked = list[tuple[float, _Loaded]]  # (distance in metres, store), nearest first


def _nearest_generic(
    lat: float,
    lng: float,
    *,
    limit: int,
    open_now: bool,
    carrier: Carrier | None,
    service: str | None,
    at: datetime,
) -> Ranked:
    """Any database: a bounding box on the indexed latitude/longitude prefilters; the database orders
    the stores in it by haversine distance and returns only the nearest. The box widens until the
    circle it encloses holds enough stores, so the answer is exact."""
    candidates = _candidates(carrier=carrier, service=service).annotate(distance=_distance_sql(lat, lng))
    loaded: dict[int, _Loaded] = {}
    known: dict[int, Store] = {}

    def load(pks: list[int]) -> None:
        missing = [pk for pk in pks if pk not in loaded]
        if missing:
            loaded.update(_load(missing, at=at, known=known))

    radius = _FIRST_RADIUS_M
    while True:
        box = _bounding_box(lat, lng, radius)
        in_box = (candidates.filter(box) if box is not None else candidates).order_by("distance", "pk")
        if open_now:
            # Open or not is decided in Python: then the whole box is read, in order.
            rows = list(in_box.values_list("pk", "latitude", "longitude"))
        else:
            nearest = list(in_box[:limit])
            known.update((store.pk, store) for store in nearest)
            rows = [(store.pk, store.latitude, store.longitude) for store in nearest]
        ranked = sorted((haversine_m(lat, lng, row_lat, row_lng), pk) for pk, row_lat, row_lng in rows)
        # Inside the box's inscribed circle the order is final; beyond it a nearer store may hide.
        settled = ranked if box is None else [item for item in ranked if item[0] <= radius]
        if open_now:
            chosen = []
            for start in range(0, len(settled), 2 * limit):
                chunk = settled[start : start + 2 * limit]
                load([pk for _distance, pk in chunk])
                chosen += [item for item in chunk if loaded[item[1]].schedule.open_at(at)]
                if len(chosen) >= limit:
                    break
        else:
            chosen = settled
        chosen = chosen[:limit]
        if len(chosen) >= limit or box is None:
            break
        if not open_now and len(ranked) >= limit:
            # The nearest `limit` are known but the last lies beyond the circle: widen just to it.
            radius = max(ranked[limit - 1][0] * 1.0001, radius * 1.01)
        else:
            # Too few stores: widen by what the density seen so far suggests, at most 8 times.
            radius *= 8 if not ranked else min(8.0, max(2.0, 1.5 * math.sqrt(limit / len(ranked))))
    load([pk for _distance, pk in chosen])
    return [(distance, loaded[pk]) for distance, pk in chosen]


# Each store as a point on the unit sphere. The straight line between two such points grows with the
# great-circle distance, so a GiST index on this expression (migration 0004, the same text) hands out
# stores nearest first with `<->`.
EARTH_POINT_SQL = (
    "cube(ARRAY[cos(radians(latitude)) * cos(radians(longitude)), "
    "cos(radians(latitude)) * sin(radians(longitude)), sin(radians(latitude))])"
)


def _earth_point(lat: float, lng: float) -> list[float]:
    phi, lam = math.radians(lat), math.radians(lng)
    return [math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)]


@cache
def _nearest_sql() -> str:
    """One query for the nearest active stores (in index order, `LIMIT`; a NULL carrier or
    service filters nothing) and everything the locator shows of each: carriers, services, hours and
    the holidays around the instant, as text arrays."""
    store, columns = Store._meta.db_table, ", ".join(f.column for f in Store._meta.concrete_fields)
    through, service = Store.carriers.through._meta.db_table, StoreService._meta.db_table
    # Only table and column names from the models go into the text; every value is a parameter.
    return f"""
        SELECT {columns},
               ARRAY(SELECT ARRAY[c.code, c.name]
                       FROM {through} sc JOIN {Carrier._meta.db_table} c ON c.id = sc.carrier_id
                      WHERE sc.store_id = near.id ORDER BY c.code),
               ARRAY(SELECT service FROM {service} WHERE store_id = near.id ORDER BY service),
               ARRAY(SELECT ARRAY[weekday::text, opens::text, closes::text]
                       FROM {OpeningHours._meta.db_table} WHERE store_id = near.id ORDER BY weekday, opens),
               ARRAY(SELECT ARRAY[store_id::text, date::text, closed::text]
                       FROM {Holiday._meta.db_table}
                      WHERE date >= %(first)s AND date <= %(last)s
                        AND (store_id IS NULL OR store_id = near.id))
          FROM (SELECT {columns} FROM {store} s
                 WHERE s.active
                   AND (%(carrier)s::bigint IS NULL OR EXISTS (
                        SELECT 1 FROM {through} sc WHERE sc.store_id = s.id AND sc.carrier_id = %(carrier)s))
                   AND (%(service)s::text IS NULL OR EXISTS (
                        SELECT 1 FROM {service} ss WHERE ss.store_id = s.id AND ss.service = %(service)s))
                 ORDER BY {EARTH_POINT_SQL} <-> cube(%(point)s::float8[])
                 LIMIT %(batch)s) near
    """  # noqa: S608


def _nearest_postgresql(
    lat: float,
    lng: float,
    *,
    limit: int,
    open_now: bool,
    carrier: Carrier | None,
    service: str | None,
    at: datetime,
) -> Ranked:
    """PostgreSQL: the GiST index walks the stores nearest first, so one query reads exactly the
    `limit` nearest with all they show; `open_now` reads further (three times, then twelve times
    `limit`, ...) until enough of them are open."""
    first, last = _holiday_window(at)
    params: dict[str, Any] = {"first": first, "last": last, "point": _earth_point(lat, lng)}
    params |= {"carrier": carrier.pk if carrier else None, "service": service}
    names = [f.attname for f in Store._meta.concrete_fields]
    batch = limit * (3 if open_now else 1)
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_nearest_sql(), params | {"batch": batch})
            rows = cursor.fetchall()
        chosen: Ranked = []
        for *values, carriers, services, hours, holidays in rows:
            item = _Loaded(
                Store.from_db(connection.alias, names, values),
                carriers=[(code, name) for code, name in carriers],
                services=services,
                hours=[
                    (int(day), time.fromisoformat(opens), time.fromisoformat(closes))
                    for day, opens, closes in hours
                ],
            )
            item.schedule = _schedule(
                item.store.timezone,
                item.hours,
                [
                    (int(store_id) if store_id else None, date.fromisoformat(day), closed == "true")
                    for store_id, day, closed in holidays
                ],
            )
            if not open_now or item.schedule.open_at(at):
                chosen.append((haversine_m(lat, lng, item.store.latitude, item.store.longitude), item))
        if len(chosen) >= limit or len(rows) < batch:
            break
        # Not enough of them open: read again, four times as far (the index walk is cheap).
        batch *= 4
    chosen.sort(key=lambda pair: (pair[0], pair[1].store.pk))
    return chosen[:limit]


def store_nearest(
    *,
    lat: float,
    lng: float,
    limit: int = 10,
    open_now: bool = False,
    carrier: Carrier | None = None,
    service: str | None = None,
    at: datetime | None = None,
) -> list[NearbyStore]:
    """The `limit` active stores nearest to (lat, lng) by great-circle distance, nearest first, with
    distance and open state; `open_now` keeps only the stores open at `at` (default now). On
    PostgreSQL one query (a nearest-neighbour index); elsewhere a widening bounding box."""
    at = at or clock.now()
    nearest = _nearest_postgresql if connection.vendor == "postgresql" else _nearest_generic
    ranked = nearest(
        lat,
        lng,
        limit=max(1, min(limit, MAX_LIMIT)),
        open_now=open_now,
        carrier=carrier,
        service=service,
        at=at,
    )
    result = []
    for distance, item in ranked:
        is_open = item.schedule.open_at(at)
        result.append(
            NearbyStore(
                store=item.store,
                distance_m=round(distance),
                open_now=is_open,
                opens_at=None if is_open else item.schedule.next_opening(at),
                carriers=item.carriers,
                services=item.services,
                hours=item.hours,
            )
        )
    return result


@dataclass(frozen=True)
class District:
    city: str
    district: str
    latitude: float
    longitude: float

    @property
    def key(self) -> str:
        return f"{self.district}, {self.city}"


def store_districts() -> list[District]:
    """The districts that have active stores, each at the mean position of its stores."""
    rows = (
        Store.objects.filter(active=True)
        .exclude(district="")
        .values("city", "district")
        .annotate(latitude=Avg("latitude"), longitude=Avg("longitude"))
        .order_by("city", "district")
    )
    return [District(**row) for row in rows]


def store_list() -> QuerySet[Store]:
    """Active stores with their carriers, services and hours prefetched."""
    return Store.objects.filter(active=True).prefetch_related(
        Prefetch("carriers", queryset=Carrier.objects.order_by("code")),
        Prefetch("services", queryset=StoreService.objects.order_by("service")),
        "hours",
    )


# --- the counter -----------------------------------------------------------------------------------

WALK_IN_EMAIL = "walk-in@stores.vigencia.invalid"


def store_of_agent(*, user: User) -> StoreAgent:
    """Where this user sells; PermissionDenied `not_a_store_agent` for anyone who is not an active
    agent of an active store."""
    assignment = (
        StoreAgent.objects.select_related("store").filter(user=user, active=True, store__active=True).first()
        if user.is_authenticated
        else None
    )
    if assignment is None:
        raise PermissionDenied(_("Only a store's agents can use the counter."), code="not_a_store_agent")
    return assignment


def shift_current(*, agent: User) -> Shift | None:
    return Shift.objects.select_related("store").filter(agent=agent, status=ShiftStatus.OPEN).first()


def shift_cash_taken(shift: Shift) -> Money:
    """Cash the shift's drawer took in sales (the drawer's balance is negative while it holds cash)."""
    account = LedgerAccount.objects.filter(code=f"cash_drawer:shift-{shift.pk}:{shift.currency}").first()
    return Money(-(account.balance_minor if account else 0), shift.currency)


def shift_sales(shift: Shift) -> QuerySet[Receipt]:
    return shift.receipts.select_related("order__plan").order_by("sequence")


def receipt_cash_owed(receipt: Receipt) -> Money | None:
    """What the store owes the customer of this receipt: what they paid in cash or by card for a
    renewal the carrier declined (the pipeline moved it to the money stores owe back), until the agent
    records that it was given back (cash from the drawer, a card refund on the terminal); else None."""
    order = receipt.order
    declined = order.status == OrderStatus.REFUNDED and order.failure_code == "carrier_declined"
    if receipt.payment not in SALE_PAYMENTS or not declined or receipt.cash_returned_at is not None:
        return None
    # Sales declined before their refunds went there had them credited to the payer's wallet:
    # nothing is owed at the counter for those.
    owed_at_counter = Posting.objects.filter(
        transaction__reference=f"order:{order.pk}",
        transaction__kind="order_refund",
        account__kind=AccountKind.STORE_CASH_OWED,
    ).exists()
    return order.total if owed_at_counter else None


def pos_lines_of_number(*, msisdn: str) -> list[Line]:
    """Every live registration of a number (E.164), any carrier and holder, oldest first."""
    return list(
        Line.objects.select_related("carrier", "owner")
        .filter(msisdn=msisdn, removed_at__isnull=True)
        .order_by("created_at", "id")
    )


def pos_line_find(*, msisdn: str, carrier: Carrier) -> Line | None:
    """The line a counter sale renews: the oldest registration by a subscriber, else the walk-in
    holder's."""
    lines = [line for line in pos_lines_of_number(msisdn=msisdn) if line.carrier_id == carrier.pk]
    subscribers = [line for line in lines if line.owner.email != WALK_IN_EMAIL]
    chosen = subscribers or lines
    return chosen[0] if chosen else None


def receipt_for_agent(*, agent: User, number: str) -> Receipt:
    """A receipt of the agent's store (agents reprint their store's receipts, nobody else's)."""
    store = store_of_agent(user=agent).store
    receipt = (
        Receipt.objects.select_related("store", "agent", "order__plan", "order__line__carrier", "shift")
        .filter(store=store, number=number)
        .first()
    )
    if receipt is None:
        raise NotFound(_("No such receipt at this store."), code="receipt_not_found")
    return receipt


def receipt_verify(*, number: str, code: str) -> Receipt | None:
    """The receipt when both its number and its code match, else None (without telling which)."""
    if not isinstance(number, str) or not isinstance(code, str) or len(number) > 60 or len(code) > 16:
        return None
    receipt = (
        Receipt.objects.select_related("store", "order__plan", "order__line__carrier")
        .filter(number=number.strip())
        .first()
    )
    if receipt is None or not hmac.compare_digest(receipt.verification_code, code.strip().upper()):
        return None
    return receipt


@dataclass(frozen=True)
class ShiftTotals:
    """What a shift sold, each receipt once. Renewals sold in cash and by card are the sales taken
    (all paid at the counter); those the carrier declined are counted again apart and netted out;
    recharge codes redeemed moved no money through the counter. The net cash is what the shift's
    drawer took in the ledger: cash sales less the cash given back from it (for this shift's sales or
    an earlier one's)."""

    cash_sales: int
    cash_taken: Money
    card_sales: int
    card_taken: Money
    declined: int
    cash_declined: Money  # owed back or given back
    card_declined: Money  # refunded to the holder's wallet
    cash_given_back: Money  # from this shift's drawer
    vouchers: int

    @property
    def renewals(self) -> int:
        return self.cash_sales + self.card_sales - self.declined

    @property
    def net_cash(self) -> Money:
        return self.cash_taken - self.cash_given_back

    @property
    def net_card(self) -> Money:
        return self.card_taken - self.card_declined


def shift_totals(shift: Shift) -> ShiftTotals:
    """The shift's totals from its receipts (one query) and the cash given back from its drawer (one)."""
    declined = Q(order__status=OrderStatus.REFUNDED)
    cash, card = Q(payment=PosPayment.CASH), Q(payment=PosPayment.CARD)
    amount = "order__amount_minor"
    row = Receipt.objects.filter(shift=shift).aggregate(
        cash_sales=Count("pk", filter=cash),
        cash_taken=Sum(amount, filter=cash, default=0),
        card_sales=Count("pk", filter=card),
        card_taken=Sum(amount, filter=card, default=0),
        declined=Count("pk", filter=(cash | card) & declined),
        cash_declined=Sum(amount, filter=cash & declined, default=0),
        card_declined=Sum(amount, filter=card & declined, default=0),
        vouchers=Count("pk", filter=Q(payment=PosPayment.VOUCHER)),
    )
    given_back = Receipt.objects.filter(cash_returned_shift=shift).aggregate(total=Sum(amount, default=0))[
        "total"
    ]
    currency = shift.currency
    return ShiftTotals(
        cash_sales=row["cash_sales"],
        cash_taken=Money(row["cash_taken"], currency),
        card_sales=row["card_sales"],
        card_taken=Money(row["card_taken"], currency),
        declined=row["declined"],
        cash_declined=Money(row["cash_declined"], currency),
        card_declined=Money(row["card_declined"], currency),
        cash_given_back=Money(given_back, currency),
        vouchers=row["vouchers"],
    )
