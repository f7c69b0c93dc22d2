"""The P1 phone line, driven by requests signed as Twilio signs them (the `twilio` helper
library's RequestValidator) against the real server, with a local stand-in for Twilio's REST
API recording the pages Stringer places meanwhile. Every TwiML answer is checked against the
verbs, nouns and attributes of the helper library's own TwiML model.

Walked: an Enterprise caller known by caller ID opens a P1 and is put through to the on-call
engineer while on-call is paged; the person who answers acknowledges and the talk's length
goes on the timeline; nobody answering rings the next person, then the TAM, then records a
message with its transcription; an unknown caller keys in the org's PIN; a Pro caller hears
when the line opens; forged, re-addressed and other-account requests are refused."""

import base64
import inspect
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from conftest import TwilioApi
from stringer_server import Server, until
from twilio.request_validator import RequestValidator
from twilio.twiml import voice_response

ACCOUNT = "AC" + "0" * 31 + "1"
TOKEN = "0123456789abcdef0123456789abcdef"
LINE = "+15550109999"
NED, TINA, VIC = "+15550100001", "+15550100002", "+15550100003"
ALICE, BOB = "+15550200001", "+15550300001"


@pytest.fixture(scope="module")
def twilio():
    api = TwilioApi()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def line(twilio):
    s = Server(["--sms-account", ACCOUNT, "--sms-token", TOKEN, "--sms-from", LINE, "--sms-api-url", twilio.url,
                "--phone-ring-seconds", "15"])
    staff = {}
    for name, role, number, kind in [("ned", "engineer", NED, "voice"), ("tina", "tam", TINA, "sms"),
                                     ("vic", "vp_engineering", VIC, "voice")]:
        user = s.api("POST", "/api/v1/users", {"email": f"{name}@vendor.example", "name": name.title(),
                                                "role": role, "password": f"{name}-password-123"})
        s.api("POST", f"/api/v1/users/{user['id']}/contact-methods", {"kind": kind, "address": number})
        staff[name] = user["id"]
    s.api("POST", "/api/v1/orgs", {"slug": "acme", "name": "Acme Corp", "tier": "enterprise",
                                  "deployment": "dedicated"})
    s.api("PATCH", "/api/v1/orgs/acme", {"tam": staff["tina"], "named_engineers": [staff["ned"]]})
    s.api("POST", "/api/v1/orgs", {"slug": "bolt", "name": "Bolt Inc", "tier": "pro", "deployment": "shared"})
    customers = {}
    for name, org, number in [("alice", "acme", ALICE), ("bob", "bolt", BOB)]:
        user = s.api("POST", "/api/v1/users", {"email": f"{name}@{org}.example", "name": name.title(),
                                                "role": "member", "org": org, "password": f"{name}-password-123"})
        assert s.api("PUT", f"/api/v1/users/{user['id']}/phone", {"number": number}) == {"number": number}
        customers[name] = user["id"]
    s.staff, s.customers = staff, customers
    s.pin = s.api("POST", "/api/v1/orgs/acme/phone-pin")["pin"]
    yield s
    s.stop()


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def check_twiml(text):
    """Every element is a verb or noun the helper library's TwiML model has at that place
    (`VoiceResponse.dial`, `Dial.number`, …) and every attribute one of that method's named
    parameters; returns the parsed document."""
    root = ET.fromstring(text)
    assert root.tag == "Response"

    def walk(element, cls):
        for child in element:
            method = getattr(cls, snake(child.tag), None)
            assert method is not None, f"<{child.tag}> is no verb of <{element.tag}>"
            params = set(inspect.signature(method).parameters) - {"self", "kwargs"}
            for attribute in child.attrib:
                assert snake(attribute) in params, f"<{child.tag} {attribute}> is not documented"
            noun = getattr(voice_response, child.tag)
            walk(child, noun)

    walk(root, voice_response.VoiceResponse)
    return root


def post(server, path, form, token=TOKEN, signed_url=None):
    url = server.url + path
    signature = RequestValidator(token).compute_signature(signed_url or url, form)
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    req.add_header("X-Twilio-Signature", signature)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode(), resp.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers.get("Content-Type")


