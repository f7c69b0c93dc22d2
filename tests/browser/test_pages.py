"""The pages in a real browser against the real server: the issue's walk-through (customer,
engineer, admin), tenant isolation in HTML, CSRF, escaping, no request leaving 127.0.0.1
(every Person asserts it on close), and an axe-core accessibility check."""

import json
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import PASSWORD, Person, Server, axe_violations, desk

XSS = "<script>window.__xss = 1</script> Checkout down"
# The README's pictures: the quarter before today's, and the demo's schedule.
_today = time.gmtime()
LAST_QUARTER = (f"{_today.tm_year}-Q{(_today.tm_mon - 1) // 3}" if _today.tm_mon > 3 else f"{_today.tm_year - 1}-Q4")
SCHEDULE_PAGE = "/console/schedules"


def test_customer_engineer_and_admin_work_a_ticket(server, people):
    # An older, less urgent ticket: the new P1 must still come first in the queue.
    server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P4", "subject": "Question about exports",
                                          "description": "How do exports work?"})

    # The customer opens a P1 whose subject holds markup, replies, and pages on-call.
    alice = people("alice@acme.example")
    page = alice.page
    page.goto("/portal/new")
    assert page.locator("text=P1 — ").count() == 1, "the chooser shows the contract's definitions"
    assert "For Acme Corp" in page.content(), "and this org's targets"
    page.check("#sev-P1")
    page.fill("#subject", XSS)
    page.fill("#description", "EU checkout answers 502 since 09:00.")
    page.click("text=Open the ticket")
    page.wait_for_load_state()
    key = page.locator("h1 .key").inner_text()
    assert key.startswith("ACME-"), key
    assert XSS in page.locator("h1").inner_text(), "the subject is shown as text"
    assert page.evaluate("window.__xss") is None, "and not run"
    page.fill("#reply", "Any update? Our EU shop is down.")
    page.click("text=Send reply")
    page.wait_for_load_state()
    assert "Any update? Our EU shop is down." in page.content()
    page.set_input_files("#file", files=[{"name": "checkout-errors.log", "mimeType": "text/plain",
                                          "buffer": b"09:00:01 502 Bad Gateway /checkout\n"}])
    page.click("button:has-text('Attach')")
    page.wait_for_load_state()
    link = page.locator(".files a", has_text="checkout-errors.log")
    assert link.count() == 1
    download = page.request.get(link.get_attribute("href"))
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.body() == b"09:00:01 502 Bad Gateway /checkout\n"
    page.click("text=Page on-call now")
    page.wait_for_load_state()
    flash = page.locator(".flash").inner_text()
    assert flash.startswith("Paged the on-call engineer"), flash  # Enterprise: any time

    # The engineer was paged (on call on the platform schedule): the page is among his pages,
    # and the on-call page names him.
    nico = people("nico@vendor.example")
    page = nico.page
    page.goto("/console/oncall")
    assert "Nico Engineer" in page.locator("table").first.inner_text()
    # The engine turns pages into deliveries within its tick: reload until they are there.
    deadline = time.time() + 20
    while True:
        page.goto("/console/pages")
        if page.locator(f"button[aria-label='Acknowledge {key}']").count() == 2 or time.time() > deadline:
            break
        page.wait_for_timeout(200)
    assert page.locator(f"button[aria-label='Acknowledge {key}']").count() == 2, "the new-P1 page and the customer's"
    token = server.api("POST", "/api/v1/login", {"email": "nico@vendor.example", "password": PASSWORD})["token"]
    api_pages = server.api("GET", "/api/v1/me/pages", token=token)["items"]
    assert [p["key"] for p in api_pages].count(key) == 2, "the API lists the same pages"

    # He finds it at the top of the queue, takes it, answers, notes, acknowledges, resolves.
    page.goto("/console")
    first = page.locator("#queue-rows tr").first
    assert first.locator("td").first.inner_text() == key
    first.locator("a").click()
    page.wait_for_load_state()
    page.click("text=Take it")
    page.wait_for_load_state()
    assert "Nico Engineer" in page.locator(".facts").inner_text()
    page.fill("#reply", "We are on it: the EU load balancer is being replaced.")
    page.click("text=Send reply")
    page.wait_for_load_state()
    page.fill("#note", "Root cause suspected in lb-eu-3; keep this between us.")
    page.click("text=Add internal note")
    page.wait_for_load_state()
    assert page.locator(".comment.internal").count() == 1, "the note is set apart"
    page.click("button:has-text('Acknowledge')")
    page.wait_for_load_state()
    timeline = page.locator(".timeline").inner_text()
    assert "Acknowledged by Nico Engineer" in timeline
    assert "Paged Nico Engineer (on-call engineer)" in timeline, timeline
    assert "webhook" in page.locator("table").last.inner_text(), "the delivery, by method"
    page.click("button:has-text('Resolve')")
    page.wait_for_load_state()
    assert "resolved" in page.locator(".facts").inner_text()

    # The customer sees the public reply and never the internal note, in her time zone.
    page = alice.page
    page.goto("/settings")
    page.fill("#time_zone", "Europe/Berlin")
    page.fill("#phone", "not a number")
    page.click("text=Save")
    page.wait_for_load_state()
    assert "E.164" in page.locator(".error").inner_text()
    # A number is hers once the code sent to it by SMS comes back; this server sends no SMS,
    # so it is not in force (a staff admin would set it).
    page.fill("#phone", "+1 (555) 010-0007")
    page.click("text=Save")
    page.wait_for_load_state()
    assert "a staff admin can set it" in page.locator(".error").inner_text()
    page.goto("/settings")
    assert page.locator("#phone").input_value() == "", "no caller ID without its confirmation"
    page.goto(f"/portal/tickets/{key}")
    text = page.content()
    assert "We are on it" in text
    assert "lb-eu-3" not in text and "Internal note" not in text
    assert " CET (" in page.locator(".facts").inner_text() or " CEST (" in page.locator(".facts").inner_text()

    # The admin gives Acme another TAM, and deactivates a customer whose session then stops.
    carol = people("carol@acme.example")
    carol.page.goto("/portal")
    assert "/portal" in carol.page.url
    ada = people("ada@vendor.example")
    page = ada.page
    page.goto("/admin/orgs/acme")
    page.select_option("#tam", server.staff["tom"]["id"])
    page.click("text=Save")
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "Saved."
    assert server.api("GET", "/api/v1/orgs/acme")["tam"] == server.staff["tom"]["id"]
    page.click("text=Draw a new phone PIN")
    page.wait_for_load_state()
    assert re.search(r"New phone PIN: \d{8}\.", page.locator(".flash").inner_text())
    page.goto("/admin/users")
    page.fill("#new-name", "Dan Engineer")
    page.fill("#new-email", "dan@vendor.example")
    page.select_option("#new-role", "engineer")
    page.fill("#new-password", "a long enough password")
    page.click("text=Add the user")
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "Dan Engineer was created."
    dan = [u for u in server.api("GET", "/api/v1/users")["items"] if u["email"] == "dan@vendor.example"][0]
    page.select_option(f"#role-{dan['id']}", "platform_engineer")
    page.click("button[aria-label='Save Dan Engineer']")
    page.wait_for_load_state()
    assert server.api("GET", f"/api/v1/users/{dan['id']}")["role"] == "platform_engineer"
    page.click("button[aria-label='Deactivate Carol of acme']")
    page.wait_for_load_state()
    assert "Carol of acme is deactivated" in page.locator(".flash").inner_text()
    carol.page.goto("/portal")
    assert "/signin" in carol.page.url, "the deactivated user's session stopped"


