#!/usr/bin/env bash
# Fuzzes the real server from its own OpenAPI document with schemathesis, with every check
# (`--checks all`), as an admin and as a customer (the demo's alice of acme). Starts
# `stringer serve --demo` on a free port — on a fresh SQLite database, or on DATABASE_URL
# (PostgreSQL) when given — and stops it afterwards. seed.py gives schemathesis real ids (a
# ticket, users, a schedule and its overrides, a status page and its parts, a mail, an
# inquiry, an attachment…) so that the fuzzing reaches what lies behind an id and not only
# the 404 of an unknown one; failures.py lists each failure in the server's own words.
#
# Gate: no server error, no answer outside the document (status, content type, headers,
# schema), no authorization lapse, and no schema-valid request refused (ST202) unless for a
# business rule failures.py lists (a ticket's state, a rule across two fields, an unknown
# id). ST302 "created resource not found" is reported, not gated (e.g. a calendar feed for a
# customer user: only staff have one).
#   tests/api_fuzz/run.sh PATH/TO/stringer PATH/TO/schemathesis [DATABASE_URL]
set -euo pipefail
stringer=$1
schemathesis=$2
here=$(cd "$(dirname "$0")" && pwd)
python=$(dirname "$schemathesis")/python
dir=$(mktemp -d /tmp/stringer-fuzz.XXXXXX)
database=()
[ -n "${3:-}" ] && database=(--database "$3")
"$stringer" serve --demo --listen 127.0.0.1:0 --smtp-listen 127.0.0.1:0 --data-dir "$dir" "${database[@]}" > "$dir/out" 2> "$dir/log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do
    grep -q '^listening on ' "$dir/out" 2>/dev/null && break
    sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$dir/out")
token_of() { grep -A1 "^  $1@" "$dir/out" | sed -n 's/^ *token \([^ ]*\).*/\1/p'; }
admin=$(token_of admin)
customer=$(token_of alice)
[ -n "$base" ] && [ -n "$admin" ] && [ -n "$customer" ] || { echo "server did not start"; cat "$dir/log"; exit 1; }

"$python" "$here/seed.py" "$base" "$admin" "$customer" "$here/schemathesis.toml" "$dir"

status=0
for who in admin customer; do
    token=${!who}
    echo "== schemathesis --checks all as $who${3:+ (PostgreSQL)}"
    set +e
    # Every check but use-after-free (ST301): deleting here is deactivating or revoking —
    # DELETE /users/{id} deactivates an account (its sessions and tokens stop working) and
    # the account stays readable with its `deactivated_at`; nothing of a person's is deleted,
    # so a resource read after its DELETE is found on purpose.
    "$schemathesis" --config-file "$dir/$who.toml" run "$base/api/v1/openapi.json" \
        --header "Authorization: Bearer $token" \
        --checks all --exclude-checks use_after_free --continue-on-failure \
        --max-examples 25 --generation-deterministic --no-color > "$dir/$who.txt" 2>&1
    set -e
    sed -n '/^=* SUMMARY =*$/,$p' "$dir/$who.txt"
    echo "-- each failure, in the server's words"
    if ! "$python" "$here/failures.py" "$dir/$who.txt"; then
        echo "as $who, a schema-valid request was refused for a reason the document could state"
        status=1
    fi
    # Failure codes of the summary, e.g. "❌ ST202 Schema-valid request rejected: 15".
    codes=$(sed -n '/^Failures:/,/^$/p' "$dir/$who.txt" | grep -oE 'ST[0-9]+' | sort -u || true)
    gated=$(echo "$codes" | grep -vE '^(ST202|ST302)?$' || true)
    if [ -n "$gated" ]; then
        echo "as $who, gated checks failed: $gated"
        sed -n '/^=* FAILURES =*$/,/^=* SUMMARY/p' "$dir/$who.txt"
        status=1
    fi
    if ! grep -qE '^Test cases:' "$dir/$who.txt"; then
        echo "as $who, schemathesis did not finish"
        cat "$dir/$who.txt"
        status=1
    fi
done
if grep -E 'panicked|ERROR' "$dir/log"; then
    echo "the server logged errors during fuzzing"
    status=1
fi
exit $status
