"""Generates a `stringer simulate` scenario: JSON Lines, setup lines first, then events.

    python3 bench/gen_scenario.py [--tickets 100000] [--seed 1] [--days 90]
                                  [--start 2026-01-05] [--out FILE]

Writes to stdout unless --out is given. The same arguments always give the same file.

The setup is ~20 `org` lines (tier pro or enterprise; deployment shared, dedicated or
federal; a TAM only for enterprise). Then come ticket events in non-decreasing "at" order
(RFC 3339 UTC, whole seconds), from tickets opened over `--days` days, busier on weekdays
and in working hours. Each ticket follows a realistic lifecycle and only emits events its
state allows:

* `ticket.opened` first (severity weighted towards P3/P4, usually a channel, rarely
  `"security": true`);
* usually `ticket.acknowledged` within minutes to hours, sometimes late enough to breach,
  sometimes never;
* while open: public or internal `ticket.replied`, `ticket.severity_changed`,
  `ticket.waiting_on_customer` (then usually `ticket.customer_replied`), and for P1/P2
  `customer.page_requested` and `bridge.joined` by platform engineers;
* mostly `ticket.resolved` (from open or waiting), sometimes `ticket.reopened` and resolved
  again; some P1/P2 get `report.published` a few days after their final resolution.

With `--roster`, the setup also has the people pages reach: a staff line for the VP of
Engineering, each TAM, agent and platform engineer (some of the agents cleared for federal
orgs), and a platform-wide on-call schedule of the agents in weekly turns, so that pages have
recipients. The events are the same with or without it.

Tickets are generated in opening order and their events merged through a heap, so memory
holds only the tickets still in flight, not the whole scenario.
"""

import argparse
import datetime as dt
import heapq
import json
import math
import os
import random
import sys

ORG_NAMES = [
    "acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka", "tyrell",
    "cyberdyne", "soylent", "vandelay", "aperture", "blackmesa", "oscorp", "gringotts",
    "monarch", "dunder", "piedpiper", "massive",
]
TAMS = ["tina", "tomas", "ursula", "victor", "wanda", "xavier"]
AGENTS = [f"agent{i:02}" for i in range(1, 41)]
PLATFORM_ENGINEERS = [f"pe{i:02}" for i in range(1, 11)]
SEVERITIES = ["P1", "P2", "P3", "P4"]
SEVERITY_WEIGHTS = [3, 12, 40, 45]
CHANNELS = ["portal", "email", "slack", "phone", "api"]
MINUTE, HOUR, DAY = 60, 3600, 86_400
# Typical time to acknowledge, per severity: most tickets come in well under it.
ACK_MEDIAN = {"P1": 8 * MINUTE, "P2": 40 * MINUTE, "P3": 3 * HOUR, "P4": 8 * HOUR}
# Typical time from opening to resolution, per severity.
RESOLVE_MEDIAN = {"P1": 6 * HOUR, "P2": DAY, "P3": 3 * DAY, "P4": 5 * DAY}


class Org:
    def __init__(self, rng, name):
        self.name = name
        self.tier = rng.choices(["pro", "enterprise"], weights=[3, 2])[0]
        self.deployment = rng.choices(["shared", "dedicated", "federal"], weights=[6, 3, 1])[0]
        self.tam = rng.choice(TAMS) if self.tier == "enterprise" else None

    def setup_line(self):
        line = {"kind": "org", "org": self.name, "tier": self.tier, "deployment": self.deployment}
        if self.tam:
            line["tam"] = self.tam
        return line


def roster_lines(start_day):
    """Staff lines and the platform-wide schedule: who pages reach (`--roster`)."""
    lines = [{"kind": "staff", "user": "vera", "role": "vp_engineering", "federal_cleared": True}]
    lines += [{"kind": "staff", "user": tam, "role": "tam"} for tam in TAMS]
    lines += [{"kind": "staff", "user": agent, "role": "engineer", "federal_cleared": i % 4 == 0}
              for i, agent in enumerate(AGENTS)]
    lines += [{"kind": "staff", "user": pe, "role": "platform_engineer"} for pe in PLATFORM_ENGINEERS]
    rotation = {"name": "Agents", "time_zone": "UTC", "members": AGENTS[:8], "shift_days": 7,
                "handoff": "09:00", "start": start_day}
    lines.append({"kind": "schedule", "name": "Platform on call", "layers": [{"rotation": rotation}]})
    return lines


def around(rng, median, spread=1.0):
    """A positive delay in whole seconds, log-normally spread around `median`."""
    return max(1, int(median * math.exp(rng.gauss(0, spread))))


def opening_times(rng, count, start, days):
    """`count` sorted Unix seconds over `days` days: weekdays and 13–22 UTC are busiest."""
    times = []
    while len(times) < count:
        t = start + rng.randrange(days * DAY)
        moment = dt.datetime.fromtimestamp(t, dt.timezone.utc)
        weight = (1.0 if moment.weekday() < 5 else 0.3) * (1.0 if 13 <= moment.hour < 22 else 0.4)
        if rng.random() < weight:
            times.append(t)
    return sorted(times)


