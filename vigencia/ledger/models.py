"""The double-entry ledger: accounts, append-only transactions and their postings.

Sign convention: a posting's amount is what it adds to its account's balance as the account's holder
reads it, and the postings of one transaction sum to zero in every currency. So the accounts that
record what the platform owes or has earned (a subscriber's wallet, a reseller's prepaid balance,
voucher liability, carrier payable, revenue) grow with positive postings, and the accounts money
arrives from or leaves through (PSP clearing, a store's cash drawer, promotions expense, refunds)
carry the opposite sign. Examples:

- wallet top-up paid by card: psp_clearing:sandbox -1000, wallet +1000
- renewal paid from the wallet: wallet -1000, carrier_payable:claro-pe +900, revenue +100
- renewal paid in cash at a store: cash_drawer:shift-7 -1000, carrier_payable +900, revenue +100

A balance is the sum of the account's postings. Accounts held by one party (a wallet, a reseller's
prepaid balance, one shift's cash drawer) also cache it in `balance_minor`, updated with F() under a
row lock (never negative for spendable kinds, by a CHECK constraint); `vigencia ledger verify` proves
the cache equals the sum. Platform-wide accounts (clearing, revenue, carrier payable, liabilities,
expenses) take postings from every sale at once, so they keep no cache and take no lock: a cached
total there would be one hot row every renewal waits on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from vigencia.core import clock
from vigencia.core.money import Money


class AccountKind(models.TextChoices):
    WALLET = "wallet", _("Subscriber wallet")
    PSP_CLEARING = "psp_clearing", _("PSP clearing")
    REVENUE = "revenue", _("Revenue")
    CARRIER_PAYABLE = "carrier_payable", _("Carrier payable")
    REFUNDS = "refunds", _("Refunds")
    VOUCHER_LIABILITY = "voucher_liability", _("Voucher liability")
    CASH_DRAWER = "cash_drawer", _("Store cash drawer")
    PROMOTIONS_EXPENSE = "promotions_expense", _("Promotions expense")
    RESELLER_PREPAID = "reseller_prepaid", _("Reseller prepaid balance")
    ADJUSTMENTS = "adjustments", _("Adjustments")
    # Paid at a store counter (cash, card) for a renewal the carrier declined, until the store gives it back.
    STORE_CASH_OWED = "store_cash_owed", _("Money to give back at stores")


# Balances that are money someone can spend: they never go below zero.
NON_NEGATIVE_KINDS = (AccountKind.WALLET, AccountKind.RESELLER_PREPAID)
# Accounts of one holder, whose balance is cached (and locked when posted to).
CACHED_KINDS = (*NON_NEGATIVE_KINDS, AccountKind.CASH_DRAWER)


def wallet_code(*, user_id: int, currency: str) -> str:
    return f"wallet:{user_id}:{currency}"


class LedgerAccount(models.Model):
    code = models.CharField(_("code"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=24, choices=AccountKind.choices)
    currency = models.CharField(_("currency"), max_length=3)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
        verbose_name=_("owner"),
    )
    balance_minor = models.BigIntegerField(_("balance (minor units)"), default=0)
    created_at = models.DateTimeField(default=clock.now, editable=False, verbose_name=_("created at"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=NON_NEGATIVE_KINDS) | Q(balance_minor__gte=0),
                name="ledger_account_spendable_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="ledger_account_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def balance(self) -> Money:
        if self.kind in CACHED_KINDS:
            return Money(self.balance_minor, self.currency)
        total = self.postings.aggregate(total=models.Sum("amount_minor"))["total"]
        return Money(total or 0, self.currency)


class LedgerTransaction(models.Model):
    kind = models.CharField(_("kind"), max_length=40)
    idempotency_key = models.CharField(max_length=200, unique=True, verbose_name=_("idempotency key"))
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    reference = models.CharField(_("reference"), max_length=80, blank=True, db_index=True)
    created_at = models.DateTimeField(
        default=clock.now, editable=False, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.reference}"


class Posting(models.Model):
    transaction = models.ForeignKey(
        LedgerTransaction,
        on_delete=models.PROTECT,
        related_name="postings",
        verbose_name=_("ledger transaction"),
    )
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="postings", verbose_name=_("ledger account")
    )
    amount_minor = models.BigIntegerField(verbose_name=_("amount (minor units)"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))

    class Meta:
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(amount_minor=0), name="ledger_posting_not_zero")]
        indexes = [models.Index(fields=["account", "transaction"])]

    def __str__(self) -> str:
        return f"{self.account} {self.amount}"

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)
