"""Onboarding in the pages, with no API call by the people: an admin creates an org and
chooses its tier, deployment, TAM and named engineers by name, then edits them; an org admin
invites a colleague from the portal, who sets their own password through the mailed link;
and anyone signed in changes their own password (the current one required)."""

import re
import socketserver
import threading

import pytest

from conftest import PASSWORD, Server, axe_violations, crowd
from stringer_server import until


class SmtpReceiver:
    """A local SMTP server (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) on 127.0.0.1
    keeping (recipients, message) of every message it accepts."""

    def __init__(self):
        self.mails = []
        mails = self.mails

        class Conversation(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 receiver ESMTP\r\n")
                to = []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    upper = line.strip().upper()
                    if upper.startswith(b"EHLO"):
                        reply = b"250-receiver\r\n250 8BITMIME\r\n"
                    elif upper.startswith(b"RCPT TO:"):
                        to.append(line.strip()[8:].decode().strip(" <>"))
                        reply = b"250 OK\r\n"
                    elif upper == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        data = []
                        while (part := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                            data.append(part.decode("utf-8", "replace"))
                        mails.append((to, "".join(data)))
                        to = []
                        reply = b"250 queued\r\n"
                    elif upper == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    elif upper.startswith((b"HELO", b"MAIL FROM:", b"RSET", b"NOOP")):
                        reply = b"250 OK\r\n"
                    else:
                        reply = b"502 not implemented\r\n"
                    self.wfile.write(reply)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Conversation)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, address):
        """The messages sent to `address`, their soft line breaks undone."""
        return [m.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
                for (to, m) in self.mails if address in to]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def mailing_desk(smtp):
    """A fresh server that sends mail through `smtp`, with staff (an admin, two engineers, a
    TAM, a support lead), the org acme (Enterprise, dedicated) and its org admin and member."""
    s = Server(["--smtp-url", f"smtp://127.0.0.1:{smtp.port}", "--mail-from", "support@vendor.example",
                "--mail-domain", "support.example"])
    s.staff = {}
    for key, name, role in [("ada", "Ada Admin", "admin"), ("nico", "Nico Engineer", "engineer"),
                            ("erin", "Erin Engineer", "engineer"), ("tina", "Tina TAM", "tam"),
                            ("lena", "Lena Lead", "support_lead")]:
        s.staff[key] = s.api("POST", "/api/v1/users", {
            "email": f"{key}@vendor.example", "name": name, "role": role, "password": PASSWORD})
    s.api("POST", "/api/v1/orgs", {"slug": "acme", "name": "Acme Corp", "tier": "enterprise",
                                  "deployment": "dedicated", "tam": s.staff["tina"]["id"]})
    s.customers = {}
    for key, role in [("alice", "org_admin"), ("carol", "member")]:
        s.customers[key] = s.api("POST", "/api/v1/users", {
            "email": f"{key}@acme.example", "name": f"{key.title()} of acme", "role": role, "org": "acme",
            "password": PASSWORD})
    return s


@pytest.fixture(scope="module")
def smtp():
    receiver = SmtpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def desk(smtp):
    s = mailing_desk(smtp)
    yield s
    s.stop()


@pytest.fixture
def people(browser, desk):
    with crowd(browser, desk) as person:
        yield person


def selected_labels(page, selector):
    return page.eval_on_selector(selector, "s => [...s.selectedOptions].map(o => o.textContent.trim())")


def test_an_admin_creates_an_org_and_chooses_its_people_by_name(desk, people):
    page = people("ada@vendor.example").page
    page.goto("/admin/orgs")
    assert axe_violations(page) == []
    tiers = page.eval_on_selector("#org-tier", "s => [...s.options].map(o => o.textContent.trim())")
    assert tiers == ["Pro", "Enterprise"], "the contract's tiers by their display names"
    staff_ids = {u["id"] for u in desk.staff.values()}
    for select in ["#org-tam", "#org-named"]:
        labels = page.eval_on_selector(select, "s => [...s.options].map(o => o.textContent)")
        assert not any(i in label for label in labels for i in staff_ids), "names, never ids"

    # A wrong slug is refused beside its field, and what was typed stays.
    page.fill("#org-slug", "Zen Systems!")
    page.fill("#org-name", "Zen Systems")
    page.select_option("#org-tier", label="Enterprise")
    page.select_option("#org-deployment", label="Dedicated")
    page.select_option("#org-tam", label="Tina TAM (Technical account manager)")
    page.select_option("#org-named", label=["Nico Engineer (Engineer)", "Erin Engineer (Engineer)"])
    page.click("text=Add the org")
    page.wait_for_load_state()
    assert page.locator("#org-slug").get_attribute("aria-invalid") == "true"
    assert "lowercase" in page.locator("#org-slug-error").inner_text()
    assert page.locator("#org-slug").get_attribute("aria-describedby") == "org-slug-error"
    assert page.locator("#org-name").input_value() == "Zen Systems"
    assert selected_labels(page, "#org-tier") == ["Enterprise"]
    assert selected_labels(page, "#org-named") == ["Erin Engineer (Engineer)", "Nico Engineer (Engineer)"]
    assert axe_violations(page) == []

    page.fill("#org-slug", "zen")
    page.click("text=Add the org")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/orgs/zen?done=created"), page.url
    assert page.locator(".flash").inner_text() == "Zen Systems was created."
    org = desk.api("GET", "/api/v1/orgs/zen")
    assert (org["tier"], org["deployment"], org["tam"]) == ("enterprise", "dedicated", desk.staff["tina"]["id"])
    assert sorted(org["named_engineers"]) == sorted([desk.staff["nico"]["id"], desk.staff["erin"]["id"]])
    assert selected_labels(page, "#tier") == ["Enterprise"]
    assert selected_labels(page, "#named_engineers") == ["Erin Engineer (Engineer)", "Nico Engineer (Engineer)"]
    assert axe_violations(page) == []

    # Later: Erin leaves the org's named engineers, and it moves to Pro.
    page.select_option("#named_engineers", label=["Nico Engineer (Engineer)"])
    page.select_option("#tier", label="Pro")
    page.click("text=Save")
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "Saved."
    org = desk.api("GET", "/api/v1/orgs/zen")
    assert org["named_engineers"] == [desk.staff["nico"]["id"]] and org["tier"] == "pro"
    page.goto("/admin/orgs")
    assert "Zen Systems" in page.locator("table").inner_text()
    assert "Pro" in page.locator("tr", has_text="Zen Systems").inner_text()


