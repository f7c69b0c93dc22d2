"""PagerDuty's official Python client against Stringer's Events API v2 where the answers are
details: a routing key of the wrong shape is refused in PagerDuty's own words, and a key
whose budget is spent gets PagerDuty's 429 with Retry-After."""

import pagerduty
import pytest
from conftest import TlsFront
from stringer_server import Server


@pytest.fixture(scope="module")
def slow_server():
    """A server taking six events a minute per key (a burst of one, then one every ten
    seconds), with the org acme."""
    s = Server(["--alert-events-per-minute", "6"])
    s.api("POST", "/api/v1/orgs", {"slug": "acme", "name": "Acme Corp", "tier": "enterprise",
                                  "deployment": "dedicated"})
    front = TlsFront(s.url)
    yield s, front
    front.stop()
    s.stop()


def test_a_routing_key_of_the_wrong_length(slow_server):
    _, tls = slow_server
    client = pagerduty.EventsApiV2Client("e+23rschqsESqk9Q6_-g", base_url=tls.url, verify=tls.context)
    with pytest.raises(pagerduty.Error) as refused:
        client.trigger("Disk full", "db1")
    assert refused.value.response.status_code == 400
    assert refused.value.response.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)",
                   "'routing_key' cannot contain non-alphanumeric characters."],
    }


def test_a_spent_budget_says_when_to_retry(slow_server):
    server, tls = slow_server
    key = server.api("POST", "/api/v1/orgs/acme/integration-keys", {"name": "monitor", "kind": "events_v2"})["key"]
    client = pagerduty.EventsApiV2Client(key, base_url=tls.url, verify=tls.context)
    # The library retries a 429 without end by default; here once, at once, then it raises.
    client.retry[429] = 1
    client.sleep_timer = 0.01
    assert client.trigger("Disk full", "db1", dedup_key="disk/db1") == "disk/db1"
    with pytest.raises(pagerduty.Error) as throttled:
        client.trigger("Disk full again", "db1", dedup_key="disk/db1")
    response = throttled.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "10"
    assert response.json()["status"] == "throttle exceeded"
