#!/usr/bin/env bash
# Fuzzes the real server from its own OpenAPI document with schemathesis: no generated
# request may make it answer 5xx, and every answer must match the document (status codes,
# content types, response schemas). Starts `stringer serve --demo` on a free port with a
# fresh SQLite database and stops it afterwards.
#   tests/api_fuzz/run.sh PATH/TO/stringer PATH/TO/schemathesis
set -euo pipefail
stringer=$1
schemathesis=$2
dir=$(mktemp -d /tmp/stringer-fuzz.XXXXXX)
"$stringer" serve --demo --listen 127.0.0.1:0 --data-dir "$dir" > "$dir/out" 2> "$dir/log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 300); do
    grep -q '^listening on ' "$dir/out" 2>/dev/null && break
    sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$dir/out")
admin=$(grep -A1 '^  admin@' "$dir/out" | sed -n 's/^ *token \([^ ]*\).*/\1/p')
[ -n "$base" ] && [ -n "$admin" ] || { echo "server did not start"; cat "$dir/log"; exit 1; }
"$schemathesis" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $admin" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples 25 --generation-deterministic --no-color
if grep -E 'panicked|ERROR' "$dir/log"; then
    echo "the server logged errors during fuzzing"
    exit 1
fi
