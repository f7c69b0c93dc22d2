#!/usr/bin/env bash
# Times `stringer review` of one org's quarter in a SQLite database of 1,000,000 tickets
# (20 orgs over 2026: about 12,500 tickets in the org's quarter), 5 runs, median.
#   bench/review_1m.sh [TICKETS] [ORGS]
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-1000000}
orgs=${2:-20}
cargo build --release --locked -q -p stringer
bin=target/release/stringer
data=$(mktemp -d /tmp/stringer-review.XXXXXX)
trap 'rm -rf "$data"' EXIT
# The demo desk makes the schema and a real ticket state to copy.
bench/review/demo_db.sh "$bin" "$data"
start=$(date +%s)
python3 bench/review/fill.py "$data/stringer.db" "$tickets" "$orgs"
echo "filled $tickets tickets over $orgs orgs in $(( $(date +%s) - start )) s ($(du -h "$data/stringer.db" | cut -f1))"
times=()
for run in 1 2 3 4 5; do
    begin=$(date +%s.%N)
    "$bin" review --org org07 --quarter 2026-Q3 --format json --data-dir "$data" > "$data/review.json" 2> /dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $begin" | bc -l)")
    printf 'run %d: %.3f s\n' "$run" "${times[-1]}"
done
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("org07 2026-Q3:", r["tickets"], "tickets,", len(r["figures"]["rows"]), "rows")' "$data/review.json"
printf 'median: %.3f s\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"
