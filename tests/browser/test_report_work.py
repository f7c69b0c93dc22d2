"""Post-incident reports' work in a real browser: the customer reads a published report whose
timeline is the customer's view of the ticket (nobody named as paged, no delivery methods
or failures, no internal obligations), with the wording staff chose and without the lines
they hid; the author submits what was typed in one go; a reviewer cannot approve a security
report without its root cause and remediation; action items are rows with an owner chosen
by name."""

import pytest

from conftest import PASSWORD, axe_violations, crowd, desk
from stringer_server import until


@pytest.fixture(scope="module")
def server():
    """A desk of this module's own: its sign-ins do not spend the shared desk's budget."""
    s = desk()
    s.tokens = {}
    yield s
    s.stop()


@pytest.fixture
def people(browser, server):
    with crowd(browser, server) as person:
        yield person


def login(server, email):
    if email not in server.tokens:
        body = {"email": email, "password": PASSWORD}
        server.tokens[email] = server.api("POST", "/api/v1/login", body, token="")["token"]
    return server.tokens[email]


def resolved_p1(server, subject, security=False):
    body = {"severity": "P1", "subject": subject, "description": "EU only.", "security": security}
    key = server.api("POST", "/api/v1/tickets", body, token=login(server, "alice@acme.example"))["key"]
    server.api("POST", f"/api/v1/tickets/{key}/acknowledge")
    server.api("POST", f"/api/v1/tickets/{key}/resolve")
    # The page went out and its deliveries fail (Nico's webhook is a closed port).
    until("a failed delivery", lambda: any(
        "failed" in line["what"] for line in server.api("GET", f"/api/v1/tickets/{key}/report")["timeline"]))
    return key


def test_the_customer_reads_the_customer_view_of_the_timeline_as_staff_worded_it(server, people):
    key = resolved_p1(server, "Search answered 500")
    nico = people("nico@vendor.example")
    page = nico.page
    page.goto(f"/console/tickets/{key}/report")
    staff_lines = page.locator("#timeline-internal").inner_text()
    assert "Nico Engineer" in staff_lines, "staff see who was paged"
    assert "failed" in staff_lines, "and the deliveries that failed"
    rows = page.locator("#timeline-edit tbody tr")
    texts = [rows.nth(i).locator("input[type=text]").input_value() for i in range(rows.count())]
    assert not any("Nico" in t or "failed" in t or "report is owed" in t for t in texts), texts
    opened = next(i for i, t in enumerate(texts) if t.startswith("Opened"))
    resolved = next(i for i, t in enumerate(texts) if t.startswith("Resolved"))
    rows.nth(opened).locator("input[type=text]").fill("The incident was reported by Acme")
    rows.nth(resolved).locator("input[type=checkbox]").check()
    page.fill("textarea[name=summary]", "Search answered 500 for an hour.")
    assert axe_violations(page) == []
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert "in review" in page.locator("#report-state").inner_text()
    assert "reworded" in page.locator("#versions").inner_text(), "the edit is in the report's history"
    assert "hid" in page.locator("#versions").inner_text()

    lead = login(server, "lena@vendor.example")
    revision = server.api("GET", f"/api/v1/tickets/{key}/report", token=lead)["revision"]
    server.api("POST", f"/api/v1/tickets/{key}/report/steps", {"step": "approve", "revision": revision}, token=lead)
    revision += 1
    server.api("POST", f"/api/v1/tickets/{key}/report/steps", {"step": "publish", "revision": revision})

    alice = people("alice@acme.example")
    alice.page.goto(f"/reports/{key}")
    shown = alice.page.locator("ol.timeline").inner_text()
    assert "The incident was reported by Acme" in shown
    assert "Resolved" not in shown, "the hidden line stays hidden"
    assert "Paged" in shown, "the customer sees that on-call was paged"
    for secret in ["Nico", "webhook", "failed", "Page to", "report is owed", "Alice of acme", "via"]:
        assert secret not in shown, f"{secret!r} in the customer's timeline: {shown}"
    assert axe_violations(alice.page) == []


