"""Every page a person can open, in a real browser at phone width (390 × 844), for a visitor and each
demo role, in Chinese and Spanish (and English for the subscriber): it opens, nothing sticks out
sideways, no script fails, the Content-Security-Policy blocks nothing, every file it loads is there,
and axe-core (the accessibility rules of WCAG 2.1 AA: contrast, names, labels, keyboard reach) finds
nothing, checked once per role.

The pages come from the URLconf (tests/urlwalk.py), with the ids of rows that exist in the demo data
plus what a week of use leaves behind (a card renewal waiting for its payment, a store sale, a ticket,
a support credit waiting for approval). A page is the role's when the Django test client gets it as a
200 HTML page for that role; the key pages of each role must be among them."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from tests.urlwalk import portal_routes, route_parameters, route_url
from vigencia.accounts.models import User
from vigencia.catalog.models import Carrier, Plan
from vigencia.core.money import Money
from vigencia.lines.models import Line
from vigencia.orders.models import RenewalOrder
from vigencia.orders.services import order_create
from vigencia.payments.models import PaymentIntent
from vigencia.stores.iddocs import IdDocument
from vigencia.stores.models import Receipt, Shift
from vigencia.stores.services import SalePayment, pos_sale_create, shift_open
from vigencia.support.models import SupportAction, Ticket
from vigencia.support.services import support_action_request, ticket_open
from vigencia.vouchers.models import VoucherBatch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# VIGENCIA_SCREENSHOTS=/some/folder keeps a full-page screenshot of every page opened, to look at.
SCREENSHOTS = os.environ.get("VIGENCIA_SCREENSHOTS", "")
PHONE_LOCALES = {"zh-hans": "zh-CN", "es": "es-PE", "en": "en-US"}
VISITOR = "visitor"
# Who opens the pages, in which languages: every role in Chinese and Spanish, one in English too.
ROLES = {
    VISITOR: ("zh-hans", "es"),
    "ana@demo.vigencia.pe": ("zh-hans", "es", "en"),
    "support@demo.vigencia.pe": ("zh-hans", "es"),
    "agent@demo.vigencia.pe": ("zh-hans", "es"),
    "reseller@demo.vigencia.pe": ("zh-hans", "es"),
    "operator@demo.vigencia.pe": ("zh-hans", "es"),
}

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
}

# Names what sticks out past the right edge (outside any element that scrolls or clips it): the
# outermost boxes that are wider than the screen, else the innermost boxes whose text runs out of them.
OVERFLOW_SCRIPT = """() => {
  const width = window.innerWidth + 0.5;
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth <= window.innerWidth) return null;
  const clipped = (element) => {
    for (let parent = element.parentElement; parent !== document.body; parent = parent.parentElement) {
      if (getComputedStyle(parent).overflowX !== "visible") return true;
    }
    return false;
  };
  const name = (element, right) =>
    element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
    [...element.classList].map((c) => "." + c).join("") + " (" + Math.round(right) + "px)";
  const elements = [...document.body.querySelectorAll("*")].filter((element) => !clipped(element));
  const right = (element) => element.getBoundingClientRect().right;
  const boxes = elements.filter((element) => right(element) > width && right(element.parentElement) <= width);
  const contentRight = (element) => element.getBoundingClientRect().left + element.scrollWidth;
  const texts = elements.filter((element) =>
    contentRight(element) > width && ![...element.children].some((child) => contentRight(child) > width));
  const culprits = boxes.length
    ? boxes.map((element) => name(element, right(element)))
    : texts.map((element) => name(element, contentRight(element)));
  return "wider than the screen (" + scrollWidth + "px): " + culprits.slice(0, 3).join(", ");
}"""


@dataclass
class PageProblems:
    """What went wrong on the page that is open now, as readable lines."""

    origin: str
    where: str = ""
    found: list[str] = field(default_factory=list)

    def add(self, problem: str) -> None:
        self.found.append(f"{self.where}: {problem}")

    def same_origin(self, url: str) -> bool:
        return url.startswith(self.origin + "/")

    def on_console(self, message: Any) -> None:
        # Other sites (the store map's tiles) are out of reach here; pages must work without them.
        if message.type == "error" and self.same_origin(message.location.get("url") or self.origin + "/"):
            self.add(f"console error: {message.text}")

    def on_response(self, response: Any) -> None:
        if (
            response.status >= 400
            and response.request.resource_type != "document"
            and self.same_origin(response.url)
        ):
            self.add(f"{response.status} for {urlsplit(response.url).path}")

    def on_request_failed(self, request: Any) -> None:
        # A poll still running when the sweep moves on is aborted by the browser; that is no fault.
        if self.same_origin(request.url) and request.failure != "net::ERR_ABORTED":
            self.add(f"{request.failure} for {urlsplit(request.url).path}")


@pytest.fixture
def lived_in(seeded, run_tasks) -> None:
    """The demo data plus a week of use: Ana renews by card and has not paid yet, renews at the store,
    and asks support about it; support offers a credit above its limit, which waits for the operator;
    the store agent's shift is open."""
    ana = User.objects.get(email="ana@demo.vigencia.pe")
    agent = User.objects.get(email="agent@demo.vigencia.pe")
    line = Line.objects.filter(owner=ana, carrier__code="claro-pe").get()
    plan = Plan.objects.get(carrier=line.carrier, code="max-10")
    order_create(payer=ana, line=line, plan=plan, payment_method="sandbox_card")
    order_create(payer=ana, line=line, plan=plan, payment_method="sandbox_paypal")
    shift_open(agent=agent, float_minor=10_000)
    receipt = pos_sale_create(
        agent=agent,
        msisdn=line.msisdn,
        carrier_code="claro-pe",
        plan_id=plan.pk,
        id_document=IdDocument(type="dni", number="10117410"),
        payment=SalePayment(method="cash", tendered_minor=2_000),
    )
    run_tasks()
    ticket = ticket_open(
        subscriber=ana,
        category="renewal_not_received",
        subject="No llegó",
        message="Sin saldo",
        receipt=receipt,
    )
    support_action_request(
        ticket=ticket,
        agent=User.objects.get(email="support@demo.vigencia.pe"),
        kind="goodwill_credit",
        reason="Disculpas",
        amount=Money(settings.VIGENCIA_SUPPORT_APPROVAL_LIMIT_MINOR + 100, "PEN"),
    )


