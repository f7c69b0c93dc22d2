"""Stringer calls Slack's Web API as Slack's own Python SDK (slack_sdk's WebClient) does: the
same local stand-in records what each sends — content type and arguments — for the calls of
a channel kickoff, and Stringer's must match the SDK's: a form for the methods Slack documents
as form-encoded (conversations.create, conversations.invite, conversations.inviteShared,
pins.add; booleans as 1/0, lists joined with commas), and JSON marked UTF-8 otherwise."""

import json
import urllib.parse

import pytest
from conftest import StandIn, serve
from slack_sdk import WebClient
from stringer_server import Server, until

FORM_METHODS = ["conversations.create", "conversations.invite", "conversations.inviteShared", "pins.add"]


class Recorder:
    """A Slack stand-in recording (method, media type, charset, arguments) of every call."""

    def __init__(self):
        self.calls = []
        recorder = self

        class Handler(StandIn):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                kind, _, params = self.headers.get("Content-Type", "").partition(";")
                charset = dict(p.strip().lower().split("=", 1) for p in params.split(";") if "=" in p).get("charset")
                if kind.strip() == "application/json":
                    args = json.loads(raw)
                else:
                    args = dict(urllib.parse.parse_qsl(raw))
                method = self.path.rsplit("/", 1)[-1]
                recorder.calls.append((method, kind.strip(), charset, args))
                answer = {"ok": True, "channel": "CZEN", "ts": "1733100000.000100"}
                if method == "users.lookupByEmail":
                    answer = {"ok": True, "user": {"id": "UTINA"}}
                elif method == "conversations.create":
                    answer = {"ok": True, "channel": {"id": "CZEN", "name": args["name"]}}
                self.reply(200, "application/json", json.dumps(answer).encode())

        self.server, self.url = serve(Handler)

    def of(self, method):
        found = [c for c in self.calls if c[0] == method]
        assert found, f"no {method} call: {self.calls}"
        return found[0][1:]

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def sdk():
    """What slack_sdk sends for the calls a kickoff makes."""
    recorder = Recorder()
    client = WebClient(token="xoxb-test", base_url=recorder.url + "/api/")
    client.conversations_create(name="zen-support", is_private=False)
    client.conversations_invite(channel="CZEN", users=["UTINA"])
    client.conversations_inviteShared(channel="CZEN", emails=["zara@zen.example"])
    client.chat_postMessage(channel="CZEN", text="Welcome")
    client.pins_add(channel="CZEN", timestamp="1733100000.000100")
    yield recorder
    recorder.stop()


@pytest.fixture(scope="module")
def stringer():
    """What Stringer sends for a kickoff of zen's channel."""
    recorder = Recorder()
    s = Server(["--slack-token", "xoxb-test", "--slack-api-url", recorder.url + "/api"])
    tina = s.api("POST", "/api/v1/users", {"email": "tina@vendor.example", "name": "Tina", "role": "tam"})
    s.api("POST", "/api/v1/orgs", {"slug": "zen", "name": "Zen", "tier": "enterprise", "deployment": "dedicated",
                                  "tam": tina["id"]})
    s.api("POST", "/api/v1/users", {"email": "zara@zen.example", "name": "Zara", "role": "org_admin", "org": "zen",
                                   "password": "zara-password-123"})
    s.api("PATCH", "/api/v1/orgs/zen", {"slack_channel": "#zen-support"})
    until("the welcome pinned", lambda: [c for c in recorder.calls if c[0] == "pins.add"])
    yield recorder
    s.stop()
    recorder.stop()


@pytest.mark.parametrize("method", FORM_METHODS)
def test_form_methods_are_sent_as_the_sdk_sends_them(sdk, stringer, method):
    (sdk_kind, _, sdk_args), (our_kind, _, our_args) = sdk.of(method), stringer.of(method)
    assert sdk_kind == our_kind == "application/x-www-form-urlencoded"
    assert sorted(our_args) == sorted(sdk_args), (our_args, sdk_args)
    assert our_args == sdk_args, (our_args, sdk_args)


def test_json_calls_say_their_charset(sdk, stringer):
    sdk_kind, sdk_charset, _ = sdk.of("chat.postMessage")
    our_kind, our_charset, args = stringer.of("chat.postMessage")
    assert (our_kind, our_charset) == (sdk_kind, sdk_charset) == ("application/json", "utf-8")
    assert args["channel"] == "CZEN"
