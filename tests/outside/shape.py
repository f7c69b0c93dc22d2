"""Shape checks for documents in the form of Atlassian Statuspage's public v2 API.

`check_shape(expected, actual)` compares a document (`actual`, e.g. what Stringer serves at
`/api/v2/summary.json`) with a fixture from `status_fixtures/` (`expected`) and returns a list of
human-readable mismatches; an empty list means the shapes agree. It checks:

- objects: every key of the fixture is present in the document, and the document has no key the
  fixture lacks (both are reported);
- JSON types: a fixture value of null accepts any type; a null in the document is accepted where
  the fixture has null or where the key is in `NULLABLE` (fields the documentation gives as
  nullable); a fixture integer wants an integer, a fixture float accepts any number;
- lists: every item of the document's list is checked against the first item of the fixture's
  list of the same kind: for component lists, a group (`"group": true`) against the fixture's
  first group and a component against its first non-group component;
- value sets (`VALUE_SETS`) on the document's strings, chosen by where the key sits: `status`
  under `components[i]`, `incidents[i]`, `scheduled_maintenances[i]` and `incident_updates[i]`
  (an incident's updates and a maintenance's updates have different sets), `old_status` and
  `new_status` under `affected_components[i]`, every `impact`, and `status.indicator`;
- timestamps: keys ending in `_at`, `scheduled_for` and `scheduled_until` must be ISO 8601
  date-times with a UTC offset (`2014-05-14T14:22:39.441-06:00`, `2025-10-25T18:01:12Z`), and
  `start_date` an ISO 8601 calendar date (`2021-08-11`).

Standard library only. `python3 tests/outside/shape.py` runs the self-test: every fixture
checked against itself must give no mismatches, and a deliberately broken copy of each must give
the mismatches it was broken for.
"""

import copy
import datetime
import json
import os
import re
import sys

# Fields that may be null, as the documentation (and recorded responses) give them. See
# status_fixtures/README.md for where each comes from.
NULLABLE = frozenset({
    # components
    "description",
    "group_id",
    "start_date",
    # incidents and scheduled maintenances
    "monitoring_at",
    "resolved_at",
    "scheduled_for",
    "scheduled_until",
    "postmortem_body",
    "postmortem_body_last_updated_at",
    "postmortem_published_at",
    "scheduled_reminded_at",
    # incident updates
    "display_at",
    "affected_components",
    "custom_tweet",
    "tweet_id",
    "twitter_updated_at",
})

COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance")
INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
IMPACTS = ("none", "minor", "major", "critical", "maintenance")
INDICATORS = ("none", "minor", "major", "critical", "maintenance")

# The allowed strings, by context: "<object>.<key>". Which context a value is in is decided by
# its path (see `value_set_for`).
VALUE_SETS = {
    "component.status": frozenset(COMPONENT_STATUSES),
    "affected_component.old_status": frozenset(COMPONENT_STATUSES),
    "affected_component.new_status": frozenset(COMPONENT_STATUSES),
    "incident.status": frozenset(INCIDENT_STATUSES),
    "maintenance.status": frozenset(MAINTENANCE_STATUSES),
    "incident_update.status": frozenset(INCIDENT_STATUSES),
    "maintenance_update.status": frozenset(MAINTENANCE_STATUSES),
    "impact": frozenset(IMPACTS),
    "indicator": frozenset(INDICATORS),
}

DATETIME_KEYS = frozenset({"scheduled_for", "scheduled_until"})  # plus every key ending in "_at"
DATE_KEYS = frozenset({"start_date"})

# The list keys that say what kind of object their items are.
_ITEM_KIND = {
    "components": "component",
    "incidents": "incident",
    "scheduled_maintenances": "maintenance",
    "incident_updates": "update",
    "affected_components": "affected_component",
}

_PATH_TOKEN = re.compile(r'\.([A-Za-z_][A-Za-z0-9_-]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]')
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")


def check_shape(expected, actual, path="$"):
    """The ways `actual` differs in shape from the fixture `expected`, one sentence each, every
    one starting with the JSON path (`$.incidents[0].status`) where it was found."""
    problems = []
    _check(expected, actual, path, None, problems)
    return problems


