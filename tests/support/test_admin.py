"""Back office: FX CSV import in the admin, promotions and tickets admin pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from vigencia.catalog.models import FxRate

pytestmark = pytest.mark.django_db


def test_admin_imports_fx_csv_and_lists_promotions_and_tickets(admin_client):
    good = SimpleUploadedFile("rates.csv", b"base,quote,rate,as_of\nPEN,USD,0.27,2026-01-31\n", "text/csv")
    bad = SimpleUploadedFile("rates.csv", b"base,quote,rate,as_of\nPEN,USD,zero,2026-01-31\n", "text/csv")

    assert admin_client.post("/admin/catalog/fxrate/import/", {"file": good}).status_code == 302
    assert admin_client.post("/admin/catalog/fxrate/import/", {"file": bad}).status_code == 200

    assert list(FxRate.objects.values_list("base", "quote")) == [("PEN", "USD")]
    for url in [
        "/admin/catalog/fxrate/",
        "/admin/catalog/promotion/",
        "/admin/catalog/promotion/add/",
        "/admin/support/ticket/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_portal_review_page_takes_a_promo_code(client, user, line, plan, fund_wallet):
    from datetime import timedelta

    from vigencia.catalog.models import Promotion
    from vigencia.core import clock
    from vigencia.orders.models import RenewalOrder

    fund_wallet(user, 2000)
    now = clock.now()
    Promotion.objects.create(
        code="VERANO20",
        name="Summer",
        kind="percent_off",
        percent_off=20,
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=1),
        max_uses=1,
    )
    client.force_login(user)
    url = f"/renew/{line.pk}/{plan.pk}/"
    page = client.get(url)
    assert page.status_code == 200, url
    assert b'name="promo_code"' in page.content

    client.post(
        url,
        {
            "payment_method": "wallet",
            "promo_code": "verano20",
            "idempotency_key": "00000000-0000-0000-0000-000000000001",
        },
    )
    refused = client.post(
        url,
        {
            "payment_method": "wallet",
            "promo_code": "VERANO20",
            "idempotency_key": "00000000-0000-0000-0000-000000000002",
        },
    )

    assert RenewalOrder.objects.get().total.amount_minor == 800
    assert refused.status_code == 200
    assert "This promotion code has been used up." in refused.content.decode()
