"""Status pages as Statuspage's clients and feed readers see them: every v2 document of the
public page and of a dedicated tenant's page is compared with fixtures written from
Statuspage's public API documentation (field names, JSON types, value sets, nesting; see
status_fixtures/README.md), with an incident that has updates and affected components and a
maintenance in each state; the Atom and RSS feeds are read by Python's `feedparser`."""

import datetime
import json
import os
import urllib.request

import feedparser
import pytest
from shape import check_shape

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "status_fixtures")
DOCUMENTS = [
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
]


def fixture(path):
    with open(os.path.join(FIXTURES, path.replace("/", "_"))) as f:
        return json.load(f)


def fetch(server, path, token=None):
    request = urllib.request.Request(server.url + path)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        return response.read(), response.headers


def at(hours):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def pages(server):
    """The public page and acme's, each with a group, components, incidents (one resolved
    through three updates, one open) and a maintenance in each state."""
    listed = {p["org"]: p["id"] for p in server.api("GET", "/api/v1/status-pages")}
    for org, page in listed.items():
        components = f"/api/v1/status-pages/{page}/components"
        group = server.api("POST", components, {"name": "Core", "group": True})["id"]
        api = server.api("POST", components, {"name": f"API {org}", "group_id": group,
                                              "description": "The JSON API"})["id"]
        mail = server.api("POST", components, {"name": f"Mail {org}", "only_show_if_degraded": True})["id"]
        incidents = f"/api/v1/status-pages/{page}/incidents"
        done = server.api("POST", incidents, {"name": "Elevated API errors", "status": "investigating",
                                              "impact": "major", "body": "Looking into it.",
                                              "components": [{"id": api, "status": "major_outage"}]})["id"]
        server.api("POST", f"{incidents}/{done}/updates", {"status": "identified", "body": "A bad node.",
                                                            "components": [{"id": api, "status": "partial_outage"}]})
        server.api("POST", f"{incidents}/{done}/updates", {"status": "resolved", "body": "Replaced."})
        server.api("POST", incidents, {"name": "Slow mail", "status": "monitoring", "impact": "minor",
                                       "body": "Mail is slow.", "components": [{"id": mail, "status": "degraded_performance"}]})
        window = {"maintenance": True, "scheduled_for": at(-1), "scheduled_until": at(5), "components": [{"id": mail}]}
        for name, steps in [("Future upgrade", []), ("Running upgrade", []), ("Checked upgrade", ["verifying"]),
                            ("Finished upgrade", ["completed"])]:
            status = "scheduled" if name == "Future upgrade" else "in_progress"
            body = dict(window, name=name, status=status, body=f"{name}.")
            if name == "Future upgrade":
                body.update(scheduled_for=at(24), scheduled_until=at(26))
            m = server.api("POST", incidents, body)["id"]
            for step in steps:
                server.api("POST", f"{incidents}/{m}/updates", {"status": step, "body": f"{step}."})
    return listed


@pytest.mark.parametrize("path", DOCUMENTS)
@pytest.mark.parametrize("org", [None, "acme"])
def test_documents_have_statuspage_shapes(server, pages, path, org):
    base = "/status" if org is None else f"/status/{org}"
    body, headers = fetch(server, f"{base}/api/v2/{path}", server.token)
    assert headers["Content-Type"] == "application/json"
    document = json.loads(body)
    problems = check_shape(fixture(path), document)
    assert problems == [], "\n".join(problems)
    lists = [v for v in document.values() if isinstance(v, list)]
    assert all(lists), f"{path}: every list holds something to compare: {document}"


def test_a_maintenance_in_each_state_and_an_incident_with_affected_components(server, pages):
    body, _ = fetch(server, "/status/api/v2/scheduled-maintenances.json")
    states = sorted(m["status"] for m in json.loads(body)["scheduled_maintenances"])
    assert states == ["completed", "in_progress", "scheduled", "verifying"]
    body, _ = fetch(server, "/status/api/v2/incidents.json")
    resolved = [i for i in json.loads(body)["incidents"] if i["name"] == "Elevated API errors"][0]
    changes = [(u["status"], [(c["old_status"], c["new_status"]) for c in u["affected_components"]])
               for u in resolved["incident_updates"]]
    assert changes == [("resolved", [("partial_outage", "operational")]),
                       ("identified", [("major_outage", "partial_outage")]),
                       ("investigating", [("operational", "major_outage")])]


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_feeds_parse(server, pages, kind):
    body, headers = fetch(server, f"/status/history.{kind}")
    assert headers["Content-Type"].startswith(f"application/{kind}+xml")
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == ("atom10" if kind == "atom" else "rss20")
    titles = [e.title for e in feed.entries]
    assert {"Elevated API errors", "Slow mail", "Future upgrade", "Finished upgrade"} <= set(titles)
    entry = [e for e in feed.entries if e.title == "Elevated API errors"][0]
    assert entry.link.startswith(server.url + "/status/incidents/sti_")
    assert "Replaced." in (entry.content[0].value if kind == "atom" else entry.description)
    # The tenant's feed is private: the admin's token opens it, nobody else's absence does.
    body, _ = fetch(server, f"/status/acme/history.{kind}", server.token)
    assert not feedparser.parse(body).bozo
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(server, f"/status/acme/history.{kind}")
    assert refused.value.code == 404


def test_the_webhook_payload_has_statuspage_shapes():
    """A webhook subscriber gets Statuspage's payload: `meta`, `page` (with the page's state)
    and `incident` shaped as the documented incident object."""
    from conftest import StandIn, serve
    from stringer_server import Server, until

    received = []

    class Hook(StandIn):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.reply(200, "text/plain", b"ok")

    receiver, url = serve(Hook)
    s = Server(["--allow-private-webhooks"])
    try:
        page = [p for p in s.api("GET", "/api/v1/status-pages") if p["org"] is None][0]["id"]
        api = s.api("POST", f"/api/v1/status-pages/{page}/components", {"name": "API"})["id"]
        s.api("POST", f"/api/v1/status-pages/{page}/subscribers", {"kind": "webhook", "address": url + "/hook"})
        s.api("POST", f"/api/v1/status-pages/{page}/incidents",
              {"name": "API errors", "status": "identified", "impact": "major", "body": "A bad node.",
               "components": [{"id": api, "status": "partial_outage"}]})
        payload = until("the webhook", lambda: received and received[0])
        assert sorted(payload) == ["incident", "meta", "page"]
        assert sorted(payload["page"]) == ["id", "status_description", "status_indicator"]
        assert payload["page"]["status_indicator"] in ("none", "minor", "major", "critical", "maintenance")
        assert sorted(payload["meta"]) == ["documentation", "unsubscribe"]
        documented = fixture("incidents.json")["incidents"][0]
        problems = check_shape(documented, payload["incident"], "$.incident")
        assert problems == [], "\n".join(problems)
    finally:
        s.stop()
        receiver.shutdown()
