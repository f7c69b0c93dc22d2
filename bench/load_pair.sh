#!/usr/bin/env bash
# Ticket creation on SQLite, two binaries side by side: an A/B comparison that the machine's
# drift cannot bias. On a shared 2-core machine one binary's creates/s moves by ±15 % from one
# run to the next, more than the differences worth measuring (issue 28: the ledger's append
# must add under 10 %). Here both servers run at once, each on a fresh database, each loaded
# by its own wrk for the same seconds: whatever the machine does, it does to both, and their
# ratio is what one binary costs against the other.
#
#   bench/load_pair.sh A_BIN B_BIN
#
# Per round it prints each side's creates/s and its server's CPU per create (µs, from
# /proc/PID/stat), and B's creates/s as a share of A's; then the median of those shares over
# the rounds. Two slots run at once; the binaries swap slots every other round (a slot can
# favour its binary by a few percent: an A/A run gave 0.975 in every round), so use an even
# number of rounds. Knobs (environment): DURATION
# (10s), ROUNDS (6), CONNECTIONS (16 per server), TICK_SECONDS (1), QUIET_WAIT (15: seconds to
# wait for the machine to calm down before each round), KEEP=1 keeps the work
# directories. Exit status: 0 when every round ran without errors, 1 on errors, 2 on bad usage.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-6}
CONNECTIONS=${CONNECTIONS:-16}
TICK_SECONDS=${TICK_SECONDS:-1}
QUIET_WAIT=${QUIET_WAIT:-15}

[ $# = 2 ] && [ -x "$1" ] && [ -x "$2" ] || {
    echo "usage: bench/load_pair.sh A_BIN B_BIN (two executable stringer binaries)" >&2
    exit 2
}
bins=("$1" "$2")

bench_name=pair
STRINGER_BIN=$1
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"
ensure_tools wrk jq curl

# Each slot's server: pid, URL, token and work directory, by slot (0 or 1).
pids=("" "")
urls=("" "")
tokens=("" "")
works=("" "")

stop_sides() {
    local side
    for side in 0 1; do
        stop_pid "${pids[$side]}" TERM 20
        pids[side]=""
        if [ -n "${works[$side]}" ] && [ "${KEEP:-0}" != 1 ]; then rm -rf "${works[$side]}"; fi
        works[side]=""
    done
}
trap 'stop_sides; cleanup' EXIT

# start_side SLOT BIN: a fresh server of that binary in that slot with its org, ready for
# creates.
start_side() {
    local side=$1
    work=$(mktemp -d "/tmp/stringer-pair-$side.XXXXXX")
    works[side]=$work
    bin=$2
    token=""
    start_server --tick-seconds "$TICK_SECONDS" --data-dir "$work/db"
    api POST /api/v1/orgs '{"slug":"acme","name":"Acme","tier":"enterprise","deployment":"shared"}' >/dev/null ||
        die "side $side: cannot create the org"
    pids[side]=$server_pid
    urls[side]=$base_url
    tokens[side]=$token
    server_pid=""
    work=""
}

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

ratios=()
failed=0
hz=$(getconf CLK_TCK)
printf '%-5s %12s %12s %12s %12s %9s\n' round "A creates/s" "A µs/create" "B creates/s" "B µs/create" "B/A"
for round in $(seq "$ROUNDS"); do
    # The binary in slot 0: A in odd rounds, B in even ones.
    swap=$(((round + 1) % 2))
    for side in 0 1; do start_side "$side" "${bins[$((side ^ swap))]}"; done
    wait_for_quiet
    t0=("$(cpu_ticks "${pids[0]}")" "$(cpu_ticks "${pids[1]}")")
    wrk_pids=()
    for side in 0 1; do
        wrk -t 1 -c "$CONNECTIONS" -d "$DURATION" --timeout 5s -s "$root/bench/load/create.lua" "${urls[$side]}" \
            -- "${tokens[$side]}" acme >"${works[$side]}/create.wrk" 2>&1 &
        wrk_pids+=($!)
    done
    for pid in "${wrk_pids[@]}"; do wait "$pid" || failed=1; done
    t1=("$(cpu_ticks "${pids[0]}")" "$(cpu_ticks "${pids[1]}")")
    rps=()
    us=()
    for side in 0 1; do
        line=$(grep '^RESULT ' "${works[$side]}/create.wrk") || {
            cat "${works[$side]}/create.wrk" >&2
            die "side $side: no RESULT line from wrk"
        }
        errors=$(($(field non2xx) + $(field connect) + $(field read) + $(field write) + $(field timeout)))
        [ "$errors" = 0 ] || {
            log "side $side: $errors failed requests in round $round"
            failed=1
        }
        rps[side]=$(field rps)
        us[side]=$(awk -v t="$((t1[side] - t0[side]))" -v hz="$hz" -v n="$(field requests)" \
            'BEGIN { printf "%.0f", t * 1000000 / hz / n }')
    done
    a=$swap b=$((1 - swap))
    ratio=$(awk -v a="${rps[$a]}" -v b="${rps[$b]}" 'BEGIN { printf "%.3f", b / a }')
    ratios+=("$ratio")
    printf '%-5s %12.0f %12s %12.0f %12s %9s\n' "$round" "${rps[$a]}" "${us[$a]}" "${rps[$b]}" "${us[$b]}" "$ratio"
    stop_sides
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }')
echo "median B/A over $ROUNDS rounds: $median (A = ${bins[0]}, B = ${bins[1]}; $DURATION each, $CONNECTIONS connections per server)"
exit "$failed"
