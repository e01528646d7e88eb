"""Writes: stores saved one by one or imported from a CSV file."""

from __future__ import annotations

import csv
import functools
import io
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from vigencia.catalog.models import Carrier
from vigencia.core.errors import InvalidInput
from vigencia.stores.hours import DayHours, hours_parse
from vigencia.stores.models import DEFAULT_TIMEZONE, OpeningHours, Service, Store, StoreService
from vigencia.stores.selectors import coordinates_parse

CSV_REQUIRED_COLUMNS = (
    "name",
    "address",
    "district",
    "city",
    "lat",
    "lng",
    "carriers",
    "services",
    "phone",
    "hours",
)
CSV_OPTIONAL_COLUMNS = ("code", "timezone", "active")
MAX_CSV_BYTES = 20 * 1024 * 1024
_EXTRA = "\x00extra"  # where the csv module puts fields beyond the header; no header can be named so


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _text(value: str | None, *, field: str, max_length: int, required: bool = True) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise InvalidInput(
            _("%(field)s is required.") % {"field": field}, code="required", details={"field": field}
        )
    if len(text) > max_length or "\x00" in text:
        raise InvalidInput(
            _("%(field)s is longer than %(max)s characters.") % {"field": field, "max": max_length},
            code="too_long",
            details={"field": field},
        )
    return text


def _phone(raw: str) -> str:
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, "PE")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or len(text) > 32 or not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            _("%(phone)s is not a valid phone number.") % {"phone": text},
            code="invalid_phone",
            details={"field": "phone"},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _timezone(name: str) -> str:
    name = (name or "").strip() or DEFAULT_TIMEZONE
    if name not in _timezones():
        raise InvalidInput(
            _("%(name)s is not a timezone such as America/Lima.") % {"name": name[:64]},
            code="invalid_timezone",
            details={"field": "timezone"},
        )
    return name


def _services(codes: Iterable[str]) -> list[str]:
    codes = sorted({code.strip().lower() for code in codes if code.strip()})
    unknown = [code for code in codes if code not in Service.values]
    if unknown:
        raise InvalidInput(
            _("Unknown service %(codes)s; use %(known)s.")
            % {"codes": ", ".join(unknown)[:100], "known": ", ".join(Service.values)},
            code="unknown_service",
            details={"field": "services"},
        )
    return codes


def _carriers(codes: Iterable[str]) -> list[Carrier]:
    codes = sorted({code.strip().lower() for code in codes if code.strip()})
    if not codes:
        raise InvalidInput(_("Name at least one carrier."), code="required", details={"field": "carriers"})
    carriers = list(Carrier.objects.filter(code__in=codes).order_by("code"))
    unknown = sorted(set(codes) - {carrier.code for carrier in carriers})
    if unknown:
        raise InvalidInput(
            _("Unknown carrier %(codes)s.") % {"codes": ", ".join(unknown)[:100]},
            code="unknown_carrier",
            details={"field": "carriers"},
        )
    return carriers


