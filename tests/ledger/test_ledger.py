from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from tests.concurrency import race
from vigencia.core.errors import InvalidInput
from vigencia.core.money import Money
from vigencia.ledger.models import LedgerAccount, LedgerTransaction, Posting
from vigencia.ledger.selectors import account_balance, ledger_verify, wallet_balance, wallet_history
from vigencia.ledger.services import (
    InsufficientFunds,
    account_system,
    account_wallet,
    ledger_post,
    ledger_reverse,
)

pytestmark = pytest.mark.django_db


def pen(amount_minor):
    return Money(amount_minor, "PEN")


def _topup(user, amount_minor, key="topup-1"):
    return ledger_post(
        kind="wallet_topup",
        idempotency_key=key,
        postings=[
            (account_system(kind="psp_clearing", currency="PEN", key="sandbox"), pen(-amount_minor)),
            (account_wallet(user=user), pen(amount_minor)),
        ],
    )


def test_a_balanced_transaction_moves_both_balances(user):
    entry = _topup(user, 2500)

    assert wallet_balance(user=user) == pen(2500)
    clearing = account_system(kind="psp_clearing", currency="PEN", key="sandbox")
    clearing.refresh_from_db()
    assert clearing.balance == pen(-2500)
    assert account_balance(account=clearing) == pen(-2500)
    assert [posting.amount for posting in entry.postings.all()] == [pen(-2500), pen(2500)]
    assert ledger_verify() == []


@pytest.mark.parametrize(
    ("amounts", "code"),
    [
        ([-1000, 999], "ledger_unbalanced"),
        ([0, 0], "ledger_zero_posting"),
        ([1000], "ledger_unbalanced"),
        ([10**12 + 1, -(10**12 + 1)], "amount_too_large"),
        ([2**63 - 1, -(2**63 - 1)], "amount_too_large"),
    ],
)
def test_bad_postings_are_refused_and_write_nothing(user, amounts, code):
    accounts = [account_wallet(user=user), account_system(kind="revenue", currency="PEN")]
    with pytest.raises(InvalidInput) as error:
        ledger_post(
            kind="x", idempotency_key="k", postings=list(zip(accounts, map(pen, amounts), strict=False))
        )
    assert error.value.code == code
    assert (LedgerTransaction.objects.count(), Posting.objects.count()) == (0, 0)


def test_an_amount_no_transaction_can_move_is_named_in_the_refusal(user):
    accounts = [account_system(kind="psp_clearing", currency="PEN"), account_wallet(user=user)]
    with pytest.raises(InvalidInput) as error:
        ledger_post(
            kind="x",
            idempotency_key="k",
            postings=[(accounts[0], pen(-(10**13))), (accounts[1], pen(10**13))],
        )
    assert error.value.message == "S/\xa0100,000,000,000.00 is more than one transaction can move."
    assert ledger_verify() == []


def test_a_posting_in_another_currency_than_its_account_is_refused(user):
    with pytest.raises(InvalidInput) as error:
        ledger_post(
            kind="x",
            idempotency_key="k",
            postings=[
                (account_wallet(user=user), Money(100, "USD")),
                (account_system(kind="revenue", currency="USD"), Money(-100, "USD")),
            ],
        )
    assert error.value.code == "ledger_currency_mismatch"
    assert LedgerTransaction.objects.count() == 0


def test_the_same_key_posts_once(user):
    first = _topup(user, 1000)
    second = _topup(user, 1000)

    assert first.pk == second.pk
    assert wallet_balance(user=user) == pen(1000)
    assert Posting.objects.count() == 2


def test_a_wallet_never_goes_negative(user):
    _topup(user, 500)

    with pytest.raises(InsufficientFunds) as error:
        ledger_post(
            kind="order_payment",
            idempotency_key="spend",
            postings=[
                (account_wallet(user=user), pen(-1000)),
                (account_system(kind="revenue", currency="PEN"), pen(1000)),
            ],
        )

    assert error.value.status == 409
    assert error.value.code == "insufficient_funds"
    assert wallet_balance(user=user) == pen(500)
    assert LedgerTransaction.objects.filter(idempotency_key="spend").count() == 0


def test_the_insufficient_funds_message_speaks_the_callers_language():
    with translation.override("es"):
        assert str(InsufficientFunds().message) == "No hay saldo suficiente para esta operación."
    with translation.override("zh-hans"):
        assert str(InsufficientFunds().message) == "余额不足，无法完成此操作。"


def test_a_reversal_undoes_a_transaction(user):
    entry = _topup(user, 700)

    reversal = ledger_reverse(transaction=entry, idempotency_key="undo")
    again = ledger_reverse(transaction=entry, idempotency_key="undo")

    assert reversal.pk == again.pk
    assert wallet_balance(user=user) == pen(0)
    assert ledger_verify() == []


