"""The operator's carrier and plan forms refuse what would break the pages later, in plain words."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from vigencia.accounts import roles
from vigencia.catalog.models import Carrier, Plan, Promotion

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(demo_catalog, client):
    roles.roles_ensure()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.OPERATOR))
    client.force_login(user)
    return client


def _carrier_form(**changes: str) -> dict[str, str]:
    form = {
        "code": "nuevo-pe",
        "name": "Nuevo",
        "country": "PE",
        "currency": "PEN",
        "timezone": "America/Lima",
        "is_active": "on",
        "policy_kind": "since_recharge",
        "restrict_after_days": "60",
        "cutoff_after_days": "270",
        "recycle_after_cutoff_days": "90",
        "notice_days": "15",
        "balance_max_days": "",
        "policy_notes": "",
        "plans-TOTAL_FORMS": "0",
        "plans-INITIAL_FORMS": "0",
    }
    return form | changes


def _errors(response) -> list[str]:
    form = response.context["adminform"].form
    return [str(message) for messages in form.errors.values() for message in messages]


def test_a_good_carrier_is_saved(operator_client):
    # when
    response = operator_client.post("/admin/catalog/carrier/add/", _carrier_form())

    # then
    assert response.status_code == 302
    assert Carrier.objects.get(code="nuevo-pe").timezone == "America/Lima"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Base"}, "Mars/Base is not a timezone such as America/Lima."),
        ({"notice_days": "9999"}, "Ensure this value is less than or equal to 365."),
        ({"cutoff_after_days": "99999"}, "Ensure this value is less than or equal to 3650."),
        (
            {"restrict_after_days": "300"},
            "Outgoing service must be restricted before the cut-off, not after it.",
        ),
        ({"country": "pe"}, "The country is a two-letter ISO code in capitals, such as PE."),
    ],
)
def test_a_carrier_form_with_a_bad_value_says_what_is_wrong(operator_client, changes, message):
    # when
    response = operator_client.post("/admin/catalog/carrier/add/", _carrier_form(**changes))

    # then nothing is saved, and the error is in plain words
    assert response.status_code == 200
    assert _errors(response) == [message]
    assert not Carrier.objects.filter(code="nuevo-pe").exists()


def _plan_form(carrier: Carrier, **changes: str) -> dict[str, str]:
    form = {
        "carrier": str(carrier.pk),
        "code": "nuevo-10",
        "name_en": "New 10",
        "name_es": "Nuevo 10",
        "name_zh_hans": "新 10",
        "price_minor": "1000",
        "currency": "PEN",
        "validity_days": "30",
        "data_mb": "0",
        "minutes": "0",
        "sms": "0",
        "is_active": "on",
    }
    return form | changes


def test_a_plan_in_its_carriers_currency_is_saved(operator_client, claro):
    # when
    response = operator_client.post("/admin/catalog/plan/add/", _plan_form(claro))

    # then
    assert response.status_code == 302
    assert Plan.objects.get(code="nuevo-10").currency == "PEN"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"currency": "USD"}, "Claro Perú sells in PEN; a plan of it must be priced in it too."),
        ({"price_minor": "0"}, "The price must be more than zero."),
        ({"validity_days": "0"}, "A plan gives at least one day of validity."),
        (
            {"active_from_0": "2026-02-01", "active_from_1": "00:00", "active_until_0": "2026-01-01"}
            | {"active_until_1": "00:00"},
            "The sale must end after it starts.",
        ),
    ],
)
def test_a_plan_form_with_a_bad_value_says_what_is_wrong(operator_client, claro, changes, message):
    # when
    response = operator_client.post("/admin/catalog/plan/add/", _plan_form(claro, **changes))

    # then
    assert response.status_code == 200
    assert _errors(response) == [message]
    assert not Plan.objects.filter(code="nuevo-10").exists()


def test_a_plan_code_taken_at_the_carrier_is_said_in_plain_words(operator_client, claro):
    taken = claro.plans.first()

    # when
    response = operator_client.post("/admin/catalog/plan/add/", _plan_form(claro, code=taken.code))

    # then
    assert response.status_code == 200
    assert _errors(response) == ["This carrier already has a plan with this code."]


def test_a_plan_added_on_the_carrier_page_in_another_currency_is_refused(operator_client, claro):
    form = _carrier_form(
        code=claro.code,
        name=claro.name,
        **{
            "plans-TOTAL_FORMS": "1",
            "plans-0-code": "inline-usd",
            "plans-0-name_en": "Inline",
            "plans-0-price_minor": "500",
            "plans-0-currency": "USD",
            "plans-0-validity_days": "7",
            "plans-0-is_active": "on",
        },
    )
    form["plans-INITIAL_FORMS"] = "0"

    # when
    response = operator_client.post(f"/admin/catalog/carrier/{claro.pk}/change/", form)

    # then
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors == [{"currency": ["Claro Perú sells in PEN; a plan of it must be priced in it too."]}]
    assert not Plan.objects.filter(code="inline-usd").exists()


def test_a_carrier_with_plans_keeps_their_currency(operator_client, claro):
    # when the operator changes Claro's currency while its plans are priced in soles
    response = operator_client.post(
        f"/admin/catalog/carrier/{claro.pk}/change/",
        _carrier_form(code=claro.code, name=claro.name, currency="USD"),
    )

    # then
    assert response.status_code == 200
    assert _errors(response) == ["Its plans are priced in PEN; it keeps that currency."]
    claro.refresh_from_db()
    assert claro.currency == "PEN"


def _promotion_form(**changes: str) -> dict[str, str]:
    form = {
        "code": "VERANO",
        "name": "Verano",
        "kind": "percent_off",
        "percent_off": "10",
        "amount_off_minor": "",
        "currency": "",
        "bonus_data_mb": "0",
        "extra_days": "0",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00",
        "ends_at_0": "2026-02-01",
        "ends_at_1": "00:00",
        "channels": "[]",
        "audience": "everyone",
        "is_active": "on",
    }
    return form | changes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ends_at_0": "2025-12-01"}, "The promotion must end after it starts."),
        ({"percent_off": "100"}, "A percent-off promotion takes 1 to 99 percent off."),
        (
            {"kind": "fixed_off", "percent_off": "", "amount_off_minor": "0", "currency": "PEN"},
            "A fixed-amount promotion needs an amount above zero and its currency.",
        ),
    ],
)
def test_a_promotion_form_with_a_bad_value_says_what_is_wrong(operator_client, changes, message):
    # when
    response = operator_client.post("/admin/catalog/promotion/add/", _promotion_form(**changes))

    # then
    assert response.status_code == 200
    assert _errors(response) == [message]
    assert not Promotion.objects.exists()


def test_a_second_rate_for_the_same_day_is_said_in_plain_words(operator_client):
    form = {"base": "USD", "quote": "PEN", "rate": "3.75", "as_of": "2026-03-03", "source": ""}
    assert operator_client.post("/admin/catalog/fxrate/add/", form).status_code == 302

    # when
    response = operator_client.post("/admin/catalog/fxrate/add/", form | {"rate": "0"})

    # then
    assert response.status_code == 200
    assert sorted(_errors(response)) == [
        "The rate must be more than zero.",
        "There is already a rate for these currencies on this day.",
    ]


def test_a_timezone_saved_before_it_was_validated_becomes_the_default(claro, user):
    from importlib import import_module

    from django.apps import apps

    # given a carrier and a person saved with a timezone that is none, and a good one
    Carrier.objects.filter(pk=claro.pk).update(timezone="Mars/Base")
    type(user).objects.filter(pk=user.pk).update(timezone="Nowhere/Else")
    london = Carrier.objects.exclude(pk=claro.pk).filter(timezone="Europe/London").get()

    # when the migrations' repair runs
    for module in (
        "vigencia.catalog.migrations.0005_carrier_policy_bounds_constraint_messages",
        "vigencia.accounts.migrations.0005_user_timezone_email_message",
    ):
        import_module(module).timezones_repair(apps, None)

    # then
    claro.refresh_from_db()
    user.refresh_from_db()
    london.refresh_from_db()
    assert (claro.timezone, user.timezone, london.timezone) == (
        "America/Lima",
        "America/Lima",
        "Europe/London",
    )


def test_a_plan_in_a_code_that_is_no_currency_is_told_that_alone(operator_client, claro):
    # when
    response = operator_client.post("/admin/catalog/plan/add/", _plan_form(claro, currency="XYZ"))

    # then
    assert _errors(response) == ["XYZ is not an ISO 4217 currency code (e.g. PEN)."]
