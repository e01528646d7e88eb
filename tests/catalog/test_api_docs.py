"""The OpenAPI document and the docs page, which must work offline under the project's CSP."""

import pytest

pytestmark = pytest.mark.django_db


def test_docs_page_loads_swagger_from_our_own_static_files(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<script src="/static/ninja/swagger-ui-bundle.js">' in html
    assert '<link type="text/css" rel="stylesheet" href="/static/ninja/swagger-ui.css">' in html
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs", "https://", "http://"):
        assert cdn not in html
    # no inline script the CSP would block: every <script> is either a file or inert JSON data
    assert html.count("<script") == 3
    assert html.count('<script type="application/json" id="swagger-settings">') == 1
    assert '"validatorUrl": null' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_openapi_documents_every_route_and_its_errors(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        ("/api/v1/auth/register", "post"): {"201", "409", "422"},
        ("/api/v1/auth/token", "post"): {"200", "401", "422", "429"},
        ("/api/v1/auth/token", "delete"): {"204", "401"},
        ("/api/v1/carriers", "get"): {"200"},
        ("/api/v1/plans", "get"): {"200", "422"},
        ("/api/v1/lines", "post"): {"201", "401", "409", "422"},
        ("/api/v1/lines", "get"): {"200", "401"},
        ("/api/v1/lines/{line_id}", "get"): {"200", "401", "404"},
        ("/api/v1/lines/{line_id}", "patch"): {"200", "401", "404", "422"},
        ("/api/v1/lines/{line_id}", "delete"): {"204", "401", "404"},
        ("/api/v1/lines/{line_id}/events", "get"): {"200", "401", "404"},
    }
    for (path, method), statuses in expected.items():
        assert set(paths[path][method]["responses"]) == statuses, (path, method)
