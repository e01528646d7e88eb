"""Resolving a possible wrong charge in the back office: an optional note, and who resolved it, when
and the note are kept and shown to the line's holder (statement page and API)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group

from tests.factories import UserFactory
from vigencia.accounts import roles
from vigencia.core import clock
from vigencia.usage.models import Anomaly, AnomalyKind

pytestmark = pytest.mark.django_db

RESOLVED_AT = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def operator(db):
    roles.roles_ensure()
    person = UserFactory(is_staff=True, name="Rosa Quispe")
    person.groups.add(Group.objects.get(name=roles.OPERATOR))
    return person


@pytest.fixture
def anomaly(line):
    return Anomaly.objects.create(
        line=line,
        kind=AnomalyKind.CHARGE_MISMATCH,
        key="x3",
        details={"record": "x3", "carrier": "S/ 0.10", "ours": "S/ 0.00"},
    )


def _resolve(client, anomaly, **form):
    return client.post(
        "/admin/usage/anomaly/",
        {"action": "resolve", "_selected_action": [str(anomaly.pk)], **form},
    )


def test_resolving_asks_for_an_optional_note_first_and_changes_nothing_yet(client, operator, anomaly):
    client.force_login(operator)

    response = _resolve(client, anomaly)

    assert response.status_code == 200
    assert 'name="note"' in response.content.decode()
    anomaly.refresh_from_db()
    assert anomaly.resolved_at is None


def test_the_note_who_and_when_are_kept_and_shown_on_the_page_and_by_api(
    client, api, user, operator, anomaly
) -> None:
    # given an operator who resolves the anomaly with a note
    client.force_login(operator)
    with clock.frozen(RESOLVED_AT):
        response = _resolve(client, anomaly, apply="1", note="  Carrier refunded S/ 0.10 on 4 March.  ")
    assert response.status_code == 302

    # then who, when and the note are kept
    anomaly.refresh_from_db()
    assert (anomaly.resolved_at, anomaly.resolved_by, anomaly.resolution_note) == (
        RESOLVED_AT,
        operator,
        "Carrier refunded S/ 0.10 on 4 March.",
    )

    # and the holder sees them on the statement page and through the API
    client.force_login(user)
    page = client.get(
        f"/usage/lines/{anomaly.line_id}/statement/", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "(resuelto el 4 de marzo de 2025 por Rosa Quispe: Carrier refunded S/ 0.10 on 4 March.)" in page
    found = api.get(f"/api/v1/lines/{anomaly.line_id}/anomalies").json()
    assert [(a["resolved_at"], a["resolved_by"], a["resolution_note"]) for a in found] == [
        ("2025-03-04T15:00:00Z", "Rosa Quispe", "Carrier refunded S/ 0.10 on 4 March.")
    ]


def test_a_note_too_long_is_refused_and_nothing_is_resolved(client, operator, anomaly) -> None:
    client.force_login(operator)

    response = _resolve(client, anomaly, apply="1", note="x" * 301)

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    anomaly.refresh_from_db()
    assert (anomaly.resolved_at, anomaly.resolution_note) == (None, "")


def test_a_resolver_without_a_name_is_not_shown_by_email(client, api, user, operator, anomaly) -> None:
    operator.name = ""
    operator.save()
    client.force_login(operator)
    with clock.frozen(RESOLVED_AT):
        _resolve(client, anomaly, apply="1", note="")

    client.force_login(user)
    page = client.get(
        f"/usage/lines/{anomaly.line_id}/statement/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    found = api.get(f"/api/v1/lines/{anomaly.line_id}/anomalies").json()

    assert "(resolved on March 4, 2025)" in page
    assert operator.email not in page
    assert [a["resolved_by"] for a in found] == [None]


def test_an_unresolved_anomaly_has_no_resolver_in_the_api(api, anomaly) -> None:
    found = api.get(f"/api/v1/lines/{anomaly.line_id}/anomalies").json()

    assert [(a["resolved_at"], a["resolved_by"], a["resolution_note"]) for a in found] == [(None, None, "")]
