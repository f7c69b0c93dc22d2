"""Monitoring raises incidents: PagerDuty's official Python client sends trigger,
acknowledge, resolve and a change event to Stringer's Events API v2 and gets PagerDuty's
answers; the real Alertmanager, with a webhook receiver pointing at Stringer, fed a firing
and then a resolved alert through its own API, opens and resolves the ticket."""

import datetime
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

import pagerduty
import pytest
from stringer_server import until

ALERTMANAGER = os.environ.get("STRINGER_ALERTMANAGER", "/usr/bin/prometheus-alertmanager")


def tickets(server, subject):
    items = server.api("GET", "/api/v1/tickets?limit=200")["items"]
    return [t for t in items if t["subject"] == subject]


def ticket(server, key):
    return server.api("GET", f"/api/v1/tickets/{key}")


def new_key(server, kind, name):
    return server.api("POST", "/api/v1/orgs/acme/integration-keys", {"name": name, "kind": kind})["key"]


def test_pagerduty_client_library(server, tls):
    key = new_key(server, "events_v2", "pagerduty client")
    client = pagerduty.EventsApiV2Client(key, base_url=tls.url, verify=tls.context)

    # trigger: the library reads the dedup_key back from the 202.
    assert client.trigger("Checkout latency over 2 s", "api-1.prod", dedup_key="latency/api",
                          severity="error", custom_details={"p99_ms": 2300}) == "latency/api"
    t = until("the trigger's ticket", lambda: tickets(server, "Checkout latency over 2 s"))[0]
    assert (t["severity"], t["channel"], t["org"]) == ("P2", "alert", "acme")
    assert "p99_ms" in t["description"]

    # A trigger without a dedup_key gets one made up, which later events use.
    made = client.trigger("Queue depth rising", "worker-3", severity="warning")
    assert len(made) == 32

    # A change event is accepted and shown beside the org's tickets (those open, or resolved
    # after it: it is sent while the ticket is open, so no second boundary can fall between).
    client.send_change_event(payload={"summary": "Deployed checkout v7", "source": "ci",
                                      "custom_details": {"build": "981"}},
                             links=[{"href": "https://ci.example/981", "text": "Build 981"}])
    changes = server.api("GET", f"/api/v1/tickets/{t['key']}/changes")["items"]
    assert changes[0]["summary"] == "Deployed checkout v7"

    # acknowledge and resolve, by dedup_key.
    assert client.acknowledge("latency/api") == "latency/api"
    until("acknowledged", lambda: ticket(server, t["key"])["acknowledged_at"])
    assert client.resolve("latency/api") == "latency/api"
    until("resolved", lambda: ticket(server, t["key"])["status"] == "resolved")
    assert len(tickets(server, "Checkout latency over 2 s")) == 1
    changes = server.api("GET", f"/api/v1/tickets/{t['key']}/changes")["items"]
    assert changes[0]["summary"] == "Deployed checkout v7", "still shown once resolved"

    # An unknown routing key: PagerDuty's 400, which the library raises on.
    stranger = pagerduty.EventsApiV2Client("0" * 32, base_url=tls.url, verify=tls.context)
    with pytest.raises(pagerduty.Error) as refused:
        stranger.trigger("nope", "nowhere")
    assert refused.value.response.status_code == 400
    assert refused.value.response.json()["errors"] == ["Invalid routing key"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_alerts(base, alerts):
    req = urllib.request.Request(base + "/api/v2/alerts", data=json.dumps(alerts).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200


def test_real_alertmanager(server):
    assert os.path.exists(ALERTMANAGER), f"{ALERTMANAGER} is missing: apt-get install prometheus-alertmanager"
    key = new_key(server, "alertmanager", "alertmanager")
    work = tempfile.mkdtemp(prefix="alertmanager-")
    config = os.path.join(work, "alertmanager.yml")
    with open(config, "w") as f:
        f.write(f"""
route:
  receiver: stringer
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: stringer
    webhook_configs:
      - url: {server.url}/api/v1/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {key}
""")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "log"), "w+")
    am = subprocess.Popen([ALERTMANAGER, f"--config.file={config}", f"--storage.path={work}/data",
                           f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                          stdout=log, stderr=subprocess.STDOUT)
    try:
        def ready():
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
                    return r.status == 200
            except OSError:
                assert am.poll() is None, "alertmanager exited: " + open(log.name).read()
                return False
        until("alertmanager ready", ready)
        now = datetime.datetime.now(datetime.timezone.utc)
        alert = {"labels": {"alertname": "PaymentsDown", "severity": "critical", "instance": "pay-1"},
                 "annotations": {"summary": "Payments API is down"},
                 "startsAt": now.isoformat(), "generatorURL": "http://prometheus.example/graph"}
        post_alerts(base, [alert])
        t = until("the firing group's ticket", lambda: tickets(server, "Payments API is down"), 90)[0]
        assert (t["severity"], t["channel"]) == ("P1", "alert")
        assert "pay-1" in t["description"]

        resolved = dict(alert, endsAt=datetime.datetime.now(datetime.timezone.utc).isoformat())
        post_alerts(base, [resolved])
        until("the resolved group resolves the ticket", lambda: ticket(server, t["key"])["status"] == "resolved", 90)
        assert len(tickets(server, "Payments API is down")) == 1
    finally:
        am.terminate()
        am.wait(timeout=30)