def test_an_org_admin_invites_a_colleague_who_sets_their_own_password(desk, smtp, people):
    alice = people("alice@acme.example")
    page = alice.page
    page.goto("/portal")
    page.click("nav >> text=People")
    page.wait_for_load_state()
    assert page.url.endswith("/portal/people")
    assert "Carol of acme" in page.locator("table").inner_text()
    assert axe_violations(page) == []
    page.fill("#invite-email", "not an address")
    page.fill("#invite-name", "Dora of acme")
    page.click("text=Send the invitation")
    page.wait_for_load_state()
    assert page.locator("#invite-email").get_attribute("aria-invalid") == "true"
    assert page.locator("#invite-name").input_value() == "Dora of acme"
    assert axe_violations(page) == []
    page.fill("#invite-email", "dora@acme.example")
    page.select_option("#invite-role", label="Member")
    page.click("text=Send the invitation")
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "An invitation was mailed to dora@acme.example."
    assert axe_violations(page) == []

    mail = until("the invitation mail", lambda: smtp.to("dora@acme.example"))[0]
    link = re.search(r"https?://\S+/password/[A-Za-z0-9._-]+", mail).group(0)
    dora = people()
    dora.page.goto("/password/" + link.split("/password/", 1)[1])
    dora.page.fill("#password", "dora's own long password")
    dora.page.fill("#again", "dora's own long password")
    dora.page.click("button[type=submit]")
    dora.page.wait_for_load_state()
    assert "/portal" in dora.page.url
    member = people().sign_in("dora@acme.example", "dora's own long password")
    assert "/portal" in member.page.url

    # A member has no people page, and no link to one.
    carol = people("carol@acme.example").page
    assert carol.locator("nav >> text=People").count() == 0
    response = carol.goto("/portal/people")
    assert response.status == 403
    assert axe_violations(carol) == []


@pytest.mark.parametrize("who", ["ada@vendor.example", "alice@acme.example", "carol@acme.example"])
def test_anyone_changes_their_own_password(desk, people, who):
    page = people(who).page
    page.goto("/settings")
    page.click("text=Change your password")
    page.wait_for_load_state()
    assert page.url.endswith("/settings/password")
    assert axe_violations(page) == []
    new = f"a new password for {who}"

    page.fill("#current", "not my password at all")
    page.fill("#password", new)
    page.fill("#again", new)
    page.click("button:has-text('Change the password')")
    page.wait_for_load_state()
    assert page.locator("#current").get_attribute("aria-invalid") == "true"
    assert "current password" in page.locator("#current-error").inner_text()
    assert axe_violations(page) == []

    page.fill("#current", PASSWORD)
    page.fill("#password", new)
    page.fill("#again", new + " typo")
    page.click("button:has-text('Change the password')")
    page.wait_for_load_state()
    assert page.locator("#again").get_attribute("aria-invalid") == "true"

    page.fill("#current", PASSWORD)
    page.fill("#password", new)
    page.fill("#again", new)
    page.click("button:has-text('Change the password')")
    page.wait_for_load_state()
    assert page.url.endswith("/settings/password?done=changed"), page.url
    assert page.locator(".flash").inner_text() == "Your password was changed."
    assert axe_violations(page) == []

    people().sign_in(who, new)
    old = people()
    old.page.goto("/signin")
    old.page.fill("#email", who)
    old.page.fill("#password", PASSWORD)
    old.page.click("button[type=submit]")
    old.page.wait_for_load_state()
    assert "/signin" in old.page.url, "the old password no longer works"
