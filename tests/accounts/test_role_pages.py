"""Every page for one role: a visitor goes to the login page, a signed-in person without the role gets
the 403 page in their language (never a redirect back to the login page, which loops), and a person
with the role gets the page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from vigencia.accounts import roles
from vigencia.stores.models import StoreAgent
from vigencia.stores.services import store_upsert

pytestmark = pytest.mark.django_db

# (method, path, the role that opens it, what that role gets: nothing numbered 1 exists, no form is sent)
PAGES = [
    ("get", "/backoffice/", roles.SUPPORT, 302),
    ("get", "/backoffice/dashboard/", roles.OPERATOR, 200),
    ("get", "/backoffice/dashboard.csv", roles.OPERATOR, 200),
    ("get", "/backoffice/tickets/", roles.SUPPORT, 200),
    ("get", "/backoffice/tickets/1/", roles.SUPPORT, 404),
    ("post", "/backoffice/actions/1/approve/", roles.OPERATOR, 404),
    ("get", "/vouchers/operator/", roles.OPERATOR, 200),
    ("post", "/vouchers/operator/batches/", roles.OPERATOR, 422),
    ("post", "/vouchers/operator/batches/1/download/", roles.OPERATOR, 404),
    ("post", "/vouchers/operator/batches/1/activate/", roles.OPERATOR, 404),
    ("post", "/vouchers/operator/batches/1/void/", roles.OPERATOR, 404),
    ("get", "/vouchers/reseller/", roles.RESELLER, 200),
    ("post", "/vouchers/reseller/buy/", roles.RESELLER, 302),
    ("post", "/vouchers/reseller/batches/1/download/", roles.RESELLER, 404),
    ("post", "/vouchers/reseller/batches/1/void/", roles.RESELLER, 404),
    ("post", "/vouchers/reseller/keys/1/revoke/", roles.RESELLER, 404),
    ("get", "/stores/pos/", roles.STORE_AGENT, 200),
    ("post", "/stores/pos/shift/open/", roles.STORE_AGENT, 422),
    ("get", "/stores/pos/sale/", roles.STORE_AGENT, 302),
    ("post", "/stores/pos/voucher/", roles.STORE_AGENT, 302),
]


@pytest.mark.parametrize(("method", "path", "role", "status"), PAGES)
def test_a_visitor_who_is_not_signed_in_goes_to_the_login_page(client, method, path, role, status):
    # when
    response = getattr(client, method)(path)

    # then
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize(("method", "path", "role", "status"), PAGES)
def test_a_signed_in_person_without_the_role_gets_the_403_page(client, user, method, path, role, status):
    client.force_login(user)

    # when
    response = getattr(client, method)(path, HTTP_ACCEPT_LANGUAGE="es")

    # then the page says why, in their language
    assert response.status_code == 403
    if path.startswith("/stores/pos/"):
        assert response.context["message"] == "Solo los agentes de una tienda pueden usar el mostrador."
    else:
        assert response.context["title"] == "No permitido"
        assert response.context["message"] == "Tu cuenta no puede abrir esta página."


@pytest.mark.parametrize(("method", "path", "role", "status"), PAGES)
def test_a_person_with_the_role_gets_the_page(client, demo_catalog, method, path, role, status):
    roles.roles_ensure()
    person = UserFactory(is_staff=role in (roles.OPERATOR, roles.SUPPORT))
    person.groups.add(Group.objects.get(name=role))
    if role == roles.STORE_AGENT:
        store, _created = store_upsert(
            name="Counter",
            address="Av. Larco 1",
            city="Lima",
            latitude=-12.12,
            longitude=-77.03,
            carrier_codes=["claro-pe"],
        )
        StoreAgent.objects.create(user=person, store=store)
    client.force_login(person)

    # when
    response = getattr(client, method)(path)

    # then it is theirs: the page, or what the page does with no form or no such row
    assert response.status_code == status
    assert not response.get("Location", "").startswith("/accounts/login/")


def test_the_back_office_home_sends_an_operator_to_the_dashboard(client):
    roles.roles_ensure()
    person = UserFactory(is_staff=True)
    person.groups.add(Group.objects.get(name=roles.OPERATOR))
    client.force_login(person)

    # when
    response = client.get("/backoffice/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/backoffice/dashboard/"
