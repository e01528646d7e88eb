"""Operators manage stores, agents and shifts in the back office through their role's permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from vigencia.accounts import roles
from vigencia.stores.models import Receipt, Shift, Store, StoreAgent

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(demo_catalog):
    # A staff user whose only grants are the operator role's, granted afresh (migrate and flush grant
    # them too, and a reused test database keeps what they granted).
    Group.objects.all().delete()
    roles.roles_ensure()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.OPERATOR))
    return user


def _inlines(prefix: str, rows: list[dict[str, str]]) -> dict[str, str]:
    form = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
    for number, row in enumerate(rows):
        form |= {f"{prefix}-{number}-{name}": value for name, value in row.items()}
    return form


def test_operator_creates_a_store_with_services_and_hours(operator, claro, client, base_template):
    client.force_login(operator)

    # when the operator fills the store form with a service and Monday's hours
    response = client.post(
        "/admin/stores/store/add/",
        {
            "code": "LIM-NEW-01",
            "name": "Tienda Nueva",
            "active": "on",
            "carriers": [str(claro.pk)],
            "address": "Av. Arequipa 100",
            "district": "Lince",
            "city": "Lima",
            "latitude": "-12.08",
            "longitude": "-77.03",
            "timezone": "America/Lima",
            "phone": "",
            **_inlines("services", [{"service": "renewal"}]),
            **_inlines("hours", [{"weekday": "0", "opens": "09:00", "closes": "18:00"}]),
            **_inlines("holidays", []),
        },
    )

    # then it is saved with them
    assert response.status_code == 302
    store = Store.objects.get(code="LIM-NEW-01")
    assert list(store.carriers.values_list("code", flat=True)) == ["claro-pe"]
    assert list(store.services.values_list("service", flat=True)) == ["renewal"]
    assert [str(row) for row in store.hours.all()] == ["Monday 09:00-18:00"]


def test_operator_assigns_an_agent_to_a_store(operator, counter_store, client, base_template):
    cashier = UserFactory()
    client.force_login(operator)

    # when
    form = {"user": str(cashier.pk), "store": str(counter_store.pk), "active": "on"}
    response = client.post("/admin/stores/storeagent/add/", form)

    # then
    assert response.status_code == 302
    assert StoreAgent.objects.get(user=cashier).store == counter_store


@pytest.mark.parametrize(
    "path",
    [
        "/admin/stores/store/",
        "/admin/stores/holiday/add/",
        "/admin/stores/storeagent/",
        "/admin/stores/shift/",
        "/admin/stores/receipt/",
    ],
)
def test_operator_sees_the_store_pages(operator, client, path, base_template):
    client.force_login(operator)

    assert client.get(path).status_code == 200


def test_receipts_stay_read_only_and_shifts_are_never_deleted(operator, open_shift, client, base_template):
    client.force_login(operator)

    # when the operator tries to add a receipt or delete a shift
    add = client.get("/admin/stores/receipt/add/")
    delete = client.post(f"/admin/stores/shift/{open_shift.pk}/delete/", {"post": "yes"})

    # then both are refused and nothing changed
    assert (add.status_code, delete.status_code) == (403, 403)
    assert Receipt.objects.count() == 0
    assert Shift.objects.filter(pk=open_shift.pk).exists()


def test_a_store_agent_gets_no_back_office_store_permissions(agent):
    agent.groups.get().permissions.clear()
    roles.roles_ensure()

    assert not any(agent.has_perm(f"stores.{codename}") for codename in ("view_store", "change_shift"))


def _store_form(claro, **changes: str) -> dict[str, str]:
    form = {
        "code": "LIM-NEW-02",
        "name": "Tienda Dos",
        "active": "on",
        "carriers": [str(claro.pk)],
        "address": "Av. Arequipa 200",
        "district": "Lince",
        "city": "Lima",
        "latitude": "-12.08",
        "longitude": "-77.03",
        "timezone": "America/Lima",
        "phone": "",
        **_inlines("services", []),
        **_inlines("hours", []),
        **_inlines("holidays", []),
    }
    return form | changes


@pytest.mark.parametrize(
    ("typed", "stored"), [("01 445 2101", "+5114452101"), ("+86 10 6552 9988", "+861065529988")]
)
def test_a_store_phone_is_kept_in_e164_from_the_stores_country(operator, claro, client, typed, stored):
    client.force_login(operator)

    # when
    response = client.post("/admin/stores/store/add/", _store_form(claro, phone=typed))

    # then
    assert response.status_code == 302
    assert Store.objects.get(code="LIM-NEW-02").phone == stored


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "hello"}, "This is not a phone number."),
        (
            {"phone": "12"},
            "This is not a valid phone number in PE. Numbers abroad start with + and the country code.",
        ),
        (
            {"phone": "0755 12", "timezone": "Asia/Shanghai"},
            "This is not a valid phone number in CN. Numbers abroad start with + and the country code.",
        ),
        ({"latitude": "91"}, "The latitude is between -90 and 90."),
        ({"longitude": "-181"}, "The longitude is between -180 and 180."),
        ({"code": "LIM-MIR-01"}, "Another store has this code."),
    ],
)
def test_a_store_form_with_a_bad_value_says_what_is_wrong(operator, claro, client, changes, message):
    from vigencia.stores.services import store_upsert

    store_upsert(
        code="LIM-MIR-01",
        name="Otra",
        address="Av. Larco 1",
        city="Lima",
        latitude=-12.12,
        longitude=-77.03,
        carrier_codes=["claro-pe"],
    )
    client.force_login(operator)

    # when
    response = client.post("/admin/stores/store/add/", _store_form(claro, **changes))

    # then nothing is saved, and the error is in plain words
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert [str(error) for errors in form.errors.values() for error in errors] == [message]
    assert Store.objects.count() == 1
