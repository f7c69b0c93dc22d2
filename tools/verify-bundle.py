#!/usr/bin/env python3
"""Verify a Stringer ledger bundle, written from docs/ledger.md alone (a second verifier).

    python3 tools/verify-bundle.py BUNDLE.json [--key ed25519:<base64>] [--previous-head FILE]

--key pins the log's key (e.g. from the welcome packet); --previous-head names a file holding
an earlier head's JSON form or a whole earlier bundle. Exit status: 0 when the bundle
verifies, 1 when a check of docs/ledger.md §6.4 fails (the message names the first failing
event), 2 when the input is unusable (a file unreadable or not JSON, a bad --key, a bundle or
previous head that is not well formed). The verdict is printed on stdout, warnings on stderr.

Needs only the standard library and the `cryptography` package (its Ed25519).

Where docs/ledger.md leaves a choice open, this verifier decides as follows:

* Well-formedness (messages `not a bundle:`, `unknown bundle format`) is checked for the
  whole bundle before check 2: `format` first, then every object's members and every
  member's type (hex is lowercase and 32 bytes, base64 padded and canonical, integers are
  0..2^64-1). `shown.at` and `shown.body` are left to check 2.3, which names the event;
  `shown.kind` must be a string (it names the event). Pending entries must be objects with
  exactly `seq` and `shown`; nothing inside them is checked.
* JSON input is UTF-8; a member name twice in one object, NaN/Infinity and strings with
  lone surrogates are refused as not well formed.
* Check 2.4 compares a disclosed value with the shown one through their JSON text (sorted
  keys, no whitespace) even when one holds a float, so a float is refused at check 2.6 as
  §6.4 says, not earlier. A disclosed `entry`, `org` or `ticket` that does not match gives
  `its leaf's <name> is not this bundle's`; a `version` that is not canonical gives
  `a disclosed value is refused: <why>`.
* Check 2.5: an undisclosed `entry`, `org` or `ticket` gives `shows <name> without
  disclosing it` (the bundle's `ticket` member shows them; §6.4 lists no other message).
* "Values nest at most 128 levels deep" (§2) is read as: at most 128 arrays/objects inside
  one another, counting the outermost (a scalar nests 0 levels).
* Instants: years 0001-9999, no leap second (23:59:60).
* Check 3 rebuilds the previous bundle's leaf hashes from its disclosed fields and withheld
  digests, without checking its proofs (its head's signature is checked in step 7); a
  previous entry whose leaf cannot be rebuilt fails with `previous head:`.
* Check 4: if the pinned key occurs more than once in the chain, its first place counts;
  rotations' `at` values are endorsed but not required to rise.
* Version 2 bundles (`stringer-ledger-bundle/2`) may carry `reports`; a version-1 bundle
  with a `reports` member is not well formed. Report publications are checked after the
  timeline entries, in their own leaf order, with the same messages; their `seq` in the
  out-of-order message does not apply (only the leaf index must rise).
* A review bundle (`stringer-ledger-review/1`, §6.5) takes as `--previous-head` a head's
  JSON form or a document holding one as its `head` member.
* Check 6 with `from_size` 0 fails, as §5.3 step 1 says (a proof from the empty tree).
* Exit status 2 for `not a bundle:` and `unknown bundle format` is this script's choice:
  docs/ledger.md words the messages, not the exit statuses.
* Ed25519 is OpenSSL's, through `cryptography`; it may be more lenient than the Rust
  verifier's strict check, which §6.2 allows.
"""

import argparse
import base64
import calendar
import datetime
import hashlib
import json
import re
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    sys.exit("verify-bundle.py needs pyca's cryptography package: pip install cryptography")

FORMAT = "stringer-ledger-bundle/1"
FORMAT_V2 = "stringer-ledger-bundle/2"  # version 1 and `reports`: a ticket's report publications
REVIEW_FORMAT = "stringer-ledger-review/1"  # an org's quarterly-review figure set (§6.5)
I64 = (-(2**63), 2**63 - 1)
U64_MAX = 2**64 - 1
MAX_DEPTH = 128


class Failure(Exception):
    """A verdict other than valid: `message` as §6.4 words it; `unusable` for exit status 2."""

    def __init__(self, message, unusable=False):
        super().__init__(message)
        self.message = message
        self.unusable = unusable


class Refused(ValueError):
    """A value canonical JSON (§2) refuses: a float, an integer out of range, too deep."""