def step(server, url, form):
    """Posts to a URL the server's TwiML gave (absolute), signed for it; the checked TwiML."""
    path = url.removeprefix(server.url)
    status, text, kind = post(server, path, form)
    assert status == 200, text
    assert kind.startswith("text/xml")
    return check_twiml(text)


def call(sid, caller, **more):
    return {"AccountSid": ACCOUNT, "CallSid": sid, "From": caller, "To": LINE, "CallStatus": "in-progress",
            "Direction": "inbound", "ApiVersion": "2010-04-01", **more}


def said(root):
    return " ".join(e.text or "" for e in root.iter("Say"))


def by_caller(server, caller):
    items = server.api("GET", "/api/v1/tickets?limit=200")["items"]
    return [t for t in items if t["subject"] == f"Call to the P1 line from {caller}"]


def comments(server, key):
    return [c["body"] for c in server.api("GET", f"/api/v1/tickets/{key}/comments")["items"]]


def test_an_enterprise_caller_is_put_through_and_the_answer_acknowledges(line, twilio):
    root = step(line, line.url + "/twilio/voice", call("CA100", ALICE))
    dial = root.find("Dial")
    assert dial is not None and dial.get("timeout") == "15" and dial.get("callerId") == LINE
    assert dial.find("Number").text == NED
    [t] = by_caller(line, ALICE)
    assert (t["severity"], t["channel"], t["org"], t["requester"]) == ("P1", "phone", "acme", line.customers["alice"])
    assert " ".join(t["key"].replace("-", "")) in said(root)
    # The P1 pages on-call (ned's voice contact method) while the call rings him.
    until("ned paged in parallel", lambda: twilio.to(NED))

    # Ned answers: his leg asks the Number's url; he hears what the call is about.
    answered = dial.find("Number").get("url")
    whisper = step(line, answered, {"AccountSid": ACCOUNT, "CallSid": "CA100-ned", "ParentCallSid": "CA100",
                                    "From": LINE, "To": NED, "CallStatus": "in-progress"})
    assert "Connecting you now" in said(whisper)
    t = line.api("GET", f"/api/v1/tickets/{t['key']}")
    assert t["acknowledged_by"] == line.staff["ned"] and t["acknowledged_at"]

    # The call ends after 95 s: on the timeline, and the caller's leg hangs up.
    done = step(line, dial.get("action"), call("CA100", ALICE, DialCallStatus="completed",
                                               DialCallDuration="95", DialCallSid="CA100-ned"))
    assert [e.tag for e in done] == ["Hangup"]
    notes = comments(line, t["key"])
    assert any("Ned answered the call" in n for n in notes), notes
    assert any("ended after 95 s" in n for n in notes), notes

    # The provider asking again about the same call finds the same ticket.
    again = step(line, line.url + "/twilio/voice", call("CA100", ALICE))
    assert again.find("Dial") is not None and len(by_caller(line, ALICE)) == 1


