"""A scheduled maintenance on the public status page: announced ahead, its component stays
operational (the maintenance is listed as scheduled); when its window opens the status clock
puts the component under maintenance, and gives it back when the window closes."""

import time
from datetime import datetime, timedelta, timezone

from conftest import axe_violations
from test_status import status_server, visitors  # noqa: F401 (fixtures)


def stamp(seconds):
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def component_status(page, component_id):
    return page.locator(f"[data-component='{component_id}'] .component-status").inner_text()


def test_a_maintenance_changes_its_component_when_it_starts(status_server, visitors):  # noqa: F811
    s = status_server
    public = s.pages[None]
    made = s.api("POST", f"/api/v1/status-pages/{public}/components", {"name": "Search"})
    s.api("POST", f"/api/v1/status-pages/{public}/incidents", {
        "name": "Index rebuild", "status": "scheduled", "body": "Next week.", "maintenance": True,
        "scheduled_for": stamp(7 * 86400), "scheduled_until": stamp(8 * 86400),
        "components": [{"id": made["id"], "status": "under_maintenance"}]})
    page = visitors().page
    page.goto("/status")
    assert component_status(page, made["id"]) == "Operational", "announced for next week: nothing changes today"
    assert "Index rebuild" in page.locator("#upcoming-h + *").inner_text() or "Index rebuild" in page.content()
    assert page.locator("#overall").inner_text() == "All Systems Operational"
    assert axe_violations(page) == []

    s.api("POST", f"/api/v1/status-pages/{public}/incidents", {
        "name": "Shard move", "status": "scheduled", "body": "Soon.", "maintenance": True,
        "scheduled_for": stamp(3), "scheduled_until": stamp(6),
        "components": [{"id": made["id"], "status": "under_maintenance"}]})
    page.reload()
    assert component_status(page, made["id"]) == "Operational", "announced, not started"
    deadline = time.time() + 30
    while component_status(page, made["id"]) != "Under maintenance":
        assert time.time() < deadline, "the maintenance never started"
        page.wait_for_timeout(200)
        page.reload()
    assert axe_violations(page) == []
    while component_status(page, made["id"]) != "Operational":
        assert time.time() < deadline, "the maintenance never completed"
        page.wait_for_timeout(200)
        page.reload()
