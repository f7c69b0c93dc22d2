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
# other work on the machine to calm down before each test), KEEP=1 keeps the work directory
# (server logs, wrk output) for inspection. STRINGER_BIN runs another binary instead of
# building and running target/release/stringer (to compare two versions in one sitting).
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

log() { echo "[load] $*" >&2; }
die() {
    echo "[load] error: $*" >&2
    exit 1
}

# --- Tools -----------------------------------------------------------------------------

# wrk from Debian's package; on a fresh machine the package lists may be empty, so update
# them when the first attempt fails.
ensure_wrk() {
    command -v wrk >/dev/null && return
    log "installing wrk with apt"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    }
}

ensure_tools() {
    ensure_wrk
    local tool
    for tool in curl jq; do
        command -v "$tool" >/dev/null && continue
        log "installing $tool with apt"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null 2>&1 || {
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
        }
    done
}

bin=${STRINGER_BIN:-$root/target/release/stringer}

build() {
    if [ -n "${STRINGER_BIN:-}" ]; then
        log "using $bin"
        return
    fi
    log "building the release binary"
    cargo build --release --locked -q -p stringer
}

# --- CPU accounting (for the profile columns) ------------------------------------------

hz=$(getconf CLK_TCK)

# One line "PID PPID TICKS" per process: user+system CPU ticks so far, its own plus those of
# its reaped children (so that short-lived processes, such as a neighbour's compiler runs,
# are still counted, in their parent).
proc_snapshot() {
    local p stat rest f
    for p in /proc/[0-9]*; do
        { read -r stat <"$p/stat"; } 2>/dev/null || continue
        rest=${stat##*) } # the fields after "(comm) ": ppid is the 2nd; utime, stime, cutime, cstime the 12th-15th
        read -r -a f <<<"$rest"
        echo "${p#/proc/} ${f[1]} $((f[11] + f[12] + f[13] + f[14]))"
    done
}

# Our PostgreSQL cluster's postmaster: the postgres process started with "-p PORT" (other
# clusters may run on the machine). Its backends are its children.
postmaster_pid() {
    local port=$1 p args
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = postgres ] || continue
        args=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
        case " $args " in *" -p $port "*)
            echo "${p#/proc/}"
            return
            ;;
        esac
    done
}

# Machine-wide "BUSY TOTAL" ticks, all cores, from /proc/stat (idle and iowait are not busy).
machine_ticks() {
    awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}

# cpu_split BEFORE AFTER: "SERVER DB OTHERS" ticks used between two snapshots: stringer, our
# PostgreSQL cluster (postmaster $db_pid and its children), and every other process except
# this script (whose child wrk is measured on its own). A new pid counts from zero.
db_pid=""
cpu_split() {
    awk -v srv="$server_pid" -v db="${db_pid:--1}" -v me="$$" '
        NR == FNR { a[$1] = $3; next }
        { d = $3 - a[$1] }
        $1 == srv { s += d; next }
        $1 == db || $2 == db { pg += d; next }
        $1 == me { next }
        { o += d }
        END { print s + 0, pg + 0, o + 0 }' "$1" "$2"
}

# Busy share of the machine over the next second, in percent of one core.
machine_busy_1s() {
    local a b
    a=$(machine_ticks)
    sleep 1
    b=$(machine_ticks)
    awk -v a="$a" -v b="$b" -v n="$(nproc)" \
        'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", (y[1] - x[1]) * 100 * n / (y[2] - x[2]) }'
}

# The machine may be shared (builds, tests): wait up to QUIET_WAIT seconds for it to be
# mostly idle before a test, so that the numbers measure stringer, not the neighbours.
wait_for_quiet() {
    local busy waited=0
    busy=$(machine_busy_1s)
    while [ "$busy" -gt 25 ] && [ "$waited" -lt "$QUIET_WAIT" ]; do
        [ "$waited" = 0 ] && log "the machine is busy ($busy% of one core) with other work; waiting up to ${QUIET_WAIT}s"
        sleep 4
        waited=$((waited + 5))
        busy=$(machine_busy_1s)
    done
    [ "$busy" -le 25 ] || log "still busy ($busy%); running anyway: see the 'others' CPU column"
}

# --- The server ------------------------------------------------------------------------

work=""
server_pid=""

stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid"
        # Graceful shutdown finishes in-flight requests; give it 20 s, then force.
        for _ in $(seq 200); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$server_pid" 2>/dev/null && {
            log "server did not stop within 20 s of SIGTERM; killing it"
            kill -KILL "$server_pid"
        }
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}

cleanup() {
    stop_server
    if [ -n "$work" ]; then
        if [ "${KEEP:-0}" = 1 ]; then
            log "kept $work"
        else
            rm -rf "$work"
        fi
    fi
}
trap cleanup EXIT

