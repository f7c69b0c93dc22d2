"""How the desk reads to a newcomer on day one: promises in words people use, the portal in
order of urgency with its links, errors as pages with a way back, search that finds keys and
word beginnings, a skip link, and the packet inside the site."""

import re

import pytest

from conftest import axe_violations, desk

# Internal names (calendar keys, roles, states) that must never reach a page's text.
SNAKE = re.compile(r"\b[A-Za-z]+_[a-z_]+\b")


@pytest.fixture(scope="module")
def server():
    """A desk of this module's own: its urgent tickets must not head another module's queue."""
    s = desk()
    yield s
    s.stop()


def visible_snake_case(page):
    return sorted(set(SNAKE.findall(page.inner_text("body"))))


def test_the_portal_lists_by_urgency_and_links_status_and_contact(server, people):
    low = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P4", "subject": "Day one: a question",
                                                "description": "x"})
    high = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P1", "subject": "Day one: all down",
                                                 "description": "x"})
    low2 = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P4", "subject": "Day one: newest",
                                                 "description": "x"})
    alice = people("alice@acme.example")
    page = alice.page
    page.goto("/portal")
    keys = page.locator("table.queue tbody tr td:first-child").all_inner_texts()
    order = [k.strip() for k in keys if k.strip() in (low["key"], high["key"], low2["key"])]
    assert order[0] == high["key"], f"the P1 first, though it is not the newest: {order}"
    assert visible_snake_case(page) == []
    assert axe_violations(page) == []
    page.click("nav >> text=Status")
    page.wait_for_load_state()
    assert page.url.endswith("/status/acme"), "a dedicated org's own status page"
    page.goto("/portal")
    page.click("nav >> text=Contact us")
    page.wait_for_load_state()
    assert page.url.endswith("/contact")


def test_promises_use_the_contracts_names_for_hours_and_roles(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "bolt", "severity": "P3", "subject": "Day one: Pro P3",
                                                   "description": "x"})
    bob = people("bob@bolt.example")
    for path in ["/portal", f"/portal/tickets/{ticket['key']}", "/portal/new", "/packet/bolt"]:
        bob.page.goto(path)
        assert visible_snake_case(bob.page) == [], path
    assert "Pro support hours" in bob.page.content() or "Pro support" in bob.page.content()
    bob.page.goto(f"/portal/tickets/{ticket['key']}")
    assert "Pro support hours" in bob.page.inner_text("body"), "the calendar by its display name"
    ada = people("ada@vendor.example")
    for path in ["/console", f"/console/tickets/{ticket['key']}", "/admin/users", "/admin/contract",
                 "/admin/orgs/acme"]:
        ada.page.goto(path)
        assert visible_snake_case(ada.page) == [], path
    ada.page.goto("/admin/users")
    assert "VP of Engineering" in ada.page.inner_text("body") or "Support lead" in ada.page.inner_text("body")
    # The status console names statuses, phases and impacts in words, in its lists and forms.
    public = {p["org"]: p["id"] for p in server.api("GET", "/api/v1/status-pages")}[None]
    server.api("POST", f"/api/v1/status-pages/{public}/components", {"name": "Day one API"})
    ada.page.goto(f"/console/status/{public}")
    assert visible_snake_case(ada.page) == [], ada.page.url
    options = ada.page.locator("main select option").all_inner_texts()
    assert "Partial outage" in options and not [o for o in options if "_" in o], options


def test_errors_are_pages_with_a_way_back(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P3", "subject": "Day one: upload",
                                                   "description": "x"})
    alice = people("alice@acme.example")
    page = alice.page
    response = page.goto("/portal/no-such-page")
    assert response.status == 404 and response.headers["content-type"].startswith("text/html")
    assert page.locator("a", has_text="Go back").count() == 1
    assert axe_violations(page) == []
    # A file over the limit: the 413 is a page that says what to do and leads back to the ticket.
    page.goto(f"/portal/tickets/{ticket['key']}")
    page.set_input_files("#file", files=[{"name": "huge.bin", "mimeType": "application/octet-stream",
                                          "buffer": b"\0" * (11 * 1024 * 1024)}])
    with page.expect_navigation():
        page.click("button:has-text('Attach')")
    assert "smaller file" in page.inner_text("main")
    assert page.locator("a", has_text="Go back").get_attribute("href") == f"/portal/tickets/{ticket['key']}"
    assert axe_violations(page) == []


def test_a_signed_out_visitor_of_a_private_status_page_is_offered_the_sign_in(server, people):
    visitor = people()
    response = visitor.page.goto("/status/acme")
    assert response.status == 404, "nobody learns from the answer whether the page exists"
    assert "sign in" in visitor.page.inner_text("main").lower()
    assert axe_violations(visitor.page) == []
    visitor.page.get_by_role("link", name="Sign in").click()
    visitor.page.wait_for_load_state()
    visitor.page.fill("#email", "alice@acme.example")
    visitor.page.fill("#password", "correct horse battery staple")
    visitor.page.click("button[type=submit]")
    visitor.page.wait_for_load_state()
    assert visitor.page.url.endswith("/status/acme"), visitor.page.url
    # The same answer for a page that does not exist.
    other = people()
    response = other.page.goto("/status/no-such-org")
    assert response.status == 404 and "sign in" in other.page.inner_text("main").lower()