def json_type(value):
    """The JSON type of a decoded value: object, array, string, integer, number, boolean, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "not JSON (%s)" % type(value).__name__


def parse_path(path):
    """`$.incidents[0].status` as ["incidents", 0, "status"]: keys as strings, indexes as ints."""
    tokens, at = [], 1 if path.startswith("$") else 0
    while at < len(path):
        m = _PATH_TOKEN.match(path, at)
        if not m:
            break
        if m.group(1) is not None:
            tokens.append(m.group(1))
        elif m.group(2) is not None:
            tokens.append(json.loads('"%s"' % m.group(2)))
        else:
            tokens.append(int(m.group(3)))
        at = m.end()
    return tokens


def value_set_for(path):
    """The `VALUE_SETS` name that applies at `path` (a JSON path string), or None."""
    tokens = parse_path(path)
    if not tokens or not isinstance(tokens[-1], str):
        return None
    key, parents = tokens[-1], tokens[:-1]
    if key == "impact":
        return "impact"
    if key == "indicator":
        return "indicator" if parents and parents[-1] == "status" else None
    # The kinds of object this key sits in, innermost first, from the list keys on the way.
    kinds = [_ITEM_KIND.get(parents[i - 1]) for i in range(len(parents) - 1, 0, -1)
             if isinstance(parents[i], int) and isinstance(parents[i - 1], str)]
    kinds = [k for k in kinds if k]
    if not kinds or len(parents) < 2 or not isinstance(parents[-1], int):
        return None  # only a key directly inside a list item has a context
    inner = kinds[0]
    if inner == "affected_component" and key in ("old_status", "new_status"):
        return "affected_component." + key
    if key != "status":
        return None
    if inner in ("component", "incident", "maintenance"):
        return inner + ".status"
    if inner == "update":
        return "maintenance_update.status" if "maintenance" in kinds[1:] else "incident_update.status"
    return None


def is_iso_datetime(value):
    """Whether `value` is an ISO 8601 date-time with a UTC offset, as Statuspage writes them."""
    m = isinstance(value, str) and _DATETIME.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    offset = m.group(8)
    return offset == "Z" or (int(offset[1:3]) <= 23 and int(offset[4:6]) <= 59)


def is_iso_date(value):
    """Whether `value` is an ISO 8601 calendar date, YYYY-MM-DD."""
    if not (isinstance(value, str) and _DATE.match(value)):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _child(path, key):
    if isinstance(key, int):
        return "%s[%d]" % (path, key)
    if _IDENTIFIER.match(key):
        return "%s.%s" % (path, key)
    return "%s[%s]" % (path, json.dumps(key))


def _describe(value):
    """A scalar as JSON (shortened), anything else as its JSON type."""
    if json_type(value) not in ("string", "integer", "number", "boolean", "null"):
        return json_type(value)
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _check(expected, actual, path, key, problems):
    """Compare one value; `key` is the object key it sits under (None for list items and the root)."""
    _check_value(actual, path, key, problems)
    if expected is None:
        return  # the fixture shows null: any type goes, and there is nothing to recurse into
    if actual is None:
        if key not in NULLABLE:
            problems.append("%s: is null, but the fixture has %s and %r is not nullable"
                            % (path, json_type(expected), key))
        return
    want, got = json_type(expected), json_type(actual)
    if want != got and not (want == "number" and got == "integer"):
        shown = got if got in ("object", "array") else "%s %s" % (got, _describe(actual))
        problems.append("%s: is %s, the fixture has %s" % (path, shown, want))
        return
    if want == "object":
        for missing in [k for k in expected if k not in actual]:
            problems.append("%s: missing key %r (the fixture has it)" % (path, missing))
        for extra in [k for k in actual if k not in expected]:
            problems.append("%s: unexpected key %r (not in the fixture)" % (path, extra))
        for k in expected:
            if k in actual:
                _check(expected[k], actual[k], _child(path, k), k, problems)
    elif want == "array":
        if not expected:
            return  # an empty fixture list says nothing about its items
        for i, item in enumerate(actual):
            _check(_template(expected, item), item, _child(path, i), None, problems)


def _kind(value):
    if isinstance(value, dict) and isinstance(value.get("group"), bool):
        return ("object", value["group"])
    return (json_type(value), None)


def _template(expected_items, item):
    """The fixture item to check `item` against: the first of the same kind, else the first of
    the same JSON type, else the first."""
    kind = _kind(item)
    for candidate in expected_items:
        if _kind(candidate) == kind:
            return candidate
    for candidate in expected_items:
        if json_type(candidate) == kind[0]:
            return candidate
    return expected_items[0]


def _check_value(actual, path, key, problems):
    """Value sets and timestamp formats, on the document's own value."""
    if key is None or actual is None:
        return
    if key.endswith("_at") or key in DATETIME_KEYS:
        if not is_iso_datetime(actual):
            problems.append("%s: %s is not an ISO 8601 date-time with an offset" % (path, _describe(actual)))
    elif key in DATE_KEYS:
        if not is_iso_date(actual):
            problems.append("%s: %s is not an ISO 8601 date (YYYY-MM-DD)" % (path, _describe(actual)))
    name = value_set_for(path)
    if name and isinstance(actual, str) and actual not in VALUE_SETS[name]:
        problems.append("%s: %s is not one of %s (%s)"
                        % (path, _describe(actual), ", ".join(sorted(VALUE_SETS[name])), name))


