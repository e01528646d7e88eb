"""Renewal orders: the one pipeline every channel (online, store, voucher, auto-renew) goes through."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.core.models import TimeStampedModel
from vigencia.core.money import Money
from vigencia.core.transitions import TransitionTable
from vigencia.lines.models import Line


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Waiting for payment")
    PAID = "paid", _("Paid")
    FULFILLING = "fulfilling", _("Sending to the carrier")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")
    CANCELED = "canceled", _("Canceled")


ORDER_TRANSITIONS = TransitionTable(
    "order",
    {
        OrderStatus.PENDING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELED},
        OrderStatus.PAID: {OrderStatus.FULFILLING},
        OrderStatus.FULFILLING: {OrderStatus.COMPLETED, OrderStatus.FAILED},
        OrderStatus.FAILED: {OrderStatus.REFUNDED},
        # A support agent may refund a completed renewal in full (vigencia.support).
        OrderStatus.COMPLETED: {OrderStatus.REFUNDED},
        OrderStatus.REFUNDED: set(),
        OrderStatus.CANCELED: set(),
    },
)


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    STORE = "store", _("Store")
    VOUCHER = "voucher", _("Recharge code")
    AUTO_RENEW = "auto_renew", _("Auto-renew")


class PaymentMethod(models.TextChoices):
    WALLET = "wallet", _("Wallet")
    SANDBOX_CARD = "sandbox_card", _("Card")
    SANDBOX_EWALLET = "sandbox_ewallet", _("Yape / Plin")
    SANDBOX_PAYPAL = "sandbox_paypal", _("PayPal")
    VOUCHER = "voucher", _("Recharge code")
    CASH = "cash", _("Cash")
    CARD_TERMINAL = "card_terminal", _("Card at the store")


# Paid through a PSP: the order waits for the payment.
PSP_METHODS = (PaymentMethod.SANDBOX_CARD, PaymentMethod.SANDBOX_EWALLET, PaymentMethod.SANDBOX_PAYPAL)
# What a subscriber can choose online (portal and API).
ONLINE_METHODS = (PaymentMethod.WALLET, *PSP_METHODS)


class RenewalOrder(TimeStampedModel):
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("payer")
    )
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="orders", verbose_name=_("line"))
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="orders", verbose_name=_("plan"))
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, default=Channel.ONLINE)
    payment_method = models.CharField(_("payment method"), max_length=20, choices=PaymentMethod.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT
    )
    # Snapshot at checkout: later catalog edits never change what was bought.
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    msisdn = models.CharField(_("number"), max_length=16)
    carrier_code = models.CharField(_("carrier"), max_length=40)
    plan_code = models.CharField(_("plan code"), max_length=60)
    plan_name = models.CharField(_("plan"), max_length=120)
    validity_days = models.PositiveIntegerField(_("validity (days)"))
    payment_id = models.CharField(_("payment"), max_length=40, blank=True, db_index=True)
    valid_until_before = models.DateField(_("valid until before"), null=True, blank=True)
    valid_until_after = models.DateField(_("new valid until"), null=True, blank=True)
    failure_code = models.CharField(max_length=60, blank=True, verbose_name=_("failure code"))
    failure_message = models.CharField(max_length=300, blank=True, verbose_name=_("failure message"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    # A promotion applied at checkout: amount_minor is what the payer pays, discount_minor what
    # promotions expense pays; the carrier gets both (list_price).
    promotion = models.ForeignKey(
        "catalog.Promotion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("promotion"),
    )
    discount_minor = models.BigIntegerField(_("discount (minor units)"), default=0)
    bonus_data_mb = models.PositiveIntegerField(_("bonus data (MB)"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("renewal order")
        verbose_name_plural = _("renewal orders")
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="orders_order_amount_positive"),
            models.CheckConstraint(
                condition=Q(discount_minor__gte=0), name="orders_order_discount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="orders_order_status_known"
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.msisdn} {self.plan_code}"

    @property
    def total(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def discount(self) -> Money:
        return Money(self.discount_minor, self.currency)

    @property
    def list_price(self) -> Money:
        """What the carrier is paid: the payer's amount plus the promotion's discount."""
        return Money(self.amount_minor + self.discount_minor, self.currency)

    @property
    def receipt_number(self) -> str:
        return f"R-{self.pk:08d}"


class OrderEvent(models.Model):
    order = models.ForeignKey(
        RenewalOrder, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    kind = models.CharField(max_length=40, verbose_name=_("kind"))
    from_status = models.CharField(max_length=16, blank=True, verbose_name=_("from status"))
    to_status = models.CharField(max_length=16, blank=True, verbose_name=_("to status"))
    at = models.DateTimeField(default=clock.now, verbose_name=_("at"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"order {self.order_id} {self.kind} {self.from_status}->{self.to_status}"


class TopupStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    SUCCEEDED = "succeeded", _("Credited")
    FAILED = "failed", _("Failed")


TOPUP_TRANSITIONS = TransitionTable(
    "wallet top-up",
    {TopupStatus.PENDING: {TopupStatus.SUCCEEDED, TopupStatus.FAILED}},
)


class WalletTopup(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="wallet_topups",
        verbose_name=_("user"),
    )
    amount_minor = models.BigIntegerField(verbose_name=_("amount (minor units)"))
    currency = models.CharField(max_length=3, default="PEN", verbose_name=_("currency"))
    payment_method = models.CharField(
        max_length=20, choices=PaymentMethod.choices, verbose_name=_("payment method")
    )
    payment_id = models.CharField(max_length=40, blank=True, db_index=True, verbose_name=_("payment id"))
    status = models.CharField(
        max_length=12, choices=TopupStatus.choices, default=TopupStatus.PENDING, verbose_name=_("status")
    )

    class Meta:
        verbose_name = _("wallet top-up")
        verbose_name_plural = _("wallet top-ups")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="orders_topup_amount_positive")
        ]

    def __str__(self) -> str:
        return f"top-up #{self.pk} {self.amount}"

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)
