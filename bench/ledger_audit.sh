#!/usr/bin/env bash
# Times `stringer ledger audit` over about 1,000,000 timeline events on SQLite (issue 28: under
# 10 s). The rows are written by bench/review/fill.py --events (whole recorded histories, as the
# store writes them, without leaves: rows from before the ledger), appended by
# `stringer ledger backfill` (timed too), then audited 3 times: the median wall time.
#   bench/ledger_audit.sh [TICKETS] [ORGS]      (default 145000 tickets ≈ 1M events, 20 orgs)
# KEEP=DIR keeps the filled database in DIR and reuses it when it is there already.
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-145000}
orgs=${2:-20}
cargo build --release --locked -q -p stringer
bin=${STRINGER_BIN:-${CARGO_TARGET_DIR:-target}/release/stringer}
data=${KEEP:-$(mktemp -d /tmp/stringer-ledger.XXXXXX)}
mkdir -p "$data"
cleanup() {
    [ -n "${KEEP:-}" ] || rm -rf "$data"
}
trap cleanup EXIT
if [ ! -e "$data/filled" ]; then
    rm -f "$data"/stringer.db*
    # The demo desk makes the schema, the staff and a real ticket state to copy.
    bench/review/demo_db.sh "$bin" "$data"
    start=$(date +%s)
    python3 bench/review/fill.py "$data/stringer.db" "$tickets" "$orgs" --events
    echo "filled $tickets tickets over $orgs orgs in $(( $(date +%s) - start )) s"
    start=$(date +%s.%N)
    "$bin" ledger backfill --data-dir "$data"
    printf 'backfill: %.1f s\n' "$(echo "$(date +%s.%N) - $start" | bc)"
    touch "$data/filled"
fi
events=$(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM timeline').fetchone()[0])" "$data/stringer.db")
echo "$events events ($(du -h "$data/stringer.db" | cut -f1))"
times=()
for run in 1 2 3; do
    start=$(date +%s.%N)
    "$bin" ledger audit --data-dir "$data" > "$data/audit.out" || { cat "$data/audit.out"; exit 1; }
    wall=$(echo "$(date +%s.%N) - $start" | bc)
    times+=("$wall")
    printf 'run %d: %.2f s — %s\n' "$run" "$wall" "$(cat "$data/audit.out")"
done
printf 'median: %.2f s for %d events (limit 10 s)\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)" "$events"
