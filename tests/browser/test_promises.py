"""Promises as the customer lives them (issue 24), in a real browser: a security incident is
reported without a severity chooser (it is P1 for every tier, and the form says why) and with
the customer's bridge; "Page on-call now" pages once, however often it is pressed or the
result reloaded."""

from conftest import axe_violations


def test_a_security_incident_is_p1_and_carries_the_customers_bridge(server, people):
    alice = people("alice@acme.example")
    page = alice.page
    page.goto("/portal/new?security=true")
    assert page.locator("input[name=severity]").count() == 0, "no severity chooser for a security incident"
    note = page.locator("#security-severity").inner_text()
    assert "P1 — Critical" in note and "whatever your support tier" in note, note
    assert axe_violations(page) == []

    # A bridge that is neither a meeting link nor a phone bridge: refused beside its field,
    # with what was typed kept.
    page.fill("#subject", "Leaked deploy key")
    page.fill("#description", "Our deploy key was pasted in a public gist.")
    page.fill("#bridge", "call Alice")
    page.click("button:has-text('Report the incident')")
    page.wait_for_load_state()
    assert page.locator("#bridge").get_attribute("aria-invalid") == "true"
    assert "bridge-error" in page.locator("#bridge").get_attribute("aria-describedby")
    assert page.locator("#bridge-error").inner_text().startswith("Give a meeting link")
    assert page.locator("#subject").input_value() == "Leaked deploy key", "what was typed is kept"
    assert page.locator("#description").input_value() == "Our deploy key was pasted in a public gist."
    assert page.locator("input[name=severity]").count() == 0
    assert axe_violations(page) == []

    page.fill("#bridge", "https://meet.example/acme-war-room")
    page.click("button:has-text('Report the incident')")
    page.wait_for_load_state()
    key = page.locator("h1 .key").inner_text()
    assert key.startswith("ACME-"), key
    ticket = server.api("GET", f"/api/v1/tickets/{key}")
    assert (ticket["severity"], ticket["security"]) == ("P1", True)
    assert ticket["bridge"]["url"] == "https://meet.example/acme-war-room"
    assert axe_violations(page) == []

    # Staff see the customer's bridge on the ticket, as a link that joins it.
    nico = people("nico@vendor.example")
    nico.page.goto(f"/console/tickets/{key}")
    link = nico.page.locator("#bridge-h + p a")
    assert link.get_attribute("href") == "https://meet.example/acme-war-room"
    assert axe_violations(nico.page) == []


def test_page_on_call_now_pages_once_however_often_pressed_or_reloaded(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P3", "subject": "Exports stuck",
                                                   "description": "The nightly export has not finished."})
    timeline = f"/api/v1/tickets/{ticket['id']}/timeline"

    def pages():
        return [e for e in server.api("GET", timeline)["items"] if e["kind"] == "page"]

    alice = people("alice@acme.example")
    page = alice.page
    page.goto(f"/portal/tickets/{ticket['key']}")
    page.click("text=Page on-call now")
    page.wait_for_load_state()
    assert page.url.endswith(f"/portal/tickets/{ticket['key']}?paged=sent"), "POST, then 303 to the ticket's page"
    first = page.locator(".flash").inner_text()
    assert first.startswith("Paged the on-call engineer at "), first
    assert axe_violations(page) == []
    assert len(pages()) == 1

    # Pressed again while on-call has not answered: told so, with when it escalates; no page.
    page.click("text=Page on-call now")
    page.wait_for_load_state()
    again = page.locator(".flash").inner_text()
    assert again.startswith("Not paged again. On-call was paged at "), again
    assert "they have not answered yet — we'll escalate at " in again, again
    assert axe_violations(page) == []
    # A reload of the result re-posts nothing.
    page.reload()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == again
    assert len(pages()) == 1, "paged once, however often pressed or reloaded"

    # Once someone answered (acknowledged), the button pages again.
    server.api("POST", f"/api/v1/tickets/{ticket['id']}/acknowledge")
    page.goto(f"/portal/tickets/{ticket['key']}")
    page.click("text=Page on-call now")
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text().startswith("Paged the on-call engineer at ")
    assert len(pages()) == 2
