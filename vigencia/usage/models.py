"""Balance buckets, usage records and their charges, re-rating audits, alert rules and anomalies.

Units are integers everywhere: money in minor units, data in KB, voice in seconds, SMS as a count.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.core.money import Money
from vigencia.lines.models import Line


class BucketKind(models.TextChoices):
    MONEY = "money", _("Balance")
    DATA = "data", _("Data")
    VOICE = "voice", _("Voice")
    SMS = "sms", _("SMS")


class UsageKind(models.TextChoices):
    VOICE = "voice", _("Voice")
    SMS = "sms", _("SMS")
    DATA = "data", _("Data")


class DestinationClass(models.TextChoices):
    NATIONAL = "national", _("National")
    INTERNATIONAL = "international", _("International")


class VoiceRounding(models.TextChoices):
    PER_SECOND = "per_second", _("Per second")
    PER_MINUTE = "per_minute", _("Per started minute")


# The unit each bucket kind counts in, as shown to people and in the API.
BUCKET_UNITS = {
    BucketKind.MONEY: "minor",
    BucketKind.DATA: "KB",
    BucketKind.VOICE: "s",
    BucketKind.SMS: "sms",
}


class Tariff(models.Model):
    """How a plan rates usage: what a renewal credits beyond the plan's bundle, rounding, and the
    out-of-bundle rates (minor units per minute, per SMS, per MB) by destination class."""

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="tariff", verbose_name=_("plan"))
    money_credit_minor = models.BigIntegerField(_("balance credited per renewal (minor units)"), default=0)
    voice_rounding = models.CharField(
        _("voice rounding"), max_length=12, choices=VoiceRounding.choices, default=VoiceRounding.PER_SECOND
    )
    data_step_kb = models.PositiveIntegerField(_("data rounded up to steps of (KB)"), default=1)
    voice_national_per_minute_minor = models.BigIntegerField(_("voice, national, per minute"), default=20)
    voice_international_per_minute_minor = models.BigIntegerField(
        _("voice, international, per minute"), default=150
    )
    sms_national_minor = models.BigIntegerField(_("SMS, national"), default=10)
    sms_international_minor = models.BigIntegerField(_("SMS, international"), default=50)
    data_per_mb_minor = models.BigIntegerField(_("data, per MB"), default=5)
    allows_overage = models.BooleanField(
        _("allows overage"), default=False, help_text=_("Out-of-bundle use may take the balance below zero.")
    )

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        constraints = [
            models.CheckConstraint(
                condition=Q(data_step_kb__gt=0),
                name="usage_tariff_data_step_positive",
                violation_error_message=_("Data is rounded up to steps of at least 1 KB."),
            ),
            models.CheckConstraint(
                condition=Q(money_credit_minor__gte=0)
                & Q(voice_national_per_minute_minor__gte=0)
                & Q(voice_international_per_minute_minor__gte=0)
                & Q(sms_national_minor__gte=0)
                & Q(sms_international_minor__gte=0)
                & Q(data_per_mb_minor__gte=0),
                name="usage_tariff_rates_not_negative",
                violation_error_message=_("The balance credited and the rates cannot be below zero."),
            ),
        ]

    def __str__(self) -> str:
        return f"tariff {self.plan}"


class Credit(models.Model):
    """One renewal's credit to a line's buckets; the reference makes crediting idempotent. The line's
    latest credit names the plan (and so the tariff) its usage is rated with."""

    line = models.ForeignKey(
        Line, on_delete=models.CASCADE, related_name="usage_credits", verbose_name=_("line")
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan"))
    reference = models.CharField(_("reference"), max_length=120, unique=True)
    credited_at = models.DateTimeField(_("credited"), default=clock.now)
    debt_settled_minor = models.BigIntegerField(
        _("overage debt paid from this credit (minor units)"), default=0
    )

    class Meta:
        verbose_name = _("renewal credit")
        verbose_name_plural = _("renewal credits")
        indexes = [models.Index(fields=["line", "-credited_at"])]

    def __str__(self) -> str:
        return self.reference


class Bucket(models.Model):
    """What a credit put on a line of one kind and what is left. Rating rewrites `remaining` of many
    buckets at once, so the table keeps free room in each page (fillfactor, migration 0006) and
    `remaining` is in no index: those updates stay on their page and touch no index (HOT)."""

    # (line, kind, expires_at) and (credit, kind) serve the lookups by line and by credit.
    line = models.ForeignKey(
        Line, on_delete=models.CASCADE, related_name="buckets", db_index=False, verbose_name=_("line")
    )
    credit = models.ForeignKey(
        Credit,
        on_delete=models.CASCADE,
        related_name="buckets",
        db_index=False,
        verbose_name=_("renewal credit"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=BucketKind.choices)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    initial = models.BigIntegerField(_("credited"))
    remaining = models.BigIntegerField(_("remaining"))
    valid_from = models.DateTimeField(_("valid from"))
    expires_at = models.DateTimeField(_("expires"))
    expired_at = models.DateTimeField(_("expired by the sweep"), null=True, blank=True)
    expired_amount = models.BigIntegerField(_("amount expired"), default=0)

    class Meta:
        ordering = ["expires_at", "id"]
        verbose_name = _("bucket")
        verbose_name_plural = _("buckets")
        constraints = [
            models.UniqueConstraint(fields=["credit", "kind"], name="usage_bucket_one_kind_per_credit"),
            # Only a money bucket goes below zero, and only by overage the plan allows.
            models.CheckConstraint(
                condition=Q(remaining__gte=0) | Q(kind="money"), name="usage_bucket_remaining_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(remaining__lte=models.F("initial")), name="usage_bucket_within_credit"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__lt=models.F("expires_at")), name="usage_bucket_window"
            ),
        ]
        indexes = [
            models.Index(fields=["line", "kind", "expires_at"]),
            models.Index(
                fields=["expires_at"], condition=Q(expired_at__isnull=True), name="usage_bucket_unexpired"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line} {self.kind} {self.remaining}/{self.initial}"

    @property
    def unit(self) -> str:
        return BUCKET_UNITS[BucketKind(self.kind)]

    @property
    def remaining_money(self) -> Money | None:
        return Money(self.remaining, self.currency) if self.kind == BucketKind.MONEY else None


class UsageRecord(models.Model):
    """One usage event as the carrier reported it, and (once rated) what Vigencia charged for it."""

    source = models.CharField(_("source"), max_length=60)
    record_id = models.CharField(_("record id"), max_length=64)
    # No database foreign key (nor its own index: (line, started_at) serves): a per-row FK check
    # costs more than the insert on a million-record import, and the import joins the line itself.
    # Lines are never deleted (a removed registration keeps its row).
    line = models.ForeignKey(
        Line,
        on_delete=models.CASCADE,
        related_name="usage_records",
        db_constraint=False,
        db_index=False,
        verbose_name=_("line"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=UsageKind.choices)
    started_at = models.DateTimeField(_("started"))
    quantity = models.BigIntegerField(_("quantity (seconds, count or bytes)"))
    destination = models.CharField(_("destination"), max_length=32, blank=True)
    destination_class = models.CharField(
        max_length=14,
        choices=DestinationClass.choices,
        default=DestinationClass.NATIONAL,
        verbose_name=_("destination class"),
    )
    carrier_charged_minor = models.BigIntegerField(_("carrier's charge (minor units)"), null=True, blank=True)
    # Same usage under another record id hashes the same; duplicates are looked up by (line,
    # started_at) and then this, so it needs no index of its own.
    content_hash = models.CharField(max_length=32, verbose_name=_("content hash"))
    received_at = models.DateTimeField(_("received"), default=clock.now)
    # Rating results (rated_at is null until rated; re-rating clears and sets them again).
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)
    rated_quantity = models.BigIntegerField(_("rated quantity (s, SMS or KB)"), default=0)
    in_bundle_quantity = models.BigIntegerField(_("from bundles"), default=0)
    price_minor = models.BigIntegerField(_("out-of-bundle price"), default=0)
    money_charged_minor = models.BigIntegerField(_("taken from the balance"), default=0)
    uncovered_minor = models.BigIntegerField(_("not covered by the balance"), default=0)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    # A rating that took the whole of what it charged (in_bundle_quantity + money_charged_minor, one
    # of them zero) from one bucket names that bucket here instead of writing a Charge row: most
    # records, and a million-record import then writes no million charges. Takes from several
    # buckets are Charge rows (this stays null); `selectors.charges_of` reads both. No database FK
    # nor index, as Charge.bucket.
    charged_bucket = models.ForeignKey(
        Bucket,
        verbose_name=_("charged bucket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        constraints = [
            models.UniqueConstraint(fields=["source", "record_id"], name="usage_record_once_per_source"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="usage_record_quantity_not_negative"),
        ]
        indexes = [
            models.Index(fields=["line", "started_at"]),
            models.Index(
                fields=["started_at"], condition=Q(rated_at__isnull=True), name="usage_record_unrated"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.record_id}"

    @property
    def price(self) -> Money | None:
        return Money(self.price_minor, self.currency) if self.currency else None


class Charge(models.Model):
    """What one rating took from one bucket; a re-rating reverses it (reversed_by) and charges again."""

    # Written only by rating, in the transaction that reads the record and locks the bucket: no
    # per-row database FK checks (see UsageRecord.line).
    record = models.ForeignKey(
        UsageRecord,
        on_delete=models.CASCADE,
        related_name="charges",
        db_constraint=False,
        verbose_name=_("usage record"),
    )
    bucket = models.ForeignKey(
        Bucket,
        on_delete=models.CASCADE,
        related_name="charges",
        db_constraint=False,
        db_index=False,
        verbose_name=_("bucket"),
    )
    amount = models.BigIntegerField(_("amount (bucket units)"))
    reversed_by = models.ForeignKey(
        "Rerating",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_charges",
        db_constraint=False,
        db_index=False,
        verbose_name=_("reversed by"),
    )

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="usage_charge_positive")]
        indexes = [
            models.Index(
                fields=["reversed_by"], condition=Q(reversed_by__isnull=False), name="usage_charge_reversed"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record} -{self.amount} {self.bucket.kind}"


class Rerating(models.Model):
    """The audit row of one re-rating: who, why, which lines and period, and the totals before/after."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("actor")
    )
    reason = models.CharField(_("reason"), max_length=300)
    line = models.ForeignKey(
        Line, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("line")
    )
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("plan")
    )
    period_from = models.DateTimeField(verbose_name=_("period from"))
    period_to = models.DateTimeField(verbose_name=_("period to"))
    records = models.PositiveIntegerField(default=0, verbose_name=_("records re-rated"))
    price_before_minor = models.BigIntegerField(default=0, verbose_name=_("price before (minor units)"))
    price_after_minor = models.BigIntegerField(default=0, verbose_name=_("price after (minor units)"))
    at = models.DateTimeField(default=clock.now, verbose_name=_("at"))

    class Meta:
        verbose_name = _("re-rating")
        verbose_name_plural = _("re-ratings")

    def __str__(self) -> str:
        return f"re-rating {self.period_from:%Y-%m-%d}..{self.period_to:%Y-%m-%d} ({self.records})"


