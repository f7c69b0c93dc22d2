"""Lists schemathesis's failures one per line — check, operation, status, and the server's
own words (the problem document's `detail`) — and checks each refusal of a schema-valid
request (ST202) against REFUSALS: the business rules a schema cannot state. Any other ST202
means the OpenAPI document is looser than the server, and fails the run.

    failures.py SCHEMATHESIS_OUTPUT
"""

import json
import re
import sys

# (operation, what the server says, why the schema cannot say it). The operation is matched
# exactly ("Stateful tests" for the stateful phase; None: any), the words as a regular
# expression.
REFUSALS = [
    # The state of a ticket, an account or the server.
    ("PATCH /api/v1/tickets/{id}", r"cannot \w+ a resolved ticket|is open already", "the ticket's state"),
    ("POST /api/v1/tickets/{id}/acknowledge", r"resolved ticket", "the ticket's state"),
    ("POST /api/v1/tickets/{id}/resolve", r"resolved ticket", "the ticket's state"),
    ("POST /api/v1/tickets/{id}/reopen", r"only a resolved ticket", "the ticket's state"),
    ("POST /api/v1/tickets/{id}/bridge", r"only a security incident", "the ticket's kind"),
    ("POST /api/v1/tickets/{id}/report/steps", r"revision|an edit carries the sections|no report|step",
     "the report's state, or a step that needs the sections"),
    ("POST /api/v1/users/{id}/phone/confirm", r"no code is waiting", "no code was sent"),
    ("PUT /api/v1/orgs/{slug}/reviews/{quarter}/recommendations", r"has not begun", "a quarter still to come"),
    ("POST /api/v1/orgs/{slug}/kickoff", r"no Slack app is configured", "the server has no Slack app"),
    ("POST /api/v1/orgs/{slug}/packet", r"no mail relay", "the server has no mail relay"),
    # An id of the right shape that names nothing (or nothing of this kind) here.
    (None, r"is not an? (active )?staff user", "an unknown user"),
    ("POST /api/v1/status-pages/{page}/components", r"names no group of this page", "an unknown group"),
    ("POST /api/v1/tickets/{id}/status-incident", r"is not on this page", "an unknown component"),
    ("POST /api/v1/status-pages/{page}/incidents/{incident}/updates", r"is not on this page", "an unknown component"),
    # Rules across two fields or parameters.
    ("POST /api/v1/tickets", r"severity: one of the contract's severities", "severity is needed unless security"),
    ("POST /api/v1/users", r"staff users have no org; customer users need one", "the org follows the role"),
    ("POST /api/v1/users/{id}/contact-methods", r"^address: ", "the address's shape follows the kind"),
    ("POST /api/v1/status-pages/{page}/subscribers", r"^address: ", "the address's shape follows the kind"),
    ("POST /api/v1/status-pages/{page}/incidents", r"a maintenance's status|an incident's status|scheduled",
     "the status and times follow `maintenance`"),
    ("POST /api/v1/status-pages/{page}/incidents/{incident}/updates", r"needs a status|status is",
     "a component's status is needed, and the statuses follow the incident's kind"),
    ("GET /api/v1/schedules/{id}/shifts", r"ends before it starts|366 days", "`to` follows `from`"),
    ("GET /api/v1/ledger/consistency", r"a consistency proof needs 0 < from < to <=",
     "`to` follows `from` and is at most the log's size"),
    ("GET /api/v1/tickets/{id}/proof", r"^from: a tree size from 1 to", "`from` is at most the signed head's size"),
    ("POST /api/v1/schedules", r"at or before it opens|overlap", "a window's `to` follows its `from`; windows apart"),
    ("GET /api/v1/tickets", r"order=due has no cursor", "the queue (order=due) is one page"),
    ("Stateful tests", r"order=due has no cursor", "the queue (order=due) is one page"),
    ("Stateful tests", r"accepting strangers' mail needs", "`accept` needs domains"),
    # What a file's bytes are, against its name (the body is raw bytes).
    ("POST /api/v1/tickets/{id}/attachments", r"but its name says|not accepted|is empty", "the bytes' kind"),
    # Not schema-valid at all: the stateful phase's inferred links put one resource's id where
    # another's goes (a schedule id as a user id); refused as the path pattern says.
    ("DELETE /api/v1/tokens/{id}", r"malformed token id", "an inferred link gave another resource's id"),
    ("DELETE /api/v1/users/{id}", r"malformed user id", "an inferred link gave another resource's id"),
    ("PUT /api/v1/users/{id}/notification-rules", r"malformed user id", "an inferred link gave another resource's id"),
    ("PUT /api/v1/users/{id}/phone", r"malformed user id", "an inferred link gave another resource's id"),
    ("POST /api/v1/users/{id}/contact-methods", r"malformed user id", "an inferred link gave another resource's id"),
    ("GET /api/v1/tickets/{id}/proof", r"malformed ticket id", "an inferred link gave another resource's id"),
]

HEADING = re.compile(r"^_{3,} (.+?) _{3,}$")
CHECK = re.compile(r"^- (ST\d+) (.+)$")
STATUS = re.compile(r"^\[(\d{3})\] ")
COMPONENT = re.compile(r"^\s+Invalid component: (.+)$")


def failures(lines):
    operation = code = status = component = None
    for line in lines:
        if m := HEADING.match(line):
            operation = m.group(1)
        elif m := CHECK.match(line):
            code, status, component = m.group(1), None, None
        elif code and (m := COMPONENT.match(line)):
            component = m.group(1)
        elif code and (m := STATUS.match(line)):
            status = m.group(1)
        elif code and status and line.strip().startswith("`"):
            body = line.strip().strip("`")
            try:
                detail = json.loads(body).get("detail", body)
            except (ValueError, AttributeError):
                detail = body
            yield code, operation, status, f"{detail} [sent: {component}]" if component else detail
            code = status = None


def business_rule(operation, detail):
    """Why the refusal is a business rule, or None when the schema could have said it."""
    for known, words, why in REFUSALS:
        if known in (None, operation) and re.search(words, detail):
            return why
    return None


def main():
    text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
    part = text.split(" FAILURES ", 1)[-1].split(" SUMMARY ", 1)[0] if " FAILURES " in text else ""
    unexplained = 0
    for code, operation, status, detail in failures(part.splitlines()):
        why = business_rule(operation, detail) if code == "ST202" else None
        if code == "ST202" and why is None:
            unexplained += 1
            why = "NOT A BUSINESS RULE: the document is looser than the server"
        print(f"  {code} {operation} -> {status}: {detail}" + (f"  ({why})" if why else ""))
    sys.exit(1 if unexplained else 0)


if __name__ == "__main__":
    main()
