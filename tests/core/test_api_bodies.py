"""A JSON body that is not an object ([], "x", null, 1) is a malformed body on every endpoint that
takes one, and changes nothing: ninja read any JSON value into a schema of optional fields."""

import pytest

from tests.conftest import ApiClient
from tests.factories import UserFactory
from vigencia.accounts.services import api_token_issue
from vigencia.config.api import api as ninja_api
from vigencia.usage.models import AlertRule

pytestmark = pytest.mark.django_db

NOT_OBJECTS = ["[]", '"x"', "null", "1", '[{"data_below_mb": 5}]']


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_alerts_sent_as_anything_but_an_object_are_refused_and_kept(api, line, body):
    # given a line with a data alert
    assert api.put_json(f"/api/v1/lines/{line.pk}/alerts", {"data_below_mb": 5}).status_code == 200

    # when something that is not an object is put, patched or posted
    put = api.put(f"/api/v1/lines/{line.pk}/alerts", body, content_type="application/json")
    patch = api.patch(f"/api/v1/lines/{line.pk}/alerts", body, content_type="application/json")

    # then it is refused and the alert stays
    expected = {
        "code": "malformed_body",
        "message": "The request body must be a JSON object.",
        "details": None,
    }
    assert (put.status_code, put.json()) == (400, expected)
    assert (patch.status_code, patch.json()) == (400, expected)
    assert AlertRule.objects.get(line=line).data_below_mb == 5


def _json_body_operations() -> list[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def test_no_endpoint_takes_a_body_that_is_not_an_object():
    # given a superuser's token (past every role check) and every operation with a JSON body
    admin = UserFactory(is_staff=True, is_superuser=True)
    client = ApiClient(api_token_issue(user=admin)[1], HTTP_IDEMPOTENCY_KEY="k")
    operations = _json_body_operations()
    assert len(operations) >= 20

    answers = {}
    for method, path in operations:
        url = path.replace("{", "").replace("}", "")
        for name in ("line_id", "batch_id", "payment_id", "ticket_id", "provider", "id", "store_id"):
            url = url.replace(name, "1" if name != "provider" else "sandbox")
        for body in NOT_OBJECTS:
            response = client.generic(method, url, body, content_type="application/json")
            answers[(method, path, body)] = response.status_code

    # then each is refused before anything happens: never a success, never a server error
    accepted = {key: status for key, status in answers.items() if status < 400 or status >= 500}
    assert accepted == {}