class Ticket:
    """Builds one ticket's events in order, tracking the state that decides what may follow."""

    def __init__(self, rng, number, org, opened):
        self.rng = rng
        self.id = f"T{number:06}"
        self.org = org
        self.t = opened
        self.severity = rng.choices(SEVERITIES, weights=SEVERITY_WEIGHTS)[0]
        self.state = "open"  # open | waiting | resolved
        self.paged = False
        self.events = []
        first = {"kind": "ticket.opened", "ticket": self.id, "org": org.name, "severity": self.severity}
        if rng.random() < 0.85:
            first["channel"] = rng.choice(CHANNELS)
        if rng.random() < 0.02:
            first["security"] = True
        self.events.append((self.t, first))

    def emit(self, delay, kind, **fields):
        self.t += delay
        self.events.append((self.t, {"kind": kind, "ticket": self.id, **fields}))

    def responder(self):
        if self.org.tam and self.rng.random() < 0.15:
            return self.org.tam
        return self.rng.choice(AGENTS)

    def acknowledge(self):
        rng = self.rng
        if self.severity in ("P1", "P2") and self.org.tier == "enterprise" and rng.random() < 0.4:
            self.page(around(rng, 3 * MINUTE))
        if rng.random() < 0.08:
            return  # never acknowledged
        late = 6 if rng.random() < 0.1 else 1
        self.emit(around(rng, ACK_MEDIAN[self.severity] * late, 0.8), "ticket.acknowledged", by=self.responder())

    def page(self, delay):
        self.paged = True
        self.emit(delay, "customer.page_requested")

    def work_step(self):
        """One interaction while the ticket is open or waiting on the customer."""
        rng = self.rng
        gap = around(rng, RESOLVE_MEDIAN[self.severity] / 6)
        if self.state == "waiting":
            if rng.random() < 0.85:
                self.state = "open"
                self.emit(gap, "ticket.customer_replied")
            return
        action = rng.choices(
            ["reply", "wait", "customer", "severity", "page", "bridge"], weights=[10, 3, 2, 1, 1, 1]
        )[0]
        urgent = self.severity in ("P1", "P2")
        if action == "wait":
            self.state = "waiting"
            self.emit(gap, "ticket.waiting_on_customer")
        elif action == "customer":
            self.emit(gap, "ticket.customer_replied")
        elif action == "severity":
            self.severity = rng.choice([s for s in SEVERITIES if s != self.severity])
            self.emit(gap, "ticket.severity_changed", severity=self.severity)
        elif action == "page" and urgent and not self.paged:
            self.page(gap)
        elif action == "bridge" and (self.paged or self.severity == "P1"):
            self.emit(around(rng, 10 * MINUTE), "bridge.joined", by=rng.choice(PLATFORM_ENGINEERS),
                      role="platform_engineer")
        else:
            self.emit(gap, "ticket.replied", by=self.responder(), public=rng.random() < 0.7)

    def work_until_resolved(self):
        """Interactions, then (usually) the resolution; False when left unresolved."""
        for _ in range(self.rng.randint(0, 5)):
            self.work_step()
        if self.rng.random() < 0.06:
            return False
        self.state = "resolved"
        self.emit(around(self.rng, RESOLVE_MEDIAN[self.severity] / 2), "ticket.resolved")
        return True

    def build(self):
        rng = self.rng
        self.acknowledge()
        if not self.work_until_resolved():
            return self.events
        while rng.random() < 0.08:
            self.state = "open"
            self.emit(around(rng, 2 * DAY), "ticket.reopened")
            if not self.work_until_resolved():
                return self.events
        if self.severity in ("P1", "P2") and rng.random() < 0.6:
            self.emit(around(rng, 3 * DAY, 0.4), "report.published")
        return self.events


def generate(args, out):
    rng = random.Random(args.seed)
    orgs = [Org(rng, name) for name in ORG_NAMES]
    org_weights = [1 / (i + 1) ** 0.8 for i in range(len(orgs))]  # a few big customers
    for org in orgs:
        out.write(json.dumps(org.setup_line()) + "\n")
    if args.roster:
        for line in roster_lines(args.start):
            out.write(json.dumps(line) + "\n")

    start = int(dt.datetime.fromisoformat(args.start).replace(tzinfo=dt.timezone.utc).timestamp())
    pending = []  # (at, sequence, event): the sequence keeps each ticket's own order on ties
    sequence = 0

    def write_until(limit):
        while pending and pending[0][0] <= limit:
            at, _, event = heapq.heappop(pending)
            stamp = dt.datetime.fromtimestamp(at, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.write(json.dumps({"at": stamp, **event}) + "\n")

    for number, opened in enumerate(opening_times(rng, args.tickets, start, args.days), start=1):
        # Every event still to come is at or after this opening: write the earlier ones.
        write_until(opened)
        org = rng.choices(orgs, weights=org_weights)[0]
        for at, event in Ticket(rng, number, org, opened).build():
            heapq.heappush(pending, (at, sequence, event))
            sequence += 1
    write_until(math.inf)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets to open (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--days", type=int, default=90, help="days over which tickets open (default 90)")
    parser.add_argument("--start", default="2026-01-05", help="first day, UTC (default 2026-01-05)")
    parser.add_argument("--roster", action="store_true",
                        help="add staff lines and an on-call schedule, so pages have recipients")
    parser.add_argument("--out", help="output file (default stdout)")
    args = parser.parse_args()
    if args.out:
        with open(args.out, "w") as out:
            generate(args, out)
        return
    try:
        generate(args, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (e.g. `| head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    main()
