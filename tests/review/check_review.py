"""An independent computation of a quarterly review's figures from its CSV export, compared
with the figures Stringer printed as JSON: SLA attainment per severity and target (met,
breached, running, withdrawn — the customer resolved the ticket before any response, counted
apart and never in the met share —, weekend breaches, and the met share the observations quote), first-response, acknowledgement and resolution times
per severity (median and 90th percentile by nearest rank), and tickets per severity and
channel. Python's standard library only; exits non-zero, naming the difference, on any.

    python3 check_review.py REVIEW.csv REVIEW.json
"""

import csv
import json
import math
import re
import sys
from collections import defaultdict


def nearest_rank(values, p):
    """The smallest value at least p % of the values are at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


def main(csv_path, json_path):
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(json_path) as f:
        review = json.load(f)
    figures = review["figures"]
    problems = []

    counts = defaultdict(lambda: {"met": 0, "breached": 0, "running": 0, "withdrawn": 0, "weekend_met": 0,
                                  "weekend_breached": 0})
    for r in rows:
        c = counts[(r["severity"], r["target"])]
        c[r["outcome"]] += 1
        if r["weekend"] == "true" and r["outcome"] in ("met", "breached"):
            c["weekend_" + r["outcome"]] += 1
    printed = {(a["severity"], a["target"]): a for a in figures["attainment"]}
    if set(printed) != set(counts):
        problems.append(f"attainment rows differ: {sorted(printed)} vs {sorted(counts)}")
    for key, c in counts.items():
        for field, value in c.items():
            if printed.get(key, {}).get(field) != value:
                problems.append(f"attainment {key} {field}: printed {printed.get(key, {}).get(field)}, computed {value}")
    # The met share is of the decided targets only: met and breached, never withdrawn or running.
    share = re.compile(r"^(\S+) (\S+) target met ([0-9.]+) % of the time \((\d+) of (\d+)\)")
    for sentence in review.get("observations", []):
        m = share.match(sentence)
        if not m:
            continue
        c = counts.get((m[1], m[2]), {"met": 0, "breached": 0})
        decided = c["met"] + c["breached"]
        expected = (f"{100 * c['met'] / decided:.1f}" if decided else None, c["met"], decided)
        if (m[3], int(m[4]), int(m[5])) != expected:
            problems.append(f"met share {m[1]} {m[2]}: printed {m[3]} % ({m[4]} of {m[5]}), computed {expected}")

    # One ticket per severity for the times (a ticket has one row per target).
    tickets = {}
    for r in rows:
        tickets[r["ticket"]] = r
    for name, column in [("first_response", "first_response_seconds"), ("acknowledge", "acknowledged_seconds"),
                         ("resolve", "resolved_seconds")]:
        by_severity = defaultdict(list)
        for r in tickets.values():
            if r[column] != "":
                by_severity[r["severity"]].append(int(r[column]))
        printed = {s["severity"]: s for s in figures[name]}
        for severity, values in by_severity.items():
            expected = {"count": len(values), "p50": nearest_rank(values, 50), "p90": nearest_rank(values, 90)}
            got = {k: printed.get(severity, {}).get(k) for k in expected}
            if got != expected:
                problems.append(f"{name} {severity}: printed {got}, computed {expected}")
        if set(printed) != set(by_severity):
            problems.append(f"{name} severities differ: {sorted(printed)} vs {sorted(by_severity)}")

    for name, column in [("by_severity", "severity"), ("by_channel", "channel")]:
        volume = defaultdict(int)
        for r in tickets.values():
            volume[r[column] or "unknown"] += 1
        printed = {v["key"]: v["count"] for v in figures[name] if v["count"]}
        if printed != dict(volume):
            problems.append(f"{name}: printed {printed}, computed {dict(volume)}")
    if sum(figures["by_week"]) != len(tickets) or review["tickets"] != len(tickets):
        problems.append(f"ticket count: weeks {sum(figures['by_week'])}, printed {review['tickets']}, rows {len(tickets)}")

    for p in problems:
        print(p)
    print(f"checked {len(rows)} rows of {len(tickets)} tickets: {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
