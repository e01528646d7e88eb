"""Orders in the back office: found by number, receipt or payer, shown with their events, never
edited by hand."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from vigencia.orders.services import order_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_an_order_is_found_by_the_number_as_people_write_it_and_shows_its_events(
    admin_client, user, line, plan, fund_wallet, run_tasks
):
    # given a completed wallet renewal
    fund_wallet(user, 2500)
    order = order_create(payer=user, line=line, plan=plan, payment_method="wallet")
    run_tasks()

    # when the operator searches the orders by the line's number and opens the order
    listing = admin_client.get("/admin/orders/renewalorder/", {"q": "+51912345678"}).content.decode()
    page = admin_client.get(f"/admin/orders/renewalorder/{order.pk}/change/").content.decode()

    # then the list shows it with its receipt number and the page its history
    assert f"R-{order.pk:08d}" in listing
    assert "+51 912 345 678" in listing
    assert listing.count(f"R-{order.pk:08d}") == 1
    assert "completed" in page
    assert "fulfilling" in page


def test_orders_and_top_ups_cannot_be_added_or_deleted_by_hand(admin_client, user, line, plan, fund_wallet):
    fund_wallet(user, 2500)
    order = order_create(payer=user, line=line, plan=plan, payment_method="wallet")

    assert admin_client.get("/admin/orders/renewalorder/add/").status_code == 403
    assert admin_client.get("/admin/orders/wallettopup/add/").status_code == 403
    assert admin_client.post(f"/admin/orders/renewalorder/{order.pk}/delete/").status_code == 403
