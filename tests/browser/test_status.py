"""Status pages in a real browser: the public page with its 90-day uptime bars (a day's
uptime shows on hover and on keyboard focus), a tenant's private page (404 to an outsider
and to another org's customer, shown to the org's own people), a federal tenant's page
hidden from uncleared staff and shown to cleared staff, and staff running a page from the
console (component status, an incident and its updates, an incident opened from a P1)."""

import time

import pytest

from conftest import PASSWORD, crowd, desk
from test_pages import axe_violations


@pytest.fixture(scope="module")
def status_server():
    s = desk()
    s.api("POST", "/api/v1/orgs", {"slug": "fedco", "name": "Fed Co", "tier": "enterprise",
                                  "deployment": "federal"})
    s.api("POST", "/api/v1/users", {"email": "pat@vendor.example", "name": "Pat Platform",
                                    "role": "platform_engineer", "federal_cleared": True, "password": PASSWORD})
    s.api("POST", "/api/v1/users", {"email": "fiona@fedco.example", "name": "Fiona of fedco", "role": "member",
                                    "org": "fedco", "password": PASSWORD})
    pages = {p["org"]: p["id"] for p in s.api("GET", "/api/v1/status-pages")}
    for org, name in [(None, "API"), (None, "Portal"), ("acme", "Acme cluster"), ("fedco", "Fed cluster")]:
        s.api("POST", f"/api/v1/status-pages/{pages[org]}/components", {"name": name})
    s.pages = pages
    yield s
    s.stop()


@pytest.fixture
def visitors(browser, status_server):
    with crowd(browser, status_server) as person:
        yield person


def test_the_public_page_shows_uptime_on_hover_and_focus(status_server, visitors):
    anonymous = visitors()
    page = anonymous.page
    response = page.goto("/status")
    assert response.status == 200
    assert page.locator("#overall").inner_text() == "All Systems Operational"
    assert page.locator("[data-component]").count() == 2
    assert page.locator("ol.uptime").first.locator("li.day").count() == 90
    today = page.locator("ol.uptime").first.locator("li.day").last
    # The components were made this second: today has data once a second of it is observed.
    deadline = time.time() + 30
    while "% uptime" not in (tip := today.get_attribute("aria-label")):
        assert time.time() < deadline, tip
        page.wait_for_timeout(200)
        page.reload()
    today.focus()
    shown = page.evaluate("el => getComputedStyle(el, '::after').content", today.element_handle())
    assert tip in shown, f"the focused day shows its uptime: {shown!r}"
    page.locator("ol.uptime").first.locator("li.day").nth(88).hover()
    hovered = page.evaluate("el => getComputedStyle(el, '::after').content",
                            page.locator("ol.uptime").first.locator("li.day").nth(88).element_handle())
    assert "uptime" in hovered or "no data" in hovered, hovered
    assert page.locator("link[type='application/atom+xml']").count() == 1
    assert axe_violations(page) == []


def test_a_tenant_page_is_private(status_server, visitors):
    response = visitors().page.goto("/status/acme")
    assert response.status == 404, "an outsider is told nothing exists"
    bob = visitors("bob@bolt.example")
    assert bob.page.goto("/status/acme").status == 404, "another org's customer neither"
    alice = visitors("alice@acme.example")
    response = alice.page.goto("/status/acme")
    assert response.status == 200
    names = alice.page.locator(".component-name").all_inner_texts()
    assert names == ["API", "Portal", "Acme cluster"], "the platform's components and the org's own"
    assert alice.page.goto("/status/fedco").status == 404


def test_a_federal_page_is_hidden_from_uncleared_staff(status_server, visitors):
    nico = visitors("nico@vendor.example")
    assert nico.page.goto("/status/fedco").status == 404
    assert nico.page.goto("/status/acme").status == 200
    pat = visitors("pat@vendor.example")
    response = pat.page.goto("/status/fedco")
    assert response.status == 200
    assert "Fed cluster" in pat.page.content()
    fiona = visitors("fiona@fedco.example")
    assert fiona.page.goto("/status/fedco").status == 200


def test_staff_run_a_page_from_the_console(status_server, visitors):
    nico = visitors("nico@vendor.example")
    page = nico.page
    page.goto("/console/status")
    assert "Fed Co" not in page.content(), "uncleared staff do not see the federal page"
    page.click(f"a[href='/console/status/{status_server.pages[None]}']")
    page.wait_for_load_state()
    assert axe_violations(page) == []
    # Set a component's status in one click.
    row = page.locator("tr", has_text="Portal")
    row.locator("select").select_option("degraded_performance")
    row.locator("button").click()
    page.wait_for_load_state()
    assert "Status set." in page.content()
    # Open an incident on the API with a status, then resolve it.
    page.fill("#i-name", "Sign-in failures")
    page.select_option("#i-impact", "major")
    page.fill("#i-body", "Some sign-ins fail; we are on it.")
    api_select = page.locator("form[action$='/incidents'] fieldset select").first
    api_select.select_option("major_outage")
    page.click("text=Publish")
    page.wait_for_load_state()
    assert "Published." in page.content()
    reader = visitors().page
    reader.goto("/status")
    assert reader.locator("#overall").inner_text() == "Major System Outage"
    assert "Sign-in failures" in reader.content()
    incident = page.locator("article.incident", has_text="Sign-in failures")
    incident.locator("select[name=status]").select_option("resolved")
    incident.locator("textarea").fill("Sign-ins work again.")
    incident.locator("button").click()
    page.wait_for_load_state()
    assert "Update posted." in page.content()
    # A bad maintenance window is refused on the page, with the reason.
    page.fill("#i-name", "Upgrade")
    page.select_option("#i-kind", "maintenance")
    page.fill("#i-body", "We upgrade.")
    page.fill("#i-from", "tomorrow")
    page.click("text=Publish")
    page.wait_for_load_state()
    assert "RFC 3339" in page.locator("[role=alert]").inner_text()
    reader.goto("/status")
    assert reader.locator("#overall").inner_text() == "Minor Service Outage", "the portal is still degraded"
    reader.click("text=Sign-in failures")
    reader.wait_for_load_state()
    assert "Sign-ins work again." in reader.content() and "Some sign-ins fail" in reader.content()


def test_a_p1_on_a_dedicated_tenant_suggests_an_incident(status_server, visitors):
    ticket = status_server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P1",
                                                          "subject": "Acme cluster unreachable",
                                                          "description": "Nothing answers."})
    nico = visitors("nico@vendor.example")
    page = nico.page
    page.goto(f"/console/tickets/{ticket['key']}")
    page.click("text=Open a status page incident")
    page.wait_for_load_state()
    page.check("text=Acme cluster")
    page.click("button:has-text('Publish')")
    page.wait_for_load_state()
    assert f"/console/status/{status_server.pages['acme']}" in page.url
    assert "Acme cluster unreachable" in page.content()
    page.goto(f"/console/tickets/{ticket['key']}")
    assert page.locator("text=Open a status page incident").count() == 0, "suggested once"
    assert "Incident on the status page" in page.content()
    alice = visitors("alice@acme.example")
    alice.page.goto("/status/acme")
    assert alice.page.locator("#overall").inner_text() == "Major System Outage"
