"""Recharge codes at the counter: the agent looks up the customer's number and redeems the PIN the
customer brings; the renewal is the line holder's, no money goes through the drawer, and a bad code
gets the one answer every channel gives, changing nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages

from tests.factories import UserFactory
from tests.pdfs import pdf_strings
from vigencia.accounts import roles
from vigencia.catalog.models import Plan
from vigencia.core.money import Money
from vigencia.lines.models import Line
from vigencia.lines.services import line_add
from vigencia.orders.models import Channel, OrderStatus, RenewalOrder
from vigencia.stores.models import Receipt
from vigencia.stores.receipts import receipt_view
from vigencia.stores.selectors import WALK_IN_EMAIL, shift_cash_taken
from vigencia.stores.services import pos_voucher_redeem
from vigencia.vouchers.codes import serial_display
from vigencia.vouchers.models import VoucherCode, VoucherStatus
from vigencia.vouchers.services import VoucherInvalid, batch_create, reseller_prepaid_credit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("base_template")]

VOUCHER_URL = "/stores/pos/voucher/?msisdn=912345678&carrier=claro-pe"


def _pins(plan: Plan, count: int = 2) -> list[str]:
    roles.roles_ensure()
    shop = UserFactory(email="shop@example.com")
    shop.groups.add(Group.objects.get(name=roles.RESELLER))
    reseller_prepaid_credit(reseller=shop, amount=Money(100_000, plan.currency), reference="test-transfer")
    pairs: list[tuple[str, str]] = []
    batch_create(plan=plan, count=count, reseller=shop, sink=lambda _batch, chunk: pairs.extend(chunk))
    return [pin for _serial, pin in pairs]


def test_a_code_redeemed_at_the_counter_renews_the_subscribers_line(
    client, agent, open_shift, user, claro, claro_plan
) -> None:
    # given a subscriber's registered line and a code the customer bought from a reseller
    line = line_add(owner=user, msisdn="912345678", carrier=claro)
    pin, _other = _pins(claro_plan)
    client.force_login(agent)

    # when the agent redeems it for the number
    response = client.post(VOUCHER_URL, {"pin": pin})

    # then the renewal is the subscriber's, paid by the code, the drawer took nothing, and the agent
    # has the store's next receipt to print
    assert (response.status_code, response.url) == (302, "/stores/pos/receipts/T-1-000001/")
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Code redeemed: Claro Max S/ 10 · 7 days for +51 912 345 678. "
        "The renewal is on its way to the carrier."
    ]
    order = RenewalOrder.objects.get()
    assert (order.payer, order.line, order.plan, order.channel) == (user, line, claro_plan, Channel.VOUCHER)
    code = VoucherCode.objects.filter(status=VoucherStatus.REDEEMED).get()
    assert code.order == order
    assert shift_cash_taken(open_shift) == Money(0, "PEN")
    receipt = Receipt.objects.get()
    assert (receipt.order, receipt.shift, receipt.agent, receipt.payment) == (
        order,
        open_shift,
        agent,
        "voucher",
    )


def test_the_counter_receipt_for_a_code_names_the_card_never_its_pin(
    client, agent, open_shift, user, claro, claro_plan
) -> None:
    # given a code redeemed at the counter for a subscriber's line
    line_add(owner=user, msisdn="912345678", carrier=claro)
    pin, _other = _pins(claro_plan)
    client.force_login(agent)
    client.post(VOUCHER_URL, {"pin": pin})
    serial = serial_display(VoucherCode.objects.get(status=VoucherStatus.REDEEMED).serial)

    # when the agent prints the receipt, as a page and as a PDF
    html = client.get("/stores/pos/receipts/T-1-000001/").content.decode()
    pdf = pdf_strings(client.get("/stores/pos/receipts/T-1-000001/pdf/").content)

    # then it says how it was paid and which card, with no ID document (none was asked) and no PIN
    for row in (
        "<dt>Line</dt><dd>+51 ****5678 · Claro Perú</dd>",
        "<dt>Plan</dt><dd>Claro Max S/ 10 · 7 days</dd>",
        "<dt>Payment</dt><dd>Recharge code</dd>",
        f"<dt>Recharge card serial</dt><dd>{serial}</dd>",
        "<dt>Paid at the counter</dt><dd>S/\xa00.00</dd>",
        "<dt>Valid until</dt><dd>pending carrier confirmation</dd>",
    ):
        assert row in html, row
    assert "ID document" not in html
    assert serial.encode() in pdf
    digits = pin.replace("-", "")
    for shown in (html, pdf.decode("latin-1")):
        assert digits not in shown.replace("-", "").replace(" ", "")


def test_the_service_issues_the_receipt_of_a_code_with_its_rows(
    agent, open_shift, user, claro, claro_plan
) -> None:
    # given a subscriber's line and a code for it
    line_add(owner=user, msisdn="912345678", carrier=claro)
    pin, _other = _pins(claro_plan)

    # when the agent redeems it at the counter, and the carrier then confirms the renewal
    receipt = pos_voucher_redeem(agent=agent, msisdn="912345678", carrier_code="claro-pe", pin=pin, ip=None)
    RenewalOrder.objects.filter(pk=receipt.order_id).update(
        status=OrderStatus.COMPLETED, valid_until_after=date(2026, 12, 31)
    )
    receipt.refresh_from_db()
    receipt.order.refresh_from_db()

    # then the receipt is the store's next, in the open shift, and reads as the customer needs it
    serial = serial_display(VoucherCode.objects.get(status=VoucherStatus.REDEEMED).serial)
    assert (receipt.number, receipt.shift, receipt.payment, receipt.id_type) == (
        "T-1-000001",
        open_shift,
        "voucher",
        "",
    )
    rows = dict(receipt_view(receipt).rows)
    del rows["Date"], rows["Verification code"]
    assert rows == {
        "Receipt": "T-1-000001",
        "Store": receipt.store.name,
        "Agent": agent.name or agent.email,
        "Line": "+51 ****5678 · Claro Perú",
        "Plan": "Claro Max S/ 10 · 7 days",
        "Amount": "S/\xa010.00",
        "Payment": "Recharge code",
        "Recharge card serial": serial,
        "Paid at the counter": "S/\xa00.00",
        "Valid until": "Dec. 31, 2026",
    }


def test_an_agent_of_another_store_cannot_open_a_codes_receipt(
    client, agent, open_shift, user, claro, claro_plan, make_store, agent_at
) -> None:
    # given a code redeemed at this store's counter
    line_add(owner=user, msisdn="912345678", carrier=claro)
    pin, _other = _pins(claro_plan)
    receipt = pos_voucher_redeem(agent=agent, msisdn="912345678", carrier_code="claro-pe", pin=pin, ip=None)

    # when an agent of another store asks for it
    client.force_login(agent_at(make_store(name="Other")))
    page = client.get(f"/stores/pos/receipts/{receipt.number}/")
    pdf = client.get(f"/stores/pos/receipts/{receipt.number}/pdf/")

    # then there is no such receipt for them
    assert (page.status_code, pdf.status_code) == (404, 404)


def test_a_refused_code_issues_no_receipt_and_skips_no_number(
    client, agent, open_shift, user, claro, claro_plan
) -> None:
    line_add(owner=user, msisdn="912345678", carrier=claro)
    pin, _other = _pins(claro_plan)
    client.force_login(agent)

    client.post(VOUCHER_URL, {"pin": "1234-5678-9012-3456"})
    good = client.post(VOUCHER_URL, {"pin": pin})

    assert good.url == "/stores/pos/receipts/T-1-000001/"
    assert Receipt.objects.count() == 1


def test_a_walk_in_number_is_registered_only_once_the_code_is_good(
    client, agent, open_shift, claro, claro_plan
) -> None:
    pin, _other = _pins(claro_plan)
    client.force_login(agent)

    wrong = client.post(VOUCHER_URL, {"pin": "1234-5678-9012-3456"})
    lines_after_wrong = Line.objects.count()
    good = client.post(VOUCHER_URL, {"pin": pin})

    assert wrong.status_code == 422
    assert str(VoucherInvalid.default_message) in wrong.content.decode()
    assert lines_after_wrong == 0
    assert good.status_code == 302
    line = Line.objects.get()
    assert (line.msisdn, line.owner.email) == ("+51912345678", WALK_IN_EMAIL)
    assert RenewalOrder.objects.get().payer == line.owner


def test_a_used_code_gets_the_same_answer_as_a_wrong_one_and_changes_nothing(
    client, agent, open_shift, user, claro, claro_plan
) -> None:
    line_add(owner=user, msisdn="912345678", carrier=claro)
    pin, _other = _pins(claro_plan)
    client.force_login(agent)
    client.post(VOUCHER_URL, {"pin": pin})

    again = client.post(VOUCHER_URL, {"pin": pin})
    empty = client.post(VOUCHER_URL, {"pin": ""})

    assert again.status_code == 422
    assert str(VoucherInvalid.default_message) in again.content.decode()
    assert (empty.status_code, "This field is required." in empty.content.decode()) == (422, True)
    assert RenewalOrder.objects.count() == 1


def test_a_code_for_another_carrier_is_refused(client, agent, open_shift, user, claro) -> None:
    line_add(owner=user, msisdn="912345678", carrier=claro)
    movistar = Plan.objects.filter(carrier__code="movistar-pe").order_by("price_minor").first()
    pin, _other = _pins(movistar)
    client.force_login(agent)

    response = client.post(VOUCHER_URL, {"pin": pin})

    assert response.status_code == 422
    assert "This recharge code is for another carrier." in response.content.decode()
    assert RenewalOrder.objects.count() == 0
    assert VoucherCode.objects.filter(status=VoucherStatus.ACTIVE).count() == 2


def test_only_an_agent_with_an_open_shift_redeems_at_the_counter(client, agent, user, claro_plan) -> None:
    pin, _other = _pins(claro_plan)
    client.force_login(agent)
    no_shift = client.post(VOUCHER_URL, {"pin": pin})
    client.force_login(user)
    subscriber = client.post(VOUCHER_URL, {"pin": pin})

    assert (no_shift.status_code, no_shift.url) == (302, "/stores/pos/")
    assert subscriber.status_code in (302, 403)
    assert RenewalOrder.objects.count() == 0


def test_the_pos_api_redeems_a_code_for_the_number(agent_api, open_shift, user, claro, claro_plan) -> None:
    line = line_add(owner=user, msisdn="912345678", carrier=claro)
    pin, _other = _pins(claro_plan)
    body = {"msisdn": "912 345 678", "carrier": "claro-pe", "pin": pin}

    first = agent_api.post_json("/api/v1/pos/vouchers/redeem", body)
    again = agent_api.post_json("/api/v1/pos/vouchers/redeem", body)
    other_carrier = agent_api.post_json("/api/v1/pos/vouchers/redeem", {**body, "carrier": "nope"})

    assert first.status_code == 200
    order = RenewalOrder.objects.get()
    assert (first.json()["id"], order.payer, order.line) == (order.pk, user, line)
    receipt = Receipt.objects.get()
    assert first.json()["receipt"] == {
        "number": "T-1-000001",
        "verification_code": receipt.verification_code,
        "url": "/stores/pos/receipts/T-1-000001/",
        "pdf_url": "/stores/pos/receipts/T-1-000001/pdf/",
    }
    assert (again.status_code, again.json()["code"]) == (422, "voucher_invalid")
    assert (other_carrier.status_code, other_carrier.json()["code"]) == (422, "invalid_carrier")
    assert RenewalOrder.objects.count() == 1


def test_a_code_redeemed_by_api_outside_a_shift_still_has_its_receipt(
    agent_api, user, claro, claro_plan
) -> None:
    line_add(owner=user, msisdn="912345678", carrier=claro)
    pin, _other = _pins(claro_plan)

    response = agent_api.post_json(
        "/api/v1/pos/vouchers/redeem", {"msisdn": "912345678", "carrier": "claro-pe", "pin": pin}
    )

    assert response.status_code == 200
    receipt = Receipt.objects.get()
    assert (receipt.number, receipt.shift, receipt.payment) == ("T-1-000001", None, "voucher")


def test_the_pos_api_is_for_store_agents_only(api, claro_plan) -> None:
    pin, _other = _pins(claro_plan)

    response = api.post_json(
        "/api/v1/pos/vouchers/redeem", {"msisdn": "912345678", "carrier": "claro-pe", "pin": pin}
    )

    assert (response.status_code, response.json()["code"]) == (403, "not_a_store_agent")
    assert VoucherCode.objects.filter(status=VoucherStatus.ACTIVE).count() == 2
