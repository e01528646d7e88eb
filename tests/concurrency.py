"""Races for the concurrency tests (PostgreSQL): many threads released together."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def race(count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(index)` on `count` threads released at the same instant, each on its own database
    connection (closed when it is done). Returns what each returned, or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # the test asserts on it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