def test_a_new_p1_appears_in_the_queue_without_reload(server, people):
    nico = people("nico@vendor.example")
    nico.page.goto("/console")
    loads = []
    nico.page.on("load", lambda _: loads.append(1))
    ticket = server.api("POST", "/api/v1/tickets", {"org": "bolt", "severity": "P1", "subject": "Bolt is down",
                                                   "description": "x"})
    # htmx polls the rows every 5 s: wait (up to 15 s) for the new ticket to show.
    nico.page.locator("#queue-rows", has_text=ticket["key"]).wait_for(timeout=15000)
    assert loads == [], "the page was not reloaded"


def test_another_orgs_ticket_answers_404_in_html(server, people):
    acme = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P3", "subject": "Acme only",
                                                 "description": "private"})
    bob = people("bob@bolt.example")
    for path in [f"/portal/tickets/{acme['key']}", f"/portal/tickets/{acme['id']}", "/portal/tickets/ACME-999999"]:
        response = bob.page.goto(path)
        assert response.status == 404, path
        assert response.headers["content-type"].startswith("text/html")
        assert "No such ticket." in bob.page.content()
        assert "Acme only" not in bob.page.content()
    response = bob.page.goto("/console")
    assert response.status == 403, "customers have no console"


def test_the_customer_resolves_and_reopens_their_ticket(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P3", "subject": "Solved it myself",
                                                   "description": "Exports work again."})
    alice = people("alice@acme.example")
    page = alice.page
    page.goto(f"/portal/tickets/{ticket['key']}")
    before = page.content()
    page.click("text=Mark as resolved")
    page.wait_for_load_state()
    assert page.url.endswith(f"/portal/tickets/{ticket['key']}"), "back on the ticket's page, not an error"
    assert server.api("GET", f"/api/v1/tickets/{ticket['id']}")["status"] == "resolved"
    assert page.locator("button", has_text="Reopen").count() == 1, "a resolved ticket can be reopened"
    page.click("button:has-text('Reopen')")
    page.wait_for_load_state()
    assert server.api("GET", f"/api/v1/tickets/{ticket['id']}")["status"] != "resolved"
    # Resolved again, a reply reopens it, as a reply by mail does.
    page.click("text=Mark as resolved")
    page.wait_for_load_state()
    page.fill("#reply", "It broke again.")
    page.click("text=Send reply")
    page.wait_for_load_state()
    assert server.api("GET", f"/api/v1/tickets/{ticket['id']}")["status"] != "resolved"
    assert "It broke again." in page.content()
    assert "Solved it myself" in before


