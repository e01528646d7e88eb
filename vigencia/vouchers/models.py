"""Recharge codes: batches of codes sold to resellers, their redemption, and the brute-force guard.

A code has a public serial (digits with a Luhn check digit) and a secret PIN. Only an HMAC-SHA256 of
the PIN is stored (the key lives in settings, never in the database); the PINs leave the system once,
in the batch's export.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.core.models import TimeStampedModel
from vigencia.core.money import Money
from vigencia.core.transitions import TransitionTable


class VoucherStatus(models.TextChoices):
    CREATED = "created", _("Not sold yet")
    ACTIVE = "active", _("Sold, can be redeemed")
    REDEEMED = "redeemed", _("Redeemed")
    VOID = "void", _("Void")
    EXPIRED = "expired", _("Expired")


VOUCHER_TRANSITIONS = TransitionTable(
    "voucher",
    {
        VoucherStatus.CREATED: {VoucherStatus.ACTIVE, VoucherStatus.VOID, VoucherStatus.EXPIRED},
        VoucherStatus.ACTIVE: {VoucherStatus.REDEEMED, VoucherStatus.VOID, VoucherStatus.EXPIRED},
        VoucherStatus.REDEEMED: set(),
        VoucherStatus.VOID: set(),
        VoucherStatus.EXPIRED: set(),
    },
)


class VoucherBatch(TimeStampedModel):
    # No plan: wallet cards, whose face value goes to the wallet of whoever redeems one.
    plan = models.ForeignKey(
        Plan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="voucher_batches",
        verbose_name=_("plan"),
        help_text=_("Empty for wallet cards: the face value is credited to the wallet of who redeems it."),
    )
    reseller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="voucher_batches",
        verbose_name=_("reseller"),
    )
    count = models.PositiveIntegerField(_("codes"))
    # Face value snapshot: what the reseller paid per code and what the liability holds per code.
    face_minor = models.BigIntegerField(_("face value (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    expires_on = models.DateField(_("expires on"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    sold_at = models.DateTimeField(_("sold"), null=True, blank=True)
    # The PINs leave once: set when the export was written out or downloaded; never cleared.
    exported_at = models.DateTimeField(_("exported"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("voucher batch")
        verbose_name_plural = _("voucher batches")
        constraints = [
            models.CheckConstraint(condition=Q(count__gt=0), name="vouchers_batch_count_positive"),
            models.CheckConstraint(condition=Q(face_minor__gt=0), name="vouchers_batch_face_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.label} × {self.count}"

    @property
    def face(self) -> Money:
        return Money(self.face_minor, self.currency)

    @property
    def label(self) -> str:
        """What a code is worth, in the reader's language: its plan's name, or a wallet credit."""
        if self.plan is not None:
            return self.plan.name
        return _("Wallet credit %(amount)s") % {"amount": self.face.format(get_language())}

    @property
    def liability_key(self) -> str:
        return f"batch-{self.pk}"


class VoucherCode(models.Model):
    # Indexes cost a million-code batch seconds each: batch is covered by (batch, status), and serial
    # and PIN digest are unique constraints, which spare PostgreSQL the unused LIKE index of unique=True.
    # The batch is not a database foreign key: its per-row check was a quarter of PostgreSQL's work in a
    # million-code COPY. Codes are only inserted by batch_create, in the transaction that creates their
    # batch, and a batch is never deleted (PROTECT still guards deletes through the ORM).
    batch = models.ForeignKey(
        VoucherBatch,
        on_delete=models.PROTECT,
        related_name="codes",
        db_index=False,
        db_constraint=False,
        verbose_name=_("batch"),
    )
    serial = models.CharField(_("serial"), max_length=20)
    # HMAC-SHA256 of the PIN under settings.VIGENCIA_VOUCHER_PIN_KEY, its first 128 bits (codes.pin_digest):
    # not an identifier, a uuid column is just 16 fixed bytes. The unique index is the lookup.
    pin_digest = models.UUIDField(verbose_name=_("PIN digest (HMAC)"))
    status = models.CharField(
        _("status"), max_length=10, choices=VoucherStatus.choices, default=VoucherStatus.CREATED
    )
    redeemed_at = models.DateTimeField(_("redeemed"), null=True, blank=True)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("redeemed by"),
    )
    order = models.OneToOneField(
        "orders.RenewalOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="voucher",
        verbose_name=_("order"),
    )

    class Meta:
        ordering = ["serial"]
        verbose_name = _("recharge code")
        verbose_name_plural = _("recharge codes")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=VoucherStatus.values), name="vouchers_code_status_known"
            ),
            models.UniqueConstraint(fields=["serial"], name="vouchers_code_serial_unique"),
            models.UniqueConstraint(fields=["pin_digest"], name="vouchers_code_pin_digest_unique"),
        ]
        indexes = [models.Index(fields=["batch", "status"])]

    def __str__(self) -> str:
        return self.serial


class VoucherEvent(models.Model):
    """A state change of one code (a redemption) or of many codes of a batch at once (sale, void,
    expiry), with how many codes moved."""

    batch = models.ForeignKey(
        VoucherBatch, on_delete=models.PROTECT, related_name="events", verbose_name=_("batch")
    )
    code = models.ForeignKey(
        VoucherCode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("recharge code"),
    )
    from_status = models.CharField(max_length=10, verbose_name=_("from status"))
    to_status = models.CharField(max_length=10, verbose_name=_("to status"))
    count = models.PositiveIntegerField(default=1, verbose_name=_("count"))
    serial_from = models.CharField(max_length=20, blank=True, verbose_name=_("serial from"))
    serial_to = models.CharField(max_length=20, blank=True, verbose_name=_("serial to"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    created_at = models.DateTimeField(default=clock.now, editable=False, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("voucher event")
        verbose_name_plural = _("voucher events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.from_status} -> {self.to_status} × {self.count}"


class AttemptOutcome(models.TextChoices):
    REDEEMED = "redeemed", _("Redeemed")
    INVALID = "invalid", _("Invalid PIN")
    LOCKED = "locked", _("Refused: too many failures")


class RedemptionAttempt(models.Model):
    """Audit of every redemption attempt. Never the PIN: only who, from where, and what happened."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    channel = models.CharField(max_length=12, default="api", verbose_name=_("channel"))
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices, verbose_name=_("outcome"))
    code = models.ForeignKey(
        VoucherCode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recharge code"),
    )
    created_at = models.DateTimeField(
        default=clock.now, editable=False, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("redemption attempt")
        verbose_name_plural = _("redemption attempts")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.outcome}"


