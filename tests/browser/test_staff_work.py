"""Staff work in the console with no API call by the people: a ticket set to wait on the
customer (the SLA pause) and taken back; a status page's components edited, reordered and
deleted; an incident update that also sets components' statuses; an incident opened from a
ticket through a form with a preview; and a "Contact us" inquiry answered from the
inquiries page, the answer mailed through the letters' outbox."""

import pytest

from conftest import PASSWORD, axe_violations, crowd, desk
from stringer_server import until
from test_onboarding import SmtpReceiver, mailing_desk


@pytest.fixture(scope="module")
def staff_server():
    s = desk()
    pages = {p["org"]: p["id"] for p in s.api("GET", "/api/v1/status-pages")}
    s.acme_page = pages["acme"]
    made = {}
    made["EU region"] = s.api("POST", f"/api/v1/status-pages/{s.acme_page}/components",
                              {"name": "EU region", "group": True})
    for name in ["Database", "Web", "Queue"]:
        made[name] = s.api("POST", f"/api/v1/status-pages/{s.acme_page}/components", {"name": name})
    s.components = {name: c["id"] for name, c in made.items()}
    yield s
    s.stop()


@pytest.fixture
def staff(browser, staff_server):
    with crowd(browser, staff_server) as person:
        yield person


def components(server):
    return {c["id"]: c for c in server.api("GET", f"/api/v1/status-pages/{server.acme_page}/components")}


def incidents(server):
    return server.api("GET", f"/api/v1/status-pages/{server.acme_page}/incidents")["incidents"]


def test_an_engineer_sets_a_ticket_to_wait_on_the_customer_and_back(staff_server, staff):
    ticket = staff_server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P3", "subject": "Export stuck",
                                                          "description": "Our export never finishes."})
    page = staff("nico@vendor.example").page
    page.goto(f"/console/tickets/{ticket['key']}")
    page.click("button:has-text('Wait on the customer')")
    page.wait_for_load_state()
    assert "waiting on customer" in page.locator(".facts").inner_text()
    assert staff_server.api("GET", f"/api/v1/tickets/{ticket['key']}")["status"] == "waiting_on_customer"
    assert axe_violations(page) == []
    page.click("button:has-text('Stop waiting')")
    page.wait_for_load_state()
    assert "waiting on customer" not in page.locator(".facts").inner_text()
    assert staff_server.api("GET", f"/api/v1/tickets/{ticket['key']}")["status"] == "open"
    timeline = page.locator(".timeline").inner_text()
    assert "Set to wait on the customer by Nico Engineer" in timeline
    assert "No longer waiting on the customer by Nico Engineer" in timeline, timeline
    assert page.locator("button:has-text('Wait on the customer')").count() == 1
    assert axe_violations(page) == []


def test_a_lead_edits_reorders_and_deletes_components(staff_server, staff):
    ids = staff_server.components
    page = staff("lena@vendor.example").page
    page.goto(f"/console/status/{staff_server.acme_page}")
    assert axe_violations(page) == []

    edit = page.locator(f"#edit-{ids['Web']}")
    edit.locator("input[name=name]").fill("Web front")
    edit.locator("textarea[name=description]").fill("The public web site")
    edit.locator("select[name=group_id]").select_option(label="EU region")
    edit.locator("button:has-text('Save')").click()
    page.wait_for_load_state()
    assert "Component saved." in page.locator(".flash").inner_text()
    web = components(staff_server)[ids["Web"]]
    assert (web["name"], web["description"], web["group_id"]) == ("Web front", "The public web site", ids["EU region"])
    assert axe_violations(page) == []

    # An empty name is refused beside the field, keeping what was typed elsewhere.
    edit = page.locator(f"#edit-{ids['Queue']}")
    edit.locator("input[name=name]").fill("")
    edit.locator("textarea[name=description]").fill("Jobs in flight")
    edit.locator("button:has-text('Save')").click()
    page.wait_for_load_state()
    field = page.locator(f"#edit-{ids['Queue']} input[name=name]")
    assert field.get_attribute("aria-invalid") == "true"
    assert page.locator(f"#edit-{ids['Queue']} textarea[name=description]").input_value() == "Jobs in flight"
    assert axe_violations(page) == []

    def order():
        listed = sorted(components(staff_server).values(), key=lambda c: c["position"])
        return [c["name"] for c in listed if c["group_id"] is None]

    before = order()
    assert before.index("Database") < before.index("Queue")
    page.goto(f"/console/status/{staff_server.acme_page}")
    page.click("button[aria-label='Move up Queue']")
    page.wait_for_load_state()
    after = order()
    assert after.index("Queue") == before.index("Queue") - 1, (before, after)
    assert axe_violations(page) == []

    page.click("button[aria-label='Delete Database']")
    page.wait_for_load_state()
    assert "Database was deleted." in page.locator(".flash").inner_text()
    assert ids["Database"] not in components(staff_server)
    assert "Database" not in page.locator("table").inner_text()
    assert axe_violations(page) == []


