"""Card numbers are never stored nor logged: only brand and last 4 digits are kept."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db

NUMBERS = ["4242424242424242", "4000000000000002", "4000002760003184"]


def _every_row_as_text() -> str:
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(rows)


def test_no_card_number_reaches_a_table_or_a_log(make_intent, run_tasks, caplog):
    browser = Client()
    caplog.set_level(logging.DEBUG)
    for number in NUMBERS:
        intent = make_intent()
        spaced = " ".join(number[i : i + 4] for i in range(0, 16, 4))
        browser.post(intent.checkout_url, {"number": spaced, "expiry": "12/39", "cvc": "123"})
        if number.endswith("3184"):
            browser.post(f"/payments/sandbox/checkout/{intent.public_id}/authorise/", {"decision": "approve"})
    # a refused (non-test) card, too
    browser.post(make_intent().checkout_url, {"number": "5555555555554444", "expiry": "12/39", "cvc": "123"})
    run_tasks()

    dump = _every_row_as_text()
    logs = caplog.text + "\n".join(str(record.args) for record in caplog.records)
    # the dump does see what may be kept: the card brand and last 4 digits
    assert "last4" in dump
    assert "visa" in dump
    for number in [*NUMBERS, "5555555555554444"]:
        for form in (number, " ".join(number[i : i + 4] for i in range(0, 16, 4)), number[:12]):
            assert form not in dump
            assert form not in logs
