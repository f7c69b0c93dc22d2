"""Gives schemathesis real ids to work with, so that fuzzing reaches the code behind the ids
and not only the 404 of an unknown one.

    seed.py BASE_URL ADMIN_TOKEN CUSTOMER_TOKEN BASE_CONFIG OUT_DIR

Against a server started with `--demo`, it makes (through the API, as the admin) one of each
thing the fuzzer may change or delete — a user, a token, an integration key, a status
component, an incident, a subscriber, an override, a received mail, an inquiry, an
attachment — and writes OUT_DIR/admin.toml and OUT_DIR/customer.toml: BASE_CONFIG followed by
one `[[operations]]` block per path that fixes its path parameters to those ids. Deleting
operations get things made for them, so that a DELETE never takes away what the rest of the
run needs (the admin's own account, the customer's token). The customer's ids are the
customer's own (alice of acme): their ticket, their account, their org.
"""

import json
import sys
import urllib.request
from urllib.error import HTTPError


class Api:
    def __init__(self, base, token):
        self.base = base
        self.token = token

    def call(self, method, path, body=None, content_type="application/json", raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                text = answer.read()
        except HTTPError as error:
            raise SystemExit(f"seeding: {method} {path} answered {error.code}: {error.read()[:300]!r}")
        return json.loads(text) if text else None


def toml_string(value):
    """A TOML basic string (JSON's string escapes are TOML's)."""
    return json.dumps(str(value))


def operations(fixed):
    """`[[operations]]` blocks fixing each path's parameters to real ids (path, with method or
    all methods → its path parameters). A whole number goes through a dictionary instead:
    schemathesis then still sends an out-of-range one when it tests that malformed input is
    refused (a fixed value would replace it, and the server rightly accept it)."""
    numbers = sorted({v for params in fixed.values() for v in params.values() if isinstance(v, int)})
    blocks = [f"[dictionaries.n{v}]\nvalues = [{v}]" for v in numbers]
    for (method, path), params in fixed.items():
        lines = ["[[operations]]", f"include-path = {toml_string(path)}"]
        if method:
            lines.append(f"include-method = {toml_string(method)}")
        pairs = ", ".join(
            f"{toml_string('path.' + k)} = " + (f"{{ dictionary = \"n{v}\" }}" if isinstance(v, int) else toml_string(v))
            for k, v in params.items()
        )
        lines.append(f"parameters = {{ {pairs} }}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def admin_ids(api):
    open_tickets = api.call("GET", "/api/v1/tickets?status=open&limit=5")["items"]
    ticket = next(t for t in open_tickets if t["org"] == "acme")["key"]
    me = api.call("GET", "/api/v1/me")["id"]
    pages = api.call("GET", "/api/v1/status-pages")
    # The vendor's own page: an org's page goes away when the fuzzer makes the org shared.
    page = next(p for p in pages if p["org"] is None)["id"]
    schedule = api.call("GET", "/api/v1/schedules")["items"][0]
    on_call = schedule["spec"]["layers"][0]["rotation"]["members"][0]
    suffix = schedule["id"][-6:].lower()

    user = api.call("POST", "/api/v1/users", {
        "email": f"fuzz-{suffix}@stringer.example", "name": "Fuzz Target", "role": "engineer",
        "federal_cleared": False,
    })["id"]
    token = api.call("POST", "/api/v1/tokens", {"name": "fuzz", "scopes": ["read"], "expires_in_days": 1})["id"]
    key = api.call("POST", "/api/v1/orgs/acme/integration-keys", {"kind": "events_v2", "name": "fuzz"})["id"]
    granted = api.call("POST", "/api/v1/orgs/acme/integration-keys", {"kind": "events_v2", "name": "fuzz grant"})["id"]
    component = api.call("POST", f"/api/v1/status-pages/{page}/components", {
        "name": "Fuzz component", "status": "operational", "group": False, "showcase": True,
        "only_show_if_degraded": False,
    })["id"]
    incident = api.call("POST", f"/api/v1/status-pages/{page}/incidents", {
        "name": "Fuzz incident", "status": "investigating", "body": "Looking into it.", "components": [],
        "maintenance": False,
    })["id"]
    subscriber = api.call("POST", f"/api/v1/status-pages/{page}/subscribers", {
        "kind": "email", "address": f"fuzz-{suffix}@customer.example", "components": [],
    })["id"]
    override = {
        method: api.call("POST", f"/api/v1/schedules/{schedule['id']}/overrides", {
            "from": f"2030-01-0{day}T00:00:00Z", "to": f"2030-01-0{day + 1}T00:00:00Z", "user": on_call,
        })["id"]
        for day, method in ((1, "PUT"), (3, "DELETE"))
    }
    mail = api.call("POST", "/api/v1/mail/inbound", content_type="message/rfc822", raw=(
        "From: Someone <someone@unknown.example>\r\nTo: support@stringer.example\r\n"
        "Subject: Fuzz mail\r\nMessage-ID: <fuzz-" + suffix + "@unknown.example>\r\n\r\nHello.\r\n"
    ).encode())["id"]
    inquiry = api.call("POST", "/api/v1/contact", {
        "name": "Fuzz Prospect", "email": f"prospect-{suffix}@prospect.example", "body": "Tell me more.",
    })["id"]
    attachment = api.call("POST", f"/api/v1/tickets/{ticket}/attachments?filename=fuzz.log",
                          content_type="application/octet-stream", raw=b"a log line\n")["id"]
    return {
        (None, "/api/v1/tickets/{id}"): {"id": ticket},
        **{(None, f"/api/v1/tickets/{{id}}/{rest}"): {"id": ticket} for rest in (
            "acknowledge", "assign", "attachments", "bridge", "changes", "comments", "page", "reopen",
            "report", "report/comments", "report/steps", "resolve", "status-incident", "timeline")},
        (None, "/api/v1/attachments/{id}"): {"id": attachment},
        (None, "/api/v1/inquiries/{id}/answer"): {"id": inquiry},
        (None, "/api/v1/integration-keys/{id}"): {"id": key},
        (None, "/api/v1/mail/{id}/original"): {"id": mail},
        (None, "/api/v1/mail/{id}/route"): {"id": mail},
        (None, "/api/v1/mail/suppressions/{address}"): {"address": f"fuzz-{suffix}@customer.example"},
        **{(None, f"/api/v1/schedules/{{id}}{rest}"): {"id": schedule["id"]} for rest in (
            "", "/on-call", "/overrides", "/shifts")},
        **{(method, "/api/v1/schedules/{id}/overrides/{override_id}"): {"id": schedule["id"], "override_id": made}
           for method, made in override.items()},
        ("GET", "/api/v1/users/{id}"): {"id": me},
        ("PATCH", "/api/v1/users/{id}"): {"id": user},
        ("DELETE", "/api/v1/users/{id}"): {"id": user},
        **{(None, f"/api/v1/users/{{id}}/{rest}"): {"id": user} for rest in (
            "calendar-feed", "contact-methods", "notification-rules", "password-link", "phone", "phone/confirm")},
        (None, "/api/v1/tokens/{id}"): {"id": token},
        **{(None, f"/api/v1/orgs/{{slug}}{rest}"): {"slug": "acme"} for rest in (
            "", "/integration-keys", "/kickoff", "/mail", "/packet", "/phone-pin")},
        (None, "/api/v1/orgs/{slug}/reviews/{quarter}/recommendations"): {"slug": "acme", "quarter": "2026-Q3"},
        **{(None, f"/api/v1/status-pages/{{page}}{rest}"): {"page": page} for rest in (
            "", "/components", "/incidents", "/subscribers")},
        (None, "/api/v1/status-pages/{page}/components/{component}"): {"page": page, "component": component},
        (None, "/api/v1/status-pages/{page}/alert-keys/{key}"): {"page": page, "key": granted},
        (None, "/api/v1/status-pages/{page}/incidents/{incident}/updates"): {"page": page, "incident": incident},
        (None, "/api/v1/status-pages/{page}/subscribers/{subscriber}"): {"page": page, "subscriber": subscriber},
    }


def customer_ids(api):
    me = api.call("GET", "/api/v1/me")
    ticket = api.call("GET", "/api/v1/tickets?limit=1")["items"][0]["key"]
    return {
        (None, "/api/v1/tickets/{id}"): {"id": ticket},
        **{(None, f"/api/v1/tickets/{{id}}/{rest}"): {"id": ticket} for rest in (
            "acknowledge", "assign", "attachments", "bridge", "changes", "comments", "page", "reopen",
            "report", "report/comments", "report/steps", "resolve", "status-incident", "timeline")},
        **{(None, f"/api/v1/users/{{id}}{rest}"): {"id": me["id"]} for rest in (
            "", "/calendar-feed", "/contact-methods", "/notification-rules", "/password-link", "/phone",
            "/phone/confirm")},
        **{(None, f"/api/v1/orgs/{{slug}}{rest}"): {"slug": me["org"]} for rest in (
            "", "/integration-keys", "/kickoff", "/mail", "/packet", "/phone-pin")},
        (None, "/api/v1/orgs/{slug}/reviews/{quarter}/recommendations"): {"slug": me["org"], "quarter": "2026-Q3"},
    }


def main():
    base, admin, customer, base_config, out = sys.argv[1:6]
    head = open(base_config).read().rstrip() + "\n\n"
    # The customer's ids are read first: the admin's run may resolve or change them.
    customer_config = head + operations(customer_ids(Api(base, customer)))
    admin_config = head + operations(admin_ids(Api(base, admin)))
    with open(f"{out}/admin.toml", "w") as f:
        f.write(admin_config)
    with open(f"{out}/customer.toml", "w") as f:
        f.write(customer_config)


if __name__ == "__main__":
    main()