class AlertRule(models.Model):
    """A subscriber's thresholds on one line; each `*_fired` flag makes a crossing notify once and
    re-arms when the value is back on the safe side."""

    line = models.OneToOneField(
        Line, on_delete=models.CASCADE, related_name="usage_alerts", verbose_name=_("line")
    )
    data_below_mb = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("data alert below (MB)")
    )
    money_below_minor = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("balance alert below (minor units)")
    )
    monthly_spend_above_minor = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("monthly spend alert above (minor units)")
    )
    expiring_within_days = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("expiry alert within (days)")
    )
    data_fired = models.BooleanField(default=False, verbose_name=_("data alert sent"))
    money_fired = models.BooleanField(default=False, verbose_name=_("balance alert sent"))
    spend_fired = models.BooleanField(default=False, verbose_name=_("spend alert sent"))
    expiring_fired = models.BooleanField(default=False, verbose_name=_("expiry alert sent"))

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")

    def __str__(self) -> str:
        return f"alerts {self.line}"


class AnomalyKind(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate record")
    INACTIVE_LINE = "inactive_line", _("Charged while not active")
    CHARGE_MISMATCH = "charge_mismatch", _("Carrier charge differs")
    SPIKE = "spike", _("Unusual spike")


class Anomaly(models.Model):
    line = models.ForeignKey(
        Line, on_delete=models.CASCADE, related_name="usage_anomalies", verbose_name=_("line")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AnomalyKind.choices)
    # What makes it one anomaly (a record id, or a day and kind for spikes): detection is idempotent.
    key = models.CharField(max_length=120, verbose_name=_("dedupe key"))
    record = models.ForeignKey(
        UsageRecord,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("usage record"),
    )
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    detected_at = models.DateTimeField(_("detected"), default=clock.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution_note = models.CharField(_("resolution note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        verbose_name = _("anomaly")
        verbose_name_plural = _("anomalies")
        constraints = [models.UniqueConstraint(fields=["line", "kind", "key"], name="usage_anomaly_once")]

    def __str__(self) -> str:
        return f"{self.line} {self.kind} {self.key}"
