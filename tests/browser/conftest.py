"""The real server on a free port, set up through its API, and a real headless Chromium.

Environment:
  STRINGER_BIN        the stringer binary (default: target/debug/stringer)
  STRINGER_CHROMIUM   the browser (default: /usr/bin/chromium, Debian's package)
  STRINGER_SCREENSHOTS  a directory: save the README's screenshots there
"""

import contextlib
import os
import sys
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pysupport"))
from stringer_server import ROOT, Server  # noqa: E402,F401 (ROOT: for the tests)

CHROMIUM = os.environ.get("STRINGER_CHROMIUM", "/usr/bin/chromium")
AXE = os.path.join(ROOT, "tests", "browser", "vendor", "axe-4.14.1.min.js")
PASSWORD = "correct horse battery staple"


def desk():
    """A fresh server with two orgs (acme: Enterprise dedicated; bolt: Pro shared), staff and
    customers, all with the password PASSWORD."""
    s = Server(["--allow-private-webhooks", "--mail-domain", "support.example", "--mail-trusted-relay", "mx.test"])
    staff = {}
    for key, name, role in [("nico", "Nico Engineer", "engineer"), ("tina", "Tina TAM", "tam"),
                            ("tom", "Tom TAM", "tam"), ("ada", "Ada Admin", "admin"),
                            ("lena", "Lena Lead", "support_lead")]:
        staff[key] = s.api("POST", "/api/v1/users", {
            "email": f"{key}@vendor.example", "name": name, "role": role, "password": PASSWORD})
    # Nico is on call on the platform-wide schedule; his one contact method is a webhook to a
    # closed local port, so his pages are delivered... and fail, with the reason recorded.
    rotation = {"name": "platform", "time_zone": "UTC", "members": [staff["nico"]["id"]], "shift_days": 7,
                "handoff": "09:00", "start": "2026-01-05"}
    s.api("POST", "/api/v1/schedules", {"name": "Platform", "layers": [{"rotation": rotation}]})
    s.api("POST", f"/api/v1/users/{staff['nico']['id']}/contact-methods",
          {"kind": "webhook", "address": "http://127.0.0.1:9/pages"})
    s.api("POST", "/api/v1/orgs", {"slug": "acme", "name": "Acme Corp", "tier": "enterprise",
                                  "deployment": "dedicated", "tam": staff["tina"]["id"]})
    s.api("POST", "/api/v1/orgs", {"slug": "bolt", "name": "Bolt Labs", "tier": "pro", "deployment": "shared"})
    customers = {}
    for key, org, role in [("alice", "acme", "org_admin"), ("bob", "bolt", "member"), ("carol", "acme", "member")]:
        customers[key] = s.api("POST", "/api/v1/users", {
            "email": f"{key}@{org}.example", "name": f"{key.title()} of {org}", "role": role, "org": org,
            "password": PASSWORD})
    s.staff, s.customers = staff, customers
    return s


@pytest.fixture(scope="session")
def server():
    s = desk()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


class Person:
    """One browser context (its own cookies) that may only reach 127.0.0.1. Every page it
    reaches is held to 0 axe-core violations: on close, each address its page was navigated
    to is visited again in the same session and checked (POST results are reached by their
    303's GET, so they are among them)."""

    def __init__(self, browser, server):
        self.server = server
        self.context = browser.new_context(base_url=server.url)
        self.left = []
        self.visited = []

        def guard(route):
            if urlparse(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                self.left.append(route.request.url)
                route.abort()

        self.context.route("**/*", guard)
        self.page = self.context.new_page()

        def navigated(frame):
            if frame == self.page.main_frame and frame.url.startswith(server.url) and frame.url not in self.visited:
                self.visited.append(frame.url)

        self.page.on("framenavigated", navigated)

    def sign_in(self, email, password=PASSWORD):
        self.page.goto("/signin")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()
        assert "/signin" not in self.page.url, self.page.content()
        return self

    def close(self):
        assert self.left == [], f"requests tried to leave 127.0.0.1: {self.left}"
        found = {}
        if self.server.proc.poll() is None:
            for url in list(self.visited):
                response = self.page.goto(url)
                if response is None or not response.headers.get("content-type", "").startswith("text/html"):
                    continue
                violations = axe_violations(self.page)
                if violations:
                    found[urlparse(url).path] = violations
        self.context.close()
        assert found == {}, f"axe-core violations on pages this person reached: {found}"


@contextlib.contextmanager
def crowd(browser, server):
    """A maker of people on `server` (signed in when given an address), each closed (and
    checked) at the end."""
    made = []

    def person(email=None):
        p = Person(browser, server)
        made.append(p)
        return p.sign_in(email) if email else p

    try:
        yield person
    finally:
        for p in made:
            p.close()


@pytest.fixture
def people(browser, server):
    with crowd(browser, server) as person:
        yield person


def axe_violations(page):
    """Every axe-core violation on the page as it stands, as (rule, impact, help) triples.
    axe-core is loaded as a script of the page's own origin (answered here, never by the
    server): the pages' Content-Security-Policy runs no inline script, and bypassing it would
    hide a page that breaks under it."""
    url = "{0.scheme}://{0.netloc}/__axe-core.js".format(urlparse(page.url))
    page.route(url, lambda route: route.fulfill(path=AXE, content_type="text/javascript"))
    try:
        page.add_script_tag(url=url)
    finally:
        page.unroute(url)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], v["help"]) for v in result["violations"]]