# --- self-test ---------------------------------------------------------------------------------

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "status_fixtures")


def _load_fixtures():
    names = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".json"))
    docs = {}
    for name in names:
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
            docs[name] = json.load(f)
    return docs


def _breakages(doc):
    """Ways to break a copy of `doc`, each (description, mutate, path the mismatch must name)."""
    out = [
        ("page.time_zone removed", lambda d: d["page"].pop("time_zone"), "$.page: missing key 'time_zone'"),
        ("an extra page key", lambda d: d["page"].__setitem__("subdomain", "acme"), "$.page: unexpected key 'subdomain'"),
        ("page.name a number", lambda d: d["page"].__setitem__("name", 42), "$.page.name: is integer"),
        ("page.id null", lambda d: d["page"].__setitem__("id", None), "$.page.id: is null"),
        ("page.updated_at not a timestamp", lambda d: d["page"].__setitem__("updated_at", "yesterday"),
         "$.page.updated_at: \"yesterday\" is not an ISO 8601"),
        ("page.updated_at without an offset",
         lambda d: d["page"].__setitem__("updated_at", "2025-06-12T09:41:07"), "$.page.updated_at:"),
    ]
    if "status" in doc:
        out += [
            ("indicator out of its set", lambda d: d["status"].__setitem__("indicator", "degraded"),
             "$.status.indicator: \"degraded\" is not one of"),
            ("status.description missing", lambda d: d["status"].pop("description"),
             "$.status: missing key 'description'"),
        ]
    if doc.get("components"):
        first_plain = next(i for i, c in enumerate(doc["components"]) if not c["group"])
        first_group = next((i for i, c in enumerate(doc["components"]) if c["group"]), None)
        out += [
            ("component status out of its set (an incident's)",
             lambda d: d["components"][first_plain].__setitem__("status", "investigating"),
             "$.components[%d].status: \"investigating\" is not one of" % first_plain),
            ("position a string", lambda d: d["components"][first_plain].__setitem__("position", "1"),
             "$.components[%d].position: is string" % first_plain),
            ("start_date a date-time", lambda d: d["components"][first_plain].__setitem__(
                "start_date", "2021-08-11T00:00:00Z"), "$.components[%d].start_date:" % first_plain),
            ("a plain component given a members list", lambda d: d["components"][first_plain].__setitem__(
                "components", []), "$.components[%d]: unexpected key 'components'" % first_plain),
        ]
        if first_group is not None:
            out.append(("a group without its members", lambda d: d["components"][first_group].pop("components"),
                        "$.components[%d]: missing key 'components'" % first_group))
    if doc.get("incidents"):
        out += [
            ("incident status a maintenance's", lambda d: d["incidents"][-1].__setitem__("status", "completed"),
             "$.incidents[%d].status: \"completed\" is not one of" % (len(doc["incidents"]) - 1)),
            ("impact out of its set", lambda d: d["incidents"][0].__setitem__("impact", "severe"),
             "$.incidents[0].impact:"),
            ("started_at missing", lambda d: d["incidents"][0].pop("started_at"),
             "$.incidents[0]: missing key 'started_at'"),
            ("update status a maintenance's",
             lambda d: d["incidents"][0]["incident_updates"][0].__setitem__("status", "in_progress"),
             "$.incidents[0].incident_updates[0].status:"),
            ("affected component's new_status out of its set",
             lambda d: d["incidents"][0]["incident_updates"][0]["affected_components"][0].__setitem__(
                 "new_status", "down"),
             "$.incidents[0].incident_updates[0].affected_components[0].new_status:"),
            ("deliver_notifications a string",
             lambda d: d["incidents"][0]["incident_updates"][-1].__setitem__("deliver_notifications", "true"),
             "$.incidents[0].incident_updates[%d].deliver_notifications: is string"
             % (len(doc["incidents"][0]["incident_updates"]) - 1)),
        ]
    if doc.get("scheduled_maintenances"):
        out += [
            ("maintenance status an incident's",
             lambda d: d["scheduled_maintenances"][0].__setitem__("status", "resolved"),
             "$.scheduled_maintenances[0].status: \"resolved\" is not one of"),
            ("scheduled_for an impossible date",
             lambda d: d["scheduled_maintenances"][0].__setitem__("scheduled_for", "2025-13-45T00:00:00Z"),
             "$.scheduled_maintenances[0].scheduled_for:"),
            ("scheduled_until missing", lambda d: d["scheduled_maintenances"][-1].pop("scheduled_until"),
             "$.scheduled_maintenances[%d]: missing key 'scheduled_until'" % (len(doc["scheduled_maintenances"]) - 1)),
            ("maintenance update status an incident's",
             lambda d: d["scheduled_maintenances"][0]["incident_updates"][0].__setitem__("status", "identified"),
             "$.scheduled_maintenances[0].incident_updates[0].status:"),
        ]
    return out