def _key_pages() -> dict[str, set[str]]:
    """Pages each role must be able to open (the walk finds more)."""
    line = Line.objects.get(owner__email="ana@demo.vigencia.pe", carrier__code="claro-pe")
    order = RenewalOrder.objects.filter(line=line).order_by("pk")[0]
    ticket = Ticket.objects.get()
    return {
        VISITOR: {"/", "/plans/", "/plans/compare/", "/stores/", "/accounts/login/", "/accounts/signup/"},
        "ana@demo.vigencia.pe": {
            "/lines/",
            f"/lines/{line.pk}/",
            f"/usage/lines/{line.pk}/statement/",
            f"/orders/{order.pk}/",
            "/wallet/",
            f"/support/{ticket.pk}/",
            "/vouchers/redeem/",
        },
        "support@demo.vigencia.pe": {"/backoffice/tickets/", f"/backoffice/tickets/{ticket.pk}/"},
        "agent@demo.vigencia.pe": {"/stores/pos/", f"/stores/pos/receipts/{Receipt.objects.get().number}/"},
        "reseller@demo.vigencia.pe": {"/vouchers/reseller/"},
        "operator@demo.vigencia.pe": {
            "/backoffice/dashboard/",
            "/backoffice/tickets/",
            "/vouchers/operator/",
        },
    }