def test_search_finds_keys_and_word_beginnings(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "bolt", "severity": "P3",
                                                   "subject": "Day one: checkpoint restore fails",
                                                   "description": "x"})
    nico = people("nico@vendor.example")
    nico.page.goto("/console?q=" + ticket["key"])
    assert nico.page.locator("table.queue tbody tr").count() == 1
    assert ticket["key"] in nico.page.locator("table.queue tbody").inner_text()
    nico.page.goto("/console?q=checkp")
    assert ticket["key"] in nico.page.locator("table.queue tbody").inner_text()


def test_every_page_starts_with_a_skip_link(server, people):
    alice = people("alice@acme.example")
    for path in ["/portal", "/packet/acme", "/contact", "/status"]:
        alice.page.goto(path)
        alice.page.keyboard.press("Tab")
        focused = alice.page.evaluate("document.activeElement.textContent")
        assert focused == "Skip to content", (path, focused)
        assert alice.page.evaluate("document.activeElement.getAttribute('href')") == "#main"


def test_the_welcome_packet_is_a_page_of_the_site(server, people):
    alice = people("alice@acme.example")
    page = alice.page
    page.goto("/packet/acme")
    assert page.locator("meta[name=viewport]").count() == 1
    assert page.locator("nav[aria-label=Main] a", has_text="Tickets").count() == 1
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"nothing wider than the phone: {width}"


def test_the_queue_refresh_keeps_focus_and_scroll(server, people):
    for n in range(30):
        server.api("POST", "/api/v1/tickets", {"org": "bolt", "severity": "P4", "subject": f"Day one: filler {n}",
                                              "description": "x"})
    nico = people("nico@vendor.example")
    page = nico.page
    page.set_viewport_size({"width": 1200, "height": 500})
    page.goto("/console")
    link = page.locator("#queue-rows a").nth(20)
    link.focus()
    focused = page.evaluate("document.activeElement.id")
    scrolled = page.evaluate("window.scrollY")
    assert focused.startswith("row-") and scrolled > 0
    page.evaluate("""() => new Promise(done => document.body.addEventListener('htmx:afterSettle', done, {once: true}))""")
    assert page.evaluate("document.activeElement.id") == focused, "the same row keeps the keyboard focus"
    assert page.evaluate("window.scrollY") == scrolled, "and the page does not jump"


def test_the_queue_reads_on_a_phone(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P2", "subject": "Day one: phone",
                                                   "description": "x"})
    lena = people("lena@vendor.example")
    page = lena.page
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ["/console", "/console?q=" + ticket["key"]]:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    row = page.locator("#queue-rows tr").first
    for label in ["Key", "SLA"]:
        cell = row.locator(f"td[data-label='{label}']")
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (label, box)
    assert axe_violations(page) == []


PHONE_PAGES = {
    "alice@acme.example": ["/portal", "/portal/new", "/portal/new?security=true", "/packet/acme", "/reports",
                           "/reviews", "/settings", "/contact", "/status/acme"],
    "nico@vendor.example": ["/console", "/console/oncall", "/console/pages", "/console/status", "/console/inquiries",
                            "/console/mail", "/console/reports", "/console/new", "/settings"],
    "ada@vendor.example": ["/admin/orgs", "/admin/orgs/acme", "/admin/users", "/admin/contract",
                           "/reviews?org=acme", "/status"],
}


def test_every_page_fits_a_phone(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P2", "subject": "Day one: narrow",
                                                   "description": "A long line " * 20})
    for email, paths in PHONE_PAGES.items():
        person = people(email)
        person.page.set_viewport_size({"width": 390, "height": 844})
        prefix = "/portal" if email.startswith("alice") else "/console"
        for path in paths + [f"{prefix}/tickets/{ticket['key']}"]:
            person.page.goto(path)
            width = person.page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (email, path, width)


def test_the_reviews_charts_are_readable(server, people):
    ada = people("ada@vendor.example")
    ada.page.goto("/reviews?org=acme")
    charts = ada.page.locator("svg.chart")
    assert charts.count() == 2
    for i in range(2):
        labels = charts.nth(i).locator("text.label")
        boxes = [labels.nth(j).bounding_box() for j in range(labels.count())]
        for a, b in zip(boxes, boxes[1:]):
            assert a["y"] + a["height"] <= b["y"] + 0.5, "labels do not overlap"
    week = charts.nth(1).locator("text.label").first.text_content()
    assert week.startswith("Week of "), week
    assert ada.page.locator("svg.chart text.tick").count() >= 4, "an axis with ticks"
    assert axe_violations(ada.page) == []


def test_acting_buttons_differ_from_neutral_ones(server, people):
    ticket = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P3", "subject": "Day one: buttons",
                                                   "description": "x"})
    nico = people("nico@vendor.example")
    nico.page.goto(f"/console/tickets/{ticket['key']}")

    def background(name):
        return nico.page.locator("button", has_text=name).first.evaluate("b => getComputedStyle(b).backgroundColor")
    acting = {background(n) for n in ["Acknowledge", "Resolve", "Send reply"]}
    neutral = {background(n) for n in ["Assign", "Add internal note", "Attach"]}
    assert len(acting) == 1 and len(neutral) == 1 and acting != neutral, (acting, neutral)
