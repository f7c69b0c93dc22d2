#!/usr/bin/env bash
# Times `stringer simulate` on a generated scenario of 100,000 tickets (3 runs): wall time and
# peak RSS of each run, and their medians. Target (issue 29): under 1 s and under 100 MB,
# memory independent of the number of tickets (run it with 400000 to see).
#   bench/simulate_100k.sh [TICKETS]
# STRINGER_BIN runs another binary instead of building target/release/stringer (to compare two
# builds in one sitting); ROSTER=1 generates the scenario with staff and a schedule, so pages
# name people.
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-100000}
bin=${STRINGER_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --locked -q -p stringer
    bin=./target/release/stringer
fi
scenario=$(mktemp /tmp/stringer-scenario.XXXXXX.jsonl)
measure=$(mktemp /tmp/stringer-time.XXXXXX)
trap 'rm -f "$scenario" "$measure"' EXIT
python3 bench/gen_scenario.py --tickets "$tickets" ${ROSTER:+--roster} --out "$scenario"
echo "scenario: $tickets tickets, $(wc -l < "$scenario") lines, $(du -m "$scenario" | cut -f1) MB"
times=()
rss=()
for run in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$measure" "$bin" simulate "$scenario" > /dev/null
    read -r wall kb < "$measure"
    times+=("$wall")
    rss+=("$((kb / 1024))")
    printf 'run %d: %.2f s, peak RSS %d MB\n' "$run" "$wall" "${rss[-1]}"
done
printf 'median: %.2f s, %d MB\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)" \
    "$(printf '%s\n' "${rss[@]}" | sort -n | sed -n 2p)"
