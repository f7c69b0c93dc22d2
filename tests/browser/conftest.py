"""The real server on a free port, set up through its API, and a real headless Chromium.

Environment:
  STRINGER_BIN        the stringer binary (default: target/debug/stringer)
  STRINGER_CHROMIUM   the browser (default: /usr/bin/chromium, Debian's package)
  STRINGER_SCREENSHOTS  a directory: save the README's screenshots there
"""

import json
import os
import re
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STRINGER_BIN", os.path.join(ROOT, "target", "debug", "stringer"))
CHROMIUM = os.environ.get("STRINGER_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery staple"


class Server:
    """A `stringer serve` on 127.0.0.1:0 with a fresh SQLite directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="stringer-browser-")
        self.out = open(os.path.join(self.dir, "stdout"), "w+")
        self.err = open(os.path.join(self.dir, "stderr"), "w+")
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRINGER_")}
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(self.dir, "db"),
             "--allow-private-webhooks", "--mail-domain", "support.example"],
            stdout=self.out, stderr=self.err, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            self.out.seek(0)
            text = self.out.read()
            m = re.search(r"^listening on (http://127\.0\.0\.1:\d+)", text, re.M)
            if m:
                self.url = m.group(1)
                self.token = re.search(r"token (stg_[A-Za-z0-9_-]+)", text).group(1)
                return
            assert self.proc.poll() is None, "the server exited: " + open(self.err.name).read()
            time.sleep(0.1)
        raise AssertionError("the server did not start")

    def api(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + (token or self.token))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def mail(self, recipient, raw):
        """Hands a raw message in at the HTTP door, as an inbound-mail service would."""
        query = urllib.parse.urlencode({"recipient": recipient})
        req = urllib.request.Request(f"{self.url}/api/v1/mail/inbound?{query}", data=raw.encode(), method="POST")
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Content-Type", "message/rfc822")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def desk():
    """A fresh server with two orgs (acme: Enterprise dedicated; bolt: Pro shared), staff and
    customers, all with the password PASSWORD."""
    s = Server()
    staff = {}
    for key, name, role in [("nico", "Nico Engineer", "engineer"), ("tina", "Tina TAM", "tam"),
                            ("tom", "Tom TAM", "tam"), ("ada", "Ada Admin", "admin")]:
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
    """One browser context (its own cookies) that may only reach 127.0.0.1."""

    def __init__(self, browser, server):
        self.server = server
        self.context = browser.new_context(base_url=server.url)
        self.left = []

        def guard(route):
            if urlparse(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                self.left.append(route.request.url)
                route.abort()

        self.context.route("**/*", guard)
        self.page = self.context.new_page()

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
        self.context.close()


@pytest.fixture
def people(browser, server):
    made = []

    def person(email=None):
        p = Person(browser, server)
        made.append(p)
        return p.sign_in(email) if email else p

    yield person
    for p in made:
        p.close()
