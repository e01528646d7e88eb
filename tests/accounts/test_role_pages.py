"""Every page for one role: a visitor goes to the login page, a signed-in person without the role gets
the 403 page in their language (never a redirect back to the login page, which loops), and a person
with the role gets the page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from vigencia.accounts import roles

pytestmark = pytest.mark.django_db

# (method, path, the role that opens it)
PAGES = [
    ("get", "/backoffice/", roles.SUPPORT),
    ("get", "/backoffice/dashboard/", roles.OPERATOR),
    ("get", "/backoffice/dashboard.csv", roles.OPERATOR),
    ("get", "/backoffice/tickets/", roles.SUPPORT),
    ("get", "/backoffice/tickets/1/", roles.SUPPORT),
    ("post", "/backoffice/actions/1/approve/", roles.OPERATOR),
    ("get", "/vouchers/operator/", roles.OPERATOR),
    ("post", "/vouchers/operator/batches/", roles.OPERATOR),
    ("post", "/vouchers/operator/batches/1/download/", roles.OPERATOR),
    ("post", "/vouchers/operator/batches/1/activate/", roles.OPERATOR),
    ("post", "/vouchers/operator/batches/1/void/", roles.OPERATOR),
    ("get", "/vouchers/reseller/", roles.RESELLER),
    ("post", "/vouchers/reseller/buy/", roles.RESELLER),
    ("post", "/vouchers/reseller/batches/1/download/", roles.RESELLER),
    ("post", "/vouchers/reseller/batches/1/void/", roles.RESELLER),
    ("get", "/stores/pos/", roles.STORE_AGENT),
    ("post", "/stores/pos/shift/open/", roles.STORE_AGENT),
    ("get", "/stores/pos/sale/", roles.STORE_AGENT),
    ("get", "/stores/pos/voucher/", roles.STORE_AGENT),
]


@pytest.mark.parametrize(("method", "path", "role"), PAGES)
def test_a_visitor_who_is_not_signed_in_goes_to_the_login_page(client, method, path, role):
    # when
    response = getattr(client, method)(path)

    # then
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize(("method", "path", "role"), PAGES)
def test_a_signed_in_person_without_the_role_gets_the_403_page(client, user, method, path, role):
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


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/backoffice/dashboard/", roles.OPERATOR),
        ("/backoffice/tickets/", roles.SUPPORT),
        ("/vouchers/operator/", roles.OPERATOR),
        ("/vouchers/reseller/", roles.RESELLER),
    ],
)
def test_a_person_with_the_role_gets_the_page(client, demo_catalog, path, role):
    roles.roles_ensure()
    person = UserFactory(is_staff=role != roles.RESELLER)
    person.groups.add(Group.objects.get(name=role))
    client.force_login(person)

    # when
    response = client.get(path)

    # then
    assert response.status_code == 200


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
