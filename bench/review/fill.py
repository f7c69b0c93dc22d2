"""Fills a Stringer SQLite database with generated tickets for the benchmarks of history:
ORGS orgs (half Pro, half Enterprise; an Enterprise org has the demo's TAM and engineers),
TICKETS tickets opened evenly over a window (2026 unless --quarter) across them, each a copy
of a real ticket state (taken from the demo desk the server made) with its own opening, tier,
severity, channel, response clock outcome, acknowledgement and resolution.

On the timeline, by default, a page for every P1 (the quarterly review counts pages). With
--events, each ticket's whole recorded history instead, change by change as the store writes
it (crates/store/src/commit.rs): the events people did — opened, acknowledged (with a public
reply or an assignment in the same change for some), replies public and internal, severity
changes, waiting on the customer and the customer's reply, resolved, reopened and resolved
again, post-incident reports published — and the notices of the sweeps and changes between
them (pages, escalation steps, queue notices, met and breached, reports due and overdue),
each row with the ticket version its change made, rows in commit order across tickets, the
ticket row at the last version. The events are exactly what a server records (the what-if
replays them); the notices have the store's format at plausible instants but are not
recomputed by the rules, so `stringer whatif --check` is not meaningful on such a database.

    python3 fill.py DATABASE TICKETS ORGS [--quarter 2026-Q3] [--events]
"""

import argparse
import copy
import datetime
import heapq
import json
import random
import sqlite3

SEVERITIES = ["P1", "P2", "P3", "P4"]
CHANNELS = ["portal", "email", "slack", "api"]
TARGET = {"P1": 3600, "P2": 4 * 3600, "P3": 8 * 3600, "P4": 24 * 3600}
BATCH = 20000


def utc(year, month):
    return int(datetime.datetime(year, month, 1, tzinfo=datetime.timezone.utc).timestamp())


def window(quarter):
    """The window's [start, end) in Unix seconds: a quarter like 2026-Q3, else the year 2026."""
    if quarter is None:
        return utc(2026, 1), utc(2027, 1)
    year, q = quarter.split("-Q")
    year, q = int(year), int(q)
    return utc(year, 3 * q - 2), utc(year + 1, 1) if q == 4 else utc(year, 3 * q + 1)


def iso(secs):
    return datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event(at, tid, kind, **fields):
    """An event's body as the store writes it: serde_json's Value, keys in order."""
    return json.dumps({"at": iso(at), "ticket": tid, "kind": kind, **fields}, sort_keys=True, separators=(",", ":"))


def notice(at, tid, kind, **fields):
    """A notice's body as the store writes it: the struct's field order; the people it
    reached (`to`) left out when none and one written as a string."""
    to = fields.get("to")
    if to is not None and len(to) < 2:
        if to:
            fields["to"] = to[0]
        else:
            del fields["to"]
    return json.dumps({"at": iso(at), "ticket": tid, "kind": kind, **fields}, separators=(",", ":"))


class Staff:
    """The demo's staff by role (user ids), who act and are paged."""

    def __init__(self, db):
        self.by_role = {}
        for uid, role in db.execute("SELECT id, role FROM users WHERE org IS NULL ORDER BY id"):
            self.by_role.setdefault(role, []).append(uid)

    def one(self, rng, role):
        return rng.choice(self.by_role.get(role) or self.by_role["admin"])

    def all(self, role):
        return self.by_role.get(role, [])