def test_history_lists_the_wallet_movements_newest_first(user):
    _topup(user, 700, key="a")
    _topup(user, 300, key="b")
    assert [posting.amount for posting in wallet_history(user=user)] == [pen(300), pen(700)]


def test_verify_finds_a_tampered_cached_balance_and_an_unbalanced_transaction(user):
    entry = _topup(user, 1000)
    LedgerAccount.objects.filter(code=f"wallet:{user.pk}:PEN").update(balance_minor=5000)
    Posting.objects.filter(transaction=entry, amount_minor=-1000).update(amount_minor=-900)

    problems = ledger_verify()

    assert {"problem": "unbalanced", "transaction": entry.pk, "currency": "PEN", "sum": 100} in problems
    assert {
        "problem": "cached_balance",
        "account": f"wallet:{user.pk}:PEN",
        "cached": 5000,
        "postings": 1000,
    } in problems
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("ledger", "verify", stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert f'"transaction": {entry.pk}' in err.getvalue()
    # Mend it so the suite's own after-test check passes.
    Posting.objects.filter(transaction=entry, amount_minor=-900).update(amount_minor=-1000)
    LedgerAccount.objects.filter(code=f"wallet:{user.pk}:PEN").update(balance_minor=1000)


def test_verify_finds_an_unbalanced_transaction_and_one_without_postings_written_by_raw_sql(user):
    wallet = account_wallet(user=user)
    with connection.cursor() as cursor:
        for key in ("raw-unbalanced", "raw-empty"):
            cursor.execute(
                "INSERT INTO ledger_ledgertransaction (kind, idempotency_key, memo, reference, created_at)"
                " VALUES (%s, %s, '', '', %s)",
                ["raw", key, "2026-01-01 00:00:00+00:00"],
            )
        unbalanced = LedgerTransaction.objects.get(idempotency_key="raw-unbalanced").pk
        empty = LedgerTransaction.objects.get(idempotency_key="raw-empty").pk
        cursor.execute(
            "INSERT INTO ledger_posting (transaction_id, account_id, amount_minor, currency)"
            " VALUES (%s, %s, 250, 'PEN')",
            [unbalanced, wallet.pk],
        )

    problems = ledger_verify()
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("ledger", "verify", stdout=out, stderr=err)

    assert problems == [
        {"problem": "unbalanced", "transaction": unbalanced, "currency": "PEN", "sum": 250},
        {"problem": "cached_balance", "account": wallet.code, "cached": 0, "postings": 250},
        {"problem": "no_postings", "transaction": empty},
    ]
    assert exit_.value.code == 1
    assert out.getvalue() == ""
    assert err.getvalue().splitlines() == [
        f'{{"currency": "PEN", "problem": "unbalanced", "sum": 250, "transaction": {unbalanced}}}',
        f'{{"account": "{wallet.code}", "cached": 0, "postings": 250, "problem": "cached_balance"}}',
        f'{{"problem": "no_postings", "transaction": {empty}}}',
        "3 problem(s)",
    ]
    # Mend it so the suite's own after-test check passes.
    Posting.objects.filter(transaction_id=unbalanced).delete()
    LedgerTransaction.objects.filter(pk__in=[unbalanced, empty]).delete()


def test_verify_prints_ok_on_a_sound_ledger(user):
    _topup(user, 1000)
    out = StringIO()
    call_command("ledger", "verify", stdout=out)
    assert out.getvalue().strip() == "ok"


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_debits_with_funds_for_ten(user):
    _topup(user, 10_000)
    wallet = account_wallet(user=user)
    revenue = account_system(kind="revenue", currency="PEN")

    def debit(index):
        try:
            ledger_post(
                kind="spend",
                idempotency_key=f"spend-{index}",
                postings=[(wallet, pen(-1000)), (revenue, pen(1000))],
            )
        except InsufficientFunds:
            return "insufficient"
        return "ok"

    results = race(50, debit)

    assert sorted(results) == ["insufficient"] * 40 + ["ok"] * 10
    assert LedgerTransaction.objects.filter(kind="spend").count() == 10
    assert wallet_balance(user=user) == pen(0)
    assert account_balance(account=wallet) == pen(0)
    assert ledger_verify() == []


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_with_one_key_write_one_transaction(user):
    results = race(20, lambda _index: _topup(user, 1000, key="same").pk)

    assert len(set(results)) == 1
    assert LedgerTransaction.objects.count() == 1
    assert wallet_balance(user=user) == pen(1000)
