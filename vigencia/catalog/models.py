"""Carriers with their keep-alive rules as data, and the plans they sell."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from vigencia.core.clock import validate_timezone
from vigencia.core.models import TimeStampedModel
from vigencia.core.money import CURRENCIES, Money, validate_currency


class PolicyKind(models.TextChoices):
    # Peru: deadlines count from the last recharge; unused balance may extend life.
    SINCE_RECHARGE = "since_recharge", _("Days since the last recharge")
    # Hong Kong: each top-up extends validity by a number of days.
    VALIDITY_PER_TOPUP = "validity_per_topup", _("Validity extended per top-up")
    # UK: any chargeable use within a window keeps the number.
    CHARGEABLE_USE = "chargeable_use", _("Chargeable use within a period")
    # China: a monthly keep-number plan; arrears suspend the line, then the number is recycled.
    MONTHLY_PLAN = "monthly_plan", _("Monthly keep-number plan")


# The longest any keep-alive period may be (ten years), and the carrier's notice (a year at most): a
# typo such as 9999 would push every deadline out of sight.
MAX_POLICY_DAYS = 3650
MAX_NOTICE_DAYS = 365
_POLICY_DAYS = [MaxValueValidator(MAX_POLICY_DAYS)]


class Carrier(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2, e.g. PE"))
    currency = models.CharField(
        _("currency"), max_length=3, validators=[validate_currency], help_text=_("ISO 4217, e.g. PEN")
    )
    timezone = models.CharField(
        _("timezone"), max_length=64, default="America/Lima", validators=[validate_timezone]
    )
    is_active = models.BooleanField(_("active"), default=True)

    # Keep-alive policy, as data: a new carrier needs no code.
    policy_kind = models.CharField(
        _("policy kind"), max_length=24, choices=PolicyKind.choices, default=PolicyKind.SINCE_RECHARGE
    )
    restrict_after_days = models.PositiveIntegerField(
        _("restricted after (days)"),
        null=True,
        blank=True,
        validators=_POLICY_DAYS,
        help_text=_("Days without recharge until outgoing service is restricted; empty if never."),
    )
    cutoff_after_days = models.PositiveIntegerField(
        _("cut off after (days)"),
        validators=_POLICY_DAYS,
        help_text=_("Days without recharge (or validity) until cut-off."),
    )
    recycle_after_cutoff_days = models.PositiveIntegerField(
        _("number reassigned after cut-off (days)"), default=90, validators=_POLICY_DAYS
    )
    notice_days = models.PositiveIntegerField(
        _("carrier notice before cut-off (days)"),
        default=15,
        validators=[MaxValueValidator(MAX_NOTICE_DAYS)],
    )
    balance_extends_life = models.BooleanField(_("unused balance extends life"), default=False)
    balance_max_days = models.PositiveIntegerField(
        _("longest life with balance (days)"), null=True, blank=True, validators=_POLICY_DAYS
    )
    policy_notes = models.TextField(_("policy notes and sources"), blank=True)

    class Meta:
        ordering = ["country", "name"]
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")
        constraints = [
            models.CheckConstraint(
                condition=Q(restrict_after_days__isnull=True)
                | Q(restrict_after_days__lte=models.F("cutoff_after_days")),
                name="catalog_carrier_restrict_before_cutoff",
                violation_error_message=_(
                    "Outgoing service must be restricted before the cut-off, not after it."
                ),
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"),
                name="catalog_carrier_currency_iso",
                violation_error_message=_("The currency is a three-letter ISO 4217 code such as PEN."),
            ),
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"),
                name="catalog_carrier_country_iso",
                violation_error_message=_("The country is a two-letter ISO code in capitals, such as PE."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Its plans are priced in its currency (Plan.clean): a carrier does not move away from them.
        if self.pk and self.currency in CURRENCIES:  # else the field says why
            other = self.plans.exclude(currency=self.currency).values_list("currency", flat=True).first()
            if other:
                raise ValidationError(
                    {
                        "currency": _("Its plans are priced in %(currency)s; it keeps that currency.")
                        % {"currency": other}
                    }
                )

    def policy(self) -> dict[str, object]:
        return {
            "kind": self.policy_kind,
            "restrict_after_days": self.restrict_after_days,
            "cutoff_after_days": self.cutoff_after_days,
            "recycle_after_cutoff_days": self.recycle_after_cutoff_days,
            "notice_days": self.notice_days,
            "balance_extends_life": self.balance_extends_life,
            "balance_max_days": self.balance_max_days,
        }


class Plan(TimeStampedModel):
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="plans", verbose_name=_("carrier")
    )
    code = models.SlugField(_("code"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_es = models.CharField(_("name (Spanish)"), max_length=120)
    name_zh_hans = models.CharField(_("name (Chinese)"), max_length=120)
    price_minor = models.BigIntegerField(_("price (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, validators=[validate_currency])
    validity_days = models.PositiveIntegerField(_("validity (days)"))
    data_mb = models.PositiveIntegerField(_("data (MB)"), default=0)
    minutes = models.PositiveIntegerField(_("voice minutes"), default=0)
    sms = models.PositiveIntegerField(_("SMS"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    active_from = models.DateTimeField(_("on sale from"), null=True, blank=True)
    active_until = models.DateTimeField(_("on sale until"), null=True, blank=True)

    class Meta:
        ordering = ["carrier__code", "price_minor", "code"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "code"],
                name="catalog_plan_code_unique_per_carrier",
                violation_error_message=_("This carrier already has a plan with this code."),
            ),
            models.CheckConstraint(
                condition=Q(price_minor__gt=0),
                name="catalog_plan_price_positive",
                violation_error_message=_("The price must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(validity_days__gt=0),
                name="catalog_plan_validity_positive",
                violation_error_message=_("A plan gives at least one day of validity."),
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"),
                name="catalog_plan_currency_iso",
                violation_error_message=_("The currency is a three-letter ISO 4217 code such as PEN."),
            ),
            models.CheckConstraint(
                condition=Q(active_from__isnull=True)
                | Q(active_until__isnull=True)
                | Q(active_from__lt=models.F("active_until")),
                name="catalog_plan_window_ordered",
                violation_error_message=_("The sale must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier.code}/{self.code}"

    def clean(self) -> None:
        # A plan is paid in its carrier's currency: the ledger's carrier payable has no other.
        try:
            carrier = self.carrier
        except Carrier.DoesNotExist:
            return
        if self.currency in CURRENCIES and self.currency != carrier.currency:
            raise ValidationError(
                {
                    "currency": _("%(carrier)s sells in %(currency)s; a plan of it must be priced in it too.")
                    % {"carrier": carrier.name, "currency": carrier.currency}
                }
            )

    @property
    def price(self) -> Money:
        return Money(self.price_minor, self.currency)

    @property
    def name(self) -> str:
        language = (translation.get_language() or "en").lower()
        if language.startswith("zh"):
            return self.name_zh_hans
        if language.startswith("es"):
            return self.name_es
        return self.name_en


# Promotions (codes and automatic campaigns) and FX rates: see catalog/promotions.py and catalog/fx.py.


class PromotionKind(models.TextChoices):
    PERCENT_OFF = "percent_off", _("Percent off")
    FIXED_OFF = "fixed_off", _("Fixed amount off")
    BONUS_DATA = "bonus_data", _("Bonus data")
    EXTRA_DAYS = "extra_days", _("Extra validity days")


class PromotionAudience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    NEW = "new", _("New customers (no renewal yet)")
    EXISTING = "existing", _("Existing customers")


class Promotion(TimeStampedModel):
    """A discount or bonus on a renewal: a code people type, or (without a code) an automatic campaign.

    Scope is data: empty carriers/plans/channels mean "any". `uses_count` is the total reserved so
    far, moved only by a conditional UPDATE (WHERE uses_count < max_uses), so concurrent checkouts
    can never pass the limit."""

    code = models.CharField(
        _("code"),
        max_length=40,
        blank=True,
        help_text=_("Empty: an automatic campaign, applied without a code."),
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=PromotionKind.choices)
    percent_off = models.PositiveSmallIntegerField(_("percent off"), null=True, blank=True)
    amount_off_minor = models.BigIntegerField(_("amount off (minor units)"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True, validators=[validate_currency])
    bonus_data_mb = models.PositiveIntegerField(_("bonus data (MB)"), default=0)
    extra_days = models.PositiveIntegerField(_("extra validity days"), default=0)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    carriers = models.ManyToManyField(Carrier, blank=True, related_name="+", verbose_name=_("carriers"))
    plans = models.ManyToManyField(Plan, blank=True, related_name="+", verbose_name=_("plans"))
    channels = models.JSONField(
        _("channels"), default=list, blank=True, help_text=_('e.g. ["online", "store"]; empty: every channel')
    )
    audience = models.CharField(
        _("customers"), max_length=10, choices=PromotionAudience.choices, default=PromotionAudience.EVERYONE
    )
    max_uses = models.PositiveIntegerField(_("uses in total"), null=True, blank=True)
    max_uses_per_subscriber = models.PositiveIntegerField(_("uses per subscriber"), null=True, blank=True)
    uses_count = models.PositiveIntegerField(_("used"), default=0, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-starts_at", "code"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=~Q(code=""),
                name="catalog_promotion_code_unique",
                violation_error_message=_("Another promotion already has this code."),
            ),
            models.CheckConstraint(
                condition=Q(starts_at__lt=models.F("ends_at")),
                name="catalog_promotion_window",
                violation_error_message=_("The promotion must end after it starts."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="percent_off") | Q(percent_off__gte=1, percent_off__lte=99),
                name="catalog_promotion_percent_1_99",
                violation_error_message=_("A percent-off promotion takes 1 to 99 percent off."),
            ),
            models.CheckConstraint(
                condition=~Q(kind="fixed_off")
                | (Q(amount_off_minor__gt=0) & Q(currency__regex=r"^[A-Z]{3}$")),
                name="catalog_promotion_fixed_amount",
                violation_error_message=_(
                    "A fixed-amount promotion needs an amount above zero and its currency."
                ),
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses_count__lte=models.F("max_uses")),
                name="catalog_promotion_within_limit",
                violation_error_message=_("The limit of uses cannot be below the uses already made."),
            ),
        ]

    def __str__(self) -> str:
        return self.code or self.name


class PromotionUse(models.Model):
    """How many times one subscriber holds a promotion: a counter row moved by a conditional UPDATE."""

    promotion = models.ForeignKey(
        Promotion, on_delete=models.CASCADE, related_name="uses", verbose_name=_("promotion")
    )
    subscriber = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("subscriber")
    )
    used = models.PositiveIntegerField(default=0, verbose_name=_("used"))

    class Meta:
        verbose_name = _("promotion use")
        verbose_name_plural = _("promotion uses")
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "subscriber"],
                name="catalog_promotion_use_once",
                violation_error_message=_("This subscriber already has a count for this promotion."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.promotion} × {self.used} ({self.subscriber_id})"


class FxRate(models.Model):
    """1 unit of `base` is `rate` units of `quote` on `as_of` (operator-maintained or imported from
    CSV). Used only to show approximate amounts; nothing is ever charged in a converted currency."""

    base = models.CharField(_("from"), max_length=3, validators=[validate_currency])
    quote = models.CharField(_("to"), max_length=3, validators=[validate_currency])
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8)
    as_of = models.DateField(_("as of"))
    source = models.CharField(_("source"), max_length=60, blank=True)

    class Meta:
        ordering = ["base", "quote", "-as_of"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["base", "quote", "as_of"],
                name="catalog_fxrate_once_per_day",
                violation_error_message=_("There is already a rate for these currencies on this day."),
            ),
            models.CheckConstraint(
                condition=Q(rate__gt=0),
                name="catalog_fxrate_positive",
                violation_error_message=_("The rate must be more than zero."),
            ),
            models.CheckConstraint(
                condition=Q(base__regex=r"^[A-Z]{3}$") & Q(quote__regex=r"^[A-Z]{3}$"),
                name="catalog_fxrate_currency_iso",
                violation_error_message=_("The currency is a three-letter ISO 4217 code such as PEN."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.base}/{self.quote} {self.rate} @ {self.as_of}"
