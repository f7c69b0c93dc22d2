"""The shared Slack channel, driven by requests signed with Slack's own Python SDK
(slack_sdk's SignatureVerifier) against the real server, with a local stand-in for Slack's
Web API recording each call: the Events API handshake, a customer's message opening a
ticket answered in its thread, thread replies as comments, Slack's retry stored once,
stale/forged/replayed requests refused, and the /stringer slash command."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import SlackApi
from slack_sdk.signature import SignatureVerifier
from stringer_server import Server, until

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture(scope="module")
def slack():
    api = SlackApi({"UALICE": "alice@acme.example", "UTINA": "tina@vendor.example"})
    yield api
    api.stop()


@pytest.fixture(scope="module")
def desk(slack):
    s = Server(["--slack-token", "xoxb-test", "--slack-signing-secret", SECRET, "--slack-api-url", slack.url])
    s.api("POST", "/api/v1/orgs", {"slug": "acme", "name": "Acme Corp", "tier": "enterprise",
                                  "deployment": "dedicated"})
    s.api("PATCH", "/api/v1/orgs/acme", {"slack_channel": "#stringer-acme"})
    s.api("POST", "/api/v1/users", {"email": "alice@acme.example", "name": "Alice", "role": "member",
                                   "org": "acme", "password": "alice-password-123"})
    s.api("POST", "/api/v1/users", {"email": "tina@vendor.example", "name": "Tina", "role": "tam",
                                   "password": "tina-password-123"})
    yield s
    s.stop()


def post(server, path, body, content_type, timestamp=None, signature=None):
    timestamp = str(int(time.time())) if timestamp is None else str(timestamp)
    if signature is None:
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    req = urllib.request.Request(server.url + path, data=body.encode(), method="POST")
    req.add_header("Content-Type", content_type)
    req.add_header("X-Slack-Request-Timestamp", timestamp)
    req.add_header("X-Slack-Signature", signature)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def event(server, event_id, **message):
    body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": event_id,
                       "event": {"type": "message", "channel": "CSTRINGER-ACME", **message}})
    return post(server, "/slack/events", body, "application/json")


def command(server, user, text, channel="CSTRINGER-ACME"):
    body = urllib.parse.urlencode({"command": "/stringer", "text": text, "user_id": user, "channel_id": channel,
                                   "team_id": "T1", "response_url": "https://hooks.slack.example/commands/1"})
    status, answer = post(server, "/slack/commands", body, "application/x-www-form-urlencoded")
    assert status == 200, answer
    return json.loads(answer)


def tickets(server, subject):
    return [t for t in server.api("GET", "/api/v1/tickets?limit=200")["items"] if t["subject"] == subject]


def test_signatures(desk):
    handshake = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                            "type": "url_verification"})
    status, answer = post(desk, "/slack/events", handshake, "application/json")
    assert (status, json.loads(answer)) == (200, {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    stale = int(time.time()) - 600
    assert post(desk, "/slack/events", handshake, "application/json", timestamp=stale)[0] == 401
    assert post(desk, "/slack/events", handshake, "application/json", signature="v0=" + "0" * 64)[0] == 401
    # The very same signed request twice: the second is a replay.
    now = str(int(time.time()) - 3)
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=now, body=handshake)
    assert post(desk, "/slack/events", handshake, "application/json", now, signature)[0] == 200
    assert post(desk, "/slack/events", handshake, "application/json", now, signature)[0] == 401


def test_channel_messages_and_threads(desk, slack):
    assert event(desk, "EvA1", user="UALICE", ts="1733100000.000100", text="VPN drops every hour\nSince Monday.")[0] == 200
    t = until("the ticket", lambda: tickets(desk, "VPN drops every hour"))[0]
    assert (t["channel"], t["org"]) == ("slack", "acme")
    answer = until("the answer in the thread",
                   lambda: [p for p in slack.of("chat.postMessage") if p.get("thread_ts") == "1733100000.000100"])[0]
    assert f"Opened {t['key']}" in answer["text"]
    # Slack retries the event (signed anew, a second later): stored once.
    time.sleep(1)
    assert event(desk, "EvA1", user="UALICE", ts="1733100000.000100", text="VPN drops every hour\nSince Monday.")[0] == 200
    assert event(desk, "EvA2", user="UALICE", ts="1733100000.000200", thread_ts="1733100000.000100",
                 text="It dropped again at 10:02.")[0] == 200
    assert event(desk, "EvA3", user="UTINA", ts="1733100000.000300", thread_ts="1733100000.000100",
                 text="Thanks, we see it in the gateway logs.")[0] == 200
    comments = until("both replies", lambda: (lambda c: c if len(c) >= 2 else None)(
        desk.api("GET", f"/api/v1/tickets/{t['key']}/comments")["items"]))
    assert [c["body"] for c in comments] == ["It dropped again at 10:02.", "Thanks, we see it in the gateway logs."]
    assert len(tickets(desk, "VPN drops every hour")) == 1


def test_slash_command(desk):
    opened = command(desk, "UALICE", "new Reports are empty")
    assert opened["response_type"] == "in_channel" and "opened ACME-" in opened["text"]
    key = next(w for w in opened["text"].split() if w.startswith("ACME-"))
    status = command(desk, "UALICE", f"status {key}")
    assert status["response_type"] == "ephemeral" and "Reports are empty" in status["text"]
    paged = command(desk, "UALICE", f"page {key}")
    assert f"paged on-call for {key}" in paged["text"]
    assert "Usage" in command(desk, "UALICE", "dance")["text"]
    assert "has not confirmed an email address" in command(desk, "UNOBODY", "new x")["text"]
    assert "no org's shared channel" in command(desk, "UALICE", "new x", channel="CGENERAL")["text"]
