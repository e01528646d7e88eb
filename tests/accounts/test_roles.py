"""The operator role reads every record in the back office and edits only what is data (catalog,
lines, stores, tariffs); money and its history change only through the services."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from vigencia.accounts import roles

pytestmark = pytest.mark.django_db

RECORDS = [
    "orders/renewalorder",
    "orders/wallettopup",
    "payments/paymentintent",
    "payments/webhookevent",
    "fulfilment/fulfilmenttransaction",
    "ledger/ledgertransaction",
    "ledger/ledgeraccount",
    "notifications/notification",
    "vouchers/voucherbatch",
    "support/ticket",
    "usage/usagerecord",
    "usage/tariff",
    "stores/store",
    "catalog/promotion",
]


@pytest.fixture
def operator(client):
    # a staff user whose only grants are the operator role's, granted afresh
    Group.objects.all().delete()
    roles.roles_ensure()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.OPERATOR))
    client.force_login(user)
    return user


@pytest.mark.parametrize("model", RECORDS)
def test_the_operator_reads_every_record_list_in_the_back_office(operator, client, model):
    response = client.get(f"/admin/{model}/")

    assert response.status_code == 200


def test_the_operator_edits_tariffs_but_not_the_money(operator):
    assert operator.has_perm("usage.change_tariff")
    assert operator.has_perm("ledger.view_posting")
    assert not operator.has_perm("ledger.change_posting")
    assert not operator.has_perm("orders.change_renewalorder")
    assert not operator.has_perm("support.change_ticket")


def test_granting_twice_grants_the_same(operator):
    before = set(Group.objects.get(name=roles.OPERATOR).permissions.values_list("codename", flat=True))

    roles.roles_ensure()

    after = set(Group.objects.get(name=roles.OPERATOR).permissions.values_list("codename", flat=True))
    assert after == before
    assert {"view_renewalorder", "view_posting", "view_ticket", "add_tariff"} <= after
