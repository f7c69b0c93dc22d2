"""Fills a Stringer SQLite database with generated tickets for the quarterly review
benchmark: ORGS orgs (half Pro, half Enterprise), TICKETS tickets spread evenly over 2026
across them, each a copy of a real ticket state (taken from the demo desk the server made)
with its own opening, severity, channel, response clock outcome, acknowledgement and
resolution; and a page on the timeline of every P1 (the review counts pages).

    python3 fill.py DATABASE TICKETS ORGS
"""

import copy
import datetime
import json
import random
import sqlite3
import sys

YEAR_START = int(datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
YEAR_END = int(datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc).timestamp())
SEVERITIES = ["P1", "P2", "P3", "P4"]
CHANNELS = ["portal", "email", "slack", "api"]
TARGET = {"P1": 3600, "P2": 4 * 3600, "P3": 8 * 3600, "P4": 24 * 3600}


def iso(secs):
    return datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(path, tickets, orgs):
    rng = random.Random(42)
    db = sqlite3.connect(path)
    template = json.loads(db.execute("SELECT state FROM tickets ORDER BY id LIMIT 1").fetchone()[0])
    clock = template["clocks"][0]
    for o in range(orgs):
        slug = f"org{o:02d}"
        db.execute(
            "INSERT INTO orgs (slug, name, tier, deployment, named_engineers, email_tag, created_at, ticket_seq) "
            "VALUES (?, ?, ?, 'shared', '[]', ?, ?, 0)",
            (slug, f"Org {o}", "pro" if o % 2 else "enterprise", slug, YEAR_START))
    step = (YEAR_END - YEAR_START) / tickets
    batch, pages = [], []
    for i in range(tickets):
        org = f"org{i % orgs:02d}"
        opened = YEAR_START + int(i * step)
        severity = rng.choices(SEVERITIES, weights=[5, 15, 40, 40])[0]
        response = int(rng.expovariate(1 / (TARGET[severity] * 0.6)))
        due = opened + TARGET[severity]
        met = opened + response <= due
        resolved = opened + response + int(rng.expovariate(1 / (6 * 3600)))
        tid = f"tkt_B{i:025d}"
        state = copy.deepcopy(template)
        c = copy.deepcopy(clock)
        c.update({"target": "response", "anchor": iso(opened), "due": iso(due), "pauses": [],
                  "state": "met" if met else "breached", "stopped_at": iso(opened + response),
                  "breached_at": None if met else iso(due + 1)})
        state.update({"id": tid, "org": org, "severity": severity, "security": False,
                      "channel": rng.choice(CHANNELS), "status": "resolved", "opened_at": iso(opened),
                      "acknowledged": [iso(opened + response), "u_eng"], "responded_at": iso(opened + response),
                      "resolved_at": iso(resolved), "clocks": [c], "escalation": None, "report": None,
                      "bridge": None, "customer_page_opens_at": None})
        number = i // orgs + 1
        batch.append((tid, org, number, f"Generated {i}", "generated", severity, "resolved", state["channel"],
                      opened, "met" if met else "breached", json.dumps(state), resolved))
        if severity == "P1":
            page = {"at": iso(opened), "ticket": tid, "kind": "page", "role": "oncall", "reason": "P1 opened",
                    "via": ["contact_methods"], "severity": "P1"}
            pages.append((tid, opened, json.dumps(page)))
        if len(batch) == 20000:
            flush(db, batch, pages)
            batch, pages = [], []
    flush(db, batch, pages)
    db.execute(f"UPDATE orgs SET ticket_seq = {tickets // orgs + 1} WHERE slug LIKE 'org%'")
    db.commit()
    db.execute("ANALYZE")
    db.close()


def flush(db, batch, pages):
    db.executemany(
        "INSERT INTO tickets (id, org, number, subject, description, severity, status, security, channel, opened_at, "
        "next_due, sla_state, state, version, updated_at, queue_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL, ?, ?, 1, ?, 0)", batch)
    db.executemany("INSERT INTO timeline (ticket_id, at, kind, actor, body) VALUES (?, ?, 'page', NULL, ?)", pages)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