# Starts `stringer serve` with the given database arguments; sets base_url and token.
start_server() {
    local out="$work/server.stdout" err="$work/server.stderr"
    # Only our flags count: ignore any STRINGER_* settings from the environment.
    env -u STRINGER_DATABASE -u STRINGER_DATA_DIR -u STRINGER_LISTEN -u STRINGER_CONFIG \
        -u STRINGER_CONTRACT -u STRINGER_TICK_SECONDS \
        "$bin" serve --listen 127.0.0.1:0 --tick-seconds "$TICK_SECONDS" "$@" \
        >"$out" 2>"$err" &
    server_pid=$!
    for _ in $(seq 300); do
        grep -q '^listening on http://' "$out" 2>/dev/null && break
        kill -0 "$server_pid" 2>/dev/null || {
            cat "$err" >&2
            die "the server exited during start-up"
        }
        sleep 0.1
    done
    base_url=$(sed -n 's|^listening on \(http://127\.0\.0\.1:[0-9]*\).*|\1|p' "$out" | head -n1)
    [ -n "$base_url" ] || die "the server did not print 'listening on http://127.0.0.1:PORT' within 30 s"
    # The first-run admin: "First run: created the first admin..." then "      token stg_...".
    token=$(sed -n '/^First run: created the first admin/,$ s/^ *token \(stg_[A-Za-z0-9_-]*\).*/\1/p' "$out" | head -n1)
    [ -n "$token" ] || die "no first-run admin token in the server's output (is the database fresh?)"
}

# curl against the server: METHOD PATH [JSON]; prints the body, fails on non-2xx.
api() {
    local method=$1 path=$2 body=${3:-}
    curl -sS --fail-with-body -X "$method" -H "Authorization: Bearer $token" \
        ${body:+-H 'Content-Type: application/json' --data "$body"} "$base_url$path"
}

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

# The ids of the newest N tickets (via the list endpoint, 200 a page).
fetch_ids() {
    local want=$1 cursor="" page
    : >"$work/ids"
    while [ "$(wc -l <"$work/ids")" -lt "$want" ]; do
        page=$(api GET "/api/v1/tickets?limit=200${cursor:+&cursor=$cursor}") || die "cannot list tickets"
        jq -r '.items[].id' <<<"$page" >>"$work/ids"
        cursor=$(jq -r '.next_cursor // empty' <<<"$page")
        [ -n "$cursor" ] || break
    done
    head -n "$want" "$work/ids" >"$work/ids.tmp" && mv "$work/ids.tmp" "$work/ids"
    [ -s "$work/ids" ] || die "no tickets to read"
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
    local TIMEFORMAT='%U %S'
    { time wrk --latency -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --timeout 5s \
        -s "$root/bench/load/$script" "$base_url" -- "$@" >"$out" 2>&1; } 2>"$work/$name.time" ||
        {
            cat "$out" >&2
            die "wrk failed in the $name test"
        }
    t1=$(date +%s%N)
    m1=$(machine_ticks)
    proc_snapshot >"$work/$name.cpu1"
    # Percent of one core, averaged over the test.
    local wall_ms=$(((t1 - t0) / 1000000)) split
    read -r -a split <<<"$(cpu_split "$work/$name.cpu0" "$work/$name.cpu1")"
    r_cpu_server=$((split[0] * 100 * 1000 / hz / wall_ms))
    r_cpu_db=$((split[1] * 100 * 1000 / hz / wall_ms))
    r_cpu_other=$((split[2] * 100 * 1000 / hz / wall_ms))
    r_cpu_wrk=$(awk -v ms="$wall_ms" '{ printf "%d", ($1 + $2) * 100000 / ms }' "$work/$name.time")
    # The machine: busy share of all cores (N cores = N*100%). On a virtual machine this can
    # exceed the sum of the processes: kernel and hypervisor work that no process is charged.
    r_cpu_machine=$(awk -v a="$m0" -v b="$m1" -v n="$(nproc)" \
        'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", (y[1] - x[1]) * 100 * n / (y[2] - x[2]) }')
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
    field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }
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
    log "$name: starting the server"
    start_server "$@"
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

    # The server's log: report warnings and errors (the startup/shutdown INFO lines are normal).
    # The log may be coloured, so strip ANSI escapes before looking at the levels.
    sed 's/\x1b\[[0-9;]*m//g' "$work/server.stderr" >"$work/server.log"
    # Errors and panics fail the run; warnings are shown but do not.
    local errors warnings
    errors=$(grep -Ec ' ERROR |panicked' "$work/server.log" || true)
    warnings=$(grep -Ec ' WARN ' "$work/server.log" || true)
    if [ "$errors" -gt 0 ] || [ "$warnings" -gt 0 ]; then
        echo "server log: $errors errors, $warnings warnings; the first ones (with counts):"
        grep -E ' (WARN|ERROR) |panicked' "$work/server.log" | cut -d' ' -f2- | cut -c1-300 |
            sort | uniq -c | sort -rn | head -n 8 | sed 's/^/  /'
        [ "$errors" = 0 ] || {
            echo "FAILURE: the server logged errors"
            bad=1
        }
    else
        echo "server log: no warnings or errors"
    fi
    [ "$bad" = 0 ] || failures=$((failures + 1))

    if [ "${KEEP:-0}" = 1 ]; then
        log "kept $work"
    else
        rm -rf "$work"
    fi
    work=""
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

ensure_tools
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
