"""The back office's user form refuses what would break the person's pages, in plain words."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from vigencia.accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(email="boss@example.com", is_staff=True, is_superuser=True))
    return client


def _form(person: User, **changes: str) -> dict[str, str]:
    form = {
        "email": person.email,
        "name": "Ana",
        "phone": "",
        "language": "es",
        "timezone": "America/Lima",
        "is_active": "on",
        "api_tokens-TOTAL_FORMS": "0",
        "api_tokens-INITIAL_FORMS": "0",
    }
    return form | changes


def _errors(response) -> list[str]:
    form = response.context["adminform"].form
    return [str(message) for messages in form.errors.values() for message in messages]


def test_a_good_change_is_saved_with_the_phone_in_e164(staff, user):
    # when
    response = staff.post(f"/admin/accounts/user/{user.pk}/change/", _form(user, phone="912 345 678"))

    # then
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.name, user.phone) == ("Ana", "+51912345678")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Base"}, "Mars/Base is not a timezone such as America/Lima."),
        ({"email": "OTHER@example.com"}, "Another account already uses this email."),
        ({"phone": "hello"}, "This is not a phone number."),
    ],
)
def test_a_bad_value_says_what_is_wrong_and_changes_nothing(staff, user, changes, message):
    UserFactory(email="other@example.com")
    before = (user.email, user.timezone, user.phone)

    # when
    response = staff.post(f"/admin/accounts/user/{user.pk}/change/", _form(user, **changes))

    # then
    assert response.status_code == 200
    assert _errors(response) == [message]
    user.refresh_from_db()
    assert (user.email, user.timezone, user.phone) == before
