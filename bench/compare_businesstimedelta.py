"""Times the same due-date computations in Python's `businesstimedelta` (btd) and in ours.

    .venv/bin/pip install -r tests/differential/requirements.txt
    .venv/bin/python bench/compare_businesstimedelta.py [--count 100000] [--seed 1]

For each calendar below it draws `count` starts (whole seconds over 2026) and targets (one
minute to two business days), times btd's `start + BusinessTimeDelta(...)` over the whole
list with `time.perf_counter`, and has our engine run the same list through the
`calendar_oracle` example's "bench" request (repeated until it runs at least 0.5 s). Starts
and targets are converted to btd's types before its clock starts. The oracle is built with
cargo (release) unless STRINGER_ORACLE names a built one.

btd cannot say 24:00, so the Pro calendar's days end at `time.max` there (1 µs short).
btd's answer is the instant the time is used up, ours the next opening from it, so the
agreement check compares a sample only where btd's answer lies inside an open period and,
rounded down to the second, is not a window edge.
"""

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytz
from businesstimedelta import BusinessTimeDelta, HolidayRule, Rules, WorkDayRule

REPO = Path(__file__).resolve().parents[1]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=pytz.utc)
ONE_SECOND = dt.timedelta(seconds=1)
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
MIN_OURS_SECONDS = 0.5
SAMPLE = 5000

# US federal holidays (observed) in 2026, and the first two of 2027: answers spill into
# January, and btd's HolidayRule crashes when no holiday follows within five years.
US_HOLIDAYS = [
    "2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03",
    "2026-09-07", "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25",
    "2027-01-01", "2027-01-18",
]


class Calendar:
    """One calendar in both engines' terms; window edges are whole hours."""

    def __init__(self, label, zone, opens, closes, holidays):
        self.label = label
        self.tz = pytz.timezone(zone)
        self.spec = {
            "time_zone": zone,
            "windows": [{"days": WEEKDAYS, "from": f"{opens:02}:00", "to": f"{closes:02}:00"}],
            "holidays": holidays,
            "closures": [],
        }
        end_time = dt.time.max if closes == 24 else dt.time(closes)
        rules = [WorkDayRule(start_time=dt.time(opens), end_time=end_time, working_days=list(range(5)), tz=self.tz)]
        if holidays:
            rules.append(HolidayRule({dt.date.fromisoformat(h) for h in holidays}, tz=self.tz))
        self.rules = Rules(rules)
        self.edges = {dt.time(opens), dt.time(closes % 24)}
        self.business_day = (closes - opens) * 3600


CALENDARS = [
    Calendar("Pro: UTC, Mon-Fri 00:00-24:00", "UTC", 0, 24, []),
    Calendar("America/New_York, Mon-Fri 09:00-17:00, US holidays", "America/New_York", 9, 17, US_HOLIDAYS),
]


def build_oracle():
    """The oracle's path: STRINGER_ORACLE, or what `cargo build` reports it built."""
    if os.environ.get("STRINGER_ORACLE"):
        return Path(os.environ["STRINGER_ORACLE"])
    out = subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "stringer-core",
         "--example", "calendar_oracle", "--message-format=json"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "calendar_oracle":
            return Path(msg["executable"])
    raise RuntimeError("cargo did not report the calendar_oracle executable")


class Oracle:
    """One `calendar_oracle` process: a request line in, an answer line out."""

    def __init__(self, path):
        self.proc = subprocess.Popen(
            [str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def ask(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        answer = json.loads(self.proc.stdout.readline())
        if "error" in answer:
            sys.exit(f"oracle refused the request: {answer['error']}")
        return answer

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def to_unix(moment):
    return (moment - EPOCH) // ONE_SECOND


def time_btd(cal, starts, seconds):
    """btd's ns per due, and its answers (aware datetimes)."""
    moments = [EPOCH + dt.timedelta(seconds=s) for s in starts]
    deltas = [BusinessTimeDelta(cal.rules, seconds=d) for d in seconds]
    began = time.perf_counter()
    answers = [m + d for m, d in zip(moments, deltas)]
    elapsed = time.perf_counter() - began
    return elapsed * 1e9 / len(starts), answers


def time_ours(oracle, cal, starts, seconds):
    """Our ns per due, from enough rounds to run at least MIN_OURS_SECONDS."""
    bench = {"starts": starts, "seconds": seconds, "rounds": 1}
    probe = oracle.ask({"calendar": cal.spec, "bench": bench})  # also warms up
    per_round = probe["ns_per_due"] * len(starts) / 1e9
    bench["rounds"] = max(1, int(MIN_OURS_SECONDS / per_round) + 1)
    result = oracle.ask({"calendar": cal.spec, "bench": bench})
    return result["ns_per_due"], bench["rounds"]


def check_sample(oracle, cal, starts, seconds, btd_answers, rng):
    """(compared, skipped at boundaries, mismatches) over a sample of the computations."""
    picked = rng.sample(range(len(starts)), min(SAMPLE, len(starts)))
    queries = [{"op": "due", "start": starts[i], "seconds": seconds[i]} for i in picked]
    ours = oracle.ask({"calendar": cal.spec, "queries": queries})["results"]
    compared = skipped = 0
    mismatches = []
    for i, our in zip(picked, ours):
        answer = btd_answers[i]
        to_the_second = EPOCH + to_unix(answer) * ONE_SECOND
        if cal.rules.next(answer)[0] != answer or to_the_second.astimezone(cal.tz).time() in cal.edges:
            skipped += 1
            continue
        compared += 1
        if to_unix(answer) != our:
            mismatches.append(f"start {starts[i]} seconds {seconds[i]}: ours {our}, btd {to_unix(answer)}")
    return compared, skipped, mismatches


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="due computations per calendar")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    year = (to_unix(dt.datetime(2026, 1, 1, tzinfo=pytz.utc)), to_unix(dt.datetime(2027, 1, 1, tzinfo=pytz.utc)))
    oracle = Oracle(build_oracle())

    rows, problems = [], []
    for cal in CALENDARS:
        starts = [rng.randrange(*year) for _ in range(args.count)]
        seconds = [rng.randint(60, 2 * cal.business_day) for _ in range(args.count)]
        btd_ns, btd_answers = time_btd(cal, starts, seconds)
        our_ns, rounds = time_ours(oracle, cal, starts, seconds)
        compared, skipped, mismatches = check_sample(oracle, cal, starts, seconds, btd_answers, rng)
        rows.append((cal.label, btd_ns, our_ns, rounds, compared, skipped))
        problems += [f"{cal.label}: {m}" for m in mismatches]
    oracle.close()

    print(f"{args.count:,} due computations per calendar (seed {args.seed})\n")
    print(f"{'calendar':<52} {'btd ns/due':>12} {'ours ns/due':>12} {'ratio':>9} {'rounds':>7} {'agree':>14}")
    for label, btd_ns, our_ns, rounds, compared, skipped in rows:
        agree = f"{compared}/{compared + skipped}"
        print(f"{label:<52} {btd_ns:>12,.0f} {our_ns:>12,.1f} {btd_ns / our_ns:>8,.0f}x {rounds:>7} {agree:>14}")
    print("\nagree: sampled answers compared / sampled (the rest end on a window edge)")
    if problems:
        sys.exit("answers differ:\n" + "\n".join(problems[:10]))


if __name__ == "__main__":
    main()
