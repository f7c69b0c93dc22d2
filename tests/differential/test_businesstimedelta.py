"""Differential test: Stringer's calendar engine against Python's `businesstimedelta` (btd).

Thousands of random calendars and instants, drawn from a fixed seed, are answered by our
engine (through the `calendar_oracle` example, one long-lived process speaking JSON lines)
and by btd 1.0.1, and the answers must agree.

    .venv/bin/pip install -r tests/differential/requirements.txt
    .venv/bin/python -m pytest tests/differential -q

The oracle is built with cargo (release) unless STRINGER_ORACLE names a built one.

How the two are made to model the same thing (each point was checked in btd's source):

* One spec window ("days", "from", "to") is one `WorkDayRule` over the same weekdays in the
  same pytz zone; holidays are one `HolidayRule` over a set of dates, all in `Rules([...])`.
  btd then handles several windows on one day, windows spanning a DST change (real elapsed
  time, like ours) and instants anywhere, DST transitions included.
* btd's `time` cannot say 24:00, and its overnight mode (end < start) skips the rest of the
  current day once past the start time, so the main test has windows end by 23:59:59.
  `test_windows_ending_at_midnight` covers 24:00 as `time.max` (a day 1 µs short), for
  `due` only: `difference` truncates the missing microseconds to a whole second.
* In DST zones no window opens or closes at a local time in [01:00, 03:00): pytz's
  `localize` reads an ambiguous wall-clock time as standard time and moves a nonexistent
  one, while each of our windows is one unbroken stretch (a window opening in the skipped
  hour opens at the jump; one opening or closing in the repeated hour does so at its first
  occurrence, for good; the calendar's own property test checks that rule on these nights).
  Every zone used here changes offset inside that band.
* No holiday falls on a DST transition day: btd ends a holiday 24 h after local midnight
  rather than at the next local midnight (and, with a window edge in the repeated hour
  too, its `Rules.next` can loop forever).
* No closures: btd has no rule for a one-off span of time.
* A calendar with holidays always has one months past every answer: btd's
  `HolidayRule.next` scans at most five years ahead and crashes when it finds none.
* btd's `start + BusinessTimeDelta(...)` is the instant the time is used up, which can be a
  closing instant; our `due` is the last instant at which no more than the target has
  passed, i.e. the next opening at or after that. We compare ours to btd's answer directly
  where btd is open there ("off-boundary"), and elsewhere to btd's own next opening after
  it (`rules.next(r)[0]`); both kinds are counted and must be numerous.
"""

import datetime as dt
import functools
import json
import os
import random
import subprocess
from pathlib import Path

import pytest
import pytz
from businesstimedelta import BusinessTimeDelta, HolidayRule, Rules, WorkDayRule

REPO = Path(__file__).resolve().parents[2]
SEED = 20260612
CALENDARS = 2000
QUERIES_PER_CALENDAR = 4  # of each kind: 8,000 `between` and 8,000 `due` in all
MIN_OFF_BOUNDARY_DUES = 5000
MIN_BOUNDARY_DUES = 300
MIN_ACROSS_DST = 500

ZONES = ["UTC", "Asia/Kolkata", "America/New_York", "Europe/Berlin", "Australia/Sydney"]
DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DST_BAND = (3600, 3 * 3600)  # local [01:00, 03:00): no window edge there in DST zones
DAY = 86_400
QUERY_DAYS = 60  # queries start within this many days of a calendar's first day
HOLIDAY_DAYS = 90  # random holidays fall within this many days of it
LAST_HOLIDAY_DAY = 240  # the holiday that keeps btd's five-year scan finite
EPOCH = dt.datetime(1970, 1, 1, tzinfo=pytz.utc)
ONE_SECOND = dt.timedelta(seconds=1)


# --- the oracle ---------------------------------------------------------------------------


