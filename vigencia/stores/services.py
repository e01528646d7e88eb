"""Writes: stores saved one by one or imported from a CSV file."""

from __future__ import annotations

import csv
import functools
import io
import logging
import re
import secrets
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier
from vigencia.catalog.selectors import carrier_get, plan_list_on_sale
from vigencia.core import clock
from vigencia.core.csvtext import csv_text
from vigencia.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from vigencia.core.money import Money
from vigencia.core.phones import phone_normalize
from vigencia.ledger.models import LedgerAccount
from vigencia.ledger.services import account_system, ledger_post
from vigencia.lines.models import Line
from vigencia.lines.numbers import msisdn_normalize
from vigencia.lines.services import line_add
from vigencia.orders.models import Channel, PaymentMethod, RenewalOrder
from vigencia.orders.services import order_create
from vigencia.stores.hours import DayHours, hours_parse
from vigencia.stores.iddocs import IdDocument, id_blind_index, id_encrypt
from vigencia.stores.models import (
    DEFAULT_TIMEZONE,
    SHIFT_TRANSITIONS,
    OpeningHours,
    PosPayment,
    Receipt,
    ReceiptCounter,
    Service,
    Shift,
    ShiftEvent,
    ShiftStatus,
    Store,
    StoreService,
    store_country,
)
from vigencia.stores.selectors import (
    WALK_IN_EMAIL,
    coordinates_parse,
    pos_line_find,
    pos_lines_of_number,
    receipt_cash_owed,
    store_of_agent,
)
from vigencia.vouchers.services import voucher_redeem