def test_a_form_without_the_csrf_token_is_refused(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P3", "subject": "CSRF target",
                                                   "description": "x"})
    alice = people("alice@acme.example")
    response = alice.page.request.post(f"/portal/tickets/{ticket['key']}/reply", form={"body": "forged"})
    assert response.status == 403
    response = alice.page.request.post(f"/portal/tickets/{ticket['key']}/reply",
                                       form={"body": "forged", "csrf": "not-the-token"})
    assert response.status == 403
    comments = server.api("GET", f"/api/v1/tickets/{ticket['id']}/comments")["items"]
    assert comments == [], "nothing was written"


def test_anyone_can_write_to_the_vendor_and_staff_answer(server, people):
    prospect = people()
    page = prospect.page
    page.goto("/contact")
    page.fill("#name", "Pia Prospect")
    page.fill("#email", "pia@prospect.example")
    page.fill("#company", "Prospect GmbH")
    page.fill("#body", "Do you support SAML single sign-on?")
    # The form refuses posts sooner than 3 s after it was served (a bot's pace): wait like a
    # person typing.
    page.wait_for_timeout(3100)
    page.click("text=Send")
    page.wait_for_load_state()
    confirmation = page.locator(".flash").inner_text()
    assert "expect our answer by" in confirmation, page.content()
    lena = people("nico@vendor.example")
    lena.page.goto("/console/inquiries")
    article = lena.page.locator("article", has_text="Pia Prospect (Prospect GmbH)")
    assert article.count() == 1
    article.locator("textarea").fill("Yes: SAML comes with Enterprise.")
    article.locator("button").click()
    lena.page.wait_for_load_state()
    assert "Yes: SAML comes with Enterprise." in lena.page.locator("main").inner_text()
    assert lena.page.locator("article", has_text="Pia Prospect").locator("textarea").count() == 0, "answered"


def test_staff_route_held_mail_and_customers_choose_their_mail(server, people):
    raw = ("Authentication-Results: mx.test; dmarc=pass header.from=elsewhere.example\r\n"
           "From: Sam Stranger <sam@elsewhere.example>\r\nTo: support+acme@support.example\r\n"
           "Subject: Invoice question from a new colleague\r\nMessage-ID: <held1@elsewhere.example>\r\n"
           "\r\nWho do I ask about our invoice?\r\n")
    server.mail("support+acme@support.example", raw)
    nico = people("nico@vendor.example")
    held = nico.page.locator("article", has_text="Invoice question from a new colleague")
    deadline = time.time() + 30
    while held.count() == 0:
        assert time.time() < deadline, nico.page.content()
        nico.page.goto("/console/mail")
    assert "not a user of Acme Corp" in held.inner_text()
    held.locator("select").select_option("acme")
    held.locator("button").click()
    nico.page.wait_for_load_state()
    deadline = time.time() + 30
    while not [t for t in server.api("GET", "/api/v1/tickets?org=acme")["items"]
               if t["subject"] == "Invoice question from a new colleague"]:
        assert time.time() < deadline, "the routed message became no ticket"
        time.sleep(0.05)

    alice = people("alice@acme.example")
    alice.page.goto("/settings")
    replied = alice.page.get_by_label("Support replied")
    assert replied.is_checked(), "every update by default"
    replied.uncheck()
    alice.page.click("text=Save")
    alice.page.wait_for_load_state()
    alice.page.goto("/settings")
    assert not alice.page.get_by_label("Support replied").is_checked()
    assert alice.page.get_by_label("The ticket was resolved").is_checked()


