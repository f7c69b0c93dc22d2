#!/usr/bin/env bash
# The what-if identity on a generated quarter: bench/gen_scenario.py writes TICKETS tickets
# over 2026-Q3 with its roster (staff and an on-call schedule, so pages reach people),
# `stringer simulate --record` writes them into a new database through the application, and
# `stringer whatif --check --quarter 2026-Q3` replays them under the contract in force and
# compares every notice and every ticket's state with the record. Prints the check's verdict
# and how long each part took; exits 1 when the check finds a difference.
#   bench/whatif_check.sh [TICKETS] [sqlite|postgres]
# postgres runs inside scripts/with-postgres (a private, throw-away cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-100000}
backend=${2:-sqlite}
if [ "$backend" = postgres ] && [ -z "${STRINGER_TEST_POSTGRES_URL:-}" ]; then
    exec scripts/with-postgres "$0" "$tickets" postgres
fi
[ -n "${STRINGER_BIN:-}" ] || cargo build --release --locked -q -p stringer
bin=${STRINGER_BIN:-target/release/stringer}
work=$(mktemp -d /tmp/stringer-whatif-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
case "$backend" in
    sqlite) db=(--data-dir "$work") ;;
    postgres) db=(--database "$STRINGER_TEST_POSTGRES_URL") ;;
    *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
python3 bench/gen_scenario.py --tickets "$tickets" --roster --start 2026-07-01 --days 92 --out "$work/scenario.jsonl"
echo "scenario: $tickets tickets over 2026-Q3, $(wc -l < "$work/scenario.jsonl") lines"
start=$(date +%s.%N)
"$bin" simulate "$work/scenario.jsonl" --record "${db[@]}"
printf 'recorded on %s in %.1f s\n' "$backend" "$(echo "$(date +%s.%N) - $start" | bc -l)"
start=$(date +%s.%N)
set +e
/usr/bin/time -f 'peak RSS %M KiB' "$bin" whatif --check --quarter 2026-Q3 "${db[@]}" 2> "$work/check.err"
code=$?
set -e
grep -E 'peak RSS|differs' "$work/check.err" || true
printf 'checked in %.1f s, exit %d\n' "$(echo "$(date +%s.%N) - $start" | bc -l)" "$code"
exit "$code"