def sha256(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def u32be(x):
    return x.to_bytes(4, "big")


def u64be(x):
    return x.to_bytes(8, "big")


# --- §2 canonical JSON ----------------------------------------------------------------------


def check_canonical(v, depth=0):
    """Raise Refused unless `v` (as Python's json reads it) has a canonical encoding."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return
    if isinstance(v, float):
        raise Refused(f"{v!r} is not an integer: the ledger refuses floats")
    if isinstance(v, int):
        if not I64[0] <= v <= I64[1]:
            raise Refused(f"{v} is outside the signed 64-bit range")
        return
    if depth >= MAX_DEPTH:
        raise Refused(f"values nest more than {MAX_DEPTH} levels deep")
    for item in v.values() if isinstance(v, dict) else v:
        check_canonical(item, depth + 1)


def json_text(v):
    """Sorted keys (code point order), no whitespace, UTF-8: §2's encoding, floats allowed."""
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical(v):
    """The canonical JSON of §2, or Refused."""
    check_canonical(v)
    return json_text(v)


# --- §3 salts, digests, the leaf --------------------------------------------------------------


def salt(secret, name):
    n = name.encode()
    return sha256(b"stringer-ledger/v1 salt\0", secret, u32be(len(n)), n)


def digest(field_salt, name, value):
    n, v = name.encode(), canonical(value)
    return sha256(b"stringer-ledger/v1 field\0", field_salt, u32be(len(n)), n, u32be(len(v)), v)


def leaf_data(digests):
    return b"stringer-ledger/v1 leaf\0" + u32be(len(digests)) + b"".join(sorted(digests))


def leaf_hash(data):
    return sha256(b"\x00", data)


def node(left, right):
    return sha256(b"\x01", left, right)


def timeline_fields(entry):
    """The fields of a timeline entry (§1) as (name, value) pairs."""
    fields = [("entry", "timeline")]
    fields += [(k, entry[k]) for k in ("org", "ticket", "version", "at", "kind", "actor")]
    return fields + [("body." + k, v) for k, v in sorted(entry["body"].items())]


# --- §5 proofs ---------------------------------------------------------------------------------


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 §2.1.3.2 as §5.2 writes it."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, proof):
    """RFC 9162 §2.1.4.2 as §5.3 writes it."""
    if first == 0 or first >= second or not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_hash] + list(proof)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_hash and sr == second_hash


# --- §6 keys and heads -------------------------------------------------------------------------


def key_id(public_key):
    return sha256(public_key)


def fingerprint(public_key):
    h = key_id(public_key)[:16].hex()
    return " ".join(h[i : i + 4] for i in range(0, 32, 4))