def test_main_pages_have_no_serious_accessibility_violations(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P2", "subject": "Axe check",
                                                   "description": "x"})
    anonymous = people()
    found = {}
    for path in ["/signin", "/contact"]:
        anonymous.page.goto(path)
        found[path] = axe_violations(anonymous.page)
    alice = people("alice@acme.example")
    for path in ["/portal", "/portal/new", "/portal/new?security=true", f"/portal/tickets/{ticket['key']}",
                 "/packet/acme"]:
        alice.page.goto(path)
        found[path] = axe_violations(alice.page)
    ada = people("ada@vendor.example")
    for path in ["/console", f"/console/tickets/{ticket['key']}", "/console/new", "/console/oncall", "/console/pages",
                 "/console/inquiries", "/console/mail", "/settings",
                 "/admin/orgs", "/admin/orgs/acme",
                 "/admin/users", "/admin/contract"]:
        ada.page.goto(path)
        found[path] = axe_violations(ada.page)
    assert {p: v for p, v in found.items() if v} == {}


def test_screenshots_for_the_readme(browser):
    """With STRINGER_SCREENSHOTS=docs/screenshots: the README's pictures, desktop and 390 px,
    of `serve --demo` (its lived-in desk), each page as the role that works it."""
    where = os.environ.get("STRINGER_SCREENSHOTS")
    if not where:
        pytest.skip("STRINGER_SCREENSHOTS is not set")
    server = Server(["--demo", "--smtp-listen", "127.0.0.1:0"])
    os.makedirs(where, exist_ok=True)
    shots = [
        ("portal-ticket", "alice@acme.example", "demo-alice-password", "/portal/tickets/ACME-1"),
        ("console-queue", "nico@stringer.example", "demo-nico-password", "/console"),
        ("schedule-editor", "lena@stringer.example", "demo-lena-password", SCHEDULE_PAGE),
        ("status-page", None, None, "/status"),
        ("quarterly-review", "ada@stringer.example", "demo-ada-password", "/reviews?org=acme&quarter=" + LAST_QUARTER),
    ]
    for name, email, password, path in shots:
        for width, suffix in [(1280, "desktop"), (390, "phone")]:
            person = Person(browser, server)
            person.page.set_viewport_size({"width": width, "height": 900})
            if email:
                person.sign_in(email, password)
            person.page.goto(path)
            if path == SCHEDULE_PAGE:
                person.page.click("main table a >> text=Platform on call")
                person.page.wait_for_load_state()
            assert axe_violations(person.page) == [], (name, suffix)
            person.page.screenshot(path=os.path.join(where, f"{name}-{suffix}.png"), full_page=suffix == "phone")
            person.close()
    server.stop()


def test_the_customer_downloads_their_timeline_and_it_verifies(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P3", "subject": "Audit me",
                                                   "description": "Keep the record."})
    head = server.api("POST", "/api/v1/ledger/heads")
    key = server.api("GET", "/.well-known/stringer-ledger/key")
    page = people("alice@acme.example").page
    page.goto(f"/portal/tickets/{ticket['key']}")
    assert key["fingerprint"] in page.content(), "the page names the key's fingerprint"
    with page.expect_download() as download:
        page.click("text=Verify this timeline")
    path = download.value.path()
    with open(path) as f:
        bundle = json.load(f)
    assert bundle["format"] == "stringer-ledger-bundle/1"
    assert bundle["ticket"]["key"] == ticket["key"]
    assert bundle["head"]["tree_size"] >= head["tree_size"]
    assert bundle["entries"], "the ticket's entries under the head"
    verifier = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "verify-bundle.py")
    checked = subprocess.run([sys.executable, verifier, str(path), "--key", key["public_key"]],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_welcome_packet_is_the_orgs_own(server, people):
    alice = people("alice@acme.example")
    alice.page.goto("/portal")
    alice.page.click("text=Welcome packet")
    alice.page.wait_for_load_state()
    assert alice.page.locator("h1").inner_text() == "Welcome to Enterprise support, Acme Corp"
    tam = server.api("GET", "/api/v1/orgs/acme")["tam"]
    assert server.api("GET", f"/api/v1/users/{tam}")["name"] in alice.page.content(), "the org's TAM is named"
    assert "/status/acme" in alice.page.content(), "a dedicated org's own status page"
    bob = people("bob@bolt.example")
    assert bob.page.goto("/packet/acme").status == 404, "another org's packet does not exist for them"
    assert bob.page.goto("/packet/bolt").status == 200
    nico = people("nico@vendor.example")
    assert nico.page.goto("/packet/acme?format=md").status == 200