def _nulls_allowed(doc):
    """A copy of `doc` with every nullable field the fixture fills in set to null: no mismatches."""
    doc = copy.deepcopy(doc)

    def walk(value):
        if isinstance(value, dict):
            for k in list(value):
                if k in NULLABLE:
                    value[k] = None
                else:
                    walk(value[k])
        elif isinstance(value, list):
            for item in value:
                walk(item)
    walk(doc)
    return doc


def _self_test():
    docs = _load_fixtures()
    expected_names = {"summary.json", "status.json", "components.json", "incidents.json",
                      "incidents_unresolved.json", "scheduled-maintenances.json",
                      "scheduled-maintenances_upcoming.json", "scheduled-maintenances_active.json"}
    failures = []
    if set(docs) != expected_names:
        failures.append("fixtures: have %s, want %s" % (sorted(docs), sorted(expected_names)))
    for name, doc in docs.items():
        same = check_shape(doc, doc)
        if same:
            failures.append("%s against itself: %d mismatches:\n    %s" % (name, len(same), "\n    ".join(same)))
        nulls = check_shape(doc, _nulls_allowed(doc))
        if nulls:
            failures.append("%s with its nullable fields null: %d mismatches:\n    %s"
                            % (name, len(nulls), "\n    ".join(nulls)))
        breakages = _breakages(doc)
        found_total = 0
        for description, mutate, needle in breakages:
            broken = copy.deepcopy(doc)
            mutate(broken)
            found = check_shape(doc, broken)
            found_total += len(found)
            if not any(line.startswith(needle) for line in found):
                failures.append("%s, broken by %s: no mismatch starting %r; got %s"
                                % (name, description, needle, found))
        # Every breakage at once, as one broken copy.
        broken = copy.deepcopy(doc)
        for _, mutate, _ in breakages:
            try:
                mutate(broken)
            except (KeyError, IndexError):
                pass  # an earlier breakage removed what this one edits
        together = check_shape(doc, broken)
        if not together:
            failures.append("%s: the broken copy gave no mismatches" % name)
        print("%-38s itself: %d mismatches; nullable fields null: %d; %2d breakages -> %3d mismatches "
              "(all at once: %d)" % (name, len(same), len(nulls), len(breakages), found_total, len(together)))
    sample = copy.deepcopy(docs["incidents.json"])
    sample["incidents"][0]["status"] = "completed"
    sample["page"]["url"] = 7
    print("\nFor example, a broken copy of incidents.json:")
    for line in check_shape(docs["incidents.json"], sample):
        print("  " + line)
    if failures:
        print("\nSELF-TEST FAILED:\n" + "\n".join(failures))
        return 1
    print("\nself-test passed")
    return 0


if __name__ == "__main__":
    sys.exit(_self_test())
