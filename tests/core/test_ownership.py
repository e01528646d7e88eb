"""No API operation or portal page reaches another person's line, order, payment or ticket: every
operation of the OpenAPI schema and every portal route whose path names one, called by another
subscriber with the owner's real id and a body the owner could send, answers 404 and changes
nothing. Walking the schema and the URLconf keeps what is added later inside the check."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import ApiClient
from tests.factories import UserFactory
from tests.urlwalk import portal_routes, route_parameters, route_url
from vigencia.accounts.services import api_token_issue
from vigencia.config.api import api as ninja_api
from vigencia.lines.models import Line
from vigencia.lines.services import line_add
from vigencia.orders.models import RenewalOrder
from vigencia.orders.services import order_create
from vigencia.payments.models import PaymentIntent
from vigencia.support.models import Ticket
from vigencia.support.services import ticket_open
from vigencia.usage.models import AlertRule

pytestmark = pytest.mark.django_db

PARAMETER = re.compile(r"\{(\w+)\}")
# Path parameters that are not a subscriber's: a reseller's batch (tests/vouchers cover other
# resellers), and the names of a payment provider or carrier gateway calling back with a signature.
NOT_A_SUBSCRIBERS = {"batch_id", "provider", "gateway"}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/api/v1/lines/{line_id}"): {"nickname": "mine now"},
    ("patch", "/api/v1/lines/{line_id}/alerts"): {"data_below_mb": 1},
    ("post", "/api/v1/tickets/{ticket_id}/messages"): {"message": "mine now"},
    ("post", "/api/v1/tickets/{ticket_id}/status"): {"status": "resolved"},
}


def _state(owner) -> list[Any]:
    return [
        list(Line.objects.filter(owner=owner).values()),
        list(RenewalOrder.objects.filter(payer=owner).values()),
        list(PaymentIntent.objects.filter(payer=owner).values()),
        list(Ticket.objects.filter(subscriber=owner).values()),
        [ticket.messages.count() for ticket in Ticket.objects.filter(subscriber=owner)],
        list(AlertRule.objects.filter(line__owner=owner).values()),
    ]


@pytest.fixture
def owned(claro):
    """A subscriber with a line, a card renewal waiting for its payment, and a ticket; and the ids."""
    owner = UserFactory(email="owner@example.com")
    line = line_add(owner=owner, msisdn="+51 912 345 678", carrier=claro)
    order = order_create(
        payer=owner, line=line, plan=claro.plans.get(code="max-10"), payment_method="sandbox_card"
    )
    ticket = ticket_open(subscriber=owner, category="other", subject="help", message="please", line=line)
    ids = {
        "line_id": line.pk,
        "order_id": order.pk,
        "payment_id": order.payment_id,
        "ticket_id": ticket.pk,
        "plan_id": order.plan_id,
    }
    return owner, ids


def test_no_api_operation_reaches_another_persons_objects(owned) -> None:
    owner, ids = owned
    owner_api = ApiClient(api_token_issue(user=owner)[1])
    intruder_api = ApiClient(api_token_issue(user=UserFactory(email="intruder@example.com"))[1])
    before = _state(owner)

    answers = {}
    for template, operations in ninja_api.get_openapi_schema()["paths"].items():
        names = set(PARAMETER.findall(template))
        if not names or names & NOT_A_SUBSCRIBERS:
            continue
        path = PARAMETER.sub(lambda match: str(ids[match[1]]), template)
        for method in operations:
            body = BODIES.get((method, template))
            if (method, template) == ("put", "/api/v1/lines/{line_id}/auto-renew"):
                body = {"enabled": True, "plan_id": ids["plan_id"], "days_before": 3}
            elif method == "put":
                body = owner_api.get(path).json()  # what the owner has: a body that passes validation
            data = "" if body is None else json.dumps(body)
            response = intruder_api.generic(method.upper(), path, data, "application/json")
            answers[(method, template)] = response.status_code

    assert len(answers) == 23
    assert {operation: status for operation, status in answers.items() if status != 404} == {}
    assert _state(owner) == before


# Portal routes that take a subscriber's object. The payment pages (the sandbox's checkout, the
# status page) take the payment's unguessable public id as the capability, as a real PSP's hosted
# page does: whoever holds the link pays or sees where it stands. The other ids are a role's (store
# shifts and receipts, reseller batches, back-office tickets and actions: tests per role).
PORTAL_OWNED = {"line_id", "order_id", "ticket_id"}


def test_no_portal_page_reaches_another_persons_objects(owned) -> None:
    owner, ids = owned
    intruder = Client()
    intruder.force_login(UserFactory(email="intruder@example.com"))
    form = {"nickname": "mine now", "message": "mine now", "password": "x", "enabled": "on"}
    before = _state(owner)

    answers = {}
    for route in portal_routes():
        names = set(route_parameters(route))
        if not names & PORTAL_OWNED or route.startswith("backoffice/"):
            continue
        url = route_url(route, lambda _converter, name: ids[name])
        answers[route] = (intruder.get(url).status_code, intruder.post(url, form).status_code)

    assert len(answers) == 15
    # 405 where the page takes only the other method: it never looked at the id
    refused = {(404, 404), (404, 405), (405, 404)}
    assert {route: statuses for route, statuses in answers.items() if statuses not in refused} == {}
    assert _state(owner) == before
