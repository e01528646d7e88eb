"""Plans browser: carriers, plans on sale with prices, keep-alive rules in plain words."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from vigencia.catalog.models import Carrier

pytestmark = pytest.mark.django_db


def test_carriers_are_listed(client: Client, demo_catalog) -> None:
    response = client.get("/plans/")
    assert response.status_code == 200
    assert [carrier.code for carrier in response.context["carriers"]] == list(
        Carrier.objects.filter(is_active=True).values_list("code", flat=True)
    )
    assert 'href="/plans/claro-pe/"' in response.content.decode()


@pytest.mark.parametrize(
    ("language", "rule", "plan", "price"),
    [
        (
            "en",
            "Outgoing calls and data are restricted 60 days after the last recharge.",
            "Claro Max S/ 5 · 3 days",
            "S/\xa05.00",
        ),
        (
            "es",
            "Las llamadas salientes y los datos se restringen 60 días después de la última recarga.",
            "Claro Max S/ 5 · 3 días",
            "S/\xa05.00",
        ),
        (
            "zh-hans",
            "最后一次充值 60 天后，呼出电话和上网将被限制。",
            "Claro Max 5 索尔 · 3 天",
            "S/\xa05.00",
        ),
    ],
)
def test_a_carrier_page_explains_its_rules_and_prices_in_the_language(
    client: Client, claro: Carrier, language: str, rule: str, plan: str, price: str
) -> None:
    response = client.get("/plans/claro-pe/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert rule in html
    assert plan in html
    assert f'<p class="price">{price}</p>' in html


def test_other_policy_kinds_read_in_plain_words(client: Client, demo_catalog) -> None:
    html = client.get("/plans/giffgaff-uk/").content.decode()
    assert "Any chargeable use (a call, a text, data or a top-up) restarts the clock." in html
    assert "At the cut-off, the number can be given to someone else." in html


@pytest.mark.parametrize("code", ["nope", "claro pe", "x" * 200, "%00"])
def test_an_unknown_carrier_is_not_found(client: Client, demo_catalog, code: str) -> None:
    assert client.get(f"/plans/{code}/").status_code == 404


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["1 GB", "Unlimited", "100", "1.5 GB", "20 GB", "1,000", "500 MB"]),
        ("es", ["1 GB", "Ilimitado", "100", "1.5 GB", "20 GB", "1,000", "500 MB"]),  # as written in Peru
        ("zh-hans", ["1 GB", "不限", "100", "1.5 GB", "20 GB", "1,000", "500 MB"]),
    ],
)
def test_allowances_read_as_people_say_them(client: Client, demo_catalog, language, expected) -> None:
    # given Claro's first plan as the demo has it (1 GB, unlimited calls, 100 SMS), and a second one
    from vigencia.catalog.models import Plan

    Plan.objects.filter(carrier__code="claro-pe").exclude(code="max-5").update(is_active=False)
    first = Plan.objects.get(code="max-5", carrier__code="claro-pe")
    Plan.objects.filter(pk=first.pk).update(data_mb=1024, minutes=9999, sms=100)
    second = Plan.objects.get(pk=first.pk)
    second.pk, second.code, second.data_mb, second.minutes, second.sms = None, "big", 1536, 1000, 0
    second.save()
    third = Plan.objects.get(pk=first.pk)
    third.pk, third.code, third.data_mb, third.minutes, third.sms = None, "huge", 20480, 0, 0
    third.save()
    fourth = Plan.objects.get(pk=first.pk)
    fourth.pk, fourth.code, fourth.data_mb, fourth.minutes, fourth.sms = None, "small", 500, 0, 0
    fourth.save()

    page = client.get("/plans/claro-pe/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    # each plan's data, minutes and SMS (after its validity), in the order of the plans (by code)
    details = re.findall(r"<dt>[^<]*</dt><dd>([^<]*)</dd>", page)
    shown = [value for index, value in enumerate(details) if index % 4 != 0 and value != "—"]
    assert shown == [expected[3], expected[5], expected[4], *expected[:3], expected[6]]
