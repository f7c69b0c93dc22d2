#!/usr/bin/env bash
# Makes a demo database in DIR with BIN (`stringer serve --demo` until it listens, then
# stopped): the schema, the demo's staff and a real ticket state for bench/review/fill.py to
# copy. Shared by bench/review_1m.sh and bench/whatif_1m.sh.
#   bench/review/demo_db.sh BIN DIR
set -euo pipefail
bin=$1
data=$2
"$bin" serve --listen 127.0.0.1:0 --data-dir "$data" --demo > "$data/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 600); do grep -q "Open http" "$data/serve.log" && break; sleep 0.1; done
grep -q "Open http" "$data/serve.log" || { cat "$data/serve.log"; exit 1; }
kill "$server"
wait "$server" || true
