import pytest

from vigencia.catalog.models import Plan
from vigencia.core.money import Money
from vigencia.ledger.services import account_system, account_wallet, ledger_post
from vigencia.lines.services import line_add


@pytest.fixture
def line(user, claro):
    return line_add(owner=user, msisdn="+51 912 345 678", carrier=claro)


@pytest.fixture
def plan(claro):
    return Plan.objects.get(carrier=claro, code="max-10")


@pytest.fixture
def fund_wallet():
    """Credit a user's wallet as a card top-up would (PSP clearing -> wallet)."""

    def fund(user, amount_minor: int, currency: str = "PEN"):
        ledger_post(
            kind="wallet_topup",
            idempotency_key=f"test-fund:{user.pk}:{amount_minor}:{account_wallet(user=user).balance_minor}",
            postings=[
                (
                    account_system(kind="psp_clearing", currency=currency, key="sandbox"),
                    Money(-amount_minor, currency),
                ),
                (account_wallet(user=user, currency=currency), Money(amount_minor, currency)),
            ],
        )

    return fund


@pytest.fixture
def simulator(settings):
    """The in-process carrier simulator (the default gateway), with its fault hooks reset."""
    from vigencia.fulfilment.gateways.simulator import simulator

    settings.VIGENCIA_CARRIER_GATEWAY = "simulator"
    simulator.reset()
    yield simulator
    simulator.reset()
