"""Ledger reads: balances and the invariants `vigencia ledger verify` proves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Case, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from vigencia.accounts.models import User
from vigencia.core.money import Money
from vigencia.ledger.models import (
    CACHED_KINDS,
    NON_NEGATIVE_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerTransaction,
    Posting,
    wallet_code,
)


def wallet_balance(*, user: User, currency: str = "PEN") -> Money:
    balance = (
        LedgerAccount.objects.filter(code=wallet_code(user_id=user.pk, currency=currency))
        .values_list("balance_minor", flat=True)
        .first()
    )
    return Money(balance or 0, currency)


def wallet_balances(*, users: Iterable[User], currency: str = "PEN") -> dict[int, Money]:
    """`wallet_balance` of many users in one query, by user id."""
    codes = {wallet_code(user_id=user.pk, currency=currency): user.pk for user in users}
    balances = dict(LedgerAccount.objects.filter(code__in=list(codes)).values_list("code", "balance_minor"))
    return {user_id: Money(balances.get(code) or 0, currency) for code, user_id in codes.items()}


def owned_balances(*, user: User) -> list[Money]:
    """The balances, not zero, of the accounts a person owns (wallets in any currency), by currency."""
    rows = (
        LedgerAccount.objects.filter(owner=user, kind__in=CACHED_KINDS)
        .exclude(balance_minor=0)
        .order_by("currency", "code")
    )
    return [Money(balance, currency) for balance, currency in rows.values_list("balance_minor", "currency")]


def wallet_balances_other(*, user: User, currency: str = "PEN") -> list[Money]:
    """What `user`'s wallets hold in currencies other than `currency`, those not empty, by currency."""
    rows = (
        LedgerAccount.objects.filter(owner=user, kind=AccountKind.WALLET)
        .exclude(currency=currency)
        .exclude(balance_minor=0)
        .order_by("currency")
        .values_list("balance_minor", "currency")
    )
    return [Money(balance, code) for balance, code in rows]


def account_balance(*, account: LedgerAccount) -> Money:
    """The balance derived from the postings (not the cached column)."""
    total = account.postings.aggregate(total=Coalesce(Sum("amount_minor"), 0))["total"]
    return Money(total, account.currency)


def wallet_history(*, user: User, currency: str = "PEN") -> QuerySet[Posting]:
    return (
        Posting.objects.filter(account__code=wallet_code(user_id=user.pk, currency=currency))
        .select_related("transaction")
        .order_by("-transaction__created_at", "-id")
    )


def ledger_verify() -> list[dict[str, Any]]:
    """Every broken invariant, as one dict each; an empty list means the ledger is sound."""
    problems: list[dict[str, Any]] = []
    unbalanced = (
        Posting.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount_minor"))
        .exclude(total=0)
        .order_by("transaction_id")
    )
    problems += [
        {
            "problem": "unbalanced",
            "transaction": row["transaction_id"],
            "currency": row["currency"],
            "sum": row["total"],
        }
        for row in unbalanced
    ]
    problems += [
        {"problem": "currency_mismatch", "transaction": posting.transaction_id, "posting": posting.pk}
        for posting in Posting.objects.filter(~Q(currency=F("account__currency"))).order_by("pk")
    ]
    # A cached balance equals its postings' sum; an account without a cache keeps 0 there.
    drifted = (
        LedgerAccount.objects.annotate(
            total=Coalesce(Sum("postings__amount_minor"), 0),
            expected=Case(When(kind__in=CACHED_KINDS, then=F("total")), default=Value(0)),
        )
        .exclude(balance_minor=F("expected"))
        .order_by("pk")
    )
    problems += [
        {
            "problem": "cached_balance",
            "account": account.code,
            "cached": account.balance_minor,
            "postings": account.expected,
        }
        for account in drifted
    ]
    problems += [
        {"problem": "negative_balance", "account": account.code, "balance": account.balance_minor}
        for account in LedgerAccount.objects.filter(
            kind__in=NON_NEGATIVE_KINDS, balance_minor__lt=0
        ).order_by("pk")
    ]
    problems += [
        {"problem": "no_postings", "transaction": entry.pk}
        for entry in LedgerTransaction.objects.filter(postings__isnull=True).order_by("pk")
    ]
    return problems


def ledger_totals() -> dict[str, dict[str, int]]:
    """Balance per account kind and currency (for reports and the dashboard)."""
    totals: dict[str, dict[str, int]] = {}
    rows = Posting.objects.values("account__kind", "currency").annotate(total=Sum("amount_minor"))
    for row in rows.order_by("account__kind", "currency"):
        totals.setdefault(row["account__kind"], {})[row["currency"]] = row["total"]
    return totals