def test_the_author_submits_what_was_typed_in_one_go(server, people):
    key = resolved_p1(server, "Billing exports stalled")
    nico = people("nico@vendor.example")
    page = nico.page
    page.goto(f"/console/tickets/{key}/report")
    page.fill("#root_cause", "A stuck queue consumer.")
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert "in review" in page.locator("#report-state").inner_text()
    page.goto(f"/console/tickets/{key}/report")
    assert page.locator("#root_cause").input_value() == "A stuck queue consumer.", "the typed words were saved"
    assert "version 1" in page.locator("#report-state").inner_text()


def test_a_reviewer_cannot_approve_a_security_report_without_root_cause_and_remediation(server, people):
    key = resolved_p1(server, "Token leaked in logs", security=True)
    nico = people("nico@vendor.example")
    nico.page.goto(f"/console/tickets/{key}/report")
    nico.page.click("button[value=submit]")
    nico.page.wait_for_load_state()
    assert "in review" in nico.page.locator("#report-state").inner_text()

    lena = people("lena@vendor.example")
    page = lena.page
    page.goto(f"/console/tickets/{key}/report")
    page.fill("#root_cause", "A debug log line printed the token.")
    page.click("button[value=approve]")
    page.wait_for_load_state()
    assert "in review" in page.locator("#report-state").inner_text(), "not approved"
    assert page.locator("#remediation").get_attribute("aria-invalid") == "true"
    assert page.locator("#remediation").get_attribute("aria-describedby") == "remediation-error"
    assert "root cause and remediation" in page.locator("#remediation-error").inner_text()
    assert page.locator("#root_cause").get_attribute("aria-invalid") is None, "the root cause was given"
    assert page.locator("#root_cause").input_value() == "A debug log line printed the token.", "kept as typed"
    assert axe_violations(page) == []
    page.fill("#remediation", "Tokens are redacted in logs; the token was rotated.")
    page.click("button[value=approve]")
    page.wait_for_load_state()
    assert "approved" in page.locator("#report-state").inner_text()


def test_action_items_are_rows_with_a_staff_owner(server, people):
    key = resolved_p1(server, "Mail delayed")
    nico = people("nico@vendor.example")
    page = nico.page
    page.goto(f"/console/tickets/{key}/report")
    page.fill("#item_what_0", "Alert on queue age")
    page.fill("#item_due_0", "2027-01-15")
    page.fill("#item_what_1", "Write the runbook")
    page.select_option("#item_owner_1", label="Tina TAM")
    page.click("button[value=edit]")
    page.wait_for_load_state()
    assert page.locator("#item_owner_0").get_attribute("aria-invalid") == "true", "an owner is required"
    assert page.locator("#item_owner_0-error").inner_text() == "choose who owns it"
    assert page.locator("#item_what_0").input_value() == "Alert on queue age", "kept as typed"
    assert page.locator("#item_due_0").input_value() == "2027-01-15"
    assert page.locator("#item_what_1").input_value() == "Write the runbook"
    assert axe_violations(page) == []
    page.select_option("#item_owner_0", label="Nico Engineer")
    page.click("button[value=edit]")
    page.wait_for_load_state()
    assert "Saved as a new version." in page.content()
    assert page.locator("#item_owner_0 option:checked").inner_text() == "Nico Engineer"
    page.select_option("#item_state_0", "done")
    page.check("#item_remove_1")
    page.click("button[value=submit]")
    page.wait_for_load_state()
    assert page.locator("#item_what_1").input_value() == "", "removed: the second row is blank"

    lead = login(server, "lena@vendor.example")
    revision = server.api("GET", f"/api/v1/tickets/{key}/report", token=lead)["revision"]
    server.api("POST", f"/api/v1/tickets/{key}/report/steps", {"step": "approve", "revision": revision}, token=lead)
    server.api("POST", f"/api/v1/tickets/{key}/report/steps", {"step": "publish", "revision": revision + 1})
    alice = people("alice@acme.example")
    alice.page.goto(f"/reports/{key}")
    rows = alice.page.locator("table tbody tr")
    assert rows.count() == 1
    assert rows.first.inner_text().split("\t") == ["Alert on queue age", "Nico Engineer", "2027-01-15", "done"]
