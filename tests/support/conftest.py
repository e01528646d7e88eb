import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from vigencia.accounts import roles


def _with_role(role: str, email: str):
    person = UserFactory(email=email)
    person.groups.add(Group.objects.get_or_create(name=role)[0])
    return person


@pytest.fixture
def agent(db):
    return _with_role(roles.SUPPORT, "agent@example.com")


@pytest.fixture
def operator(db):
    return _with_role(roles.OPERATOR, "operator@example.com")


@pytest.fixture
def cashier(claro):
    """A store agent at a Claro counter in Lima, with an open shift (a S/ 50 float)."""
    from vigencia.stores.hours import hours_parse
    from vigencia.stores.models import StoreAgent
    from vigencia.stores.services import shift_open, store_upsert

    store, _created = store_upsert(
        code="MIR",
        name="Counter Miraflores",
        address="Av. Larco 1",
        district="Miraflores",
        city="Lima",
        latitude=-12.12,
        longitude=-77.03,
        carrier_codes=["claro-pe"],
        services=["renewal"],
        hours=hours_parse("daily 00:00-24:00"),
        timezone="America/Lima",
        active=True,
    )
    person = _with_role(roles.STORE_AGENT, "cashier@example.com")
    StoreAgent.objects.create(user=person, store=store)
    shift_open(agent=person, float_minor=5000)
    return person