def test_an_update_also_sets_component_statuses(staff_server, staff):
    ids = staff_server.components
    staff_server.api("POST", f"/api/v1/status-pages/{staff_server.acme_page}/incidents", {
        "name": "Slow queue", "status": "investigating", "impact": "minor", "body": "Jobs are slow."})
    page = staff("nico@vendor.example").page
    page.goto(f"/console/status/{staff_server.acme_page}")
    incident = page.locator("article.incident", has_text="Slow queue")
    incident.locator("select[name=status]").select_option("identified")
    incident.locator("textarea[name=body]").fill("A stuck worker; restarting it.")
    incident.get_by_label("Queue").select_option(label="Partial outage")
    incident.locator("button:has-text('Post the update')").click()
    page.wait_for_load_state()
    assert "Update posted." in page.content()
    assert components(staff_server)[ids["Queue"]]["status"] == "partial_outage"
    found = [i for i in incidents(staff_server) if i["name"] == "Slow queue"][0]
    latest = found["incident_updates"][0]
    assert latest["status"] == "identified"
    assert [(a["name"], a["new_status"]) for a in latest["affected_components"]] == [("Queue", "partial_outage")]
    assert axe_violations(page) == []


def test_an_incident_from_a_ticket_is_a_form_with_a_preview(staff_server, staff):
    ids = staff_server.components
    ticket = staff_server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P1",
                                                          "subject": "Acme cluster unreachable",
                                                          "description": "Nothing answers."})
    page = staff("nico@vendor.example").page
    page.goto(f"/console/tickets/{ticket['key']}")
    page.click("text=Open a status page incident")
    page.wait_for_load_state()
    assert page.url.endswith(f"/console/tickets/{ticket['key']}/status-incident")
    assert page.locator("#si-name").input_value() == "Acme cluster unreachable"
    assert page.locator("input[type=checkbox]:checked").count() == 0, "no component is chosen for you"
    assert axe_violations(page) == []
    page.fill("#si-name", "Acme cluster: web unreachable")
    page.select_option("#si-impact", label="Major")
    page.check(f"#si-c-{ids['Web']}")
    page.select_option(f"#si-s-{ids['Web']}", label="Partial outage")
    page.fill("#si-body", "The web front does not answer; we are on it.")
    page.click("button:has-text('Preview')")
    page.wait_for_load_state()
    preview = page.locator("#preview").inner_text()
    assert "Acme cluster: web unreachable" in preview and "Major" in preview
    assert "Partial outage" in preview and "we are on it" in preview
    assert "Queue" not in preview
    assert not [i for i in incidents(staff_server) if i["name"].startswith("Acme cluster")], "nothing published yet"
    assert axe_violations(page) == []
    page.click("button:has-text('Publish')")
    page.wait_for_load_state()
    assert f"/console/status/{staff_server.acme_page}" in page.url
    found = [i for i in incidents(staff_server) if i["name"] == "Acme cluster: web unreachable"][0]
    assert found["impact"] == "major"
    assert [c["id"] for c in found["components"]] == [ids["Web"]]
    statuses = components(staff_server)
    assert statuses[ids["Web"]]["status"] == "partial_outage"
    assert statuses[ids["Queue"]]["status"] != "major_outage", "only the chosen component changed"
    page.goto(f"/console/tickets/{ticket['key']}")
    assert "Incident on the status page" in page.content()
    assert axe_violations(page) == []


@pytest.fixture(scope="module")
def smtp():
    receiver = SmtpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def mailing_server(smtp):
    s = mailing_desk(smtp)
    yield s
    s.stop()


def test_staff_answer_an_inquiry_and_the_answer_is_mailed(mailing_server, smtp, browser):
    with crowd(browser, mailing_server) as person:
        page = person().page
        page.goto("/contact")
        page.fill("#name", "Pia Prospect")
        page.fill("#email", "pia@prospect.example")
        page.fill("#body", "Do you support SAML single sign-on?")
        page.wait_for_timeout(3100)  # the form refuses a bot's pace
        page.click("text=Send")
        page.wait_for_load_state()
        assert "expect our answer by" in page.locator(".flash").inner_text()

        lena = person("lena@vendor.example").page
        lena.goto("/console/inquiries")
        assert "then record" not in lena.content(), "no more answering by mail by hand"
        assert axe_violations(lena) == []
        article = lena.locator("article", has_text="Pia Prospect")
        article.locator("textarea").fill("   ")
        article.locator("button:has-text('Send the answer')").click()
        lena.wait_for_load_state()
        article = lena.locator("article", has_text="Pia Prospect")
        assert article.locator("textarea").get_attribute("aria-invalid") == "true"
        assert "1 to 8192 bytes" in article.locator(".error").inner_text()
        assert not smtp.to("pia@prospect.example"), "nothing is mailed"
        assert axe_violations(lena) == []
        article.locator("textarea").fill("Yes: SAML single sign-on comes with Enterprise.")
        article.locator("button:has-text('Send the answer')").click()
        lena.wait_for_load_state()
        assert "mailed to pia@prospect.example" in lena.locator(".flash").inner_text()
        answered = lena.locator("article", has_text="Pia Prospect")
        assert "by Lena Lead" in answered.inner_text()
        assert "Yes: SAML single sign-on comes with Enterprise." in answered.inner_text()
        assert axe_violations(lena) == []

        mail = until("the answer's mail", lambda: smtp.to("pia@prospect.example"))[0]
        assert "Yes: SAML single sign-on comes with Enterprise." in mail
        assert "Do you support SAML single sign-on?" in mail, "the question is quoted"
        assert "Subject: Re:" in mail
