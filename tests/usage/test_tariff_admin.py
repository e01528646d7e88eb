"""The operator's tariff form says what is wrong in plain words, not the database constraint's name."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from vigencia.accounts import roles
from vigencia.catalog.models import Plan
from vigencia.usage.models import Tariff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data_step_kb": "0"}, "Data is rounded up to steps of at least 1 KB."),
        ({"money_credit_minor": "-1"}, "The balance credited and the rates cannot be below zero."),
        ({"sms_national_minor": "-5"}, "The balance credited and the rates cannot be below zero."),
    ],
)
def test_a_bad_tariff_is_refused_in_plain_words(client, claro, changes, message):
    roles.roles_ensure()
    operator = UserFactory(is_staff=True)
    operator.groups.add(Group.objects.get(name=roles.OPERATOR))
    client.force_login(operator)
    plan = Plan.objects.filter(carrier=claro, tariff__isnull=True).first()
    form = {
        "plan": str(plan.pk),
        "money_credit_minor": "0",
        "voice_rounding": "per_second",
        "data_step_kb": "1",
        "voice_national_per_minute_minor": "20",
        "voice_international_per_minute_minor": "150",
        "sms_national_minor": "10",
        "sms_international_minor": "50",
        "data_per_mb_minor": "5",
    }

    # when
    response = client.post("/admin/usage/tariff/add/", form | changes)

    # then
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert [str(error) for field in errors.values() for error in field] == [message]
    assert not Tariff.objects.filter(plan=plan).exists()
