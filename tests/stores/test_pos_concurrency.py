"""Receipt numbers stay gapless when many agents of one store sell at once (PostgreSQL, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from vigencia.stores.models import Receipt, ReceiptCounter
from vigencia.stores.services import shift_open

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL"),
]
AGENTS = 6
SALES_EACH = 3


def test_concurrent_sales_number_receipts_without_gaps(counter_store, agent_at, api_for, sale_body):
    # given six agents of one store, each in an open shift; one sale in three fails (tendered too low)
    clients = []
    for _ in range(AGENTS):
        agent = agent_at(counter_store)
        shift_open(agent=agent, float_minor=0)
        clients.append(api_for(agent))
    barrier = threading.Barrier(AGENTS)
    statuses: list[int] = []

    def sell(client, index: int) -> None:
        try:
            barrier.wait()
            for sale in range(SALES_EACH):
                tendered = 500 if sale == 1 else 2000
                response = client.post_json(
                    "/api/v1/pos/sales",
                    sale_body(payment={"method": "cash", "tendered_minor": tendered}),
                    HTTP_IDEMPOTENCY_KEY=f"{index}-{sale}",
                )
                statuses.append(response.status_code)
        finally:
            connection.close()

    # when they all sell at once
    threads = [threading.Thread(target=sell, args=(client, index)) for index, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every good sale has a receipt, numbered 1..n with no gap and no repeat
    good = AGENTS * (SALES_EACH - 1)
    assert sorted(statuses) == [201] * good + [422] * AGENTS
    assert sorted(Receipt.objects.values_list("sequence", flat=True)) == list(range(1, good + 1))
    assert ReceiptCounter.objects.get(store=counter_store).last_number == good