def test_nobody_answers_then_the_next_person_then_the_tam_then_a_message(line, twilio):
    root = step(line, line.url + "/twilio/voice", call("CA200", ALICE))
    ticket_id = urllib.parse.parse_qs(urllib.parse.urlparse(root.find("Dial").get("action")).query)["ticket"][0]
    rung = []
    while root.find("Dial") is not None:
        dial = root.find("Dial")
        rung.append(dial.find("Number").text)
        root = step(line, dial.get("action"), call("CA200", ALICE, DialCallStatus="no-answer"))
    # On-call first, then the escalation's next (the TAM, then the VP), each once.
    assert rung[0] == NED and set(rung) == {NED, TINA, VIC} and len(rung) == 3
    record = root.find("Record")
    assert record is not None and record.get("transcribe") == "true"
    [t] = [x for x in by_caller(line, ALICE) if x["id"] == ticket_id]
    recording = f"{twilio.url}/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE1"
    bye = step(line, record.get("action"), call("CA200", ALICE, RecordingUrl=recording,
                                                 RecordingDuration="31", RecordingSid="RE1"))
    assert "Your message is on ticket" in said(bye) and bye[-1].tag == "Hangup"
    step(line, record.get("transcribeCallback"),
         call("CA200", ALICE, TranscriptionStatus="completed", TranscriptionText="The API is down for everyone.",
              RecordingUrl=recording, TranscriptionSid="TR1"))
    notes = comments(line, t["key"])
    assert sum("did not answer" in n for n in notes) == 3, notes
    assert any(f"left a message of 31 s: {recording}" in n for n in notes), notes
    # The message itself is attached to the ticket (staff only), fetched with the account's
    # credentials.
    attached = until("the recording attached", lambda: [
        a for a in line.api("GET", f"/api/v1/tickets/{t['key']}/attachments")["items"]
        if a["filename"] == "message-CA200.mp3"])
    assert (attached[0]["content_type"], attached[0]["public"], attached[0]["size"]) == \
        ("audio/mpeg", False, len(TwilioApi.RECORDING))
    auth = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert (f"/2010-04-01/Accounts/{ACCOUNT}/Recordings/RE1.mp3", auth) in twilio.fetched
    assert any("The API is down for everyone." in n for n in notes), notes
    assert line.api("GET", f"/api/v1/tickets/{t['key']}")["acknowledged_at"] is None


def test_an_unknown_caller_keys_in_the_org_pin(line):
    stranger = "+15550400001"
    root = step(line, line.url + "/twilio/voice", call("CA300", stranger))
    gather = root.find("Gather")
    assert gather is not None and "PIN" in said(gather)
    wrong = step(line, gather.get("action"), call("CA300", stranger, Digits="00000000"))
    assert wrong.find("Gather") is not None and "not known" in said(wrong)
    right = step(line, wrong.find("Gather").get("action"), call("CA300", stranger, Digits=line.pin))
    assert right.find("Dial").find("Number").text == NED
    [t] = by_caller(line, stranger)
    assert (t["org"], t["requester"], t["channel"]) == ("acme", None, "phone")
    # Three wrong PINs end the call with where else to go.
    root = step(line, line.url + "/twilio/voice", call("CA301", stranger))
    for _ in range(3):
        root = step(line, root.find("Gather").get("action"), call("CA301", stranger, Digits="12345678"))
    assert root.find("Gather") is None and "support portal" in said(root) and root[-1].tag == "Hangup"


def test_a_pro_caller_gets_through_only_as_the_contract_allows(line):
    root = step(line, line.url + "/twilio/voice", call("CA400", BOB))
    assert "has no open P1 ticket" in said(root) and "30 minutes" in said(root) and root[-1].tag == "Hangup"
    opened = line.api("POST", "/api/v1/tickets", {"org": "bolt", "severity": "P1", "subject": "Bolt is down",
                                                  "description": "All requests fail."})
    root = step(line, line.url + "/twilio/voice", call("CA401", BOB))
    assert root.find("Dial") is None and root[-1].tag == "Hangup"
    assert "This line opens for it at" in said(root), said(root)
    assert " ".join(opened["key"].replace("-", "")) in said(root)
    assert by_caller(line, BOB) == []


def test_requests_not_signed_for_this_line_are_refused(line):
    form = call("CA500", ALICE)
    assert post(line, "/twilio/voice", form, token="another-token")[0] == 403
    assert post(line, "/twilio/voice", form, signed_url="https://elsewhere.example/twilio/voice")[0] == 403
    assert post(line, "/twilio/voice", {**form, "AccountSid": "AC" + "9" * 32})[0] == 403
    assert post(line, "/twilio/voice", form)[0] == 200
    # A ticket named in a callback must be the call's own.
    other = by_caller(line, ALICE)[0]["id"]
    status, _, _ = post(line, f"/twilio/voice/rang?ticket={other}&place=0&whom={line.staff['ned']}",
                        call("CA999", ALICE, DialCallStatus="completed"))
    assert status == 404
    assert post(line, "/twilio/voice/nowhere", form)[0] == 400
    assert len(by_caller(line, ALICE)) == 3