class AttemptCounter(models.Model):
    """A fixed-window counter (failed redemptions per account, per IP and overall, the overall one
    split into shards; verify lookups per IP; the spike alert's once-per-window marker), shared by
    every process through the database."""

    scope = models.CharField(max_length=16, verbose_name=_("scope"))
    key = models.CharField(max_length=64, verbose_name=_("key"))
    window = models.BigIntegerField(verbose_name=_("window"))  # window start, in seconds since the epoch
    count = models.PositiveIntegerField(default=0, verbose_name=_("count"))

    class Meta:
        verbose_name = _("attempt counter")
        verbose_name_plural = _("attempt counters")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key", "window"], name="vouchers_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}@{self.window}={self.count}"


class ResellerApiKey(models.Model):
    """An API key of a reseller. Only its SHA-256 is stored; the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reseller_api_keys",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100, default="api")
    prefix = models.CharField(_("prefix"), max_length=12)
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    created_at = models.DateTimeField(default=clock.now, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("reseller API key")
        verbose_name_plural = _("reseller API keys")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class ResellerProfile(models.Model):
    """What the public "authorised resellers" page shows of a reseller."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reseller_profile",
        verbose_name=_("user"),
    )
    display_name = models.CharField(_("shop name"), max_length=120)
    city = models.CharField(_("city"), max_length=80, blank=True)
    website = models.URLField(_("website"), blank=True)
    listed = models.BooleanField(_("listed publicly"), default=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("reseller profile")
        verbose_name_plural = _("reseller profiles")

    def __str__(self) -> str:
        return self.display_name
