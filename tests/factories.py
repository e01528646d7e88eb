"""Factories shared by every app's tests (per-app factories live next to their tests)."""

from __future__ import annotations

import factory

from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier, Plan, PolicyKind
from vigencia.fulfilment.models import FulfilmentTransaction

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    language = "en"
    password = factory.django.Password(PASSWORD)


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"carrier-{n}")
    name = factory.Sequence(lambda n: f"Carrier {n}")
    country = "PE"
    currency = "PEN"
    policy_kind = PolicyKind.SINCE_RECHARGE
    restrict_after_days = 60
    cutoff_after_days = 270
    recycle_after_cutoff_days = 90


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    carrier = factory.SubFactory(CarrierFactory)
    code = factory.Sequence(lambda n: f"plan-{n}")
    name_en = factory.Sequence(lambda n: f"Plan {n}")
    name_es = factory.Sequence(lambda n: f"Plan {n}")
    name_zh_hans = factory.Sequence(lambda n: f"套餐 {n}")
    price_minor = 1000
    currency = "PEN"
    validity_days = 30


class TopupFactory(factory.django.DjangoModelFactory):
    """A carrier top-up for order `n` (`TopupFactory(n=3)`: external id order-3, reference order:3)."""

    class Meta:
        model = FulfilmentTransaction
        exclude = ("n",)

    n = factory.Sequence(lambda n: n + 1)
    external_id = factory.LazyAttribute(lambda topup: f"order-{topup.n}")
    reference = factory.LazyAttribute(lambda topup: f"order:{topup.n}")
    msisdn = "+51912345678"
    carrier_code = "claro-pe"
    plan_code = "claro-10"
    amount_minor = 1000
    currency = "PEN"
