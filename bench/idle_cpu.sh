#!/usr/bin/env bash
# Idle CPU of `stringer serve` with many open tickets: what a server costs when nobody uses it.
#
#   bench/idle_cpu.sh [sqlite|postgres]        (default: sqlite)
#
# Starts a fresh server on 127.0.0.1 (the embedded SQLite file, or a private throw-away
# PostgreSQL cluster from scripts/with-postgres), creates TICKETS open P3/P4 tickets through the
# API with wrk (bench/load/create.lua), restarts the server on the same database (a restart
# is where an unsettled backlog used to show), waits SETTLE seconds, then samples the
# server's own CPU time (user + system, /proc/PID/stat) over WINDOW seconds with no request
# at all, and prints it in percent of one core. The same is measured for an empty server
# first, so the cost of the open tickets is the difference.
#
# Knobs (environment): TICKETS (50000), SETTLE (15), WINDOW (60), TICK_SECONDS (1),
# QUIET_WAIT (120), KEEP=1 keeps the work directory, STRINGER_BIN runs another binary instead
# of building target/release/stringer (to compare two versions in one sitting).
#
# Target (issue 25): under 1 % of one core, whatever the number of open tickets. Exit status:
# 0 when the runs completed (the target is reported, not enforced), 1 on errors, 2 on bad usage.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

TICKETS=${TICKETS:-50000}
SETTLE=${SETTLE:-15}
WINDOW=${WINDOW:-60}
TICK_SECONDS=${TICK_SECONDS:-1}
QUIET_WAIT=${QUIET_WAIT:-120}

mode=${1:-sqlite}
case "$mode" in
    sqlite | __postgres-inside) ;;
    postgres)
        exec scripts/with-postgres "$root/bench/idle_cpu.sh" __postgres-inside
        ;;
    *)
        echo "usage: bench/idle_cpu.sh [sqlite|postgres]" >&2
        exit 2
        ;;
esac

bench_name=idle
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"

ensure_tools
build
work=$(mktemp -d)

# The database: a file in the work directory, or a fresh database on the private cluster.
if [ "$mode" = __postgres-inside ]; then
    [ -n "${STRINGER_TEST_POSTGRES_URL:-}" ] || die "STRINGER_TEST_POSTGRES_URL is not set"
    psql -q "$STRINGER_TEST_POSTGRES_URL" -c 'CREATE DATABASE idle' >/dev/null
    where=(--database "${STRINGER_TEST_POSTGRES_URL%/*}/idle")
    port=${STRINGER_TEST_POSTGRES_URL##*:}
    db_pid=$(postmaster_pid "${port%%/*}")
else
    where=(--data-dir "$work")
fi

# sample_idle LABEL: the server's CPU (and PostgreSQL's: its postmaster and backends) over
# WINDOW seconds, SETTLE seconds after its start, in percent of one core.
sample_idle() {
    local label=$1 split
    sleep "$SETTLE"
    wait_for_quiet
    proc_snapshot >"$work/before"
    sleep "$WINDOW"
    proc_snapshot >"$work/after"
    read -r -a split <<<"$(cpu_split "$work/before" "$work/after")"
    awk -v s="${split[0]}" -v d="${split[1]}" -v hz="$hz" -v w="$WINDOW" -v l="$label" -v pg="${db_pid:+1}" \
        'BEGIN { printf "%-34s %6.2f %% of one core (%d ticks in %d s)", l, s * 100 / hz / w, s, w;
                 if (pg) printf "; PostgreSQL %.2f %%", d * 100 / hz / w; printf "\n" }'
}

serve() { start_server --tick-seconds "$TICK_SECONDS" "${where[@]}" --metrics-listen 127.0.0.1:0; }

log "starting an empty server"
serve
api POST /api/v1/orgs '{"slug":"acme","name":"Acme","tier":"enterprise","deployment":"shared"}' >/dev/null ||
    die "cannot create the org"
empty=$(sample_idle "empty server")

# Creates until the open-ticket gauges add up to TICKETS (wrk runs in rounds of 5 s).
open_tickets() {
    scrape | awk '/^stringer_open_tickets\{/ { n += $2 } END { printf "%d", n }'
}
log "creating $TICKETS open P3/P4 tickets"
while [ "$(open_tickets)" -lt "$TICKETS" ]; do
    wrk -t 2 -c 32 -d 5s -s "$root/bench/load/create.lua" "$base_url" -- "$token" acme >/dev/null
done
loaded=$(sample_idle "$(open_tickets) open tickets, same run")

log "restarting the server on the same database"
stop_server
serve
restarted=$(sample_idle "$(open_tickets) open tickets, restarted")
pending=$(scrape | awk '$1 == "stringer_outbox_pending" { print $2 }')

backend=sqlite
[ "$mode" = sqlite ] || backend=postgres
echo "== idle CPU, $backend, $(nproc) cores, sampled over ${WINDOW}s after ${SETTLE}s =="
echo "$empty"
echo "$loaded"
echo "$restarted"
echo "outbox pending after the restart: $pending (target 0); CPU target: under 1 % of one core"