class Oracle:
    """One `calendar_oracle` process: a request line in, an answer line out."""

    def __init__(self, path):
        self.proc = subprocess.Popen(
            [str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def ask(self, spec, queries):
        self.proc.stdin.write(json.dumps({"calendar": spec, "queries": queries}) + "\n")
        answer = json.loads(self.proc.stdout.readline())
        assert "error" not in answer, f"oracle refused {json.dumps(spec)}: {answer['error']}"
        return answer["results"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


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


@pytest.fixture(scope="module")
def oracle():
    o = Oracle(build_oracle())
    yield o
    o.close()


# --- conversions ----------------------------------------------------------------------------


def to_datetime(unix):
    return EPOCH + dt.timedelta(seconds=unix)


def to_unix(moment):
    """Whole Unix seconds, rounded down (btd answers may carry microseconds)."""
    return (moment - EPOCH) // ONE_SECOND


def clock(secs):
    return "%02d:%02d" % divmod(secs // 60, 60) + ("" if secs % 60 == 0 else ":%02d" % (secs % 60))


def parse_clock(text):
    h, m, *s = (int(p) for p in text.split(":"))
    return h * 3600 + m * 60 + (s[0] if s else 0)


def btd_rules(spec):
    """The btd rule set modelling `spec`; a 24:00 close becomes `time.max`."""
    tz = pytz.timezone(spec["time_zone"])

    def time_of_day(secs):
        return dt.time.max if secs == DAY else dt.time(secs // 3600, secs // 60 % 60, secs % 60)

    rules = [
        WorkDayRule(
            start_time=time_of_day(parse_clock(w["from"])),
            end_time=time_of_day(parse_clock(w["to"])),
            working_days=[DAY_NAMES.index(d) for d in w["days"]],
            tz=tz,
        )
        for w in spec["windows"]
    ]
    if spec["holidays"]:
        rules.append(HolidayRule({dt.date.fromisoformat(h) for h in spec["holidays"]}, tz=tz))
    return Rules(rules)


def btd_between(rules, a, b):
    """Business seconds from a to b, signed like ours (btd's difference is unsigned)."""
    seconds = int(rules.difference(to_datetime(a), to_datetime(b)).timedelta.total_seconds())
    return seconds if a <= b else -seconds


def btd_due(rules, start, seconds):
    """(btd's instant the time is used up, btd's next opening at or after it), Unix seconds."""
    used_up = to_datetime(start) + BusinessTimeDelta(rules, seconds=seconds)
    return to_unix(used_up), to_unix(rules.next(used_up)[0])


# --- random calendars ---------------------------------------------------------------------


def local_midnight(tz, date):
    return to_unix(tz.localize(dt.datetime.combine(date, dt.time())))


def is_transition_day(tz, date):
    return local_midnight(tz, date + dt.timedelta(days=1)) - local_midnight(tz, date) != DAY


@functools.lru_cache(maxsize=None)
def transitions(zone):
    """Instants at which `zone` changes UTC offset, 2023 through 2029."""
    tz = pytz.timezone(zone)

    def offset(unix):
        return to_datetime(unix).astimezone(tz).utcoffset()

    found = []
    day = to_unix(dt.datetime(2023, 1, 1, tzinfo=pytz.utc))
    while day < to_unix(dt.datetime(2030, 1, 1, tzinfo=pytz.utc)):
        if offset(day) != offset(day + DAY):
            lo, hi = day, day + DAY  # offset(lo) differs from offset(hi): bisect
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == offset(lo) else (lo, mid)
            found.append(hi)
        day += DAY
    return found


def random_edge(rng, has_dst):
    """A window edge in seconds after local midnight, on a coarse or fine grid."""
    while True:
        grain = rng.choices([900, 60, 1], weights=[6, 3, 1])[0]
        secs = rng.randrange(0, DAY, grain)
        if not (has_dst and DST_BAND[0] <= secs < DST_BAND[1]):
            return secs


def random_windows(rng, has_dst, midnight_ends):
    """1–3 non-overlapping windows; with `midnight_ends` they tend to close at 24:00."""
    taken = {d: [] for d in range(7)}
    windows = []
    for _ in range(rng.randint(1, 3)):
        days = rng.choices(
            [range(5), range(7), sorted(rng.sample(range(7), rng.randint(1, 7)))], weights=[5, 2, 4]
        )[0]
        start, end = sorted(rng.sample([random_edge(rng, has_dst) for _ in range(2)], 2))
        if start == end:
            continue
        if midnight_ends and rng.random() < 0.6:
            end = DAY
        if any(start < e and s < end for d in days for s, e in taken[d]):
            continue
        for d in days:
            taken[d].append((start, end))
        windows.append({"days": [DAY_NAMES[d] for d in days], "from": clock(start), "to": clock(end)})
    return windows or random_windows(rng, has_dst, midnight_ends)


class Scenario:
    """A random calendar spec, its btd rules, and generators of instants to query."""

    def __init__(self, rng, midnight_ends=False):
        self.rng = rng
        zone = rng.choice(ZONES)
        self.tz = pytz.timezone(zone)
        has_dst = bool(transitions(zone))
        self.first_day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(5 * 365 - LAST_HOLIDAY_DAY))
        holidays = set()
        for _ in range(rng.choice([0, 0, 1, 3, 6, 10])):
            day = self.first_day + dt.timedelta(days=rng.randrange(-7, HOLIDAY_DAYS))
            if not is_transition_day(self.tz, day):
                holidays.add(day)
        if holidays:
            last = self.first_day + dt.timedelta(days=LAST_HOLIDAY_DAY)
            while is_transition_day(self.tz, last):
                last += dt.timedelta(days=1)
            holidays.add(last)
        self.spec = {
            "time_zone": zone,
            "windows": random_windows(rng, has_dst, midnight_ends),
            "holidays": sorted(d.isoformat() for d in holidays),
            "closures": [],
        }
        self.rules = btd_rules(self.spec)
        self.start = local_midnight(self.tz, self.first_day)
        self.end = self.start + QUERY_DAYS * DAY
        self.transitions = [t for t in transitions(zone) if self.start <= t < self.end]
        self.week_open = sum(
            (parse_clock(w["to"]) - parse_clock(w["from"])) * len(w["days"]) for w in self.spec["windows"]
        )

    def window_edge(self):
        """A window's opening or closing instant on a random day of the query range."""
        day = self.first_day + dt.timedelta(days=self.rng.randrange(QUERY_DAYS + 14))
        w = self.rng.choice(self.spec["windows"])
        secs = parse_clock(self.rng.choice([w["from"], w["to"]]))
        return local_midnight(self.tz, day) + secs if secs < DAY else local_midnight(self.tz, day + dt.timedelta(days=1))

    def instant(self):
        """A random instant in the query range, often on or next to an edge."""
        kind = self.rng.choices(["any", "window", "midnight", "transition"], weights=[5, 3, 1, 1])[0]
        if kind == "window":
            t = self.window_edge()
        elif kind == "midnight":
            t = local_midnight(self.tz, self.first_day + dt.timedelta(days=self.rng.randrange(-7, HOLIDAY_DAYS)))
        elif kind == "transition" and self.transitions:
            t = self.rng.choice(self.transitions)
        else:
            return self.rng.randrange(self.start, self.end)
        return t + self.rng.choice([0, 0, 0, -1, 1])

    def between_query(self):
        a = self.instant()
        span = self.rng.choices(["zero", "hours", "weeks", "instant"], weights=[1, 4, 4, 3])[0]
        if span == "zero":
            b = a
        elif span == "hours":
            b = a + self.rng.randrange(DAY)
        elif span == "weeks":
            b = a + self.rng.randrange(30 * DAY)
        else:
            b = self.instant()
        if self.rng.random() < 0.1:
            a, b = b, a
        return {"op": "between", "a": a, "b": b}

    def due_query(self):
        start = self.instant()
        kind = self.rng.choices(["zero", "to_edge", "any"], weights=[1, 3, 6])[0]
        if kind == "zero":
            seconds = 0
        elif kind == "to_edge":
            # Exactly the business time up to a window edge (often a close) later on.
            edge = self.window_edge()
            seconds = btd_between(self.rules, start, max(start, edge))
        else:
            scale = self.rng.choice([3600, DAY, 3 * self.week_open])
            seconds = self.rng.randint(1, min(scale, 3 * self.week_open))
        return {"op": "due", "start": start, "seconds": seconds}


# --- reporting ----------------------------------------------------------------------------


def describe(spec, query, ours, theirs):
    tz = pytz.timezone(spec["time_zone"])

    def show(unix):
        return f"{unix} ({to_datetime(unix).isoformat()} = {to_datetime(unix).astimezone(tz).isoformat()})"

    args = (f"a={show(query['a'])} b={show(query['b'])}" if query["op"] == "between"
            else f"start={show(query['start'])} seconds={query['seconds']}")
    shown = (lambda v: v) if query["op"] == "between" else show
    return (f"{query['op']} {args}: ours {shown(ours)}, btd {shown(theirs)}\n"
            f"  oracle input: {json.dumps({'calendar': spec, 'queries': [query]})}")


def assert_no_mismatches(mismatches, compared):
    shown = "\n".join(mismatches[:8])
    assert not mismatches, f"{len(mismatches)} of {compared} answers differ from btd:\n{shown}"


# --- tests --------------------------------------------------------------------------------


def test_random_calendars_match_businesstimedelta(oracle):
    rng = random.Random(SEED)
    mismatches = []
    between_count = off_boundary = on_boundary = across_dst = 0
    for _ in range(CALENDARS):
        sc = Scenario(rng)
        queries = [sc.between_query() for _ in range(QUERIES_PER_CALENDAR)]
        queries += [sc.due_query() for _ in range(QUERIES_PER_CALENDAR)]
        for query, ours in zip(queries, oracle.ask(sc.spec, queries)):
            span = (query["a"], query["b"]) if query["op"] == "between" else (query["start"], ours)
            across_dst += any(min(span) <= t <= max(span) for t in sc.transitions)
            if query["op"] == "between":
                between_count += 1
                theirs = btd_between(sc.rules, query["a"], query["b"])
            else:
                used_up, next_opening = btd_due(sc.rules, query["start"], query["seconds"])
                off_boundary += used_up == next_opening
                on_boundary += used_up != next_opening
                theirs = next_opening
            if ours != theirs:
                mismatches.append(describe(sc.spec, query, ours, theirs))
    assert_no_mismatches(mismatches, between_count + off_boundary + on_boundary)
    print(f"compared {between_count} between, {off_boundary} off-boundary due, "
          f"{on_boundary} due used up at a close; {across_dst} spanned a DST change")
    assert between_count >= 5000
    assert off_boundary >= MIN_OFF_BOUNDARY_DUES, "the boundary filter must not skip most dues"
    assert on_boundary >= MIN_BOUNDARY_DUES, "dues used up exactly at a close must be exercised"
    assert across_dst >= MIN_ACROSS_DST, "queries spanning DST changes must be exercised"


def test_windows_ending_at_midnight(oracle):
    """24:00 closes, modelled in btd as `time.max`: each such day is 1 µs short in btd, which
    shifts its `due` answers by microseconds that rounding down to the second removes."""
    rng = random.Random(SEED + 1)
    mismatches = []
    compared = 0
    for _ in range(CALENDARS // 4):
        sc = Scenario(rng, midnight_ends=True)
        queries = [sc.due_query() for _ in range(QUERIES_PER_CALENDAR)]
        for query, ours in zip(queries, oracle.ask(sc.spec, queries)):
            compared += 1
            theirs = btd_due(sc.rules, query["start"], query["seconds"])[1]
            if ours != theirs:
                mismatches.append(describe(sc.spec, query, ours, theirs))
    assert_no_mismatches(mismatches, compared)
    assert compared >= 1000


def test_due_at_a_close_is_the_next_opening_where_btd_answers_the_close(oracle):
    """Pins the one intended difference the random tests translate away."""
    spec = {"time_zone": "UTC", "windows": [{"days": DAY_NAMES[:5], "from": "09:00", "to": "17:00"}],
            "holidays": [], "closures": []}
    rules = btd_rules(spec)
    monday_9 = to_unix(dt.datetime(2026, 1, 5, 9, tzinfo=pytz.utc))
    saturday_noon = monday_9 - 2 * DAY + 3 * 3600
    cases = [
        # start, target: btd's used-up instant, our due
        (monday_9, 8 * 3600, monday_9 + 8 * 3600, monday_9 + DAY),  # used up at 17:00 → Tue 09:00
        (monday_9, 3600, monday_9 + 3600, monday_9 + 3600),  # inside the window: the same
        (saturday_noon, 0, monday_9, monday_9),  # zero target while closed: next opening
    ]
    queries = [{"op": "due", "start": s, "seconds": d} for s, d, _, _ in cases]
    for (start, seconds, btd_answer, our_answer), ours in zip(cases, oracle.ask(spec, queries)):
        assert btd_due(rules, start, seconds)[0] == btd_answer
        assert ours == our_answer
