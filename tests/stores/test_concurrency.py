"""Racing imports of the same store on PostgreSQL: one row, no error."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from vigencia.stores.models import Store
from vigencia.stores.services import store_upsert

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"),
]


@pytest.mark.django_db(transaction=True)
def test_ten_threads_upserting_one_store_leave_one_row(demo_catalog):
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def upsert(number: int) -> None:
        try:
            barrier.wait()
            store_upsert(
                code="RACE-1",
                name="Tienda carrera",
                address="Av. Larco 1",
                city="Lima",
                latitude=-12.12,
                longitude=-77.03 + number / 10_000,
                carrier_codes=["claro-pe"],
                services=["renewal"],
            )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=upsert, args=(number,)) for number in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Store.objects.filter(code="RACE-1").count() == 1
    store = Store.objects.get(code="RACE-1")
    assert list(store.carriers.values_list("code", flat=True)) == ["claro-pe"]
    assert list(store.services.values_list("service", flat=True)) == ["renewal"]
