#!/usr/bin/env bash
# Times `stringer simulate` on a generated 100,000-ticket scenario (3 runs, median).
#   bench/simulate_100k.sh [TICKETS]
set -euo pipefail
cd "$(dirname "$0")/.."
tickets=${1:-100000}
cargo build --release --locked -q -p stringer
scenario=$(mktemp /tmp/stringer-scenario.XXXXXX.jsonl)
trap 'rm -f "$scenario"' EXIT
python3 bench/gen_scenario.py --tickets "$tickets" --out "$scenario"
echo "scenario: $tickets tickets, $(wc -l < "$scenario") lines"
times=()
for run in 1 2 3; do
    start=$(date +%s.%N)
    ./target/release/stringer simulate "$scenario" > /dev/null
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
    printf 'run %d: %.2f s\n' "$run" "${times[-1]}"
done
printf 'median: %.2f s\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)"
