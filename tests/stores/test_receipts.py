"""Receipts: the 80 mm page, the PDF, the public verification page, and no plaintext ID anywhere."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from django.apps import apps

from tests.factories import UserFactory
from tests.pdfs import pdf_strings
from vigencia.orders.models import RenewalOrder
from vigencia.stores.models import Receipt

from .conftest import DNI

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(agent_api, open_shift, sale_body) -> Receipt:
    response = agent_api.post_json("/api/v1/pos/sales", sale_body(), HTTP_IDEMPOTENCY_KEY="r-1")
    assert response.status_code == 201, response.content
    return Receipt.objects.get()


def test_receipt_page_shows_the_sale_masked_with_a_qr_code(client, agent, receipt, base_template):
    client.force_login(agent)

    page = client.get(f"/stores/pos/receipts/{receipt.number}/")

    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        receipt.number,
        "Counter Miraflores",
        "Carla Cajera",
        "+51 ****5678",
        "DNI ****7410",
        "Claro Max S/ 10 · 7 days",
        "S/\xa010.00",
        "S/\xa020.00",  # tendered
        "pending carrier confirmation",
        receipt.verification_code,
        'src="data:image/svg+xml;base64,',
    ):
        assert text in html, text
    assert DNI not in html
    assert "912" not in html.replace(receipt.verification_code, "")


def test_receipt_shows_the_new_valid_until_once_the_order_completes(client, agent, receipt, base_template):
    RenewalOrder.objects.filter(pk=receipt.order_id).update(
        status="completed", valid_until_after=date(2031, 5, 4)
    )
    client.force_login(agent)

    html = client.get(f"/stores/pos/receipts/{receipt.number}/").content.decode()

    assert "May 4, 2031" in html
    assert "pending carrier confirmation" not in html


def test_receipt_pdf(client, agent, receipt):
    client.force_login(agent)

    response = client.get(f"/stores/pos/receipts/{receipt.number}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert DNI.encode() not in response.content


def test_the_receipt_gives_the_store_phone_as_people_dial_it(client, agent, receipt):
    # given the store has a phone, stored in E.164
    receipt.store.phone = "+5114452101"
    receipt.store.save(update_fields=["phone"])
    client.force_login(agent)

    # when the agent prints the receipt, as a page and as a PDF
    html = client.get(f"/stores/pos/receipts/{receipt.number}/").content.decode()
    pdf = client.get(f"/stores/pos/receipts/{receipt.number}/pdf/").content

    # then both give it grouped, and the page lets a phone dial it
    assert 'Tel. <a class="nowrap" href="tel:+5114452101">+51 1 4452101</a>' in html
    assert b"Tel. +51 1 4452101" in pdf_strings(pdf)


def test_receipt_pdf_in_chinese_shows_the_chinese_text(client, agent, receipt):
    # given an agent who works in Chinese
    agent.language = "zh-hans"
    agent.save(update_fields=["language"])
    client.force_login(agent)

    # when
    response = client.get(f"/stores/pos/receipts/{receipt.number}/pdf/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    # then the labels are drawn in the standard Simplified Chinese font, Latin text in Helvetica
    assert response.status_code == 200
    assert b"/BaseFont /STSong-Light" in response.content
    shown = pdf_strings(response.content)
    for chinese in ("收据", "门店", "验证码", "扫码验证此收据。"):
        assert chinese.encode("utf-16-be") in shown, chinese
    assert b"Counter Miraflores" in shown
    assert receipt.number.encode() in shown


def test_receipt_pdf_draws_a_name_in_hanzi_in_any_language(client, agent, receipt):
    # given an agent whose name is written in Hanzi, and an English page
    agent.name = "王芳"
    agent.save(update_fields=["name"])
    client.force_login(agent)

    # when
    response = client.get(f"/stores/pos/receipts/{receipt.number}/pdf/", HTTP_ACCEPT_LANGUAGE="en")

    # then
    shown = pdf_strings(response.content)
    assert "王芳".encode("utf-16-be") in shown
    assert b"Verification code" in shown
    assert b"?" not in shown


def test_receipts_of_another_store_are_not_shown(client, receipt, make_store, agent_at, base_template):
    client.force_login(agent_at(make_store(name="Other")))

    assert client.get(f"/stores/pos/receipts/{receipt.number}/").status_code == 404
    assert client.get(f"/stores/pos/receipts/{receipt.number}/pdf/").status_code == 404


def test_counter_pages_are_for_agents_only(client, receipt, base_template):
    assert client.get("/stores/pos/").status_code == 302  # to the login page
    client.force_login(UserFactory())

    response = client.get(f"/stores/pos/receipts/{receipt.number}/")

    assert response.status_code == 403
    assert "Only a store&#x27;s agents can use the counter." in response.content.decode()


def test_verification_page_confirms_a_real_receipt(client, receipt, base_template):
    response = client.get(
        "/receipts/verify", {"number": receipt.number, "code": receipt.verification_code.lower()}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "This receipt is genuine" in html
    assert receipt.number in html
    assert "Counter Miraflores" in html
    assert DNI not in html


@pytest.mark.parametrize("case", ["wrong code", "unknown number", "too long"])
def test_verification_page_refuses_without_leaking(client, receipt, base_template, case):
    params = {
        "wrong code": {"number": receipt.number, "code": "0000000000"},
        "unknown number": {"number": "T-9-000001", "code": receipt.verification_code},
        "too long": {"number": "x" * 500, "code": "y" * 500},
    }[case]

    response = client.get("/receipts/verify", params)

    assert response.status_code == 404
    html = response.content.decode()
    assert "We cannot confirm this receipt." in html
    assert "Counter Miraflores" not in html
    assert "genuine" not in html


def test_verification_page_without_a_query_shows_the_form(client, base_template, db):
    response = client.get("/receipts/verify")

    assert response.status_code == 200
    assert "We cannot confirm" not in response.content.decode()


def test_no_plaintext_id_number_in_the_database_logs_or_admin(
    agent_api, open_shift, sale_body, client, base_template, caplog
):
    # given sales with a DNI, a CE and a passport, logged at every level
    caplog.set_level(logging.DEBUG)
    documents = [
        {"type": "dni", "number": f"{DNI}-2"},
        {"type": "ce", "number": "001234567"},
        {"type": "passport", "number": "EH9876543", "country": "CN"},
    ]
    for index, document in enumerate(documents):
        response = agent_api.post_json(
            "/api/v1/pos/sales", sale_body(id_document=document), HTTP_IDEMPOTENCY_KEY=f"k{index}"
        )
        assert response.status_code == 201, response.content
    secrets = [DNI, "001234567", "EH9876543"]

    # then no table holds a plaintext number (every row of every model, every column)
    dump = "\n".join(repr(row) for model in apps.get_models() for row in model._default_manager.values_list())
    assert "****7410" in dump  # the dump does contain the receipts
    for secret in secrets:
        assert secret not in dump, secret

    # nor do the logs
    assert "store sale" in caplog.text
    for secret in secrets:
        assert secret not in caplog.text

    # nor the back office
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    receipt = Receipt.objects.get(id_type="dni")
    pages = [
        "/admin/stores/receipt/",
        f"/admin/stores/receipt/{receipt.pk}/change/",
        f"/admin/stores/shift/{open_shift.pk}/change/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        for secret in secrets:
            assert secret not in html, (path, secret)
    assert "****7410" in client.get(pages[1]).content.decode()
    # and an operator finds a receipt by the DNI through its blind index
    found = client.get("/admin/stores/receipt/", {"q": f"{DNI}G"})
    assert receipt.number in found.content.decode()
    assert "1 result" in found.content.decode()
