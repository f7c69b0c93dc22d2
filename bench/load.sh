#!/usr/bin/env bash
# Load benchmark of `stringer serve` with wrk, on the embedded SQLite database and/or on
# PostgreSQL (a private throw-away cluster from scripts/with-postgres).
#
#   bench/load.sh [sqlite|postgres|all]        (default: all)
#
# For each backend it starts a fresh server on 127.0.0.1 (a free port), creates an org with
# the first-run admin token, then runs two bounded wrk tests:
#   create  POST /api/v1/tickets              target: >= 2,000/s with p99 < 50 ms
#   read    GET  /api/v1/tickets/{id}         target: >= 10,000/s
# The read test cycles over a fixed set of ids (READ_IDS, default 1,000) of tickets made by
# the create test. Any non-2xx response or socket error fails the run.
#
# Knobs (environment): DURATION (10s), CONNECTIONS (32), THREADS (2), READ_IDS (1000),
# TICK_SECONDS (1, the server's timer sweep period), QUIET_WAIT (120: seconds to wait for
# other work on the machine to calm down before each test), PROFILE=DIR records the server
# with `perf record -g` during each test and writes DIR/<backend>-<test>.perf and a flat
# profile by symbol, DIR/<backend>-<test>.txt (where a request's CPU goes; PROFILE_HZ sets the
# sampling rate, 199 a second by default), KEEP=1 keeps the work directory
# (server logs, wrk output) for inspection. STRINGER_BIN runs another binary instead of
# building and running target/release/stringer (to compare two versions in one sitting).
# What this script shares with bench/escalation_lag.sh (server start, token, CPU accounting,
# logging, tools) is in bench/lib.sh.
#
# Traffic goes to 127.0.0.1 only. Exit status: 0 when every test ran without errors (the
# targets are reported, not enforced), 1 on errors, 2 on bad usage.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
READ_IDS=${READ_IDS:-1000}
TICK_SECONDS=${TICK_SECONDS:-1}
QUIET_WAIT=${QUIET_WAIT:-120}

# Targets.
CREATE_RPS_MIN=2000
CREATE_P99_MAX_MS=50
READ_RPS_MIN=10000

mode=${1:-all}
case "$mode" in
    sqlite | postgres | all | __postgres-inside) ;;
    *)
        echo "usage: bench/load.sh [sqlite|postgres|all]" >&2
        exit 2
        ;;
esac

# Logging, tools, the binary, CPU accounting, the server, cleanup: shared with
# bench/escalation_lag.sh.
bench_name=load
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"

db_pid=""

# --- The server ------------------------------------------------------------------------

# Creates the org the tickets go to, and checks that one create and one read work before
# any load is put on the server.
prepare() {
    api POST /api/v1/orgs '{"slug":"acme","name":"Acme","tier":"enterprise","deployment":"shared"}' >/dev/null ||
        die "cannot create the org"
    local id
    id=$(api POST /api/v1/tickets \
        '{"org":"acme","severity":"P3","subject":"smoke","description":"checks the create path"}' | jq -r .id) ||
        die "cannot create a ticket"
    api GET "/api/v1/tickets/$id" >/dev/null || die "cannot read ticket $id"
}

# --- One wrk test ----------------------------------------------------------------------

