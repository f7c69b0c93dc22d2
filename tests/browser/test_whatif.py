"""The what-if on history in a real browser: an admin pastes a proposed contract with an error
(shown beside it, with its line and column, the text kept), fixes it, compares it on today's tickets,
sees the ticket whose outcome changes and follows its link, and exports the comparison; a
support lead may too; every other role finds no link and is refused."""

import datetime
import time

from conftest import PASSWORD  # noqa: F401 (the people sign in with it)

ENTERPRISE_P1 = 'P1 = { within = "1 hour" }'


def today():
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def compare(page, contract):
    page.fill("#contract", contract)
    page.fill("#from", today())
    page.fill("#to", today())
    page.click("button[value=page]")
    page.wait_for_load_state()


def compare_until_changed(page, contract, key):
    """Compares until `key` is among the changed tickets: a P1 due a second after its opening
    is breached at the second after that, so the replay (which runs the timers up to now)
    lists it once that second has passed (polled, 10 s at most)."""
    deadline = time.monotonic() + 10
    while True:
        compare(page, contract)
        changed = page.locator("#whatif-changed")
        if changed.count() and key in changed.inner_text():
            return changed.inner_text()
        assert time.monotonic() < deadline, page.content()


def test_an_admin_compares_a_proposed_contract_on_todays_tickets(server, people):
    # An Enterprise P1 nobody has answered yet: within its hour under the contract in force,
    # breached under a contract that answers P1s within a second.
    ticket = server.api("POST", "/api/v1/tickets", {"org": "acme", "severity": "P1",
                                                   "subject": "What if it were faster", "description": "x"})
    key = ticket["key"]

    ada = people("ada@vendor.example")
    page = ada.page
    page.goto("/console")
    page.click("nav >> text=What if")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "What if: a proposed contract on past tickets"
    in_force = page.input_value("#contract")
    assert ENTERPRISE_P1 in in_force, "the form starts from the contract in force"

    broken = in_force.replace(ENTERPRISE_P1, 'P1 = { within = "1 eon" }')
    compare(page, broken)
    error = page.locator("#contract-error").inner_text()
    line = in_force[:in_force.index(ENTERPRISE_P1)].count("\n") + 1
    assert f"the proposed contract:{line}:" in error and '"1 eon"' in error, (line, error)
    assert page.get_attribute("#contract", "aria-invalid") == "true"
    assert page.input_value("#contract") == broken, "the text is kept to be fixed"

    faster = in_force.replace(ENTERPRISE_P1, 'P1 = { within = "1 second" }')
    changed = compare_until_changed(page, faster, key)
    assert page.locator("#contract-error").count() == 0
    assert key in changed and "running" in changed and "breached" in changed, changed
    assert "enterprise" in page.locator("#whatif-targets").inner_text()
    assert "Pages to on-call" in page.locator("#whatif-pages").inner_text()

    with page.expect_download() as download:
        page.click("button[value=csv]")
    csv = open(download.value.path(), encoding="utf-8").read()
    assert download.value.suggested_filename == "whatif-changed.csv"
    assert csv.startswith("ticket,org,tier,severity,target,") and key in csv, csv
    with page.expect_download() as download:
        page.click("button[value=md]")
    assert download.value.suggested_filename == "whatif-report.md"
    assert "# What if:" in open(download.value.path(), encoding="utf-8").read()

    page.click(f"#whatif-changed >> text={key}")
    page.wait_for_load_state()
    assert page.url.endswith(f"/console/tickets/{key}"), page.url

    lena = people("lena@vendor.example")
    lena.page.goto("/console/whatif")
    assert key in compare_until_changed(lena.page, faster, key), "a support lead may run it too"


def test_every_other_role_is_refused(server, people):
    for email in ["nico@vendor.example", "tina@vendor.example", "alice@acme.example", "bob@bolt.example"]:
        person = people(email)
        person.page.goto("/")
        assert person.page.locator("nav >> text=What if").count() == 0, email
        response = person.page.goto("/console/whatif")
        assert response.status == 403, (email, response.status)
        assert "admins and support leads" in person.page.content(), email