@transaction.atomic
def store_upsert(
    *,
    name: str,
    address: str,
    city: str,
    latitude: Any,
    longitude: Any,
    carrier_codes: Iterable[str],
    district: str = "",
    code: str = "",
    timezone: str = DEFAULT_TIMEZONE,
    phone: str = "",
    services: Iterable[str] = (),
    hours: Iterable[DayHours] = (),
    active: bool = True,
) -> tuple[Store, bool]:
    """Create or update the store known by `code` (or by name and address when it has no code) and
    replace its carriers, services and opening hours. Idempotent: the same input twice leaves one
    store as it was. Validates everything before writing; locks the store's row while it changes.
    Returns the store and whether it was created."""
    values = dict(
        name=_text(name, field="name", max_length=120),
        address=_text(address, field="address", max_length=200),
        district=_text(district, field="district", max_length=80, required=False),
        city=_text(city, field="city", max_length=80),
        timezone=_timezone(timezone),
        phone=_phone(phone),
        active=active,
    )
    values["latitude"], values["longitude"] = coordinates_parse(latitude, longitude)
    code = _text(code, field="code", max_length=40, required=False)
    carriers = _carriers(carrier_codes)
    offered = _services(services)
    hours = list(hours)

    same = Q(code=code) if code else Q(name=values["name"], address=values["address"], code="")
    store = Store.objects.select_for_update().filter(same).first()
    created = False
    if store is None:
        try:
            with transaction.atomic():
                store = Store.objects.create(code=code, **values)
            created = True
        except IntegrityError:
            # A concurrent import created it first (or another store has this name and address).
            store = Store.objects.select_for_update().filter(same).first()
            if store is None:
                raise InvalidInput(
                    _("Another store already has this name and address."),
                    code="store_exists",
                    details={"field": "name"},
                )
    if not created:
        for key, value in values.items():
            setattr(store, key, value)
        try:
            with transaction.atomic():
                store.save()
        except IntegrityError:
            raise InvalidInput(
                _("Another store already has this name and address."),
                code="store_exists",
                details={"field": "name"},
            )
    store.carriers.set(carriers)
    StoreService.objects.filter(store=store).exclude(service__in=offered).delete()
    StoreService.objects.bulk_create(
        [StoreService(store=store, service=service) for service in offered], ignore_conflicts=True
    )
    OpeningHours.objects.filter(store=store).delete()
    OpeningHours.objects.bulk_create(
        [OpeningHours(store=store, weekday=day, opens=opens, closes=closes) for day, opens, closes in hours]
    )
    return store, created


# --- CSV import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


def stores_csv_read(*, data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The rows of a stores CSV with their line numbers. Refuses, before anything is written, a file
    that is not UTF-8, not CSV, too large, or lacks a required column."""
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(_("The file is larger than 20 MB."), code="file_too_large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            _("The file is not UTF-8 text (byte %(position)s). Save it as “CSV UTF-8” and try again.")
            % {"position": error.start},
            code="bad_encoding",
        )
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=_EXTRA, restval="")
    try:
        header = [column.strip().lower() for column in reader.fieldnames or []]
        reader.fieldnames = header
        missing = [column for column in CSV_REQUIRED_COLUMNS if column not in header]
        if missing:
            raise InvalidInput(
                _("The file lacks the columns: %(columns)s.") % {"columns": ", ".join(missing)},
                code="missing_columns",
                details={"missing": missing},
            )
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise InvalidInput(
            _("Line %(line)s is not valid CSV: %(error)s") % {"line": reader.line_num, "error": error},
            code="bad_csv",
        )
    return rows


def _split(value: str) -> list[str]:
    return [part for part in value.replace(",", "|").split("|") if part.strip()]


def store_import_row(*, row: dict[str, Any]) -> tuple[Store, bool]:
    """One CSV row through `store_upsert`; InvalidInput says what is wrong with it."""
    if row.get(_EXTRA):
        raise InvalidInput(_("The row has more fields than the header."), code="extra_fields")
    active = (row.get("active") or "yes").strip().lower()
    if active not in {"yes", "no", "true", "false", "1", "0", "si", "sí"}:
        raise InvalidInput(_("active must be yes or no."), code="invalid", details={"field": "active"})
    return store_upsert(
        code=row.get("code", ""),
        name=row["name"],
        address=row["address"],
        district=row["district"],
        city=row["city"],
        latitude=row["lat"].strip(),
        longitude=row["lng"].strip(),
        carrier_codes=row["carriers"].split("|"),
        services=_split(row["services"]),
        phone=row["phone"],
        hours=hours_parse(row["hours"]),
        timezone=row.get("timezone", ""),
        active=active not in {"no", "false", "0"},
    )


def stores_import(
    *,
    data: bytes,
    progress: Callable[[list[tuple[int, dict[str, Any]]]], Iterator[tuple[int, dict[str, Any]]]] = iter,
) -> ImportReport:
    """Import a stores CSV: each good row is saved (idempotent by code, else by name and address),
    each bad row is reported with its line number and reason and changes nothing. A file that cannot
    be read at all raises InvalidInput and writes nothing."""
    report = ImportReport()
    for line, row in progress(stores_csv_read(data=data)):
        try:
            _store, created = store_import_row(row=row)
        except InvalidInput as error:
            report.errors.append(RowError(line=line, reason=str(error.message)))
            continue
        if created:
            report.created += 1
        else:
            report.updated += 1
    return report
