"""The operator creates recharge-code batches on the operator page: sold at once to a reseller, or
the operator's own promotional codes, downloaded once and then put on sale."""

from __future__ import annotations

import io
import re
import uuid
import zipfile

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils.html import escape

from tests.factories import UserFactory
from vigencia.accounts import roles
from vigencia.core.money import Money
from vigencia.ledger.selectors import ledger_verify
from vigencia.vouchers.models import VoucherBatch, VoucherCode, VoucherStatus
from vigencia.vouchers.services import reseller_prepaid_account

pytestmark = pytest.mark.django_db

PAGE = "/vouchers/operator/"
CREATE = "/vouchers/operator/batches/"


@pytest.fixture
def operator_browser(client, operator) -> Client:
    client.force_login(operator)
    return client


def _key(client: Client) -> str:
    page = client.get(PAGE).content.decode()
    return re.search(r'name="idempotency_key" value="([0-9a-f-]+)"', page).group(1)


def test_a_batch_for_a_reseller_is_sold_to_them_and_waits_for_their_download(
    operator_browser, reseller, plan
):
    # given the operator page, which offers the reseller
    page = operator_browser.get(PAGE).content.decode()
    assert f'<option value="{reseller.pk}">{escape(f"{reseller.name} <shop@example.com>")}</option>' in page

    # when the operator creates 3 codes of the Claro S/ 10 plan for the reseller
    body = {"plan": plan.pk, "count": 3, "reseller": reseller.pk, "idempotency_key": _key(operator_browser)}
    response = operator_browser.post(CREATE, body, follow=True)

    # then the reseller paid for them, they are on sale, and only the reseller can download them
    batch = VoucherBatch.objects.get()
    assert (batch.reseller, batch.count, batch.created_by.email) == (reseller, 3, "ops@example.com")
    assert VoucherCode.objects.filter(status=VoucherStatus.ACTIVE).count() == 3
    assert reseller_prepaid_account(reseller=reseller, currency="PEN").balance == Money(100_000 - 3000, "PEN")
    assert (
        f"Batch #{batch.pk} is sold to shop@example.com: its codes wait for the reseller&#x27;s one download."
        in response.content.decode()
    )
    assert operator_browser.post(f"/vouchers/operator/batches/{batch.pk}/download/").status_code == 404
    assert ledger_verify() == []


def test_the_operators_own_batch_is_downloaded_once_then_put_on_sale(operator_browser, plan):
    # given a promotional batch of 2 codes, created twice by a double tap
    body = {"plan": plan.pk, "count": 2, "idempotency_key": _key(operator_browser)}
    first = operator_browser.post(CREATE, body, follow=True)
    second = operator_browser.post(CREATE, body, follow=True)
    batch = VoucherBatch.objects.get()
    message = f"Batch #{batch.pk} is created: download its codes (once), then put it on sale."
    assert message in first.content.decode()
    assert message in second.content.decode()
    assert VoucherCode.objects.filter(status=VoucherStatus.CREATED).count() == 2

    # when the operator downloads the codes, tries again, and puts the batch on sale (twice)
    download = operator_browser.post(f"/vouchers/operator/batches/{batch.pk}/download/")
    again = operator_browser.post(f"/vouchers/operator/batches/{batch.pk}/download/", follow=True)
    on_sale = operator_browser.post(f"/vouchers/operator/batches/{batch.pk}/activate/", follow=True)
    repeat = operator_browser.post(f"/vouchers/operator/batches/{batch.pk}/activate/", follow=True)

    # then the download had the CSV and the printable cards, once; the codes are on sale, once
    assert download["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert sorted(names) == ["cards.pdf", "codes.csv"]
    assert "already" in again.content.decode()
    assert "2 codes are on sale." in on_sale.content.decode()
    assert "This batch was already on sale." in repeat.content.decode()
    assert VoucherCode.objects.filter(status=VoucherStatus.ACTIVE).count() == 2


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"count": 0}, "Ensure this value is greater than or equal to 1."),
        ({"count": 100_001}, "Ensure this value is less than or equal to 100000."),
        ({"plan": 999_999}, "Select a valid choice. That choice is not one of the available choices."),
        ({"expires_on": "2000-01-01"}, "The expiry must be after today and within three years."),
        ({"idempotency_key": ""}, "This page has expired. Check your choices and send it again."),
    ],
)
def test_bad_input_is_shown_on_the_form_and_creates_nothing(operator_browser, plan, change, error):
    body = {"plan": plan.pk, "count": 2, "idempotency_key": _key(operator_browser), **change}

    response = operator_browser.post(CREATE, body)

    assert response.status_code == 422
    assert error in response.content.decode()
    assert not VoucherBatch.objects.exists()


