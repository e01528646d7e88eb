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


@pytest.fixture(autouse=True)
def _static_without_manifest(settings):
    # Tests do not run collectstatic; the manifest storage would refuse every {% static %}.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