def ed25519_ok(public_key, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def head_bytes(head):
    return (
        b"stringer-ledger/v1 head\0" + head["log_id"] + u64be(head["tree_size"])
        + head["root_hash"] + u64be(head["timestamp"])
    )


def endorsed_bytes(rotation):
    return (
        b"stringer-ledger/v1 rotate\0" + key_id(rotation["old_key"]) + rotation["new_key"]
        + u64be(rotation["at"])
    )


def seconds(instant):
    """`YYYY-MM-DDTHH:MM:SSZ` as Unix seconds, or None."""
    if not isinstance(instant, str) or not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", instant):
        return None
    try:
        t = datetime.datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return calendar.timegm(t.timetuple())


# --- reading JSON and checking its shape -------------------------------------------------------


def load_json(text, what):
    """Parse UTF-8 JSON strictly (see the module's notes), or fail as unusable."""
    def pairs(items):
        obj = {}
        for k, v in items:
            if k in obj:
                raise ValueError(f"member {k!r} twice in one object")
            obj[k] = v
        return obj

    def constant(name):
        raise ValueError(f"{name} is not JSON")

    try:
        value = json.loads(text.decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
        json_text(value)  # a lone surrogate cannot be written as UTF-8
    except (UnicodeError, ValueError, RecursionError) as e:
        raise Failure(f"{what}: not JSON: {e}", unusable=True) from None
    return value


class Shape:
    """Checks one document's members and types, decoding hex and base64 in place."""

    def __init__(self, prefix):
        self.prefix = prefix

    def fail(self, where, problem):
        raise Failure(f"{self.prefix} {where} {problem}", unusable=True)

    def obj(self, v, where, required, optional=()):
        if not isinstance(v, dict):
            self.fail(where, "is not an object")
        for k in v:
            if k not in required and k not in optional:
                self.fail(where, f"has an unknown member {k!r}")
        for k in required:
            if k not in v:
                self.fail(where, f"lacks {k!r}")
        return v

    def u64(self, v, where):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= U64_MAX:
            self.fail(where, "is not an integer from 0 to 2^64-1")
        return v

    def string(self, v, where):
        if not isinstance(v, str):
            self.fail(where, "is not a string")
        return v

    def hash32(self, v, where):
        if not isinstance(v, str) or not re.fullmatch(r"[0-9a-f]{64}", v):
            self.fail(where, "is not 32 bytes of lowercase hex")
        return bytes.fromhex(v)

    def b64(self, v, where, size):
        try:
            raw = base64.b64decode(v, validate=True)
            if len(raw) != size or base64.b64encode(raw).decode() != v:
                raise ValueError
        except (TypeError, ValueError):
            self.fail(where, f"is not {size} bytes of padded base64")
        return raw

    def hashes(self, v, where):
        return [self.hash32(x, f"{where}[{i}]") for i, x in enumerate(self.array(v, where))]

    def key(self, v, where):
        if not isinstance(v, str) or not v.startswith("ed25519:"):
            self.fail(where, "is not ed25519:<base64>")
        return self.b64(v[len("ed25519:") :], where, 32)

    def array(self, v, where):
        if not isinstance(v, list):
            self.fail(where, "is not an array")
        return v

    def head(self, v, where):
        h = self.obj(v, where, ("log_id", "tree_size", "root_hash", "timestamp", "key_id", "signature"))
        return {
            "log_id": self.hash32(h["log_id"], where + ".log_id"),
            "tree_size": self.u64(h["tree_size"], where + ".tree_size"),
            "root_hash": self.hash32(h["root_hash"], where + ".root_hash"),
            "timestamp": self.u64(h["timestamp"], where + ".timestamp"),
            "key_id": self.hash32(h["key_id"], where + ".key_id"),
            "signature": self.b64(h["signature"], where + ".signature", 64),
        }

    def bundle(self, v):
        """A bundle with its binary members decoded; `unknown bundle format` comes first."""
        if not isinstance(v, dict):
            self.fail("the document", "is not an object")
        if v.get("format") not in (FORMAT, FORMAT_V2):
            raise Failure(f"unknown bundle format {json.dumps(v.get('format'))}", unusable=True)
        members = ("format", "log", "head", "ticket", "entries")
        optional = ("consistency", "pending") + (("reports",) if v["format"] == FORMAT_V2 else ())
        b = self.obj(v, "the bundle", members, optional)
        log = self.obj(b["log"], "log", ("log_id", "public_key", "key_id"), ("rotations",))
        rotations = []
        for i, r in enumerate(self.array(log.get("rotations", []), "log.rotations")):
            w = f"log.rotations[{i}]"
            r = self.obj(r, w, ("old_key", "new_key", "at", "endorsement"))
            rotations.append({
                "old_key": self.key(r["old_key"], w + ".old_key"),
                "new_key": self.key(r["new_key"], w + ".new_key"),
                "at": self.u64(r["at"], w + ".at"),
                "endorsement": self.b64(r["endorsement"], w + ".endorsement", 64),
            })
        ticket = self.obj(b["ticket"], "ticket", ("id", "key", "org"))
        for k in ticket:
            self.string(ticket[k], "ticket." + k)
        consistency = b.get("consistency")
        if consistency is not None:
            c = self.obj(consistency, "consistency", ("from_size", "from_root", "proof"))
            consistency = {
                "from_size": self.u64(c["from_size"], "consistency.from_size"),
                "from_root": self.hash32(c["from_root"], "consistency.from_root"),
                "proof": self.hashes(c["proof"], "consistency.proof"),
            }
        entries = [self.entry(e, f"entries[{i}]") for i, e in enumerate(self.array(b["entries"], "entries"))]
        reports = [self.report(r, f"reports[{i}]") for i, r in enumerate(self.array(b.get("reports", []), "reports"))]
        pending = self.array(b.get("pending", []), "pending")
        for i, p in enumerate(pending):
            self.obj(p, f"pending[{i}]", ("seq", "shown"))
        return {
            "log": {
                "log_id": self.hash32(log["log_id"], "log.log_id"),
                "public_key": self.key(log["public_key"], "log.public_key"),
                "key_id": self.hash32(log["key_id"], "log.key_id"),
                "rotations": rotations,
            },
            "head": self.head(b["head"], "head"),
            "consistency": consistency,
            "ticket": ticket,
            "entries": entries,
            "reports": reports,
            "pending": pending,
        }

    def report(self, r, w):
        r = self.obj(r, w, ("leaf_index", "shown", "disclosed", "withheld", "inclusion"))
        shown = self.obj(r["shown"], w + ".shown", ("text_version", "at", "customer_text"), ("staff_text",))
        v = shown["text_version"]
        if isinstance(v, bool) or not isinstance(v, int) or not I64[0] <= v <= I64[1]:
            self.fail(w + ".shown.text_version", "is not a 64-bit integer")
        return {
            "leaf_index": self.u64(r["leaf_index"], w + ".leaf_index"),
            "shown": shown,
            "disclosed": self.disclosed(r["disclosed"], w),
            "withheld": self.hashes(r["withheld"], w + ".withheld"),
            "inclusion": self.hashes(r["inclusion"], w + ".inclusion"),
        }

    def disclosed(self, items, w):
        disclosed = []
        for i, d in enumerate(self.array(items, w + ".disclosed")):
            d = self.obj(d, f"{w}.disclosed[{i}]", ("name", "salt", "value"))
            disclosed.append((
                self.string(d["name"], f"{w}.disclosed[{i}].name"),
                self.hash32(d["salt"], f"{w}.disclosed[{i}].salt"),
                d["value"],
            ))
        return disclosed

    def entry(self, e, w):
        e = self.obj(e, w, ("leaf_index", "seq", "shown", "disclosed", "withheld", "inclusion"))
        shown = self.obj(e["shown"], w + ".shown", ("at", "kind", "actor", "body"))
        self.string(shown["kind"], w + ".shown.kind")
        disclosed = []
        for i, d in enumerate(self.array(e["disclosed"], w + ".disclosed")):
            d = self.obj(d, f"{w}.disclosed[{i}]", ("name", "salt", "value"))
            disclosed.append((
                self.string(d["name"], f"{w}.disclosed[{i}].name"),
                self.hash32(d["salt"], f"{w}.disclosed[{i}].salt"),
                d["value"],
            ))
        return {
            "leaf_index": self.u64(e["leaf_index"], w + ".leaf_index"),
            "seq": self.u64(e["seq"], w + ".seq"),
            "shown": shown,
            "disclosed": disclosed,
            "withheld": self.hashes(e["withheld"], w + ".withheld"),
            "inclusion": self.hashes(e["inclusion"], w + ".inclusion"),
        }


def parse_bundle(value):
    return Shape("not a bundle:").bundle(value)


def parse_previous(value):
    """A previous head: ('head', head) or ('bundle', bundle); a `format` member makes a bundle."""
    if isinstance(value, dict) and "format" in value:
        try:
            return "bundle", parse_bundle(value)
        except Failure as f:
            raise Failure("previous head: " + f.message, unusable=True) from None
    return "head", Shape("previous head:").head(value, "the head")


# --- §6.4 verifying a bundle -------------------------------------------------------------------


def instant_text(shown):
    return shown["at"] if isinstance(shown["at"], str) else json.dumps(shown["at"], ensure_ascii=False)


def event(ticket_key, e):
    shown = e["shown"]
    return f"{ticket_key} seq {e['seq']} {shown['kind']} at {instant_text(shown)} (leaf {e['leaf_index']})"


def rebuild_leaf(e):
    """The entry's leaf hash from its disclosed fields and withheld digests (check 2.6)."""
    digests = [digest(s, name, value) for name, s, value in e["disclosed"]]
    return leaf_hash(leaf_data(digests + e["withheld"]))


def check_entry(bundle, e, previous):
    """Checks 2.1-2.7 for one entry; returns its leaf hash or raises the entry's Failure."""
    ticket = bundle["ticket"]

    def fail(problem):
        raise Failure(f"{event(ticket['key'], e)}: {problem}")

    if previous is not None and not (e["leaf_index"] > previous["leaf_index"] and e["seq"] > previous["seq"]):
        fail("out of order (leaf index and seq must both rise)")
    if e["leaf_index"] >= bundle["head"]["tree_size"]:
        fail("beyond the head's tree size")
    shown = e["shown"]
    at = seconds(shown["at"])
    if at is None:
        fail(f'its instant "{instant_text(shown)}" is not YYYY-MM-DDTHH:MM:SSZ')
    if not isinstance(shown["body"], dict):
        fail("its shown body is not an object")
    shown_fields = {"at": at, "kind": shown["kind"], "actor": shown["actor"]}
    shown_fields.update(("body." + k, v) for k, v in sorted(shown["body"].items()))

    required = {"entry": "timeline", "org": ticket["org"], "ticket": ticket["id"]}
    must_show = [n for n, v in shown_fields.items() if v is not None]
    return check_leaf_fields(bundle, e, fail, required, shown_fields, must_show, unshown=("version",))


def check_leaf_fields(bundle, e, fail, required, shown_fields, must_show, unshown=()):
    """The disclosed fields of an entry or report (checks 2.4-2.7): each once, the `required`
    ones equal to this bundle's, the `unshown` ones canonical, every other one equal to what
    is shown; every `required` and `must_show` field disclosed; the leaf rebuilt and included
    under the head. Returns the leaf hash or calls `fail`."""
    seen = set()
    for name, _, value in e["disclosed"]:
        if name in seen:
            fail(f"discloses {name} twice")
        seen.add(name)
        if name in required:
            if not (isinstance(value, str) and value == required[name]):
                fail(f"its leaf's {name} is not this bundle's")
        elif name in unshown:
            try:
                check_canonical(value)
            except Refused as why:
                fail(f"a disclosed value is refused: {why}")
        elif name in shown_fields:
            if json_text(value) != json_text(shown_fields[name]):
                fail(f"changed: shows {name} unlike its leaf")
        else:
            fail(f"discloses {name} without showing it")
    for name in list(required) + list(must_show):
        if name not in seen:
            fail(f"shows {name} without disclosing it")
    try:
        leaf = rebuild_leaf(e)
    except Refused as why:
        fail(f"a disclosed value is refused: {why}")
    head = bundle["head"]
    if not verify_inclusion(e["leaf_index"], head["tree_size"], leaf, e["inclusion"], head["root_hash"]):
        fail("does not match its leaf")
    return leaf


def report_event(ticket_key, r):
    return f"{ticket_key} report text {r['shown']['text_version']} at {instant_text(r['shown'])} (leaf {r['leaf_index']})"


def check_report(bundle, r, previous):
    """Check 2 for one report publication (version 2); returns its leaf hash or raises."""
    ticket = bundle["ticket"]

    def fail(problem):
        raise Failure(f"{report_event(ticket['key'], r)}: {problem}")

    if previous is not None and not r["leaf_index"] > previous["leaf_index"]:
        fail("out of order (leaf index and seq must both rise)")
    if r["leaf_index"] >= bundle["head"]["tree_size"]:
        fail("beyond the head's tree size")
    shown = r["shown"]
    at = seconds(shown["at"])
    if at is None:
        fail(f'its instant "{instant_text(shown)}" is not YYYY-MM-DDTHH:MM:SSZ')
    shown_fields = {"text_version": shown["text_version"], "at": at, "customer_text": shown["customer_text"]}
    if "staff_text" in shown:
        shown_fields["staff_text"] = shown["staff_text"]
    required = {"entry": "report", "org": ticket["org"], "ticket": ticket["id"]}
    return check_leaf_fields(bundle, r, fail, required, shown_fields, list(shown_fields))


def verify(bundle, pinned_key=None, previous=None):
    """Run §6.4's checks in order on parsed input; return warnings or raise the first Failure."""
    warnings = []
    leaves, last = {}, None  # 2. each entry
    for e in bundle["entries"]:
        leaves[e["leaf_index"]] = check_entry(bundle, e, last)
        last = e
    last = None
    for r in bundle["reports"]:
        leaves[r["leaf_index"]] = check_report(bundle, r, last)
        last = r

    prev_kind, prev = previous if previous else (None, None)
    if prev_kind == "bundle":  # 3. entries seen before
        key = prev["ticket"]["key"]
        seen = [(e, event) for e in prev["entries"]] + [(r, report_event) for r in prev["reports"]]
        for e, named in seen:
            if e["leaf_index"] >= prev["head"]["tree_size"]:
                continue
            name = named(key, e)
            try:
                old = rebuild_leaf(e)
            except Refused as why:
                raise Failure(f"previous head: {name}: a disclosed value is refused: {why}") from None
            if e["leaf_index"] not in leaves:
                raise Failure(f"{name}: missing")
            if leaves[e["leaf_index"]] != old:
                raise Failure(f"{name}: changed since the previous bundle")

    return check_anchor(bundle, pinned_key, prev_kind, prev, warnings)


def check_anchor(bundle, pinned_key, prev_kind, prev, warnings):
    """Checks 4-7 of §6.4 (key, head, consistency, previous head); returns the warnings."""
    head, log = bundle["head"], bundle["log"]
    if log["key_id"] != key_id(log["public_key"]):  # 4. the key
        raise Failure("key: log.key_id is not the id of log.public_key")
    rotations = log["rotations"]
    for i, r in enumerate(rotations):
        if not ed25519_ok(r["old_key"], r["endorsement"], endorsed_bytes(r)):
            raise Failure(f"key: rotation {i + 1}'s endorsement does not verify under its old key")
        following = rotations[i + 1]["old_key"] if i + 1 < len(rotations) else log["public_key"]
        if r["new_key"] != following:
            raise Failure(f"key: rotation {i + 1}'s new key is not the next key in the chain")
    chain = [r["old_key"] for r in rotations] + [log["public_key"]]
    if pinned_key is None:
        trusted = chain
        warnings.append("nothing anchors the key: no pinned key was given (pass --key)")
    elif pinned_key in chain:
        trusted = chain[chain.index(pinned_key):]
    else:
        pinned = fingerprint(pinned_key)
        raise Failure(f"key: the pinned key {pinned} is neither the log's key nor endorsed into it")

    if head["log_id"] != log["log_id"]:  # 5. the head
        raise Failure("head: its log id is not the log's")
    if head["key_id"] != log["key_id"]:
        raise Failure("head: its key id is not the log's key")
    if not ed25519_ok(log["public_key"], head["signature"], head_bytes(head)):
        raise Failure("head: the signature does not verify")

    c = bundle["consistency"]  # 6. consistency
    if c is not None:
        if c["from_size"] == head["tree_size"]:
            if c["proof"] or c["from_root"] != head["root_hash"]:
                raise Failure("consistency: at the head's size the proof must be empty and the roots equal")
        elif not verify_consistency(
            c["from_size"], head["tree_size"], c["from_root"], head["root_hash"], c["proof"]
        ):
            raise Failure(f"consistency: the proof from {c['from_size']} leaves does not verify")

    if prev is not None:  # 7. the previous head
        ph = prev["head"] if prev_kind == "bundle" else prev
        if ph["log_id"] != head["log_id"]:
            raise Failure("previous head: it is another log's")
        signer = next((k for k in trusted if key_id(k) == ph["key_id"]), None)
        if signer is None:
            raise Failure("previous head: it is not signed by a trusted key")
        if not ed25519_ok(signer, ph["signature"], head_bytes(ph)):
            raise Failure("previous head: the signature does not verify")
        if ph["tree_size"] > head["tree_size"]:
            raise Failure("previous head: it is larger than this bundle's head")
        if ph["tree_size"] == head["tree_size"]:
            if ph["root_hash"] != head["root_hash"]:
                raise Failure("previous head: same size, another root")
        elif ph["tree_size"] > 0 and (
            c is None or c["from_size"] != ph["tree_size"] or c["from_root"] != ph["root_hash"]
        ):
            raise Failure("previous head: the bundle has no consistency proof from it")
    return warnings


def parse_review(v):
    """A review bundle (§6.5) with its binary members decoded."""
    shape = Shape("not a bundle:")
    b = shape.obj(v, "the bundle", ("format", "log", "head", "review"), ("consistency",))
    parsed = shape.bundle({
        "format": FORMAT, "log": b["log"], "head": b["head"], "consistency": b.get("consistency"),
        "ticket": {"id": "", "key": "", "org": ""}, "entries": [],
    })
    w = "review"
    r = shape.obj(b["review"], w, ("org", "quarter", "leaf_index", "at", "figures", "disclosed", "withheld",
                                   "inclusion"))
    parsed["review"] = {
        "org": shape.string(r["org"], w + ".org"),
        "quarter": shape.string(r["quarter"], w + ".quarter"),
        "leaf_index": shape.u64(r["leaf_index"], w + ".leaf_index"),
        "at": r["at"],
        "figures": r["figures"],
        "disclosed": shape.disclosed(r["disclosed"], w),
        "withheld": shape.hashes(r["withheld"], w + ".withheld"),
        "inclusion": shape.hashes(r["inclusion"], w + ".inclusion"),
    }
    return parsed


def verify_review(bundle, pinned_key=None, previous_head=None):
    """§6.5: the figure set against its leaf and its inclusion, then checks 4-7 of §6.4."""
    r, head = bundle["review"], bundle["head"]
    at_text = r["at"] if isinstance(r["at"], str) else json.dumps(r["at"])

    def fail(problem):
        raise Failure(f"review {r['org']} {r['quarter']} at {at_text} (leaf {r['leaf_index']}): {problem}")

    if r["leaf_index"] >= head["tree_size"]:
        fail("beyond the head's tree size")
    at = seconds(r["at"])
    if at is None:
        fail(f'its instant "{at_text}" is not YYYY-MM-DDTHH:MM:SSZ')
    fields = {"entry": "review", "org": r["org"], "quarter": r["quarter"], "at": at, "figures": r["figures"]}
    seen = set()
    for name, _, value in r["disclosed"]:
        if name in seen:
            fail(f"discloses {name} twice")
        seen.add(name)
        if name not in fields:
            fail(f"discloses {name} without showing it")
        if name == "entry" and value != "review":
            fail("its leaf's entry is not this bundle's")
        if json_text(value) != json_text(fields[name]):
            fail(f"changed: shows {name} unlike its leaf")
    for name in fields:
        if name not in seen:
            fail(f"shows {name} without disclosing it")
    try:
        leaf = rebuild_leaf(r)
    except Refused as why:
        fail(f"a disclosed value is refused: {why}")
    if not verify_inclusion(r["leaf_index"], head["tree_size"], leaf, r["inclusion"], head["root_hash"]):
        fail("does not match its leaf")
    warnings = []
    return check_anchor(bundle, pinned_key, "head" if previous_head else None, previous_head, warnings)


def verify_documents(bundle_value, key_text=None, previous_value=None):
    """Verify JSON values as read from files; return warnings or raise a Failure."""
    pinned = Shape("--key:").key(key_text, "the pinned key") if key_text is not None else None
    if isinstance(bundle_value, dict) and bundle_value.get("format") == REVIEW_FORMAT:
        bundle = parse_review(bundle_value)
        if isinstance(previous_value, dict) and "format" in previous_value:
            previous_value = previous_value.get("head")
        previous = Shape("previous head:").head(previous_value, "the head") if previous_value is not None else None
        return verify_review(bundle, pinned, previous)
    bundle = parse_bundle(bundle_value)
    previous = parse_previous(previous_value) if previous_value is not None else None
    return verify(bundle, pinned, previous)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Verify a Stringer ledger bundle (docs/ledger.md).")
    parser.add_argument("bundle", help="the bundle's JSON file")
    parser.add_argument("--key", help="the pinned key, ed25519:<base64>")
    parser.add_argument("--previous-head", help="an earlier head's JSON form or an earlier bundle")
    args = parser.parse_args(argv)
    try:
        def read(path, what):
            try:
                with open(path, "rb") as f:
                    return load_json(f.read(), what)
            except OSError as e:
                raise Failure(f"cannot read {path}: {e.strerror}", unusable=True) from None

        bundle = read(args.bundle, "not a bundle")
        previous = read(args.previous_head, "previous head") if args.previous_head else None
        warnings = verify_documents(bundle, args.key, previous)
    except Failure as f:
        print(f.message)
        return 2 if f.unusable else 1
    for w in warnings:
        print("warning: " + w, file=sys.stderr)
    if bundle.get("format") == REVIEW_FORMAT:
        review = bundle["review"]
        print(f"valid: the figures of {review['org']}'s {review['quarter']} review under a head of "
              f"{bundle['head']['tree_size']} leaves")
        return 0
    entries = len(bundle["entries"]) + len(bundle.get("reports", []))
    print(f"valid: {entries} entries of {bundle['ticket']['key']} under a head of "
          f"{bundle['head']['tree_size']} leaves; {len(bundle.get('pending', []))} pending without proof")
    return 0


if __name__ == "__main__":
    sys.exit(main())
