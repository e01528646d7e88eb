"""Ledger writes. Every movement of money is one balanced, idempotent ledger transaction."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vigencia.accounts.models import User
from vigencia.core.db import insert_unless_taken
from vigencia.core.errors import Conflict, InvalidInput
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


class InsufficientFunds(Conflict):
    code = "insufficient_funds"
    # A lazy string, as DomainError allows; Conflict's own default is a plain str.
    default_message = gettext_lazy("There is not enough money in the balance for this.")  # type: ignore[assignment]


class AccountSpec(NamedTuple):
    """An account named by what identifies it, for `accounts_get` to find or create."""

    code: str
    kind: str
    currency: str
    owner: User | None = None


def wallet_spec(*, user: User, currency: str = "PEN") -> AccountSpec:
    return AccountSpec(wallet_code(user_id=user.pk, currency=currency), AccountKind.WALLET, currency, user)


def system_spec(*, kind: str, currency: str, key: str = "", owner: User | None = None) -> AccountSpec:
    if kind not in AccountKind.values:
        raise ValueError(f"unknown ledger account kind {kind!r}")
    code = f"{kind}:{key}:{currency}" if key else f"{kind}:{currency}"
    return AccountSpec(code, kind, currency, owner)


def _account_create(spec: AccountSpec) -> LedgerAccount:
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(
                code=spec.code, kind=spec.kind, currency=spec.currency, owner=spec.owner
            )
    except IntegrityError:  # created meanwhile by a concurrent caller
        return LedgerAccount.objects.get(code=spec.code)


def accounts_get(*wanted: LedgerAccount | AccountSpec) -> list[LedgerAccount]:
    """`wanted` as accounts, in order: the specs are read in one query, and an account that does not
    exist yet is created (race-safe)."""
    codes = [item.code for item in wanted if isinstance(item, AccountSpec)]
    found = (
        {account.code: account for account in LedgerAccount.objects.filter(code__in=codes)} if codes else {}
    )
    return [
        item if isinstance(item, LedgerAccount) else found.get(item.code) or _account_create(item)
        for item in wanted
    ]


def account_wallet(*, user: User, currency: str = "PEN") -> LedgerAccount:
    """The subscriber's wallet in `currency` (created on first use, race-safe)."""
    return accounts_get(wallet_spec(user=user, currency=currency))[0]


def account_system(*, kind: str, currency: str, key: str = "", owner: User | None = None) -> LedgerAccount:
    """A platform account such as psp_clearing:sandbox, revenue or carrier_payable:claro-pe."""
    return accounts_get(system_spec(kind=kind, currency=currency, key=key, owner=owner))[0]


# The largest amount one posting moves (10¹² minor units: ten thousand million soles). Far beyond any
# real payment, and far enough below 2⁶³ that no account's sum of postings, nor the ledger's, can
# overflow a bigint, on PostgreSQL or SQLite, in any sum `ledger verify` takes.
MAX_POSTING_MINOR = 10**12


def _check(postings: list[tuple[LedgerAccount, Money]]) -> None:
    if len(postings) < 2:
        raise InvalidInput(_("A ledger transaction needs at least two postings."), code="ledger_unbalanced")
    totals: dict[str, int] = defaultdict(int)
    for account, money in postings:
        if not isinstance(money, Money) or money.amount_minor == 0:
            raise InvalidInput(_("A posting needs a non-zero amount."), code="ledger_zero_posting")
        if abs(money.amount_minor) > MAX_POSTING_MINOR:
            raise InvalidInput(
                _("%(amount)s is more than one transaction can move.")
                % {"amount": Money(abs(money.amount_minor), money.currency).format()},
                code="amount_too_large",
            )
        if money.currency != account.currency:
            raise InvalidInput(
                _("A posting's currency must be its account's."),
                code="ledger_currency_mismatch",
                details={"account": account.code, "currency": money.currency},
            )
        totals[money.currency] += money.amount_minor
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise InvalidInput(
            _("The postings do not sum to zero."), code="ledger_unbalanced", details={"sums": unbalanced}
        )


def _refuse(account: LedgerAccount, delta: int) -> InsufficientFunds:
    return InsufficientFunds(
        details={"balance": account.balance.as_dict(), "needed": Money(-delta, account.currency).as_dict()}
    )


def _balances_move(changed: dict[int, int], spendable: set[int]) -> InsufficientFunds | None:
    """Add `changed` ({account id: delta}) to the cached balances under their row locks, taken in
    primary-key order so two posters never deadlock; if a spendable balance would go below zero,
    returns the refusal (InsufficientFunds) and moves none."""
    if len(changed) == 1:
        # The usual posting (one wallet): one conditional UPDATE takes the lock and checks.
        [(account_id, delta)] = changed.items()
        rows = LedgerAccount.objects.filter(pk=account_id)
        if account_id in spendable and delta < 0:
            rows = rows.filter(balance_minor__gte=-delta)
        if rows.update(balance_minor=F("balance_minor") + delta) != 1:
            return _refuse(LedgerAccount.objects.get(pk=account_id), delta)
        return None
    locked = LedgerAccount.objects.select_for_update().filter(pk__in=sorted(changed)).order_by("pk")
    for account in locked:
        if account.pk in spendable and account.balance_minor + changed[account.pk] < 0:
            return _refuse(account, changed[account.pk])
    if changed:  # one UPDATE however many accounts (a bulk funding touches thousands)
        LedgerAccount.objects.filter(pk__in=changed).update(
            balance_minor=F("balance_minor")
            + Case(*(When(pk=pk, then=Value(delta)) for pk, delta in changed.items()))
        )
    return None