# run_wrk NAME SCRIPT ARGS...: runs wrk, keeps its full output in $work/NAME.wrk, and sets
# r_rps r_p50 r_p99 r_non2xx r_sockerr r_requests and the CPU shares (percent of one core)
# r_cpu_server r_cpu_db r_cpu_wrk r_cpu_other r_cpu_machine.
run_wrk() {
    local name=$1 script=$2
    shift 2
    local out="$work/$name.wrk"
    wait_for_quiet
    # CPU snapshots before and after: every process, and the machine as a whole.
    proc_snapshot >"$work/$name.cpu0"
    local m0 t0 t1 m1
    m0=$(machine_ticks)
    t0=$(date +%s%N)
    # wrk runs in the foreground; bash's `time` gives its own CPU use.
    local TIMEFORMAT='%U %S' profiler=""
    if [ -n "${PROFILE:-}" ]; then
        command -v perf >/dev/null || die "PROFILE needs perf (linux-perf)"
        mkdir -p "$PROFILE"
        perf record -q -F ${PROFILE_HZ:-199} -g -p "$server_pid" -o "$PROFILE/$bench_backend-$name.perf" >/dev/null 2>&1 &
        profiler=$!
    fi
    { time wrk --latency -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --timeout 5s \
        -s "$root/bench/load/$script" "$base_url" -- "$@" >"$out" 2>&1; } 2>"$work/$name.time" ||
        {
            cat "$out" >&2
            die "wrk failed in the $name test"
        }
    t1=$(date +%s%N)
    m1=$(machine_ticks)
    proc_snapshot >"$work/$name.cpu1"
    if [ -n "$profiler" ]; then
        kill -INT "$profiler"
        wait "$profiler" || true
        perf report -q -i "$PROFILE/$bench_backend-$name.perf" --no-children --sort symbol -g none 2>/dev/null |
            sed 's/[ -]*$//' >"$PROFILE/$bench_backend-$name.txt" || true
    fi
    # Percent of one core, averaged over the test.
    local wall_ms=$(((t1 - t0) / 1000000)) split
    # The split's "bench" share is this script with its reaped child wrk: wrk is measured on
    # its own, below.
    read -r -a split <<<"$(cpu_split "$work/$name.cpu0" "$work/$name.cpu1")"
    r_cpu_server=$(cpu_pct "${split[0]}" "$wall_ms")
    r_cpu_db=$(cpu_pct "${split[1]}" "$wall_ms")
    r_cpu_other=$(cpu_pct "${split[3]}" "$wall_ms")
    r_cpu_wrk=$(awk -v ms="$wall_ms" '{ printf "%d", ($1 + $2) * 100000 / ms }' "$work/$name.time")
    # The machine: busy share of all cores (N cores = N*100%). On a virtual machine this can
    # exceed the sum of the processes: kernel and hypervisor work that no process is charged.
    r_cpu_machine=$(machine_pct "$m0" "$m1")
    # A reaped child is charged to its parent all at once, lifetime included: cap "others" at
    # what the machine had left.
    local left=$((r_cpu_machine - r_cpu_server - r_cpu_db - r_cpu_wrk))
    [ "$left" -ge 0 ] || left=0
    [ "$r_cpu_other" -le "$left" ] || r_cpu_other=$left

    local line
    line=$(grep '^RESULT ' "$out") || {
        cat "$out" >&2
        die "no RESULT line from wrk in the $name test"
    }
    r_requests=$(field requests)
    r_rps=$(field rps)
    r_p50=$(awk -v us="$(field p50_us)" 'BEGIN { printf "%.2f", us / 1000 }')
    r_p99=$(awk -v us="$(field p99_us)" 'BEGIN { printf "%.2f", us / 1000 }')
    r_non2xx=$(field non2xx)
    r_sockerr=$(($(field connect) + $(field read) + $(field write) + $(field timeout)))
    # Cross-check with wrk's human-readable line (printed only when non-zero).
    local printed
    printed=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$out")
    if [ -n "$printed" ] && [ "$printed" != "$r_non2xx" ]; then
        r_non2xx=$printed
    fi
}

# --- One backend -----------------------------------------------------------------------

failures=0

row() { printf '%-7s %9s %9s %7s %7s %7s %8s %8s %5s %5s %7s %8s  %-23s %s\n' "$@"; }

