"""Paging setup in the pages (issue 24): one's own contact methods and notification rules in
/settings (with a test page through the delivery outbox and each method's last delivery), the
on-call calendar feed linked from there, schedules run from the console with a 4-week
timeline, the warning about people who could be paged but cannot be reached, and the demo's
"console" contact method that delivers a page into "My pages"."""

import re
import time

import pytest

from conftest import axe_violations, crowd, desk


@pytest.fixture(scope="module")
def paging_server():
    s = desk()
    yield s
    s.stop()


@pytest.fixture
def people(browser, paging_server):
    with crowd(browser, paging_server) as person:
        yield person


def settle(page, locator, pattern, seconds=30):
    """Reloads `page` until `locator`'s text matches `pattern` (the deliverer works apart)."""
    deadline = time.time() + seconds
    while not re.search(pattern, page.locator(locator).inner_text()):
        assert time.time() < deadline, page.locator(locator).inner_text()
        page.wait_for_timeout(300)
        page.reload()


def test_an_engineer_sets_up_contact_methods_and_rules_in_settings(paging_server, people):
    nico = people("nico@vendor.example")
    page = nico.page
    page.goto("/settings")
    methods = page.locator("#contact-methods")
    # The webhook the API gave him is listed by its kind and address.
    assert "Webhook" in methods.inner_text() and "http://127.0.0.1:9/pages" in methods.inner_text()
    assert axe_violations(page) == []

    # A bad address is refused beside its field, the typed values kept.
    page.select_option("#method-kind", "email")
    page.fill("#method-address", "not an address")
    page.click("#add-method")
    assert page.locator("#method-address").get_attribute("aria-invalid") == "true"
    described = page.locator("#method-address").get_attribute("aria-describedby")
    assert "an email address such as" in page.locator(f"#{described}").inner_text()
    assert page.locator("#method-address").input_value() == "not an address"
    assert page.locator("#method-kind").input_value() == "email"
    assert axe_violations(page) == []

    # A good one is added (POST, 303, GET).
    page.fill("#method-address", "nico@pager.example")
    page.click("#add-method")
    assert "/settings?done=method-added" in page.url
    assert "nico@pager.example" in methods.inner_text()

    # "Send a test" goes through the outbox: the webhook to a closed port fails, and its
    # last delivery says so with the reason.
    webhook = methods.locator("tr", has_text="http://127.0.0.1:9/pages")
    webhook.get_by_role("button", name=re.compile("Send a test")).click()
    assert "test page is on its way" in page.locator("[role=status]").inner_text()
    settle(page, "#contact-methods tr:has-text('http://127.0.0.1:9/pages')", r"Failed.*(request failed|refused)", 60)
    assert axe_violations(page) == []

    # Notification rules: the email after 5 minutes; then removed again.
    page.select_option("#rule-method", label="Email nico@pager.example")
    page.fill("#rule-after", "5")
    page.click("#add-rule")
    rules = page.locator("#notification-rules")
    assert "after 5 minutes" in rules.inner_text() and "nico@pager.example" in rules.inner_text()
    assert axe_violations(page) == []
    rules.get_by_role("button", name=re.compile("Remove")).first.click()
    assert "nico@pager.example" not in page.locator("#notification-rules ul").inner_text()

    # A rule needs minutes from 0 to 1440.
    page.select_option("#rule-method", label="Email nico@pager.example")
    page.fill("#rule-after", "99999")
    page.click("#add-rule")
    assert page.locator("#rule-after").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []

    # The email method is removed.
    page.goto("/settings")
    row = page.locator("#contact-methods tr", has_text="nico@pager.example")
    row.get_by_role("button", name=re.compile("Remove")).click()
    assert "nico@pager.example" not in page.locator("#contact-methods").inner_text()


def test_the_calendar_feed_is_linked_from_settings(paging_server, people):
    nico = people("nico@vendor.example")
    page = nico.page
    page.goto("/settings")
    page.click("#new-feed")
    link = page.locator("#calendar-feed a")
    href = link.get_attribute("href")
    assert re.search(r"/ical/users/usr_[0-9A-Z]{26}\.ics\?token=", href), href
    assert axe_violations(page) == []
    feed = page.request.get(href)
    assert feed.status == 200 and "BEGIN:VCALENDAR" in feed.text() and "On call: Platform" in feed.text()


