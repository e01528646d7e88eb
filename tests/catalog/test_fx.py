"""FX rates: approximate amounts labelled as such, Babel formatting per language, CSV import."""

from datetime import date
from decimal import Decimal

import pytest

from vigencia.catalog.fx import fx_rate_set, fx_rates_import, money_approx, money_approx_label
from vigencia.catalog.models import FxRate
from vigencia.core.errors import InvalidInput
from vigencia.core.money import Money

pytestmark = pytest.mark.django_db


def test_the_newest_rate_converts_half_up_and_is_labelled_approximate():
    fx_rate_set(base="PEN", quote="USD", rate=Decimal("0.25"), as_of=date(2026, 1, 1))
    fx_rate_set(base="PEN", quote="USD", rate=Decimal("0.2667"), as_of=date(2026, 2, 1))

    assert money_approx(Money(1000, "PEN"), currency="USD") == Money(267, "USD")
    assert money_approx(Money(1000, "PEN"), currency="CNY") is None
    assert money_approx_label(Money(1000, "PEN"), currency="USD", language="en") == "≈ $\xa02.67 (approx.)"
    assert money_approx_label(Money(1000, "PEN"), currency="USD", language="es") == "≈ $\xa02.67 (aprox.)"
    assert money_approx_label(Money(1000, "PEN"), currency="CNY", language="zh-hans") == ""


def test_csv_import_all_or_nothing():
    good = "base,quote,rate,as_of\nPEN,USD,0.27,2026-01-31\npen,cny,1.93,2026-01-31\n"
    assert fx_rates_import(data=good.encode()) == 2
    assert FxRate.objects.count() == 2

    bad = "base,quote,rate,as_of\nPEN,USD,0.28,2026-02-01\nPEN,USD,-1,2026-02-02\n"
    with pytest.raises(InvalidInput) as error:
        fx_rates_import(data=bad.encode())
    assert error.value.details == {"line": 3}
    assert FxRate.objects.count() == 2

    for text in [
        "nope",
        "base,quote,rate,as_of\nPEN,US,1,2026-01-01",
        "base,quote,rate,as_of\nPEN,USD,NaN,2026-01-01",
        "base,quote,rate,as_of\nPEN,XYZ,1,2026-01-01",
        "base,quote,rate,as_of\nPEN,USD,1,2026-01-01\nPEN,C\xd1Y,1,2026-01-01",
    ]:
        with pytest.raises(InvalidInput):
            fx_rates_import(data=text.encode("latin-1"))
    assert FxRate.objects.count() == 2


def test_the_command_says_plainly_what_is_wrong_with_the_file_and_imports_nothing(db, command_line, tmp_path):
    latin = tmp_path / "rates.csv"
    latin.write_bytes("base,quote,rate,as_of\nPEN,USD,0.27,2026-01-31\n# Perú\n".encode("latin-1"))

    assert command_line("fx_import", str(tmp_path)) == (
        1,
        "",
        f"CommandError: Cannot read {tmp_path}: Is a directory\n",
    )
    assert command_line("fx_import", str(latin)) == (
        1,
        "",
        f"CommandError: {latin}: The file is not UTF-8 text (byte 51). Save it as “CSV UTF-8” and try again. "
        "Nothing was imported.\n",
    )
    assert FxRate.objects.count() == 0


def test_plan_pages_show_the_approximate_amount_in_the_viewers_currency(client, user, line, plan):
    # given rates to CNY and USD
    fx_rate_set(base="PEN", quote="CNY", rate=Decimal("2.1"), as_of=date(2026, 1, 1))
    fx_rate_set(base="PEN", quote="USD", rate=Decimal("0.29"), as_of=date(2026, 1, 1))
    client.force_login(user)

    # when a Chinese and an English speaker look at the plans, the renewal choice and its review
    pages = {
        language: [
            client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
            for url in ("/plans/claro-pe/", f"/renew/{line.pk}/", f"/renew/{line.pk}/{plan.pk}/")
        ]
        for language in ("zh-hans", "en")
    }

    # then the S/ 10 plan reads ≈ ¥21.00 or ≈ $2.90, always marked approximate
    for html in pages["zh-hans"]:
        assert "≈ ¥\xa021.00（约）" in html
    for html in pages["en"]:
        assert "≈ $\xa02.90 (approx.)" in html


def test_the_demo_seeds_rates_labelled_demo_once(seeded):
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)

    assert FxRate.objects.filter(source="demo").count() == 7
    assert set(FxRate.objects.values_list("source", flat=True)) == {"demo"}