# bench_backend NAME SERVE-ARGS...: runs both tests against a fresh server; $work must be a
# new directory (logs, wrk output, and for SQLite the database), removed afterwards.
bench_backend() {
    local name=$1
    shift
    bench_backend=$name
    log "$name: starting the server"
    start_server --tick-seconds "$TICK_SECONDS" "$@"
    log "$name: server at $base_url (pid $server_pid); logs in $work"
    prepare

    log "$name: create test ($DURATION, $CONNECTIONS connections, $THREADS threads)"
    run_wrk create create.lua "$token" acme
    local c_rps=$r_rps c_p50=$r_p50 c_p99=$r_p99 c_non2xx=$r_non2xx c_sock=$r_sockerr c_req=$r_requests
    local c_cpu="$r_cpu_server" c_db="$r_cpu_db" c_wrk="$r_cpu_wrk" c_oth="$r_cpu_other" c_all="$r_cpu_machine"

    fetch_ids "$READ_IDS"
    local nids
    nids=$(wc -l <"$work/ids")
    log "$name: read test over $nids ticket ids"
    run_wrk read read.lua "$token" "$work/ids"
    local g_rps=$r_rps g_p50=$r_p50 g_p99=$r_p99 g_non2xx=$r_non2xx g_sock=$r_sockerr g_req=$r_requests
    local g_cpu="$r_cpu_server" g_db="$r_cpu_db" g_wrk="$r_cpu_wrk" g_oth="$r_cpu_other" g_all="$r_cpu_machine"

    stop_server

    # Verdicts against the targets.
    local c_verdict g_verdict
    if awk -v r="$c_rps" -v p="$c_p99" -v rmin="$CREATE_RPS_MIN" -v pmax="$CREATE_P99_MAX_MS" \
        'BEGIN { exit !(r >= rmin && p < pmax) }'; then c_verdict=met; else c_verdict=MISSED; fi
    if awk -v r="$g_rps" -v rmin="$READ_RPS_MIN" 'BEGIN { exit !(r >= rmin) }'; then
        g_verdict=met
    else
        g_verdict=MISSED
    fi

    echo
    echo "== $name: $DURATION per test, $CONNECTIONS connections, $THREADS wrk threads, $(nproc) cores =="
    row test requests req/s p50_ms p99_ms non2xx sockerr cpu:srv db wrk others machine target verdict
    row create "$c_req" "$c_rps" "$c_p50" "$c_p99" "$c_non2xx" "$c_sock" "$c_cpu%" "$c_db%" "$c_wrk%" "$c_oth%" "$c_all%" \
        ">=${CREATE_RPS_MIN}/s p99<${CREATE_P99_MAX_MS}ms" "$c_verdict"
    row read "$g_req" "$g_rps" "$g_p50" "$g_p99" "$g_non2xx" "$g_sock" "$g_cpu%" "$g_db%" "$g_wrk%" "$g_oth%" "$g_all%" \
        ">=${READ_RPS_MIN}/s" "$g_verdict"
    echo "cpu: average use during each test in percent of one core (this machine: $(nproc) cores = $(($(nproc) * 100))%);"
    echo "     srv = stringer, db = PostgreSQL, wrk = the load generator, others = all other processes,"
    echo "     machine = all busy time, including kernel work charged to no process"
    if [ "$c_oth" -gt 20 ] || [ "$g_oth" -gt 20 ]; then
        echo "NOTE: other processes used the CPU during the tests ('others' column): the numbers are low"
    fi

    # Errors: any non-2xx response or socket error fails the run.
    local bad=0
    if [ "$c_non2xx" != 0 ] || [ "$c_sock" != 0 ]; then
        echo "FAILURE: create test had $c_non2xx non-2xx responses and $c_sock socket errors"
        bad=1
    fi
    if [ "$g_non2xx" != 0 ] || [ "$g_sock" != 0 ]; then
        echo "FAILURE: read test had $g_non2xx non-2xx responses and $g_sock socket errors"
        bad=1
    fi

    # The server's log: errors and panics fail the run; warnings are shown but do not.
    server_log_report || {
        echo "FAILURE: the server logged errors"
        bad=1
    }
    [ "$bad" = 0 ] || failures=$((failures + 1))

    finish_work
}

# --- Main ------------------------------------------------------------------------------

case "$mode" in
    __postgres-inside)
        # Run by scripts/with-postgres below: the cluster is up and its URL exported.
        [ -n "${STRINGER_TEST_POSTGRES_URL:-}" ] || die "STRINGER_TEST_POSTGRES_URL is not set"
        psql -q "$STRINGER_TEST_POSTGRES_URL" -c 'CREATE DATABASE load' >/dev/null
        work=$(mktemp -d /tmp/stringer-load-postgres.XXXXXX)
        port=${STRINGER_TEST_POSTGRES_URL##*:}
        db_pid=$(postmaster_pid "${port%%/*}")
        [ -n "$db_pid" ] || log "cannot find the postmaster of port ${port%%/*}: the db CPU column will read 0"
        bench_backend postgres --database "${STRINGER_TEST_POSTGRES_URL%/*}/load"
        exit $((failures > 0))
        ;;
esac

ensure_tools wrk curl jq
build

if [ "$mode" = sqlite ] || [ "$mode" = all ]; then
    work=$(mktemp -d /tmp/stringer-load-sqlite.XXXXXX)
    bench_backend sqlite --data-dir "$work/db"
fi
if [ "$mode" = postgres ] || [ "$mode" = all ]; then
    # A private cluster that with-postgres removes afterwards; this script runs inside it.
    scripts/with-postgres "$root/bench/load.sh" __postgres-inside || failures=$((failures + 1))
fi

if [ "$failures" -gt 0 ]; then
    echo
    echo "load benchmark: $failures backend(s) had errors (see above)"
    exit 1
fi