def test_a_support_lead_runs_a_schedule_from_the_console(paging_server, people):
    lena = people("lena@vendor.example")
    page = lena.page
    page.goto("/console/schedules")
    assert "Platform" in page.locator("#schedules").inner_text()
    assert axe_violations(page) == []

    # A new schedule, its first layer's members chosen by name.
    page.fill("#new-name", "Follow the sun")
    page.fill("#new-rotation", "Days")
    page.get_by_label("Nico Engineer").check()
    page.get_by_label("Lena Lead").check()
    page.fill("#new-shift_days", "1")
    page.fill("#new-handoff", "09:00")
    page.fill("#new-time_zone", "UTC")
    page.fill("#new-start", "2026-01-05")
    page.click("#create-schedule")
    assert re.search(r"/console/schedules/sch_[0-9A-Z]{26}$", page.url), page.url
    schedule = page.url
    assert page.locator("h1").inner_text() == "Follow the sun"
    timeline = page.locator("#timeline")
    assert "Layer 1: Days" in timeline.inner_text() and "Final" in timeline.inner_text()
    assert "Nico Engineer" in timeline.inner_text() and "Lena Lead" in timeline.inner_text()
    assert axe_violations(page) == []

    # A bad hand-off time is refused beside its field, the typed values kept.
    page.fill("#l0-handoff", "9 o'clock")
    page.click("#save-l0")
    assert page.locator("#l0-handoff").get_attribute("aria-invalid") == "true"
    assert page.locator("#l0-handoff").input_value() == "9 o'clock"
    assert axe_violations(page) == []

    # A second layer, restricted to weekday office hours.
    page.goto(schedule)
    add = page.locator("#add-layer")
    page.fill("#new-rotation", "Office hours")
    add.get_by_label("Ada Admin").check()
    page.fill("#new-shift_days", "7")
    page.fill("#new-handoff", "09:00")
    page.fill("#new-time_zone", "Europe/Berlin")
    page.fill("#new-start", "2026-01-05")
    for day in ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]:
        add.get_by_label(day).check()
    page.fill("#new-from", "09:00")
    page.fill("#new-to", "17:00")
    page.click("#save-new")
    assert "Layer 2: Office hours" in page.locator("#timeline").inner_text()
    assert "Mon, Tue, Wed, Thu, Fri 09:00–17:00" in page.locator("#layers").inner_text()
    assert "Ada Admin" in page.locator("#timeline").inner_text()
    assert axe_violations(page) == []

    # An override: Tina instead, for a day; one ending before it starts is refused.
    page.select_option("#override-user", label="Tina TAM")
    page.fill("#override-from", "2026-12-20T09:00")
    page.fill("#override-to", "2026-12-19T09:00")
    page.click("#add-override")
    assert page.locator("#override-to").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []
    page.select_option("#override-user", label="Tina TAM")
    page.fill("#override-from", "2026-12-20T09:00")
    page.fill("#override-to", "2026-12-21T09:00")
    page.click("#add-override")
    assert "Tina TAM" in page.locator("#overrides").inner_text()
    assert "Tina TAM" in page.locator("#timeline").inner_text()
    # One overlapping it is refused in words, without ids.
    page.select_option("#override-user", label="Tom TAM")
    page.fill("#override-from", "2026-12-20T12:00")
    page.fill("#override-to", "2026-12-20T18:00")
    page.click("#add-override")
    refusal = page.locator("#override-to-error").inner_text()
    assert "overlaps another override" in refusal and "ovr_" not in refusal
    assert axe_violations(page) == []

    # Deleted.
    page.get_by_role("button", name="Delete the schedule Follow the sun").click()
    assert page.url.endswith("/console/schedules?done=deleted")
    assert "Follow the sun" not in page.locator("#schedules").inner_text()


def test_an_engineer_reads_schedules_but_does_not_manage_them(paging_server, people):
    nico = people("nico@vendor.example")
    page = nico.page
    page.goto("/console/schedules")
    assert "Platform" in page.locator("#schedules").inner_text()
    assert page.locator("#create-schedule").count() == 0
    page.get_by_role("link", name="Platform").click()
    assert "Final" in page.locator("#timeline").inner_text()
    assert page.locator("#save-new").count() == 0 and page.locator("#add-override").count() == 0
    assert axe_violations(page) == []


def test_who_could_be_paged_but_cannot_be_reached_is_warned_about(paging_server, people):
    # Tina is Acme's TAM (so she could be paged) and has no contact method.
    ada = people("ada@vendor.example")
    for path in ["/admin/users", "/admin/orgs", "/console"]:
        ada.page.goto(path)
        alert = ada.page.locator("#unreachable[role=alert]")
        assert "Tina TAM has no contact method" in alert.inner_text(), path
        assert axe_violations(ada.page) == []

    tina = people("tina@vendor.example")
    page = tina.page
    page.goto("/console")
    alert = page.locator("#unreachable[role=alert]")
    assert "You could be paged but have no contact method" in alert.inner_text()
    assert "Tom TAM" not in alert.inner_text(), "only an admin is told about others"
    alert.get_by_role("link", name="Add a contact method").click()
    assert page.url.endswith("/settings#contact-methods")
    page.select_option("#method-kind", "email")
    page.fill("#method-address", "tina@pager.example")
    page.click("#add-method")
    page.goto("/console")
    assert page.locator("#unreachable").count() == 0
    ada.page.goto("/admin/users")
    assert "Tina TAM" not in " ".join(ada.page.locator("#unreachable").all_inner_texts())


def test_on_the_demo_a_page_arrives_in_my_pages(browser):
    from conftest import Server
    demo = Server(["--demo", "--smtp-listen", "127.0.0.1:0"])
    try:
        with crowd(browser, demo) as person:
            nico = person().sign_in("nico@stringer.example", "demo-nico-password")
            page = nico.page
            # The demo's P1 paged the on-call engineer through his "console" contact method.
            page.goto("/console/pages")
            settle(page, "main", r"ACME-\d+.*Checkout API returns 502[\s\S]*console[\s\S]*sent")
            assert axe_violations(page) == []
            page.goto("/settings")
            row = page.locator("#contact-methods tr", has_text="Console")
            assert "My pages" in row.inner_text() and "Sent" in row.inner_text()
            page.goto("/console/schedules")
            assert "Nico Engineer" in page.locator("#schedules").inner_text()
            assert axe_violations(page) == []
    finally:
        demo.stop()
