"""Stores where line holders renew in person: where they are, whom they serve, when they are open."""

from __future__ import annotations

from babel.core import get_global
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vigencia.catalog.models import Carrier
from vigencia.core import clock
from vigencia.core.clock import validate_timezone
from vigencia.core.errors import InvalidInput
from vigencia.core.models import TimeStampedModel
from vigencia.core.money import Money
from vigencia.core.phones import phone_display, phone_normalize
from vigencia.core.transitions import TransitionTable
from vigencia.stores.iddocs import DocumentType

DEFAULT_TIMEZONE = "America/Lima"


class Service(models.TextChoices):
    RENEWAL = "renewal", pgettext_lazy("store service", "Renewals")
    SIM_SALE = "sim_sale", _("SIM cards")
    VOUCHER_REDEEM = "voucher_redeem", _("Recharge codes")
    ID_CHECK = "id_check", _("ID check")


class Weekday(models.IntegerChoices):
    # Python's date.weekday(): Monday is 0.
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Store(TimeStampedModel):
    # An operator's own code (from the CSV); when empty, a store is known by (name, address).
    code = models.CharField(_("code"), max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=200)
    district = models.CharField(_("district"), max_length=80, blank=True)
    city = models.CharField(_("city"), max_length=80)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    timezone = models.CharField(
        _("timezone"), max_length=64, default=DEFAULT_TIMEZONE, validators=[validate_timezone]
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164, e.g. +5114111111"))
    carriers = models.ManyToManyField(Carrier, related_name="stores", verbose_name=_("carriers served"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["city", "district", "name"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [
            models.UniqueConstraint(
                fields=["name", "address"],
                name="stores_store_name_address_unique",
                violation_error_message=_("Another store has this name at this address."),
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=~Q(code=""),
                name="stores_store_code_unique",
                violation_error_message=_("Another store has this code."),
            ),
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90),
                name="stores_store_latitude_range",
                violation_error_message=_("The latitude is between -90 and 90."),
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180),
                name="stores_store_longitude_range",
                violation_error_message=_("The longitude is between -180 and 180."),
            ),
        ]
        indexes = [
            # The locator's bounding box: a range on latitude, then longitude from the same index.
            models.Index(fields=["latitude", "longitude"], name="stores_store_lat_lng_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.district or self.city})"

    @property
    def phone_display(self) -> str:
        """The store's phone as people dial it from anywhere: +51 1 4111111."""
        return phone_display(self.phone) if self.phone else ""

    @property
    def country(self) -> str:
        """Where the store is, by its timezone (America/Lima is PE): the region of a phone typed without +."""
        return store_country(self.timezone)

    def clean(self) -> None:
        if self.phone:
            try:
                self.phone = phone_normalize(self.phone, region=self.country)
            except InvalidInput as error:
                raise ValidationError({"phone": error.message})


def store_country(timezone: str) -> str:
    return str(get_global("zone_territories").get(timezone, "PE"))


class StoreService(models.Model):
    """One service a store offers (a row each, so the locator filters in SQL on every database)."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="services", verbose_name=_("store")
    )
    service = models.CharField(_("service"), max_length=20, choices=Service.choices)

    class Meta:
        verbose_name = _("service offered")
        verbose_name_plural = _("services offered")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "service"],
                name="stores_service_once_per_store",
                violation_error_message=_("The store already offers this service."),
            ),
            models.CheckConstraint(
                condition=Q(service__in=Service.values),
                name="stores_service_known",
                violation_error_message=_("Choose one of the services in the list."),
            ),
        ]
        indexes = [models.Index(fields=["service", "store"])]

    def __str__(self) -> str:
        return self.get_service_display()


class OpeningHours(models.Model):
    """Open from `opens` to `closes` (wall time in the store's timezone) on a weekday.

    `closes` earlier than `opens` runs past midnight into the next day; `closes` equal to `opens`
    means 24 hours. A weekday may have several rows (a lunch break)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="hours", verbose_name=_("store"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6),
                name="stores_hours_weekday",
                violation_error_message=_("Choose a day of the week."),
            ),
            models.UniqueConstraint(
                fields=["store", "weekday", "opens"],
                name="stores_hours_unique_start",
                violation_error_message=_("The store already has hours starting at this time on this day."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Holiday(models.Model):
    """A date on which openings that start that day do not happen (in the store's timezone).

    Without a store it applies to every store; a store's own row wins over the all-stores row, so
    `closed=False` keeps one store open on a public holiday."""

    date = models.DateField(_("date"))
    store = models.ForeignKey(
        Store,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="holidays",
        verbose_name=_("store"),
    )
    name = models.CharField(_("name"), max_length=80, blank=True)
    closed = models.BooleanField(pgettext_lazy("opening hours", "closed"), default=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.UniqueConstraint(
                fields=["date", "store"],
                name="stores_holiday_once_per_store",
                violation_error_message=_("This store already has a holiday on this date."),
            ),
            models.UniqueConstraint(
                fields=["date"],
                condition=Q(store__isnull=True),
                name="stores_holiday_once_for_all",
                violation_error_message=_("There is already an all-stores holiday on this date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


# --- the counter: agents, shifts, receipts ---------------------------------------------------------


class StoreAgent(TimeStampedModel):
    """A cashier who sells at one store (the `store_agent` role says what they may do; this row says
    where)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="store_agent", verbose_name=_("user")
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="agents", verbose_name=_("store"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("store agent")
        verbose_name_plural = _("store agents")

    def __str__(self) -> str:
        return f"{self.user} @ {self.store.name}"


class ShiftStatus(models.TextChoices):
    # A context of their own: a shift is closed differently from a store (Spanish "cerrado/cerrada").
    OPEN = "open", pgettext_lazy("shift status", "Open")
    CLOSED = "closed", pgettext_lazy("shift status", "Closed")
    REVIEWED = "reviewed", pgettext_lazy("shift status", "Reviewed")


SHIFT_TRANSITIONS = TransitionTable(
    "shift",
    {
        ShiftStatus.OPEN: {ShiftStatus.CLOSED},
        ShiftStatus.CLOSED: {ShiftStatus.REVIEWED},
        ShiftStatus.REVIEWED: set(),
    },
)


class Shift(TimeStampedModel):
    """An agent's turn at the till: opened with a float, closed with the counted cash. Amounts are
    minor units of `currency`; `expected` is the float plus the cash the shift's drawer took."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shifts", verbose_name=_("agent")
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="shifts", verbose_name=_("store"))
    status = models.CharField(
        _("status"), max_length=10, choices=ShiftStatus.choices, default=ShiftStatus.OPEN
    )
    currency = models.CharField(_("currency"), max_length=3, default="PEN")
    opened_at = models.DateTimeField(_("opened"), default=clock.now)
    float_minor = models.BigIntegerField(_("float (minor units)"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    counted_minor = models.BigIntegerField(_("counted (minor units)"), null=True, blank=True)
    expected_minor = models.BigIntegerField(_("expected (minor units)"), null=True, blank=True)
    difference_minor = models.BigIntegerField(_("difference (minor units)"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            # At most one open shift per agent: the second "open" loses on this index, not on a read.
            models.UniqueConstraint(
                fields=["agent"], condition=Q(status="open"), name="stores_shift_one_open_per_agent"
            ),
            models.CheckConstraint(condition=Q(float_minor__gte=0), name="stores_shift_float_not_negative"),
            models.CheckConstraint(
                condition=Q(counted_minor__isnull=True) | Q(counted_minor__gte=0),
                name="stores_shift_counted_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ShiftStatus.values), name="stores_shift_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.agent} @ {self.store.name} ({self.status})"

    def _money(self, minor: int | None) -> Money | None:
        return None if minor is None else Money(minor, self.currency)

    @property
    def expected(self) -> Money | None:
        return self._money(self.expected_minor)

    @property
    def counted(self) -> Money | None:
        return self._money(self.counted_minor)

    @property
    def difference(self) -> Money | None:
        return self._money(self.difference_minor)

    @property
    def float_amount(self) -> Money:
        return Money(self.float_minor, self.currency)


class ShiftEvent(models.Model):
    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="events", verbose_name=_("shift"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )
    from_status = models.CharField(max_length=10, blank=True, verbose_name=_("from status"))
    to_status = models.CharField(max_length=10, verbose_name=_("to status"))
    at = models.DateTimeField(default=clock.now, verbose_name=_("at"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("shift event")
        verbose_name_plural = _("shift events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"shift {self.shift_id} {self.from_status}->{self.to_status}"


class ReceiptCounter(models.Model):
    """The last receipt number a store issued. A sale locks this row (select_for_update) in its own
    transaction, so numbers are handed out in order and a rolled-back sale leaves no gap."""

    store = models.OneToOneField(
        Store, on_delete=models.CASCADE, related_name="receipt_counter", verbose_name=_("store")
    )
    last_number = models.PositiveIntegerField(default=0, verbose_name=_("last number"))

    class Meta:
        verbose_name = _("receipt counter")
        verbose_name_plural = _("receipt counters")

    def __str__(self) -> str:
        return f"{self.store.code or self.store.pk}: {self.last_number}"


class PosPayment(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    VOUCHER = "voucher", _("Recharge code")  # redeemed at the counter: no money through the store


SALE_PAYMENTS = (PosPayment.CASH, PosPayment.CARD)


class Receipt(TimeStampedModel):
    """A renewal at a store's counter: the order it created, the shift and agent, and how it was paid.
    A sale takes cash or card and the holder's ID document (only encrypted, with a blind index and
    the mask shown to people); a recharge code redeemed at the counter takes neither, and may come
    outside a shift."""

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("store")
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("receipt number"), max_length=60, unique=True)
    verification_code = models.CharField(_("verification code"), max_length=16)
    order = models.OneToOneField(
        "orders.RenewalOrder", on_delete=models.PROTECT, related_name="store_receipt", verbose_name=_("order")
    )
    shift = models.ForeignKey(
        Shift,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="receipts",
        verbose_name=_("shift"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("agent")
    )
    payment = models.CharField(_("payment"), max_length=8, choices=PosPayment.choices)
    tendered_minor = models.BigIntegerField(_("tendered (minor units)"), null=True, blank=True)
    change_minor = models.BigIntegerField(_("change (minor units)"), null=True, blank=True)
    card_reference = models.CharField(_("terminal reference"), max_length=40, blank=True)
    id_type = models.CharField(_("ID document"), max_length=10, choices=DocumentType.choices, blank=True)
    id_country = models.CharField(_("issuing country"), max_length=2, blank=True)
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), editable=False)
    id_blind_index = models.CharField(
        max_length=64, db_index=True, editable=False, verbose_name=_("ID blind index (HMAC)")
    )
    id_masked = models.CharField(_("ID number"), max_length=12, editable=False)
    # A sale the carrier declined: when its money went back to the customer — cash from a shift's
    # drawer (the agent's open one then, not necessarily the sale's), a card refunded on the terminal.
    cash_returned_at = models.DateTimeField(_("money given back"), null=True, blank=True)
    cash_returned_shift = models.ForeignKey(
        Shift,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cash_returns",
        verbose_name=_("cash given back in shift"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.UniqueConstraint(fields=["store", "sequence"], name="stores_receipt_gapless_per_store"),
            models.CheckConstraint(
                condition=Q(payment__in=PosPayment.values), name="stores_receipt_payment_known"
            ),
            models.CheckConstraint(
                condition=Q(payment=PosPayment.VOUCHER) | (Q(shift__isnull=False) & ~Q(id_type="")),
                name="stores_receipt_sale_in_shift_with_id",
            ),
            models.CheckConstraint(
                condition=Q(cash_returned_at__isnull=True)
                | (Q(payment=PosPayment.CASH) & Q(cash_returned_shift__isnull=False))
                | (Q(payment=PosPayment.CARD) & Q(cash_returned_shift__isnull=True)),
                name="stores_receipt_cash_returned_from_a_drawer",
            ),
        ]

    def __str__(self) -> str:
        return self.number
