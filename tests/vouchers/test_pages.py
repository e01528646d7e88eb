import re
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import translation

from vigencia.accounts import roles
from vigencia.catalog.models import Plan
from vigencia.core import clock
from vigencia.core.money import Money
from vigencia.orders.models import RenewalOrder
from vigencia.vouchers import demo
from vigencia.vouchers.models import RedemptionAttempt, ResellerProfile, VoucherBatch, VoucherCode
from vigencia.vouchers.services import reseller_prepaid_account

from ..factories import UserFactory

KEY = str(uuid.uuid4())  # a rendered buy form's key


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


def test_a_subscriber_redeems_a_code_in_the_portal_and_lands_on_the_renewal(browser, line, make_batch, user):
    # given a Spanish reader with a card of Claro Max S/ 10
    user.language = "es"
    user.save()
    made = make_batch(1)

    # when she redeems its PIN on her line
    response = browser.post(
        "/vouchers/redeem/", {"pin": made.pins[0], "line": line.pk}, HTTP_ACCEPT_LANGUAGE="es", follow=True
    )

    # then she is on the renewal's own page, told in Spanish which plan goes to which number
    order = RenewalOrder.objects.get()
    assert response.redirect_chain == [(f"/orders/{order.pk}/", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Listo: Claro Max S/ 10 · 7 días va en camino a +51 912 345 678."
    ]
    assert VoucherCode.objects.get().status == "redeemed"
    assert order.channel == "voucher"


def test_the_redeem_page_names_each_line_by_number_nickname_and_carrier(browser, line):
    line.nickname = "Mine"
    line.save()

    body = browser.get("/vouchers/redeem/").content.decode()

    assert f'<option value="{line.pk}">+51 912 345 678 · Mine · Claro Perú</option>' in body
    assert '<option value="" selected>Choose a line</option>' in body
    assert '<option value="" selected>Choose your carrier</option>' in body


def test_a_reseller_buys_by_plan_name_not_its_code(reseller_browser, plan):
    body = reseller_browser.get("/vouchers/reseller/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<optgroup label="Claro Perú">' in body
    assert f'<option value="{plan.pk}">Claro Max S/ 10 · 7 days</option>' in body
    assert "claro-pe/max-10" not in body
    assert '<option value="" selected>Choose a plan</option>' in body
    assert "Each code is paid from your prepaid balance at its face value." in body


def test_a_reseller_is_offered_only_plans_its_balances_can_pay(reseller_browser, reseller, plan):
    # given a reseller with a sol balance only, and plans priced in yuan on sale
    yuan = Plan.objects.filter(currency="CNY").order_by("pk").first()

    body = reseller_browser.get("/vouchers/reseller/").content.decode()
    bought = reseller_browser.post(
        "/vouchers/reseller/buy/", {"plan": yuan.pk, "count": 1, "idempotency_key": KEY}
    )

    assert f'<option value="{plan.pk}">' in body
    assert f'<option value="{yuan.pk}">' not in body
    assert bought.status_code == 302
    assert VoucherBatch.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "href"),
    [
        ("anonymous", "/vouchers/verify/"),
        ("subscriber", "/vouchers/redeem/"),
        ("reseller", "/vouchers/reseller/"),
    ],
)
def test_the_menu_leads_each_person_to_their_recharge_code_page(client, user, reseller, who, href):
    if who != "anonymous":
        client.force_login(user if who == "subscriber" else reseller)

    body = client.get("/plans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f'<a href="{href}">Recharge codes</a>' in body


def test_the_operator_dashboard_links_the_redemption_figures(client, db):
    roles.roles_ensure()
    operator = UserFactory(is_staff=True)
    operator.groups.add(Group.objects.get(name=roles.OPERATOR))
    client.force_login(operator)

    body = client.get("/backoffice/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<a href="/vouchers/operator/">Recharge codes: redemptions</a>' in body


@pytest.mark.parametrize(
    ("status", "says"),
    [
        ("active", "is genuine and can be redeemed."),
        ("redeemed", "is genuine, but it has already been redeemed."),
        ("void", "is genuine, but its seller cancelled it: it cannot be redeemed."),
        ("expired", "is genuine, but it has expired."),
        ("created", "is genuine, but it is not on sale yet: ask the shop."),
    ],
)
def test_anyone_checks_a_card_by_its_serial_on_the_verify_page(client, make_batch, status, says):
    # given a card in each state
    made = make_batch(1)
    VoucherCode.objects.update(status=status)
    serial = made.serials[0]
    printed = f"{serial[:6]}-{serial[6:13]}-{serial[13:]}"

    # when a visitor types its serial as printed (or without the dashes)
    answers = [
        client.get("/vouchers/verify/", {"serial": typed}, HTTP_ACCEPT_LANGUAGE="en")
        for typed in (printed, serial)
    ]

    # then the page says it is genuine, and what can be done with it
    assert [a.status_code for a in answers] == [200, 200]
    assert [f"Serial {printed} {says}" in a.content.decode() for a in answers] == [True, True]
    assert made.pins[0] not in answers[0].content.decode()


def test_an_unknown_serial_is_not_genuine_and_an_empty_one_is_422_in_chinese(client, make_batch):
    made = make_batch(1)
    wrong_check = made.serials[0][:13] + str((int(made.serials[0][13]) + 1) % 10)

    unknown = client.get("/vouchers/verify/", {"serial": wrong_check}, HTTP_ACCEPT_LANGUAGE="en")
    empty = client.get("/vouchers/verify/", {"serial": ""}, HTTP_ACCEPT_LANGUAGE="zh-CN,zh")
    fresh = client.get("/vouchers/verify/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh")

    assert unknown.status_code == 200
    assert f"We do not know serial {wrong_check}." in unknown.content.decode()
    assert empty.status_code == 422
    assert "此项为必填。" in empty.content.decode()
    assert fresh.status_code == 200
    assert "验证充值卡" in fresh.content.decode()


def test_the_verify_page_shares_the_per_ip_limit_with_the_api(db, client, anon_api, settings, frozen_clock):
    from vigencia.core import clock

    settings.VIGENCIA_VOUCHER_LIMITS = {**settings.VIGENCIA_VOUCHER_LIMITS, "verify_ip": (3, 60)}
    with frozen_clock(clock.now().replace(second=0)):
        api = [anon_api.get("/api/v1/vouchers/verify?serial=1").status_code for _ in range(2)]
        pages = [
            client.get("/vouchers/verify/", {"serial": "1"}, HTTP_ACCEPT_LANGUAGE="es") for _ in range(2)
        ]

    assert api == [200, 200]
    assert [p.status_code for p in pages] == [200, 429]
    assert "Demasiadas verificaciones desde aquí." in pages[1].content.decode()


def test_a_wrong_pin_in_the_portal_is_a_form_error_in_spanish(browser, line, make_batch, user):
    user.language = "es"
    user.save()

    response = browser.post(
        "/vouchers/redeem/", {"pin": "1111 1111 1111 1111", "line": line.pk}, HTTP_ACCEPT_LANGUAGE="es"
    )

    assert response.status_code == 200
    assert "Este código de recarga no se puede usar: el PIN es incorrecto" in response.content.decode()


def test_the_authorised_resellers_page_is_public(client, reseller):
    ResellerProfile.objects.create(user=reseller, display_name="Bodega Rosa", city="Lima")
    ResellerProfile.objects.create(user=UserFactory(), display_name="Not a reseller")

    body = client.get("/vouchers/resellers/").content.decode()

    assert "Bodega Rosa" in body
    assert "Not a reseller" not in body


def test_a_double_tap_on_buy_buys_one_batch(reseller_browser, reseller, plan):
    # given the reseller's page, whose form carries its own key
    page = reseller_browser.get("/vouchers/reseller/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f-]+)"', page).group(1)
    body = {"plan": plan.pk, "count": 2, "idempotency_key": key}

    # when the buy button is tapped twice
    first = reseller_browser.post("/vouchers/reseller/buy/", body, follow=True)
    second = reseller_browser.post("/vouchers/reseller/buy/", body, follow=True)

    # then one batch was bought and paid for, and both answers name it
    batch = VoucherBatch.objects.get()
    for response in (first, second):
        assert f"Batch #{batch.pk} is ready: download its codes now." in response.content.decode()
    assert VoucherCode.objects.count() == 2
    assert reseller_prepaid_account(reseller=reseller, currency="PEN").balance == Money(
        100_000 - 2 * 1000, "PEN"
    )


def test_a_reseller_buys_downloads_once_and_voids_in_the_pages(reseller_browser, plan):
    assert reseller_browser.get("/vouchers/reseller/").status_code == 200
    reseller_browser.post("/vouchers/reseller/buy/", {"plan": plan.pk, "count": 2, "idempotency_key": KEY})
    batch = VoucherBatch.objects.get()

    first = reseller_browser.post(f"/vouchers/reseller/batches/{batch.pk}/download/")
    second = reseller_browser.post(f"/vouchers/reseller/batches/{batch.pk}/download/", follow=True)
    voided = reseller_browser.post(
        f"/vouchers/reseller/batches/{batch.pk}/void/", {"serial_from": "", "serial_to": "", "confirm": "yes"}
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


def test_the_operator_page_shows_the_failure_rate_as_a_percentage(client, operator):
    # given one redemption and two wrong PINs in the last hour, and one wrong PIN yesterday
    for outcome, ago in (("redeemed", 5), ("invalid", 6), ("invalid", 7), ("invalid", 60 * 20)):
        RedemptionAttempt.objects.create(outcome=outcome, created_at=clock.now() - timedelta(minutes=ago))
    client.force_login(operator)

    # when an operator opens the page in Spanish
    page = client.get("/vouchers/operator/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    # then each period's failure rate is a percentage, written as in Peru
    assert "<tr><th>Última hora</th><td>3</td><td>1</td><td>2</td><td>0</td><td>66.7%</td></tr>" in page
    assert "<tr><th>Últimas 24 horas</th><td>4</td><td>1</td><td>3</td><td>0</td><td>75.0%</td></tr>" in page


def test_batches_name_their_plan_in_the_readers_language(
    client, reseller_browser, make_batch, plan, operator
):
    # given a batch of the Claro S/ 10 plan
    make_batch(1)
    client.force_login(operator)
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

    assert VoucherBatch.objects.count() == 2
    assert out.getvalue() == "vouchers: demo batch already there"
    assert (settings.VAR_DIR / "demo_vouchers.csv").read_text().count("\n") == 6
    assert (settings.VAR_DIR / "demo_wallet_cards.csv").read_text().count("\n") == 4
    # in the tests' own folder, not the var/ of the install `make run` started
    assert settings.VAR_DIR != settings.BASE_DIR / "var"


def test_batches_come_a_page_at_a_time_newest_first(
    reseller_browser, client, operator, make_batch, monkeypatch
):
    # given three batches of a reseller, and pages of two
    monkeypatch.setattr("vigencia.vouchers.views.BATCHES_PAGE", 2)
    batches = [make_batch(count=1).batch.pk for _ in range(3)]
    client.force_login(operator)

    for browser, url in ((reseller_browser, "/vouchers/reseller/"), (client, "/vouchers/operator/")):
        # when the reseller, and the operator, read their batches, then the older page
        first = browser.get(url).context["batches"]
        older = browser.get(f"{url}?page=2")

        # then the newest two come first, the oldest on the next page, linked from the first
        assert [batch.pk for batch in first] == batches[:0:-1]
        assert [batch.pk for batch in older.context["batches"]] == batches[:1]
        assert '<a class="button" href="?page=1">Newer</a>' in older.content.decode()
