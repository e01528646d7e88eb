"""The API docs page in a real browser: Swagger UI renders offline, and the CSP blocks nothing."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_every_route_without_csp_violations(live_server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        problems: list[str] = []
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("requestfailed", lambda request: problems.append(f"failed {request.url}"))
        external: list[str] = []
        page.on(
            "request", lambda request: request.url.startswith(live_server.url) or external.append(request.url)
        )

        page.goto(f"{live_server.url}/api/v1/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=15_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        browser.close()

    assert "/api/v1/lines" in paths
    assert "/api/v1/auth/token" in paths
    assert problems == []
    assert [url for url in external if not url.startswith("data:")] == []