def _existing(name: str) -> list[object]:
    """Values of a URL parameter, by its name in the URLconf, that name rows in the database."""
    values: dict[str, Any] = {
        "line_id": Line.objects.order_by("pk").values_list("pk", flat=True),
        # One plan of each carrier is enough to find the renewal page of each line.
        "plan_id": [Plan.objects.filter(carrier=each).order_by("pk")[0].pk for each in Carrier.objects.all()],
        "order_id": RenewalOrder.objects.order_by("pk").values_list("pk", flat=True),
        "public_id": PaymentIntent.objects.order_by("pk").values_list("public_id", flat=True),
        "ticket_id": Ticket.objects.order_by("pk").values_list("pk", flat=True),
        "action_id": SupportAction.objects.order_by("pk").values_list("pk", flat=True),
        "shift_id": Shift.objects.order_by("pk").values_list("pk", flat=True),
        "number": Receipt.objects.order_by("pk").values_list("number", flat=True),
        "batch_id": VoucherBatch.objects.order_by("pk").values_list("pk", flat=True),
        "code": Carrier.objects.order_by("pk").values_list("code", flat=True),
    }
    return list(values.get(name, []))


def _client(who: str) -> Client:
    client = Client(raise_request_exception=False)
    if who != VISITOR:
        client.force_login(User.objects.get(email=who))
    return client


def _pages_of(who: str, routes: list[str]) -> list[str]:
    """The HTML pages `who` gets as a 200, each route with the first existing ids that answer one."""
    client = _client(who)
    pages = []
    for route in routes:
        names = route_parameters(route)
        for values in itertools.product(*(_existing(name) for name in names)):
            given = dict(zip(names, values, strict=True))
            url = route_url(route, lambda _converter, name, given=given: given[name])
            response = client.get(url)
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                pages.append(url)
                break
    return pages


def _browser_context(chromium, live_server, log_in, who: str, language: str):
    context = chromium.new_context(viewport=PHONE, locale=PHONE_LOCALES[language])
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    if who != VISITOR:
        log_in(context, User.objects.get(email=who))
    context.route(lambda url: not url.startswith(live_server.url + "/"), lambda route: route.abort())
    return context


def test_every_page_opens_cleanly_on_a_phone_in_every_language(
    live_server, chromium, log_in, lived_in
) -> None:
    # given the pages each role can open
    routes = portal_routes()
    pages = {who: _pages_of(who, routes) for who in ROLES}
    problems = PageProblems(origin=live_server.url)
    axe = Axe()
    opened = 0

    # when each role opens each of its pages on a phone, in each of its languages
    for who, languages in ROLES.items():
        for language in languages:
            context = _browser_context(chromium, live_server, log_in, who, language)
            page = context.new_page()
            page.on("console", problems.on_console)
            page.on("pageerror", lambda error: problems.add(f"script error: {error}"))
            page.on("response", problems.on_response)
            page.on("requestfailed", problems.on_request_failed)
            for path in pages[who]:
                problems.where = f"{path} ({who}, {language})"
                response = page.goto(live_server.url + path, wait_until="load")
                opened += 1
                if response is None or response.status >= 400:
                    problems.add(f"answered {response and response.status}")
                    continue
                shown_in = page.evaluate("document.documentElement.lang")
                if shown_in != language:
                    problems.add(f"in {shown_in!r}, not in {language!r}")
                overflow = page.evaluate(OVERFLOW_SCRIPT)
                if overflow:
                    problems.add(overflow)
                if language == languages[0]:
                    for violation in axe.run(page, options=AXE_OPTIONS).response["violations"]:
                        targets = [node["target"] for node in violation["nodes"]][:3]
                        problems.add(f"axe {violation['id']} ({violation['impact']}): {targets}")
                if SCREENSHOTS:
                    name = f"{who.split('@')[0]}-{language}-{path.strip('/').replace('/', '_') or 'home'}.png"
                    page.screenshot(path=os.path.join(SCREENSHOTS, name), full_page=True)
            context.close()

    # then every key page was among them, and no page had a problem
    key_pages = _key_pages()
    assert {who: sorted(key_pages[who] - set(pages[who])) for who in ROLES} == {who: [] for who in ROLES}
    assert opened >= 150
    assert problems.found == [], "\n".join(problems.found)