def _balance_changes(postings: list[tuple[LedgerAccount, Money]]) -> tuple[dict[int, int], set[int]]:
    """What `postings` add to the cached balances ({account id: delta}), and which of those accounts
    may not go below zero. Only accounts with a cached balance are locked and updated; platform-wide
    accounts take plain postings."""
    deltas: dict[int, int] = defaultdict(int)
    spendable: set[int] = set()
    for account, money in postings:
        if account.kind in CACHED_KINDS:
            deltas[account.pk] += money.amount_minor
        if account.kind in NON_NEGATIVE_KINDS:
            spendable.add(account.pk)
    return deltas, spendable


def ledger_post(
    *,
    kind: str,
    idempotency_key: str,
    postings: list[tuple[LedgerAccount, Money]],
    memo: str = "",
    reference: str = "",
) -> LedgerTransaction:
    """Write one balanced transaction, exactly once per `idempotency_key` (a repeat, even a concurrent
    one, returns the first and writes nothing). Locks the touched accounts in primary-key order, so
    concurrent posters never deadlock; a wallet or reseller balance that would go below zero raises
    InsufficientFunds and nothing is written."""
    _check(postings)
    deltas, spendable = _balance_changes(postings)
    entry = _transaction_row(kind, idempotency_key, memo, reference)
    # No savepoint (two statements fewer on every payment), and no error raised inside the block, so
    # a caller's transaction goes on as with one: a repeated key inserts nothing (a concurrent insert
    # of it is waited for), and a refused balance deletes the row again before the block ends.
    with transaction.atomic(savepoint=False):
        inserted = insert_unless_taken(entry)
        refusal = None
        if inserted:
            refusal = _balances_move({pk: delta for pk, delta in deltas.items() if delta}, spendable)
            if refusal is None:
                Posting.objects.bulk_create(_posting_rows(entry, postings))
            else:
                LedgerTransaction.objects.filter(pk=entry.pk).delete()
    if refusal is not None:
        raise refusal
    if not inserted:  # the same key, committed before or by a concurrent caller
        existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise IntegrityError(f"ledger transaction {idempotency_key} was refused by a constraint")
        return existing
    return entry


def _transaction_row(kind: str, idempotency_key: str, memo: str, reference: str) -> LedgerTransaction:
    return LedgerTransaction(
        kind=kind, idempotency_key=idempotency_key, memo=memo[:300], reference=reference[:80]
    )


def _posting_rows(row: LedgerTransaction, postings: list[tuple[LedgerAccount, Money]]) -> list[Posting]:
    return [
        Posting(transaction=row, account=account, amount_minor=money.amount_minor, currency=money.currency)
        for account, money in postings
    ]


class LedgerEntry(NamedTuple):
    """One transaction for `ledger_post_many` (the arguments of `ledger_post`)."""

    kind: str
    idempotency_key: str
    postings: list[tuple[LedgerAccount, Money]]
    memo: str = ""
    reference: str = ""


def ledger_post_many(entries: list[LedgerEntry]) -> list[LedgerTransaction]:
    """`ledger_post` for many transactions at once, each still its own balanced transaction with its
    own idempotency key: all are checked first, the keys already used are read in one query (their
    transactions are returned and nothing is written for them), the cached balances move together
    (`_balances_move`: one lock query in primary-key order, InsufficientFunds and nothing written if
    any spendable balance would go below zero), and the transactions and postings are inserted in
    bulk. If a concurrent poster takes one of the keys meanwhile, each entry is posted by
    `ledger_post` instead, which settles that race."""
    for entry in entries:
        _check(entry.postings)
    existing = {
        row.idempotency_key: row
        for row in LedgerTransaction.objects.filter(
            idempotency_key__in=[entry.idempotency_key for entry in entries]
        )
    }
    new = list(
        {entry.idempotency_key: entry for entry in entries if entry.idempotency_key not in existing}.values()
    )
    deltas, spendable = _balance_changes([posting for entry in new for posting in entry.postings])
    try:
        with transaction.atomic():
            created = LedgerTransaction.objects.bulk_create(
                [
                    _transaction_row(entry.kind, entry.idempotency_key, entry.memo, entry.reference)
                    for entry in new
                ],
                batch_size=1_000,
            )
            refusal = _balances_move({pk: delta for pk, delta in deltas.items() if delta}, spendable)
            if refusal is not None:
                raise refusal
            Posting.objects.bulk_create(
                [
                    posting
                    for row, entry in zip(created, new, strict=True)
                    for posting in _posting_rows(row, entry.postings)
                ],
                batch_size=2_000,
            )
    except IntegrityError:
        return [ledger_post(**entry._asdict()) for entry in entries]
    by_key = {**existing, **{row.idempotency_key: row for row in created}}
    return [by_key[entry.idempotency_key] for entry in entries]


def ledger_reverse(
    *, transaction: LedgerTransaction, idempotency_key: str, memo: str = ""
) -> LedgerTransaction:
    """Post the exact opposite of `transaction` (once per key): a reversed wallet debit refunds it."""
    postings = [
        (posting.account, -posting.amount) for posting in transaction.postings.select_related("account")
    ]
    return ledger_post(
        kind=f"reversal:{transaction.kind}"[:40],
        idempotency_key=idempotency_key,
        postings=postings,
        memo=memo or f"Reversal of #{transaction.pk}",
        reference=transaction.reference,
    )
