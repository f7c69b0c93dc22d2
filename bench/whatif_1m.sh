#!/usr/bin/env bash
# Times `stringer whatif` over a quarter of 1,000,000 tickets on SQLite: 20 orgs (half Pro,
# half Enterprise), every ticket opened in 2026-Q3 with its whole recorded history on the
# timeline (bench/review/fill.py --events), replayed under the built-in contract and under
# a proposal halving Pro P2's response target; 5 runs, median wall time and peak RSS.
#   bench/whatif_1m.sh [TICKETS] [ORGS]
# KEEP=DIR keeps the filled database in DIR and reuses it when it is there already.
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-1000000}
orgs=${2:-20}
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (/usr/bin/time; Debian's package time)"; exit 1; }
cargo build --release --locked -q -p stringer
bin=${STRINGER_BIN:-target/release/stringer}
data=${KEEP:-$(mktemp -d /tmp/stringer-whatif.XXXXXX)}
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
    python3 bench/review/fill.py "$data/stringer.db" "$tickets" "$orgs" --quarter 2026-Q3 --events
    touch "$data/filled"
    echo "filled $tickets tickets over $orgs orgs in $(( $(date +%s) - start )) s ($(du -h "$data/stringer.db" | cut -f1))"
fi
# The baseline is the built-in contract; the proposal halves Pro P2's first response.
baseline=crates/core/src/contract/default.toml
sed 's/^P2 = { within = "8 business hours", calendar = "pro_coverage" }/P2 = { within = "4 business hours", calendar = "pro_coverage" }/' \
    "$baseline" > "$data/proposed.toml"
cmp -s "$baseline" "$data/proposed.toml" && { echo "the proposal did not change the contract"; exit 1; }
org_args=()
for o in $(seq 0 $(( orgs - 1 ))); do org_args+=(--org "$(printf 'org%02d' "$o")"); done
times=()
peaks=()
for run in 1 2 3 4 5; do
    /usr/bin/time -f '%e %M' -o "$data/time" "$bin" whatif --baseline "$baseline" --contract "$data/proposed.toml" \
        --quarter 2026-Q3 --format json --data-dir "$data" "${org_args[@]}" > "$data/whatif.json" 2> "$data/whatif.log" \
        || { cat "$data/whatif.log"; exit 1; }
    read -r wall rss < "$data/time"
    times+=("$wall")
    peaks+=("$rss")
    printf 'run %d: %.2f s, peak RSS %d MB\n' "$run" "$wall" "$(( rss / 1024 ))"
done
python3 - "$data/whatif.json" "$tickets" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
w = report["whatif"]
print(f"2026-Q3: {w['tickets']} tickets, {w['changed_tickets']} whose outcome changes, "
      f"{len(w['not_comparable'])} not comparable")
for line in w["observations"]:
    print("  " + line)
assert w["tickets"] == int(sys.argv[2]), "every ticket of the quarter is replayed"
assert w["changed_tickets"] > 0, "halving Pro P2 changes outcomes"
EOF
printf 'median: %.2f s; peak RSS median %d MB, largest %d MB\n' \
    "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)" \
    "$(( $(printf '%s\n' "${peaks[@]}" | sort -n | sed -n 3p) / 1024 ))" \
    "$(( $(printf '%s\n' "${peaks[@]}" | sort -n | tail -1) / 1024 ))"
