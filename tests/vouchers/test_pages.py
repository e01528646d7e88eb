from io import StringIO

import pytest
from django.test import Client
from django.utils import translation

from vigencia.vouchers import demo
from vigencia.vouchers.models import ResellerProfile, VoucherBatch, VoucherCode

from ..factories import UserFactory


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reseller_browser(reseller):
    client = Client()
    client.force_login(reseller)
    return client


def test_a_subscriber_redeems_a_code_in_the_portal(browser, line, make_batch):
    made = make_batch(1)

    response = browser.post("/vouchers/redeem/", {"pin": made.pins[0], "line": line.pk})

    assert response.status_code == 200
    assert "is on its way to +51912345678" in response.content.decode()
    assert VoucherCode.objects.get().status == "redeemed"


def test_a_wrong_pin_in_the_portal_is_a_form_error_in_spanish(browser, line, make_batch, user):
    user.language = "es"
    user.save()

    response = browser.post(
        "/vouchers/redeem/", {"pin": "1111 1111 1111 1111", "line": line.pk}, HTTP_ACCEPT_LANGUAGE="es"
    )

    assert response.status_code == 200
    assert "Este código de recarga no es válido." in response.content.decode()


def test_the_authorised_resellers_page_is_public(client, reseller):
    ResellerProfile.objects.create(user=reseller, display_name="Bodega Rosa", city="Lima")
    ResellerProfile.objects.create(user=UserFactory(), display_name="Not a reseller")

    body = client.get("/vouchers/resellers/").content.decode()

    assert "Bodega Rosa" in body
    assert "Not a reseller" not in body


def test_a_reseller_buys_downloads_once_and_voids_in_the_pages(reseller_browser, plan):
    assert reseller_browser.get("/vouchers/reseller/").status_code == 200
    reseller_browser.post("/vouchers/reseller/buy/", {"plan": plan.pk, "count": 2})
    batch = VoucherBatch.objects.get()

    first = reseller_browser.post(f"/vouchers/reseller/batches/{batch.pk}/download/")
    second = reseller_browser.post(f"/vouchers/reseller/batches/{batch.pk}/download/", follow=True)
    voided = reseller_browser.post(
        f"/vouchers/reseller/batches/{batch.pk}/void/", {"serial_from": "", "serial_to": ""}
    )

    assert first["Content-Type"] == "application/zip"
    assert "already downloaded" in second.content.decode()
    assert voided.status_code == 302
    assert set(VoucherCode.objects.values_list("status", flat=True)) == {"void"}


def test_reseller_pages_are_closed_to_subscribers_and_other_resellers_batches(
    browser, reseller_browser, make_batch
):
    other = make_batch(1, reseller=None)

    assert browser.get("/vouchers/reseller/").status_code == 403
    assert reseller_browser.post(f"/vouchers/reseller/batches/{other.batch.pk}/download/").status_code == 404


def test_the_operator_page_shows_the_failure_rate(client, db):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)

    assert client.get("/vouchers/operator/").status_code == 200


def test_batches_name_their_plan_in_the_readers_language(client, reseller_browser, make_batch, plan):
    # given a batch of the Claro S/ 10 plan
    make_batch(1)
    client.force_login(UserFactory(is_staff=True))
    with translation.override("zh-hans"):
        in_chinese = plan.name

    # when the operator and the reseller open their pages in Chinese
    pages = [
        browser.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh").content.decode()
        for browser, url in ((client, "/vouchers/operator/"), (reseller_browser, "/vouchers/reseller/"))
    ]

    # then both name the plan in Chinese
    assert [f"<td>{in_chinese}</td>" in page for page in pages] == [True, True]
    assert "索尔" in in_chinese


def test_the_demo_is_idempotent_and_writes_its_export_under_var(seeded, settings):
    out = StringIO()
    demo.seed(out)

    assert VoucherBatch.objects.count() == 1
    assert out.getvalue() == "vouchers: demo batch already there"
    assert (settings.VAR_DIR / "demo_vouchers.csv").read_text().count("\n") == 6