def test_a_reseller_without_the_funds_is_refused(operator_browser, reseller, plan):
    body = {"plan": plan.pk, "count": 101, "reseller": reseller.pk, "idempotency_key": _key(operator_browser)}

    response = operator_browser.post(CREATE, body)

    assert response.status_code == 422
    assert not VoucherBatch.objects.exists()
    assert reseller_prepaid_account(reseller=reseller, currency="PEN").balance == Money(100_000, "PEN")


def test_a_support_agent_is_staff_but_does_not_run_the_operators_codes(client, plan, make_batch):
    # given a support agent (staff, as they work in the back office) and an operator's batch
    roles.roles_ensure()
    agent = UserFactory(is_staff=True)
    agent.groups.add(Group.objects.get(name=roles.SUPPORT))
    batch = make_batch(2, reseller=None).batch
    client.force_login(agent)

    # when they open the operator page, create a batch, and void the operator's
    page = client.get(PAGE)
    created = client.post(CREATE, {"plan": plan.pk, "count": 1, "idempotency_key": str(uuid.uuid4())})
    voided = client.post(f"/vouchers/operator/batches/{batch.pk}/void/", {"serial_from": "", "serial_to": ""})

    # then each says they may not, and nothing changed
    assert [response.status_code for response in (page, created, voided)] == [403, 403, 403]
    assert VoucherBatch.objects.count() == 1
    assert not VoucherCode.objects.filter(status=VoucherStatus.VOID).exists()


def test_only_staff_create_batches(client, reseller, plan):
    client.force_login(reseller)

    response = client.post(CREATE, {"plan": plan.pk, "count": 1, "idempotency_key": "x"})

    assert response.status_code == 403
    assert not VoucherBatch.objects.exists()


@pytest.mark.parametrize("action", ["download", "activate", "void"])
def test_only_staff_download_put_on_sale_or_void_a_batch(client, reseller, make_batch, action):
    # given the operator's own batch of 2 codes, not yet downloaded nor on sale
    made = make_batch(count=2, reseller=None)
    batch = made.batch

    # when a reseller posts to one of its actions
    client.force_login(reseller)
    response = client.post(
        f"/vouchers/operator/batches/{batch.pk}/{action}/",
        {"serial_from": made.serials[0], "serial_to": made.serials[1]},
    )

    # then it is refused and the batch is unchanged
    batch.refresh_from_db()
    assert response.status_code == 403
    assert (batch.exported_at, batch.sold_at) == (None, None)
    assert not VoucherCode.objects.filter(batch=batch, status=VoucherStatus.VOID).exists()


def test_the_operator_voids_a_resellers_lost_range_and_the_reseller_is_refunded(
    operator_browser, reseller, plan
):
    # given a reseller's batch of 3 codes, created on the operator page
    body = {"plan": plan.pk, "count": 3, "reseller": reseller.pk, "idempotency_key": _key(operator_browser)}
    operator_browser.post(CREATE, body)
    batch = VoucherBatch.objects.get()
    first, second = (
        VoucherCode.objects.filter(batch=batch).order_by("serial").values_list("serial", flat=True)[:2]
    )

    # when the reseller calls about two lost cards and the operator voids them, then sends junk
    voided = operator_browser.post(
        f"/vouchers/operator/batches/{batch.pk}/void/",
        {"serial_from": first, "serial_to": second, "confirm": "yes"},
        follow=True,
    )
    junk = operator_browser.post(
        f"/vouchers/operator/batches/{batch.pk}/void/", {"serial_from": "nope", "serial_to": ""}, follow=True
    )

    # then those two are void, their face value is back on the reseller's balance, and junk changed nothing
    assert "2 codes voided." in voided.content.decode()
    assert f"Those are not serials of batch #{batch.pk}." in junk.content.decode()
    assert VoucherCode.objects.filter(status=VoucherStatus.VOID).count() == 2
    assert reseller_prepaid_account(reseller=reseller, currency="PEN").balance == Money(100_000 - 1000, "PEN")
    assert ledger_verify() == []
    page = operator_browser.get(PAGE).content.decode()
    assert f'<label for="void-{batch.pk}-from">First serial</label>' in page