def history(rng, staff, tid, org, tier, opened, severity, channel, response, resolved):
    """A ticket's changes, each (instant, [timeline rows without ticket and version]) in the
    order committed; a row is (at, kind, actor, body). Answers the changes and the final
    severity."""
    changes = []
    eng = staff.one(rng, "engineer")
    enterprise = tier == "enterprise"

    def change(at, *rows):
        changes.append((at, list(rows)))

    def page(at, role, reason, sev):
        to = staff.all("engineer" if role == "oncall" else role)
        via = ["org_slack_channel", "contact_methods"] if enterprise and role == "oncall" else ["contact_methods"]
        return (at, "page", None, notice(at, tid, "page", role=role, reason=reason, to=to, via=via, severity=sev))

    opener = None if channel in ("email", "api") else eng
    first = [(opened, "ticket.opened", opener, event(opened, tid, "ticket.opened", org=org, severity=severity,
                                                       channel=channel))]
    if severity == "P1" or (enterprise and severity == "P2"):
        first.append(page(opened, "oncall", f"new {severity} ticket", severity))
    else:
        first.append((opened, "queue.notified", None, notice(opened, tid, "queue.notified", severity=severity)))
    change(opened, *first)
    acked = opened + response
    if rng.random() < 0.06:
        at = opened + max(1, response // 2)
        raised = SEVERITIES[max(0, SEVERITIES.index(severity) - 1)]
        lowered = SEVERITIES[min(3, SEVERITIES.index(severity) + 1)]
        new = raised if rng.random() < 0.5 else lowered
        if new != severity:
            rows = [(at, "ticket.severity_changed", eng, event(at, tid, "ticket.severity_changed", severity=new))]
            if new == "P1":
                rows.append(page(at, "oncall", "raised to P1", new))
            change(at, *rows)
            severity = new
    due = opened + TARGET[severity]
    if enterprise and severity in ("P1", "P2"):
        for after, role in [(900, "tam"), (1800, "vp_engineering")]:
            if response > after and (role == "tam" or severity == "P1"):
                change(opened + after, page(opened + after, role, f"unacknowledged after {after // 60} minutes",
                                            severity))
    met = acked <= due
    if not met:
        change(due + 1, (due + 1, "sla.breached", None, notice(due + 1, tid, "sla.breached", target="response",
                                                                 due=iso(due))))
    rows = [(acked, "ticket.acknowledged", eng, event(acked, tid, "ticket.acknowledged", by=eng))]
    if rng.random() < 0.4:
        rows.append((acked, "ticket.replied", eng, event(acked, tid, "ticket.replied", by=eng, public=True)))
    if rng.random() < 0.25:
        rows.append((acked, "ticket.assigned", eng, event(acked, tid, "ticket.assigned", to=eng)))
    if met:
        rows.append((acked, "sla.met", None, notice(acked, tid, "sla.met", target="response", due=iso(due))))
    change(acked, *rows)
    at = acked
    for public, share in [(False, 0.2), (True, 0.3)]:
        if rng.random() < share:
            at = min(resolved - 2, at + 1 + int(rng.random() * (resolved - at) / 3))
            change(at, (at, "ticket.replied", eng, event(at, tid, "ticket.replied", by=eng, public=public)))
    if rng.random() < 0.08 and resolved - at > 10:
        waits = at + (resolved - at) // 4
        replies = at + (resolved - at) // 2
        change(waits, (waits, "ticket.waiting_on_customer", eng, event(waits, tid, "ticket.waiting_on_customer")))
        change(replies, (replies, "ticket.customer_replied", None, event(replies, tid, "ticket.customer_replied")))
    # Resolved, and for a few reopened a while later and resolved again.
    for again in range(2):
        rows = [(resolved, "ticket.resolved", eng, event(resolved, tid, "ticket.resolved"))]
        report = again == 0 and severity in ("P1", "P2")
        if report:
            report_due = resolved + 7 * 86400
            rows.append((resolved, "report.due", None, notice(resolved, tid, "report.due", due=iso(report_due))))
        change(resolved, *rows)
        if report and rng.random() < 0.85:
            published = resolved + int(rng.uniform(3600, 5 * 86400))
            lead = staff.one(rng, "support_lead")
            change(published, (published, "report.published", lead, event(published, tid, "report.published")))
        elif report:
            to = staff.all("tam") + staff.all("support_lead")
            change(report_due, (report_due, "report.overdue", None, notice(
                report_due, tid, "report.overdue", due=iso(report_due), notify=["tam", "support_lead"], to=to)))
        if again == 0 and rng.random() < 0.03:
            reopened = max(at for at, _ in changes) + 3600 + int(rng.expovariate(1 / 86400))
            change(reopened, (reopened, "ticket.reopened", None, event(reopened, tid, "ticket.reopened")))
            resolved = reopened + int(rng.expovariate(1 / (6 * 3600))) + 60
        else:
            break
    changes.sort(key=lambda c: c[0])
    return changes, severity


def main(args):
    rng = random.Random(42)
    db = sqlite3.connect(args.database)
    start, end = window(args.quarter)
    staff = Staff(db)
    template = json.loads(db.execute("SELECT state FROM tickets ORDER BY id LIMIT 1").fetchone()[0])
    clock = template["clocks"][0]
    for o in range(args.orgs):
        slug = f"org{o:02d}"
        tier = "pro" if o % 2 else "enterprise"
        tam = staff.all("tam")[0] if tier == "enterprise" and staff.all("tam") else None
        engineers = json.dumps(staff.all("engineer") if tier == "enterprise" else [])
        db.execute(
            "INSERT INTO orgs (slug, name, tier, deployment, tam, named_engineers, email_tag, created_at, ticket_seq) "
            "VALUES (?, ?, ?, 'shared', ?, ?, ?, ?, 0)",
            (slug, f"Org {o}", tier, tam, engineers, slug, start))
    step = (end - start) / args.tickets
    batch, timeline = [], []
    # Changes not yet written, by commit instant: rows go in in commit order across tickets.
    pending = []
    for i in range(args.tickets):
        o = i % args.orgs
        org, tier = f"org{o:02d}", "pro" if o % 2 else "enterprise"
        opened = start + int(i * step)
        severity = rng.choices(SEVERITIES, weights=[5, 15, 40, 40])[0]
        response = max(1, int(rng.expovariate(1 / (TARGET[severity] * 0.6))))
        resolved = opened + response + 60 + int(rng.expovariate(1 / (6 * 3600)))
        tid = f"tkt_B{i:025d}"
        channel = rng.choice(CHANNELS)
        version, updated = 1, resolved
        if args.events:
            changes, severity = history(rng, staff, tid, org, tier, opened, severity, channel, response, resolved)
            for version, (at, rows) in enumerate(changes, start=1):
                heapq.heappush(pending, (at, i, version, [(tid, *row, version) for row in rows]))
            updated = changes[-1][0]
            while pending and pending[0][0] < opened:
                timeline.extend(heapq.heappop(pending)[3])
        elif severity == "P1":
            page = {"at": iso(opened), "ticket": tid, "kind": "page", "role": "oncall", "reason": "P1 opened",
                    "via": ["contact_methods"], "severity": "P1"}
            timeline.append((tid, opened, "page", None, json.dumps(page), None))
        due = opened + TARGET[severity]
        met = opened + response <= due
        state = copy.deepcopy(template)
        c = copy.deepcopy(clock)
        c.update({"target": "response", "anchor": iso(opened), "due": iso(due), "pauses": [],
                  "state": "met" if met else "breached", "stopped_at": iso(opened + response),
                  "breached_at": None if met else iso(due + 1)})
        state.update({"id": tid, "org": org, "tier": tier, "severity": severity, "security": False,
                      "channel": channel, "status": "resolved", "opened_at": iso(opened),
                      "acknowledged": [iso(opened + response), staff.one(rng, "engineer")],
                      "responded_at": iso(opened + response), "resolved_at": iso(resolved), "clocks": [c],
                      "escalation": None, "report": None, "bridge": None, "customer_page_opens_at": None})
        number = i // args.orgs + 1
        batch.append((tid, org, tier, number, f"Generated {i}", "generated", severity, "resolved", channel,
                      opened, "met" if met else "breached", json.dumps(state), version, updated))
        if len(batch) == BATCH:
            flush(db, batch, timeline)
            batch, timeline = [], []
    while pending:
        timeline.extend(heapq.heappop(pending)[3])
    flush(db, batch, timeline)
    db.execute(f"UPDATE orgs SET ticket_seq = {args.tickets // args.orgs + 1} WHERE slug LIKE 'org%'")
    db.commit()
    db.execute("ANALYZE")
    db.close()


def flush(db, batch, timeline):
    db.executemany(
        "INSERT INTO tickets (id, org, tier, number, subject, description, severity, status, security, channel, "
        "opened_at, next_due, sla_state, state, version, updated_at, queue_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL, ?, ?, ?, ?, 0)", batch)
    db.executemany("INSERT INTO timeline (ticket_id, at, kind, actor, body, version) VALUES (?, ?, ?, ?, ?, ?)",
                   timeline)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database")
    parser.add_argument("tickets", type=int)
    parser.add_argument("orgs", type=int)
    parser.add_argument("--quarter", help="open the tickets within this quarter (e.g. 2026-Q3), not over 2026")
    parser.add_argument("--events", action="store_true", help="write each ticket's whole history on its timeline")
    main(parser.parse_args())