logger = logging.getLogger(__name__)

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
    timezone = _timezone(timezone)
    phone = (phone or "").strip()
    values = dict(
        name=_text(name, field="name", max_length=120),
        address=_text(address, field="address", max_length=200),
        district=_text(district, field="district", max_length=80, required=False),
        city=_text(city, field="city", max_length=80),
        timezone=timezone,
        phone=phone_normalize(phone, region=store_country(timezone)) if phone else "",
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
    reader = csv.DictReader(io.StringIO(csv_text(data), newline=""), restkey=_EXTRA, restval="")
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


# --- the counter: shifts and sales -----------------------------------------------------------------

MAX_FLOAT_MINOR = 10_000_000
MAX_TENDERED_MINOR = 10_000_000
# The change may not exceed the largest banknote (S/ 200): nobody hands over a whole note more than
# the price needs, so more is a typing slip (20000 for 200.00) that would pay out change that was
# never received.
MAX_CHANGE_MINOR = 20_000
_CARD_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{3,39}")


def _shift_event(shift: Shift, *, actor: User, source: str, target: str, **data: Any) -> None:
    ShiftEvent.objects.create(shift=shift, actor=actor, from_status=source, to_status=target, data=data)


def _amount(value: Any, *, field: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidInput(
            _("Enter an amount between 0 and %(max)s.") % {"max": Money(maximum, "PEN")},
            code="invalid_amount",
            details={"field": field},
        )
    return value


def shift_open(*, agent: User, float_minor: int, currency: str = "PEN") -> Shift:
    """Open the agent's shift at their store with a cash float. One open shift per agent (a unique
    index, so two taps cannot open two): a second raises Conflict `shift_already_open`."""
    store = store_of_agent(user=agent).store
    float_minor = _amount(float_minor, field="float", maximum=MAX_FLOAT_MINOR)
    try:
        with transaction.atomic():
            shift = Shift.objects.create(agent=agent, store=store, float_minor=float_minor, currency=currency)
            _shift_event(shift, actor=agent, source="", target=ShiftStatus.OPEN, float_minor=float_minor)
    except IntegrityError:
        raise Conflict(_("You already have an open shift."), code="shift_already_open")
    return shift


def _drawer(shift: Shift) -> LedgerAccount:
    return account_system(kind="cash_drawer", currency=shift.currency, key=f"shift-{shift.pk}")


def shift_close(*, agent: User, counted_minor: int) -> Shift:
    """Close the agent's open shift with the cash counted in the drawer. Expected cash is the float
    plus the cash the shift's drawer took (from the ledger); a difference is posted once as
    cash_drawer <-> adjustments, so the drawer's balance then matches what was counted. Locks the
    shift row, so no sale lands in a shift while it closes."""
    counted_minor = _amount(counted_minor, field="counted", maximum=MAX_FLOAT_MINOR)
    with transaction.atomic():
        shift = Shift.objects.select_for_update().filter(agent=agent, status=ShiftStatus.OPEN).first()
        if shift is None:
            raise Conflict(_("You have no open shift."), code="no_open_shift")
        drawer = _drawer(shift)
        drawer.refresh_from_db()
        # The drawer holds cash as a negative balance (ledger sign convention).
        expected = shift.float_minor - drawer.balance_minor
        difference = counted_minor - expected
        if difference:
            ledger_post(
                kind="cash_difference",
                idempotency_key=f"shift:{shift.pk}:close",
                postings=[
                    (drawer, Money(-difference, shift.currency)),
                    (
                        account_system(kind="adjustments", currency=shift.currency),
                        Money(difference, shift.currency),
                    ),
                ],
                memo=f"Cash difference at close of shift {shift.pk}",
                reference=f"shift:{shift.pk}",
            )
        SHIFT_TRANSITIONS.apply(
            shift,
            field="status",
            target=ShiftStatus.CLOSED,
            closed_at=clock.now(),
            counted_minor=counted_minor,
            expected_minor=expected,
            difference_minor=difference,
            updated_at=clock.now(),
        )
        _shift_event(
            shift,
            actor=agent,
            source=ShiftStatus.OPEN,
            target=ShiftStatus.CLOSED,
            expected_minor=expected,
            counted_minor=counted_minor,
            difference_minor=difference,
        )
    return shift


def shift_review(*, shift: Shift, supervisor: User, note: str = "") -> Shift:
    """A supervisor (staff) signs off a closed shift. Conditional update: a shift is reviewed once."""
    if not supervisor.is_staff:
        raise PermissionDenied(_("Only a supervisor can review a shift."), code="not_a_supervisor")
    note = (note or "").strip()[:300]
    with transaction.atomic():
        source = SHIFT_TRANSITIONS.apply(
            shift,
            field="status",
            target=ShiftStatus.REVIEWED,
            reviewed_by=supervisor,
            reviewed_at=clock.now(),
            review_note=note,
            updated_at=clock.now(),
        )
        _shift_event(shift, actor=supervisor, source=source, target=ShiftStatus.REVIEWED, note=note)
    return shift


@dataclass(frozen=True)
class SalePayment:
    method: str  # PosPayment
    tendered_minor: int | None = None
    card_reference: str = ""


def _payment_check(payment: SalePayment, *, price: Money) -> SalePayment:
    if payment.method == PosPayment.CASH:
        tendered = payment.tendered_minor
        if tendered is None:
            raise InvalidInput(
                _("Enter the cash the customer hands over."),
                code="tendered_missing",
                details={"field": "tendered"},
            )
        tendered = _amount(tendered, field="tendered", maximum=MAX_TENDERED_MINOR)
        if tendered < price.amount_minor:
            raise InvalidInput(
                _("The cash tendered (%(tendered)s) is less than the price (%(price)s).")
                % {"tendered": Money(tendered, price.currency), "price": price},
                code="tendered_too_low",
                details={"field": "tendered", "price_minor": price.amount_minor},
            )
        # Before the price is known (it is checked again after any promotion) only the form counts.
        if price.amount_minor and tendered - price.amount_minor > MAX_CHANGE_MINOR:
            raise InvalidInput(
                _(
                    "The cash tendered (%(tendered)s) is more than the price (%(price)s) plus "
                    "%(change)s, the largest change the counter gives; check the amount."
                )
                % {
                    "tendered": Money(tendered, price.currency),
                    "price": price,
                    "change": Money(MAX_CHANGE_MINOR, price.currency),
                },
                code="tendered_too_high",
                details={"field": "tendered", "price_minor": price.amount_minor},
            )
        return SalePayment(method=PosPayment.CASH, tendered_minor=tendered)
    if payment.method == PosPayment.CARD:
        reference = (payment.card_reference or "").strip()
        if not _CARD_REFERENCE.fullmatch(reference):
            raise InvalidInput(
                _("Enter the terminal's reference (4 to 40 letters, digits or dashes)."),
                code="invalid_card_reference",
                details={"field": "card_reference"},
            )
        return SalePayment(method=PosPayment.CARD, card_reference=reference)
    raise InvalidInput(
        _("Take the payment in cash or by card."), code="invalid_payment_method", details={"field": "payment"}
    )


def _walk_in_holder() -> User:
    """The one holder of numbers sold at a counter that no subscriber has registered. Its lines and
    orders move to nobody; a subscriber who registers the number later sees their own renewals from
    then on. The address is under .invalid, so nothing it is sent ever reaches anyone."""
    holder = User.objects.filter(email=WALK_IN_EMAIL).first()
    if holder is not None:
        return holder
    try:
        with transaction.atomic():
            return User.objects.create_user(email=WALK_IN_EMAIL, password=None, name="Walk-in (store)")
    except IntegrityError:
        return User.objects.get(email=WALK_IN_EMAIL)


def _sale_line(*, msisdn: str, carrier: Carrier) -> Line:
    line = pos_line_find(msisdn=msisdn, carrier=carrier)
    if line is not None:
        return line
    try:
        return line_add(owner=_walk_in_holder(), msisdn=msisdn, carrier=carrier, nickname="walk-in")
    except Conflict:  # a concurrent sale registered it meanwhile
        line = pos_line_find(msisdn=msisdn, carrier=carrier)
        assert line is not None
        return line


def _receipt_sequence(store: Store) -> int:
    counter, _created = ReceiptCounter.objects.select_for_update().get_or_create(store=store)
    ReceiptCounter.objects.filter(pk=counter.pk).update(last_number=F("last_number") + 1)
    return counter.last_number + 1


def _counter_number(store: Store, *, msisdn: str, carrier_code: str) -> tuple[Carrier, str]:
    """The carrier and E.164 number a counter renewal is for, checked: a carrier the store serves,
    a valid number, and not one registered with another carrier."""
    carrier = carrier_get(code=carrier_code) if isinstance(carrier_code, str) else None
    if carrier is None:
        raise InvalidInput(_("Unknown carrier."), code="invalid_carrier", details={"field": "carrier"})
    if not store.carriers.filter(pk=carrier.pk).exists():
        raise InvalidInput(
            _("This store does not sell %(carrier)s renewals.") % {"carrier": carrier.name},
            code="carrier_not_served",
            details={"field": "carrier"},
        )
    e164 = msisdn_normalize(msisdn, country=carrier.country)
    registered = pos_lines_of_number(msisdn=e164)
    if registered and not any(line.carrier_id == carrier.pk for line in registered):
        raise InvalidInput(
            _("This number belongs to another carrier (%(carrier)s).")
            % {"carrier": registered[0].carrier.name},
            code="msisdn_other_carrier",
            details={"field": "msisdn", "carrier": registered[0].carrier.code},
        )
    return carrier, e164


def pos_voucher_redeem(*, agent: User, msisdn: str, carrier_code: str, pin: str, ip: str | None) -> Receipt:
    """Redeem a recharge code at the counter for the customer's number, with the store's next
    receipt (in the agent's shift, if one is open) issued in the same transaction. The renewal is the
    line's holder's (the subscriber who registered the number, else the walk-in holder, who is
    registered only once the code is good). No money moves through the drawer: the code paid when
    its reseller bought it. The agent is the redeemer, so wrong PINs count against the agent and the
    counter's address like anyone's (`vouchers.services.voucher_redeem`)."""
    store = store_of_agent(user=agent).store
    carrier, e164 = _counter_number(store, msisdn=msisdn, carrier_code=carrier_code)
    line = pos_line_find(msisdn=e164, carrier=carrier)
    issued: list[Receipt] = []

    def issue(order: RenewalOrder) -> None:
        # Locked, as a sale does: a shift that is closing meanwhile is not open once it has closed.
        shift = (
            Shift.objects.select_for_update()
            .filter(agent=agent, store=store, status=ShiftStatus.OPEN)
            .first()
        )
        issued.append(
            _receipt_issue(store, order=order, agent=agent, shift=shift, payment=PosPayment.VOUCHER)
        )

    if line is not None:
        voucher_redeem(
            pin=pin, redeemer=agent, ip=ip, line=line, holder=line.owner, channel="pos", on_redeemed=issue
        )
    else:
        voucher_redeem(
            pin=pin,
            redeemer=agent,
            ip=ip,
            msisdn=e164,
            carrier=carrier,
            holder=_walk_in_holder(),
            channel="pos",
            on_redeemed=issue,
        )
    [receipt] = issued
    logger.info("store code redemption %s: order %s", receipt.number, receipt.order_id)
    return receipt


def _receipt_issue(
    store: Store, *, order: RenewalOrder, agent: User, shift: Shift | None, payment: str, **fields: Any
) -> Receipt:
    """The store's next receipt for `order` (its counter row locked, so numbers have no gaps)."""
    sequence = _receipt_sequence(store)
    return Receipt.objects.create(
        store=store,
        sequence=sequence,
        number=f"{store.code or store.pk}-{sequence:06d}",
        verification_code=secrets.token_hex(5).upper(),
        order=order,
        shift=shift,
        agent=agent,
        payment=payment,
        **fields,
    )


def pos_sale_create(
    *,
    agent: User,
    msisdn: str,
    carrier_code: str,
    plan_id: int,
    id_document: IdDocument,
    payment: SalePayment,
    store_id: int | None = None,
    promo_code: str = "",
) -> Receipt:
    """Sell a renewal at the counter, in the agent's open shift: one transaction creates the order
    (channel `store`, paid from the shift's cash drawer or the store's card terminal clearing, sent to
    the carrier), the next receipt number of the store (its counter row locked, so numbers have no
    gaps) and the receipt with the encrypted ID document. The order's payer is the line's holder (a
    walk-in number is registered to the walk-in holder). Any bad input raises and writes nothing.
    A `promo_code` (else the best automatic campaign for the store channel) is applied by the order
    pipeline: the cash tendered is checked against, and the change computed from, the price after it.
    Not idempotent by itself: callers pass an Idempotency-Key through core.idempotency."""
    assignment = store_of_agent(user=agent)
    store = assignment.store
    if store_id is not None and store_id != store.pk:
        raise PermissionDenied(_("You can only sell for your own store."), code="wrong_store")
    carrier, e164 = _counter_number(store, msisdn=msisdn, carrier_code=carrier_code)
    plan = plan_list_on_sale(carrier=carrier).filter(pk=plan_id).first() if isinstance(plan_id, int) else None
    if plan is None:
        raise InvalidInput(
            _("Choose a plan of this carrier."), code="invalid_plan", details={"field": "plan"}
        )
    # The form of the payment now; the amount against the price after any promotion, below.
    payment = _payment_check(payment, price=Money(0, plan.currency))

    with transaction.atomic():
        shift = Shift.objects.select_for_update().filter(agent=agent, status=ShiftStatus.OPEN).first()
        if shift is None:
            raise Conflict(_("Open a shift before selling."), code="no_open_shift")
        if shift.store_id != store.pk:
            raise Conflict(
                _("Your open shift is at another store; close it first."), code="shift_other_store"
            )
        if shift.currency != plan.currency:
            raise InvalidInput(_("This plan is priced in another currency."), code="currency_mismatch")
        line = _sale_line(msisdn=e164, carrier=carrier)
        if payment.method == PosPayment.CASH:
            source = _drawer(shift)
        else:
            source = account_system(kind="psp_clearing", currency=plan.currency, key=f"terminal-{store.pk}")
        order = order_create(
            payer=line.owner,
            line=line,
            plan=plan,
            payment_method=PaymentMethod.CASH
            if payment.method == PosPayment.CASH
            else PaymentMethod.CARD_TERMINAL,
            channel=Channel.STORE,
            source_account=source,
            promo_code=promo_code,
        )
        payment = _payment_check(payment, price=order.total)
        receipt = _receipt_issue(
            store,
            order=order,
            shift=shift,
            agent=agent,
            payment=payment.method,
            tendered_minor=payment.tendered_minor,
            change_minor=(
                payment.tendered_minor - order.amount_minor if payment.tendered_minor is not None else None
            ),
            card_reference=payment.card_reference,
            id_type=id_document.type,
            id_country=id_document.country,
            id_number_encrypted=id_encrypt(id_document.number),
            id_blind_index=id_blind_index(id_document),
            id_masked=id_document.masked(),
        )
    logger.info("store sale %s: order %s, ID %s", receipt.number, order.pk, receipt.id_masked)
    return receipt


def pos_cash_return(*, agent: User, number: str) -> Receipt:
    """Record that the agent gave back the money of a sale the carrier declined (receipt `number` of
    their store): cash from the drawer of their open shift, or a card payment refunded on the store's
    terminal. One ledger transaction moves it from the money stores owe back to that drawer (or back
    to the terminal's clearing account, reversing the card capture). Idempotent: a second call returns
    the receipt as it is, and the ledger key `order:<id>:cash_return` posts once. Locks the receipt,
    then the shift, so a closing shift and a second tap wait. NotFound `receipt_not_found`; Conflict
    `nothing_to_give_back` for a receipt that owes nothing, `no_open_shift` without a shift to pay
    cash from."""
    store = store_of_agent(user=agent).store
    with transaction.atomic():
        receipt = (
            Receipt.objects.select_for_update(of=("self",))
            .select_related("order")
            .filter(store=store, number=number)
            .first()
        )
        if receipt is None:
            raise NotFound(_("No such receipt at this store."), code="receipt_not_found")
        if receipt.cash_returned_at is not None:
            return receipt
        owed = receipt_cash_owed(receipt)
        if owed is None:
            raise Conflict(_("There is no cash to give back for this sale."), code="nothing_to_give_back")
        shift = None
        if receipt.payment == PosPayment.CASH:
            shift = (
                Shift.objects.select_for_update()
                .filter(agent=agent, store=store, status=ShiftStatus.OPEN, currency=owed.currency)
                .first()
            )
            if shift is None:
                raise Conflict(
                    _("Open a shift: the cash is given back from its drawer."), code="no_open_shift"
                )
            paid_back = _drawer(shift)
        else:
            paid_back = account_system(
                kind="psp_clearing", currency=owed.currency, key=f"terminal-{store.pk}"
            )
        ledger_post(
            kind="store_cash_return",
            idempotency_key=f"order:{receipt.order_id}:cash_return",
            postings=[
                (account_system(kind="store_cash_owed", currency=owed.currency), -owed),
                (paid_back, owed),
            ],
            memo=f"{receipt.get_payment_display()} given back for receipt {receipt.number}",
            reference=f"order:{receipt.order_id}",
        )
        receipt.cash_returned_at, receipt.cash_returned_shift = clock.now(), shift
        Receipt.objects.filter(pk=receipt.pk).update(
            cash_returned_at=receipt.cash_returned_at, cash_returned_shift=shift, updated_at=clock.now()
        )
    logger.info("store %s given back for %s (shift %s)", receipt.payment, receipt.number, shift and shift.pk)
    return receipt
