"""Voiding asks first and says how many codes it voids; a range that cannot be voided says why. A
reseller sees their API keys and revokes one (the operator can too): the API refuses it from then on."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.conftest import ApiClient
from tests.factories import UserFactory
from vigencia.accounts import roles
from vigencia.core.errors import InvalidInput
from vigencia.vouchers import services
from vigencia.vouchers.codes import serial_display, serial_make
from vigencia.vouchers.models import ResellerApiKey, VoucherCode
from vigencia.vouchers.selectors import void_range

pytestmark = pytest.mark.django_db


@pytest.fixture
def reseller_browser(reseller):
    client = Client()
    client.force_login(reseller)
    return client


@pytest.fixture
def operator_browser(operator):
    client = Client()
    client.force_login(operator)
    return client


def _statuses() -> list[str]:
    return list(VoucherCode.objects.order_by("serial").values_list("status", flat=True))


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_voiding_a_whole_batch_asks_first_with_how_many_codes(reseller_browser, make_batch):
    batch = make_batch(3).batch
    url = f"/vouchers/reseller/batches/{batch.pk}/void/"

    # when the reseller presses Void with no range
    asked = reseller_browser.post(url, {"serial_from": "", "serial_to": ""})

    # then they are asked, and nothing is void yet
    assert asked.status_code == 200
    assert asked.context["question"] == (
        f"Void the whole batch #{batch.pk}: 3 codes? Void codes can never be redeemed again."
    )
    assert asked.context["fields"] == [("serial_from", ""), ("serial_to", "")]
    assert _statuses() == ["active"] * 3

    # when they confirm
    done = reseller_browser.post(url, {"serial_from": "", "serial_to": "", "confirm": "yes"}, follow=True)

    # then
    assert _messages(done) == ["3 codes voided."]
    assert _statuses() == ["void"] * 3


def test_voiding_a_range_on_the_operator_page_asks_with_its_count_in_spanish(operator_browser, make_batch):
    made = make_batch(4)
    url = f"/vouchers/operator/batches/{made.batch.pk}/void/"

    # when
    asked = operator_browser.post(
        url, {"serial_from": made.serials[1], "serial_to": made.serials[2]}, HTTP_ACCEPT_LANGUAGE="es"
    )

    # then
    first, last = serial_display(made.serials[1]), serial_display(made.serials[2])
    assert asked.context["question"] == (
        f"¿Anular 2 códigos del lote #{made.batch.pk}, series {first} a {last}? "
        "Los códigos anulados nunca podrán canjearse."
    )
    assert _statuses() == ["active"] * 4


def test_a_range_already_void_says_so_and_asks_nothing(reseller_browser, make_batch):
    made = make_batch(3)
    services.voucher_void(batch=made.batch, serial_from=made.serials[0], serial_to=made.serials[1])

    # when
    response = reseller_browser.post(
        f"/vouchers/reseller/batches/{made.batch.pk}/void/",
        {"serial_from": made.serials[0], "serial_to": made.serials[1]},
        follow=True,
    )

    # then
    assert _messages(response) == ["Nothing to void: every code there is already void, redeemed or expired."]
    assert _statuses() == ["void", "void", "active"]


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        (
            lambda s, b: (s[2], s[0]),
            "The first serial {2} comes after the last {0}: give them the other way round.",
        ),
        (lambda s, b: (s[0], serial_make(batch_id=b, index=9)), "Batch #{b} ends at serial {end}."),
        (lambda s, b: (s[0], ""), "Give the first and the last serial of the range."),
        (lambda s, b: ("123", s[1]), "Those are not serials of batch #{b}."),
    ],
)
def test_a_range_that_cannot_be_voided_says_why_on_the_page_and_voids_nothing(
    reseller_browser, make_batch, bounds, message
):
    made = make_batch(3)
    batch_id = made.batch.pk
    serial_from, serial_to = bounds(made.serials, batch_id)
    expected = message.format(
        *(serial_display(s) for s in made.serials),
        b=batch_id,
        end=serial_display(serial_make(batch_id=batch_id, index=3)),
    )

    # when asking, and when posting a confirmation made by hand
    asked = reseller_browser.post(
        f"/vouchers/reseller/batches/{batch_id}/void/",
        {"serial_from": serial_from, "serial_to": serial_to},
        follow=True,
    )
    forced = reseller_browser.post(
        f"/vouchers/reseller/batches/{batch_id}/void/",
        {"serial_from": serial_from, "serial_to": serial_to, "confirm": "yes"},
        follow=True,
    )

    # then
    assert _messages(asked) == [expected]
    assert _messages(forced) == [expected]
    with pytest.raises(InvalidInput) as refused:
        void_range(batch=made.batch, serial_from=serial_from, serial_to=serial_to)
    assert (refused.value.code, refused.value.message) == ("invalid_range", expected)
    assert _statuses() == ["active"] * 3


def test_the_reseller_sees_their_keys_and_revokes_one_after_confirming(reseller_browser, reseller):
    kept, _ = services.reseller_api_key_issue(user=reseller, name="shop")
    lost, lost_key = services.reseller_api_key_issue(user=reseller, name="old-till")
    services.reseller_api_key_authenticate(key=lost_key)
    api = ApiClient(lost_key)
    assert api.get("/api/v1/reseller/batches").status_code == 200

    # when they open their page
    page = reseller_browser.get("/vouchers/reseller/")

    # then both keys are listed, newest first, with their prefix and state
    assert [key.name for key in page.context["api_keys"]] == ["old-till", "shop"]
    html = page.content.decode()
    assert f"<code>{kept.prefix}…</code>" in html
    assert "Never" in html

    # when they press Revoke on the lost one
    url = f"/vouchers/reseller/keys/{lost.pk}/revoke/"
    asked = reseller_browser.post(url)

    # then they are asked first, and the key still works
    assert asked.context["question"] == (
        f"Revoke the API key old-till ({lost.prefix}…)? Programs that use it stop working at once."
    )
    assert api.get("/api/v1/reseller/batches").status_code == 200

    # when they confirm, and press again
    done = reseller_browser.post(url, {"confirm": "yes"}, follow=True)
    again = reseller_browser.post(url, {"confirm": "yes"}, follow=True)

    # then the key is revoked: the API answers 401; the other key is untouched
    assert _messages(done) == ["The API key old-till is revoked."]
    assert _messages(again) == ["The API key old-till was already revoked."]
    assert api.get("/api/v1/reseller/batches").status_code == 401
    assert ResellerApiKey.objects.get(pk=kept.pk).revoked_at is None
    assert "Revoked " in reseller_browser.get("/vouchers/reseller/").content.decode()


def test_a_reseller_cannot_revoke_another_resellers_key(reseller_browser, db):
    other = UserFactory()
    other.groups.add(Group.objects.get(name=roles.RESELLER))
    key, _ = services.reseller_api_key_issue(user=other)

    # when
    response = reseller_browser.post(f"/vouchers/reseller/keys/{key.pk}/revoke/", {"confirm": "yes"})

    # then
    assert response.status_code == 404
    assert ResellerApiKey.objects.get(pk=key.pk).revoked_at is None


def test_the_operator_revokes_keys_in_the_admin_and_support_cannot(client, operator, reseller):
    key, secret = services.reseller_api_key_issue(user=reseller, name="shop")
    agent = UserFactory(is_staff=True)
    agent.groups.add(Group.objects.get(name=roles.SUPPORT))
    action = {"action": "revoke", "_selected_action": [str(key.pk)], "index": "0"}

    # when a support agent tries the action
    client.force_login(agent)
    client.post("/admin/vouchers/resellerapikey/", action)

    # then the key still works
    assert ResellerApiKey.objects.get(pk=key.pk).revoked_at is None

    # when the operator runs it
    client.force_login(operator)
    response = client.post("/admin/vouchers/resellerapikey/", action, follow=True)

    # then
    assert [str(message) for message in response.context["messages"]] == ["1 API key revoked."]
    assert ResellerApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert ApiClient(secret).get("/api/v1/reseller/batches").status_code == 401
