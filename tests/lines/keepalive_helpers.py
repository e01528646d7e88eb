"""Helpers shared by the reminder, auto-renew and simulation tests."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from vigencia.accounts.models import User
from vigencia.core.money import Money
from vigencia.ledger.services import account_system, account_wallet, ledger_post

LIMA = ZoneInfo("America/Lima")


def lima(day: date, at: time = time(12, 0)) -> datetime:
    """Noon (or `at`) in Lima on `day`: outside the default quiet hours."""
    return datetime.combine(day, at, tzinfo=LIMA)


def fund(user: User, amount_minor: int, currency: str = "PEN", *, key: str = "") -> None:
    """Credit a wallet as a card top-up would (PSP clearing -> wallet)."""
    ledger_post(
        kind="wallet_topup",
        idempotency_key=f"fund:{user.pk}:{amount_minor}:{key or account_wallet(user=user).balance_minor}",
        postings=[
            (
                account_system(kind="psp_clearing", currency=currency, key="sandbox"),
                Money(-amount_minor, currency),
            ),
            (account_wallet(user=user, currency=currency), Money(amount_minor, currency)),
        ],
    )


def drain(user: User, currency: str = "PEN") -> None:
    """Empty a wallet (the subscriber spent it elsewhere)."""
    balance = account_wallet(user=user, currency=currency).balance_minor
    if balance:
        ledger_post(
            kind="wallet_topup",
            idempotency_key=f"test-drain:{user.pk}:{balance}",
            postings=[
                (account_wallet(user=user, currency=currency), Money(-balance, currency)),
                (
                    account_system(kind="psp_clearing", currency=currency, key="sandbox"),
                    Money(balance, currency),
                ),
            ],
        )
