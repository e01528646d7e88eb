"""Stores where line holders renew in person: where they are, whom they serve, when they are open."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vigencia.catalog.models import Carrier
from vigencia.core.models import TimeStampedModel

DEFAULT_TIMEZONE = "America/Lima"


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a timezone such as America/Lima."), params={"value": value})


class Service(models.TextChoices):
    RENEWAL = "renewal", _("Renewals")
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
            models.UniqueConstraint(fields=["name", "address"], name="stores_store_name_address_unique"),
            models.UniqueConstraint(fields=["code"], condition=~Q(code=""), name="stores_store_code_unique"),
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90), name="stores_store_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180), name="stores_store_longitude_range"
            ),
        ]
        indexes = [
            # The locator's bounding box: a range on latitude, then longitude from the same index.
            models.Index(fields=["latitude", "longitude"], name="stores_store_lat_lng_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.district or self.city})"


class StoreService(models.Model):
    """One service a store offers (a row each, so the locator filters in SQL on every database)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="services")
    service = models.CharField(_("service"), max_length=20, choices=Service.choices)

    class Meta:
        verbose_name = _("service offered")
        verbose_name_plural = _("services offered")
        constraints = [
            models.UniqueConstraint(fields=["store", "service"], name="stores_service_once_per_store"),
            models.CheckConstraint(condition=Q(service__in=Service.values), name="stores_service_known"),
        ]
        indexes = [models.Index(fields=["service", "store"])]

    def __str__(self) -> str:
        return self.get_service_display()


class OpeningHours(models.Model):
    """Open from `opens` to `closes` (wall time in the store's timezone) on a weekday.

    `closes` earlier than `opens` runs past midnight into the next day; `closes` equal to `opens`
    means 24 hours. A weekday may have several rows (a lunch break)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="stores_hours_weekday"),
            models.UniqueConstraint(fields=["store", "weekday", "opens"], name="stores_hours_unique_start"),
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
    closed = models.BooleanField(_("closed"), default=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [
            models.UniqueConstraint(fields=["date", "store"], name="stores_holiday_once_per_store"),
            models.UniqueConstraint(
                fields=["date"], condition=Q(store__isnull=True), name="stores_holiday_once_for_all"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"
