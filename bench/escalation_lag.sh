#!/usr/bin/env bash
# Escalation lag of `stringer serve` on SQLite with many open tickets whose timers fall due.
#
#   bench/escalation_lag.sh [TICKETS]          (default: 100000)
#
# Target (from the issue): p99 < 1 s from a timer's due instant to its hand-off (the notices
# committed to the outbox), as measured by the server's own histogram
# stringer_escalation_lag_seconds at GET /metrics. (GoAlert's engine cycles every 5 s.)
#
# What it does, on a fresh server (127.0.0.1, a free port, a temporary SQLite directory):
#   1. Writes a contract that is the default one (crates/core/src/contract/default.toml) with
#      the enterprise escalation steps shortened: TAM after STEP1 seconds, VP engineering after
#      STEP2 seconds (instead of 15 and 30 minutes). Nothing else changes; in particular the
#      P1 response target stays 1 hour, so every ticket's breach timer stays pending.
#   2. `create` phase: an enterprise org, then TICKETS P1 tickets opened as fast as wrk can,
#      or at CREATE_RPS per second (bench/escalation/create_p1.lua). Each P1 pages on-call at once and leaves its TAM step
#      and response-breach timers pending (the VP step's timer is set when the TAM step runs).
#      The tickets are opened over the whole phase, so each step's timers fall due spread over
#      a window as long as the phase, at the rate the tickets were created.
#   3. `tam` phase: the TAM steps fall due on an otherwise idle server (apart from its own
#      outbox dispatcher working off the pages); it ends when all of them have run.
#   4. `vp` phase: the VP steps fall due while a read load runs (GET /api/v1/tickets/{id}
#      over READ_IDS tickets, bench/escalation/read_paced.lua, READ_RPS requests/s; READ_RPS=0
#      reads as fast as READ_CONNECTIONS connections can; READ_LOAD=0: no read load).
#   5. The report, per phase (the difference of two scrapes at the phase boundaries) and
#      overall: count, mean (sum/count), p50 and p99 of the histogram and the fraction above
#      1 s. p50/p99 are estimated like Prometheus' histogram_quantile(): linear interpolation
#      inside the bucket holding the rank (bench/escalation/quantiles.awk), so they are only
#      as precise as the buckets (…, 0.5, 1, 2, 5, … s). Then the evidence for what bounds the
#      lag: the backlog timeline (escalation timers due but not run, undispatched outbox rows,
#      read from the database every SAMPLE_MS; /metrics every SCRAPE_SECONDS, since one
#      scrape counts the open tickets and costs ~0.1 s at 100k), the sweep's throughput while
#      behind, the mean due-to-commit time from the backlog (Little's law), the server's CPU
#      per thread (the SQLite writer's worker thread apart), and from the database how late
#      each sweep started after the due second it picked up.
#
# The histogram measures from a timer's due instant to the commit of the sweep batch that
# ran it (up to 256 timers, committed together; the server records a batch's lags once it has
# committed), so every timer in a batch counts as late as the batch's commit.
# Due instants are whole seconds, so the timers of all tickets opened in one second fall due
# together and the sweep works them off a batch at a time: the lag grows with the create rate
# (CREATE_RPS), which is the knob to find the rate the server sustains.
#
# Knobs (environment): STEP1 (TAM delay in seconds; default 30 + TICKETS/1000, or 30 +
# TICKETS/(0.9 x CREATE_RPS) when that is longer, so that the create phase ends before the
# first TAM step falls due), STEP2 (VP delay; default 2 x STEP1), CONNECTIONS (16) and
# THREADS (2) for the create load, CREATE_RPS (0 = as fast as possible; N paces the creates,
# and so the rate at which the steps fall due, to about N/s),
# READ_LOAD (1), READ_RPS (500; 0 = unpaced), READ_CONNECTIONS (8), READ_THREADS (1),
# READ_IDS (1000), SAMPLE_MS (250), SCRAPE_SECONDS (5), DRAIN_TIMEOUT (300: seconds a phase
# may take beyond its due window before the run gives up), CREATE_LIMIT (900: seconds the
# create phase may take), QUIET_WAIT (60: seconds to wait for other work on the machine to
# calm down first), KEEP=1 keeps the work directory (contract, database, server logs,
# scrapes, timeline).
#
# Needs wrk, curl, jq and sqlite3 (installed with apt when missing). Traffic goes to 127.0.0.1
# only; every wait has a deadline. Exit status: 0 when the run completed without errors (the
# target is reported, not enforced), 1 on errors, 2 on bad usage.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

usage() {
    echo "usage: bench/escalation_lag.sh [TICKETS]   (a whole number >= 100; default 100000)" >&2
    exit 2
}
[ $# -le 1 ] || usage
TICKETS=${1:-100000}
[[ "$TICKETS" =~ ^[0-9]+$ ]] && [ "$TICKETS" -ge 100 ] || usage

CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
CREATE_RPS=${CREATE_RPS:-0}
# The create rate to plan for: ~1,000/s unpaced (2 cores), or a little under the paced rate.
est_rate=1000
if [[ "$CREATE_RPS" =~ ^[0-9]+$ ]] && [ "$CREATE_RPS" -gt 0 ] && [ $((CREATE_RPS * 9 / 10)) -lt 1000 ]; then
    est_rate=$((CREATE_RPS * 9 / 10 + 1))
fi
STEP1=${STEP1:-$((30 + (TICKETS + est_rate - 1) / est_rate))}
STEP2=${STEP2:-$((2 * STEP1))}
READ_LOAD=${READ_LOAD:-1}
READ_RPS=${READ_RPS:-500}
READ_CONNECTIONS=${READ_CONNECTIONS:-8}
READ_THREADS=${READ_THREADS:-1}
READ_IDS=${READ_IDS:-1000}
SAMPLE_MS=${SAMPLE_MS:-250}
SCRAPE_SECONDS=${SCRAPE_SECONDS:-5}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-300}
CREATE_LIMIT=${CREATE_LIMIT:-900}
QUIET_WAIT=${QUIET_WAIT:-60}
TARGET_P99=1

for v in STEP1 STEP2 CONNECTIONS THREADS READ_CONNECTIONS READ_THREADS READ_IDS SAMPLE_MS SCRAPE_SECONDS \
    DRAIN_TIMEOUT CREATE_LIMIT QUIET_WAIT; do
    [[ "${!v}" =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || {
        echo "bench/escalation_lag.sh: $v must be a positive whole number (got '${!v}')" >&2
        exit 2
    }
done
for v in READ_RPS CREATE_RPS; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || {
        echo "bench/escalation_lag.sh: $v must be a whole number (got '${!v}')" >&2
        exit 2
    }
done
[ "$STEP2" -gt "$STEP1" ] || {
    echo "bench/escalation_lag.sh: STEP2 ($STEP2) must be greater than STEP1 ($STEP1)" >&2
    exit 2
}

log() { echo "[escalation] $(date +%T) $*" >&2; }
die() {
    echo "[escalation] error: $*" >&2
    exit 1
}

now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

# --- Tools -----------------------------------------------------------------------------

apt_install() {
    log "installing $1 with apt"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1 || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
    }
}

ensure_tools() {
    local tool
    for tool in wrk curl jq sqlite3; do
        command -v "$tool" >/dev/null || apt_install "$tool"
    done
}

build() {
    log "building the release binary"
    cargo build --release --locked -q -p stringer
}

# --- CPU accounting --------------------------------------------------------------------

hz=$(getconf CLK_TCK)

# One line "PID COMM TICKS" per process: user+system CPU ticks so far, its own plus those of
# its reaped children.
proc_snapshot() {
    local p stat rest comm f
    for p in /proc/[0-9]*; do
        { read -r stat <"$p/stat"; } 2>/dev/null || continue
        comm=${stat#*(}
        comm=${comm%)*}
        rest=${stat##*) }
        read -r -a f <<<"$rest"
        echo "${p#/proc/} ${comm//[[:space:]]/_} $((f[11] + f[12] + f[13] + f[14]))"
    done
}

# The same per thread of the server: "TID COMM TICKS".
thread_snapshot() {
    local p stat rest comm f
    for p in /proc/"$server_pid"/task/[0-9]*; do
        { read -r stat <"$p/stat"; } 2>/dev/null || continue
        comm=${stat#*(}
        comm=${comm%)*}
        rest=${stat##*) }
        read -r -a f <<<"$rest"
        echo "${p##*/} ${comm//[[:space:]]/_} $((f[11] + f[12]))"
    done
}

# Machine-wide "BUSY TOTAL" ticks, all cores (idle and iowait are not busy).
machine_ticks() {
    awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}

# cpu_mark NAME: snapshots for the start or end of a phase.
cpu_mark() {
    proc_snapshot >"$work/cpu.$1"
    thread_snapshot >"$work/threads.$1"
    machine_ticks >"$work/machine.$1"
    now_ms >"$work/wall.$1"
}

wall_ms_between() {
    local ms=$(($(cat "$work/wall.$2") - $(cat "$work/wall.$1")))
    [ "$ms" -gt 0 ] && echo "$ms" || echo 1
}

# cpu_between A B: "SERVER BENCH OTHERS MACHINE" in percent of one core between two marks.
# BENCH is this script, its sampler, wrk, curl and sqlite3. OTHERS is the machine's busy time
# less those two (kernel work charged to no process included): summing the other processes'
# ticks would count a neighbour's reaped children (a compiler run) when it reaps them.
cpu_between() {
    local wall_ms split machine
    wall_ms=$(wall_ms_between "$1" "$2")
    split=$(awk -v srv="$server_pid" -v me="$$" -v smp="${sampler_pid:-0}" '
        NR == FNR { a[$1] = $3; next }
        { d = $3 - a[$1] }
        $1 == srv { s += d; next }
        $1 == me || $1 == smp || $2 == "wrk" || $2 == "curl" || $2 == "sqlite3" { b += d; next }
        END { print s + 0, b + 0 }' "$work/cpu.$1" "$work/cpu.$2")
    machine=$(awk -v n="$(nproc)" 'NR == 1 { a = $1; t = $2 } NR == 2 { printf "%d", ($1 - a) * 100 * n / ($2 - t) }' \
        "$work/machine.$1" "$work/machine.$2")
    awk -v s="$split" -v ms="$wall_ms" -v hz="$hz" -v m="$machine" '
        BEGIN {
            split(s, x, " ")
            srv = int(x[1] * 100000 / hz / ms); bench = int(x[2] * 100000 / hz / ms)
            o = m - srv - bench
            printf "%d %d %d %d", srv, bench, (o > 0 ? o : 0), m
        }'
}

# threads_between A B: the server's CPU by thread group, percent of one core. sqlx runs each
# SQLite connection on its own worker thread; the write pool (one connection) is opened
# before the read pool, so its worker is the sqlx worker with the lowest thread id.
threads_between() {
    local wall_ms
    wall_ms=$(wall_ms_between "$1" "$2")
    awk -v ms="$wall_ms" -v hz="$hz" '
        NR == FNR { a[$1] = $3; next }
        {
            d = $3 - a[$1]
            if ($2 ~ /^sqlx-sqlite/) { sq[$1] = d; if (min == "" || $1 + 0 < min + 0) min = $1 }
            else if ($2 ~ /^tokio/) tk += d
            else ot += d
        }
        END {
            for (t in sq) { if (t == min) w = sq[t]; else { r += sq[t]; nr++ } }
            f = 100000 / hz / ms
            printf "writer %d%%, %d readers %d%%, tokio workers %d%%, other %d%%", w * f, nr, r * f, tk * f, ot * f
        }' "$work/threads.$1" "$work/threads.$2"
}

machine_busy_1s() {
    local a b
    a=$(machine_ticks)
    sleep 1
    b=$(machine_ticks)
    awk -v a="$a" -v b="$b" -v n="$(nproc)" \
        'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", (y[1] - x[1]) * 100 * n / (y[2] - x[2]) }'
}

# The machine may be shared (builds, tests): wait up to QUIET_WAIT seconds for it to be
# mostly idle, so that the numbers measure stringer, not the neighbours.
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

# --- Processes we start (each stopped by its own pid) ----------------------------------

work=""
server_pid=""
sampler_pid=""
wrk_pid=""

stop_pid() { # stop_pid PID SIGNAL SECONDS: signal, wait up to SECONDS, then SIGKILL.
    local pid=$1 sig=$2 limit=$3
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq $((limit * 10))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "process $pid did not stop within ${limit}s of SIG$sig; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop_pid "$wrk_pid" INT 10
    stop_pid "$sampler_pid" TERM 5
    stop_pid "$server_pid" TERM 20
    if [ -n "$work" ]; then
        if [ "${KEEP:-0}" = 1 ]; then
            log "kept $work"
        else
            rm -rf "$work"
        fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- The contract ----------------------------------------------------------------------

# The default contract with the enterprise TAM and VP steps after STEP1 and STEP2 seconds.
write_contract() {
    local src="$root/crates/core/src/contract/default.toml" out="$work/contract.toml"
    local tam='{ notify = "tam", after = "15 minutes"'
    local vp='{ notify = "vp_engineering", after = "30 minutes"'
    grep -qF "$tam" "$src" && grep -qF "$vp" "$src" ||
        die "the default contract no longer has the enterprise steps this bench rewrites ($src)"
    awk -v tam="$tam" -v vp="$vp" -v s1="$STEP1" -v s2="$STEP2" '
        index($0, tam) { sub(/after = "15 minutes"/, "after = \"" s1 " seconds\"") }
        index($0, vp) { sub(/after = "30 minutes"/, "after = \"" s2 " seconds\"") }
        { print }' "$src" >"$out"
    grep -qF "after = \"$STEP1 seconds\"" "$out" && grep -qF "after = \"$STEP2 seconds\"" "$out" ||
        die "could not rewrite the escalation steps"
    "$root/target/release/stringer" contract check "$out" >/dev/null || die "the rewritten contract does not check"
}

# --- The server ------------------------------------------------------------------------

start_server() {
    local out="$work/server.stdout" err="$work/server.stderr"
    env -u STRINGER_DATABASE -u STRINGER_DATA_DIR -u STRINGER_LISTEN -u STRINGER_CONFIG \
        -u STRINGER_CONTRACT -u STRINGER_TICK_SECONDS \
        "$root/target/release/stringer" serve --listen 127.0.0.1:0 --tick-seconds 1 \
        --metrics-listen 127.0.0.1:0 --data-dir "$work/db" --contract "$work/contract.toml" >"$out" 2>"$err" &
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
    metrics_url=$(sed -n 's|^metrics on \(http://127\.0\.0\.1:[0-9]*/metrics\).*|\1|p' "$out" | head -n1)
    [ -n "$metrics_url" ] || die "the server did not print its metrics address"
    token=$(sed -n '/^First run: created the first admin/,$ s/^ *token \(stg_[A-Za-z0-9_-]*\).*/\1/p' "$out" | head -n1)
    [ -n "$token" ] || die "no first-run admin token in the server's output (is the database fresh?)"
}

api() {
    local method=$1 path=$2 body=${3:-}
    curl -sS --fail-with-body --max-time 30 -X "$method" -H "Authorization: Bearer $token" \
        ${body:+-H 'Content-Type: application/json' --data "$body"} "$base_url$path"
}

scrape() { curl -sS --fail --max-time 30 "$metrics_url"; }

# The value of a metric line (exact name and labels) in a scrape file, as printed; 0 if absent.
metric() { awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' "$1"; }

escalations_run() { metric "$1" 'stringer_timers_run_total{kind="escalation"}'; }
lag_count() { metric "$1" stringer_escalation_lag_seconds_count; }
open_tickets() { awk '/^stringer_open_tickets\{/ { n += $2 } END { print n + 0 }' "$1"; }

# snapshot NAME: saves a scrape as $work/scrape.NAME.
snapshot() { scrape >"$work/scrape.$1" || die "cannot scrape /metrics"; }

# --- The database (read-only queries on the server's SQLite file) -----------------------

db() { sqlite3 -batch -noheader -separator ' ' "$work/db/stringer.db" ".timeout 5000" "$@"; }
ESC_KIND='{"timer":"escalation"}'

# Escalation timers due at or before the given second and not yet run.
escalations_due_by() { db "SELECT COUNT(*) FROM timers WHERE kind = '$ESC_KIND' AND at <= $1;"; }

# --- The sampler -----------------------------------------------------------------------

# One line per SAMPLE_MS in $work/timeline:
#   MS DUE_NOT_RUN OUTBOX_UNDISPATCHED ESCALATIONS_RUN LAG_COUNT LAG_SUM
# where the first two come from the database (escalation timers due by now and not run;
# outbox rows not yet dispatched) and the last three from /metrics, scraped every
# SCRAPE_SECONDS only ("-" in between).
sampler() {
    trap - EXIT INT TERM # a background subshell: never run the main script's cleanup
    local tmp="$work/scrape.sampler" ms due outbox esc cnt sum last_scrape=0
    while :; do
        ms=$(now_ms)
        read -r due outbox < <(db "SELECT (SELECT COUNT(*) FROM timers WHERE kind = '$ESC_KIND' AND at <= CAST(strftime('%s','now') AS INTEGER)), (SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NULL);" 2>/dev/null ||
            echo "- -") || true
        esc=- cnt=- sum=-
        if [ $((ms - last_scrape)) -ge $((SCRAPE_SECONDS * 1000 - 200)) ] && scrape >"$tmp" 2>/dev/null; then
            last_scrape=$ms
            esc=$(escalations_run "$tmp") cnt=$(lag_count "$tmp") sum=$(metric "$tmp" stringer_escalation_lag_seconds_sum)
        fi
        echo "$ms ${due:--} ${outbox:--} $esc $cnt $sum" >>"$work/timeline"
        sleep_until_ms $((ms + SAMPLE_MS))
    done
}

sleep_until_ms() {
    local d=$(($1 - $(now_ms)))
    [ "$d" -le 0 ] || sleep "$(awk -v d="$d" 'BEGIN { printf "%.3f", d / 1000 }')"
}

# --- Main ------------------------------------------------------------------------------

# All in one function, read whole before it runs: editing this file during a run is harmless.
main() {
    ensure_tools
    build
    work=$(mktemp -d /tmp/stringer-escalation.XXXXXX)
    write_contract
    log "contract: enterprise TAM step after ${STEP1}s, VP step after ${STEP2}s (default contract otherwise)"
    start_server
    log "server at $base_url (pid $server_pid); work directory $work"
    api POST /api/v1/orgs '{"slug":"bench","name":"Escalation bench","tier":"enterprise","deployment":"shared"}' >/dev/null ||
        die "cannot create the org"

    sampler &
    sampler_pid=$!

    failures=0
    notes=()

    # --- Create phase ------------------------------------------------------------------------
    wait_for_quiet
    log "create phase: opening $TICKETS P1 tickets (wrk, $THREADS threads, $CONNECTIONS connections, ${CREATE_RPS}/s; 0 = unpaced)"
    mkdir -p "$work/create.done"
    cpu_mark create.0
    t_create0=$(now_ms)
    wrk --latency -t "$THREADS" -c "$CONNECTIONS" -d "${CREATE_LIMIT}s" --timeout 10s \
        -s "$root/bench/escalation/create_p1.lua" "$base_url" -- "$token" bench "$TICKETS" "$THREADS" "$work/create.done" "$CREATE_RPS" "$CONNECTIONS" \
        >"$work/create.wrk" 2>&1 &
    wrk_pid=$!
    # Each wrk thread stops itself after its share and leaves a marker; wrk itself only returns
    # after -d, so interrupt it (it then prints its report) once every thread is done.
    while kill -0 "$wrk_pid" 2>/dev/null; do
        [ "$(find "$work/create.done" -type f | wc -l)" -ge "$THREADS" ] && break
        sleep 0.1
    done
    t_create1=$(now_ms)
    stop_pid "$wrk_pid" INT 10
    wrk_pid=""
    cpu_mark create.1
    sleep 1
    snapshot created
    created=$(open_tickets "$work/scrape.created")
    create_ms=$((t_create1 - t_create0))
    line=$(grep '^RESULT ' "$work/create.wrk") || {
        cat "$work/create.wrk" >&2
        die "no RESULT line from wrk in the create phase"
    }
    field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }
    c_p50=$(awk -v us="$(field p50_us)" 'BEGIN { printf "%.1f", us / 1000 }')
    c_p99=$(awk -v us="$(field p99_us)" 'BEGIN { printf "%.1f", us / 1000 }')
    c_errors=$(($(field non2xx) + $(field connect) + $(field read) + $(field write) + $(field timeout)))
    c_rate=$(awk -v n="$created" -v ms="$create_ms" 'BEGIN { printf "%d", n * 1000 / ms }')
    log "created $created tickets in $(secs "$create_ms") s ($c_rate/s; wrk p50 ${c_p50} ms, p99 ${c_p99} ms, $c_errors errors)"
    [ "$c_errors" = 0 ] || {
        notes+=("FAILURE: the create phase had $c_errors errors (non-2xx or socket errors)")
        failures=$((failures + 1))
    }
    [ "$created" -ge "$TICKETS" ] || {
        notes+=("FAILURE: only $created of $TICKETS tickets were created within CREATE_LIMIT=${CREATE_LIMIT}s")
        failures=$((failures + 1))
    }
    early=$(escalations_run "$work/scrape.created")
    [ "$early" = 0 ] || notes+=("NOTE: $early escalation steps ran before the create phase ended (STEP1=${STEP1}s is shorter than the create phase): the tam phase overlaps the create load")
    # The tickets' opening seconds: each step's timers fall due STEP seconds after these.
    read -r open_first open_last <<<"$(db "SELECT MIN(opened_at), MAX(opened_at) FROM tickets;")"

    # The read phase reads these tickets (fetched now, while nothing is due).
    if [ "$READ_LOAD" = 1 ]; then
        : >"$work/ids"
        cursor=""
        while [ "$(wc -l <"$work/ids")" -lt "$READ_IDS" ]; do
            page=$(api GET "/api/v1/tickets?limit=200${cursor:+&cursor=$cursor}") || die "cannot list tickets"
            jq -r '.items[].id' <<<"$page" >>"$work/ids"
            cursor=$(jq -r '.next_cursor // empty' <<<"$page")
            [ -n "$cursor" ] || break
        done
        head -n "$READ_IDS" "$work/ids" >"$work/ids.tmp" && mv "$work/ids.tmp" "$work/ids"
        [ -s "$work/ids" ] || die "no tickets to read"
    fi

    # run_phase NAME STEP TARGET: the step's timers fall due over [open_first + STEP,
    # open_last + STEP]; waits until none of them is left in the database (each one's commit
    # deletes it), then until the histogram holds TARGET lags in all. Sets p_start, p_end.
    run_phase() {
        local name=$1 step=$2 target=$3
        local first_due=$((open_first + step)) last_due=$((open_last + step))
        log "$name phase: $created steps fall due from $(date -d "@$first_due" +%T) to $(date -d "@$last_due" +%T)"
        sleep_until_ms $((first_due * 1000 - 2000))
        if [ "$name" = vp ] && [ "$READ_LOAD" = 1 ]; then
            log "vp phase: starting the read load ($READ_THREADS threads, $READ_CONNECTIONS connections, $(wc -l <"$work/ids") ids, ${READ_RPS} req/s; 0 = unpaced)"
            wrk --latency -t "$READ_THREADS" -c "$READ_CONNECTIONS" -d "$((last_due - first_due + DRAIN_TIMEOUT + 10))s" \
                --timeout 5s -s "$root/bench/escalation/read_paced.lua" "$base_url" -- \
                "$token" "$work/ids" "$READ_RPS" "$READ_CONNECTIONS" >"$work/read.wrk" 2>&1 &
            wrk_pid=$!
        fi
        cpu_mark "$name.0"
        p_start=$(now_ms)
        local deadline=$(((last_due + DRAIN_TIMEOUT) * 1000))
        while [ "$(now_ms)" -lt $((last_due * 1000)) ] || [ "$(escalations_due_by "$last_due")" != 0 ]; do
            kill -0 "$server_pid" 2>/dev/null || die "the server died (KEEP=1 keeps its log)"
            if [ "$(now_ms)" -ge "$deadline" ]; then
                notes+=("FAILURE: the $name steps were not all run within DRAIN_TIMEOUT=${DRAIN_TIMEOUT}s of the last due second")
                failures=$((failures + 1))
                break
            fi
            sleep 0.2
        done
        p_end=$(now_ms)
        cpu_mark "$name.1"
        if [ -n "$wrk_pid" ]; then
            stop_pid "$wrk_pid" INT 10
            wrk_pid=""
        fi
        # The histogram is recorded when the sweep that ran the last step ends.
        while :; do
            snapshot "$name"
            [ "$(lag_count "$work/scrape.$name")" -ge "$target" ] && break
            if [ "$(now_ms)" -ge $((deadline + 60000)) ]; then
                notes+=("FAILURE: the histogram did not reach $target lags after the $name phase")
                failures=$((failures + 1))
                break
            fi
            sleep 0.2
        done
        log "$name phase: the last step committed $(secs $((p_end - last_due * 1000))) s after the last due second"
    }

    run_phase tam "$STEP1" "$created"
    tam_start=$p_start tam_end=$p_end
    run_phase vp "$STEP2" $((2 * created))
    vp_start=$p_start vp_end=$p_end
    [ "$(escalations_run "$work/scrape.tam")" -le "$created" ] ||
        notes+=("NOTE: some VP steps ran before the tam phase was over: the phases overlap")

    stop_pid "$sampler_pid" TERM 5
    sampler_pid=""
    # Cost of one scrape at this size.
    scrape_ms=$(curl -sS -o /dev/null -w '%{time_total}' --max-time 30 "$metrics_url" | awk '{ printf "%d", $1 * 1000 }') ||
        scrape_ms=-
    server_pid_was=$server_pid
    stop_pid "$server_pid" TERM 20
    server_pid=""

    # --- Report ----------------------------------------------------------------------------

    q() { awk ${2:+-v before="$2"} -f "$root/bench/escalation/quantiles.awk" "$1"; }
    kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

    tam_q=$(q "$work/scrape.tam" "$work/scrape.created")
    vp_q=$(q "$work/scrape.vp" "$work/scrape.tam")
    all_q=$(q "$work/scrape.vp")

    server_pid=$server_pid_was
    read -r s_srv s_bench s_oth s_all <<<"$(cpu_between create.0 create.1)"
    read -r t_srv t_bench t_oth t_all <<<"$(cpu_between tam.0 tam.1)"
    read -r v_srv v_bench v_oth v_all <<<"$(cpu_between vp.0 vp.1)"
    server_pid=""

    r_rps=- r_p99=- r_err=0
    if [ "$READ_LOAD" = 1 ] && [ -s "$work/read.wrk" ]; then
        if line=$(grep '^RESULT ' "$work/read.wrk"); then
            r_rps=$(field rps)
            r_p99=$(awk -v us="$(field p99_us)" 'BEGIN { printf "%.1f", us / 1000 }')
            r_err=$(($(field non2xx) + $(field connect) + $(field read) + $(field write) + $(field timeout)))
        fi
        [ "$r_err" = 0 ] || {
            notes+=("FAILURE: the read load had $r_err errors")
            failures=$((failures + 1))
        }
    fi

    window_s=$((open_last - open_first + 1))
    row() { printf '%-12s %7s %6s %6s %7s %6s %6s %8s  %-10s %s\n' "$@"; }
    phase_row() { # NAME QUANTILES DRAIN
        local qs=$2 verdict
        if awk -v p="$(kv "$qs" p99)" -v t="$TARGET_P99" 'BEGIN { exit !(p != "-" && p !~ />/ && p + 0 < t) }'; then
            verdict=met
        else
            verdict=MISSED
        fi
        row "$1" "$(kv "$qs" count)" "$(kv "$qs" p50)" "$(kv "$qs" p99)" "$(kv "$qs" mean)" \
            "$(awk -v f="$(kv "$qs" over1s)" 'BEGIN { if (f == "-") print "-"; else printf "%.1f%%", f * 100 }')" \
            "$(kv "$qs" max_le)" "$3" "p99 < ${TARGET_P99} s" "$verdict"
    }

    elapsed_total=$(secs $(($(now_ms) - t_create0)))
    if [ "$READ_LOAD" = 1 ]; then vp_name="vp (+reads)"; else vp_name="vp (idle)"; fi
    echo
    echo "== escalation lag: $created open P1 tickets (enterprise org), SQLite, $(nproc) cores; TAM step at +${STEP1}s, VP step at +${STEP2}s =="
    echo "create: $created tickets in $(secs "$create_ms") s = $c_rate/s (asked: ${CREATE_RPS}/s, 0 = unpaced; wrk $THREADS threads, $CONNECTIONS connections; p50 $c_p50 ms, p99 $c_p99 ms; $c_errors errors)"
    echo "        so each step's timers fall due over $window_s s (opening seconds) at ~$c_rate/s; the 1-hour response-breach timers stay pending"
    echo
    row phase timers p50_s p99_s mean_s '>1s' max_le drain_s target verdict
    phase_row "tam (idle)" "$tam_q" "$(secs $((tam_end - tam_start)))"
    phase_row "$vp_name" "$vp_q" "$(secs $((vp_end - vp_start)))"
    phase_row "all" "$all_q" -
    echo
    echo "p50/p99: linear interpolation inside the histogram's buckets (... 0.5 1 2 5 10 30 60 s), like histogram_quantile();"
    echo "         '>1s' is exact (1 s is a bucket bound); max_le: upper bound of the highest non-empty bucket."
    echo "lag:     due instant -> commit of the sweep batch (<= 256 timers) that wrote the notices (recorded per batch)."
    echo "drain_s: from 2 s before the first step fell due until the last one was committed (the due window is $window_s s)."
    if [ "$READ_LOAD" = 1 ]; then
        echo "read load during vp: $r_rps req/s (asked: ${READ_RPS}/s, 0 = unpaced), p99 $r_p99 ms, $r_err errors (wrk $READ_THREADS thread(s), $READ_CONNECTIONS connections, GET /api/v1/tickets/{id})"
    fi
    echo "cpu, percent of one core ($(nproc) cores = $(($(nproc) * 100))%); bench = wrk, sampler, this script:"
    printf '    %-7s server %4s%%  bench %3s%%  others %4s%%  machine %4s%%   server threads: %s\n' \
        create "$s_srv" "$s_bench" "$s_oth" "$s_all" "$(threads_between create.0 create.1)"
    printf '    %-7s server %4s%%  bench %3s%%  others %4s%%  machine %4s%%   server threads: %s\n' \
        tam "$t_srv" "$t_bench" "$t_oth" "$t_all" "$(threads_between tam.0 tam.1)"
    printf '    %-7s server %4s%%  bench %3s%%  others %4s%%  machine %4s%%   server threads: %s\n' \
        vp "$v_srv" "$v_bench" "$v_oth" "$v_all" "$(threads_between vp.0 vp.1)"
    if [ "$s_oth" -gt 20 ] || [ "$t_oth" -gt 20 ] || [ "$v_oth" -gt 20 ]; then
        echo "NOTE: other processes used the CPU during the run ('others'): the numbers may be pessimistic"
    fi
    echo "one /metrics scrape at this size: ${scrape_ms} ms (scraped every ${SCRAPE_SECONDS} s; the database every ${SAMPLE_MS} ms)"

    # When each step's sweep started, from the database: a step's outbox row is stamped with its
    # sweep's start second; the step was due at the ticket's opening second + STEP.
    echo
    echo "sweep start second - due second, from the database (0 = picked up by a sweep that started in its due second):"
    for spec in "tam $STEP1" "vp_engineering $STEP2"; do
        set -- $spec
        db "SELECT o.created_at - (t.opened_at + $2) AS d, COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id
            WHERE o.kind = 'page' AND json_extract(o.body, '\$.role') = '$1' GROUP BY d ORDER BY d;" |
            awk -v r="$1" '{ n[NR] = $1; c[NR] = $2; t += $2 }
                END {
                    printf "    %-15s", r
                    if (NR <= 8) { for (i = 1; i <= NR; i++) printf " %ss: %.1f%%", n[i], c[i] * 100 / t }
                    else {
                        for (i = 1; i <= NR; i++) { k = (n[i] <= 0) ? "0" : (n[i] <= 1) ? "1" : (n[i] <= 5) ? "2-5" : (n[i] <= 30) ? "6-30" : ">30"; g[k] += c[i] }
                        split("0 1 2-5 6-30 >30", ks, " ")
                        for (i = 1; i <= 5; i++) if (g[ks[i]] > 0) printf " %ss: %.1f%%", ks[i], g[ks[i]] * 100 / t
                        printf " (max %ss)", n[NR]
                    }
                    printf "\n"
                }'
    done

    # The backlog timeline: the scraped samples from 2 s before each phase's first due instant to
    # its end, every 2nd one and the last; then the sweep throughput while behind, and the mean
    # due-to-commit time from the backlog.
    echo
    echo "timeline (t from the start of the create phase; steps/s and lag_mean over the steps recorded since the row before):"
    printf '  %-5s %7s %12s %13s %9s %8s %9s\n' phase t_s due_not_run outbox_undisp steps_run steps/s lag_mean
    awk -v t0="$t_create0" -v a="$tam_start" -v b="$tam_end" -v c="$vp_start" -v d="$vp_end" -v every=2 '
        function phase(ms) { return (ms >= a && ms <= b + 1000 * every) ? "tam" : (ms >= c && ms <= d + 1000 * every) ? "vp" : "" }
        $4 == "-" { next }
        NR == FNR { p = phase($1); if (p != "") last[p] = FNR; next }
        {
            p = phase($1)
            if (p == "") next
            if (p != cur) { cur = p; i = 0; pm = ""; pr = ""; pc = ""; ps = "" }
            if (i++ % every != 0 && FNR != last[p]) next
            rate = lag = "-"
            if (pm != "" && $1 > pm) rate = sprintf("%d", ($4 - pr) * 1000 / ($1 - pm))
            if (pc != "" && $5 > pc) lag = sprintf("%.3f", ($6 - ps) / ($5 - pc))
            printf "  %-5s %7.1f %12s %13s %9d %8s %9s\n", p, ($1 - t0) / 1000, $2, $3, $4, rate, lag
            pm = $1; pr = $4; pc = $5; ps = $6
        }' "$work/timeline" "$work/timeline"
    # A step leaves due_not_run when its commit deletes its timer, so (Little's law) the area under
    # due_not_run over a phase, divided by the steps run, is their mean wait from the due second
    # to the commit (trapezoids between samples: only as fine as SAMPLE_MS). The throughput
    # while behind is the steps run over the scrape intervals that began with steps waiting (the
    # counter moves when a sweep ends, so it needs a long backlog to mean much).
    awk -v a="$tam_start" -v b="$tam_end" -v c="$vp_start" -v d="$vp_end" \
        -v na="$(kv "$tam_q" count)" -v nb="$(kv "$vp_q" count)" -v rate="$c_rate" '
        function phase(ms) { return (ms >= a && ms <= b) ? "tam" : (ms >= c && ms <= d) ? "vp" : "" }
        $2 !~ /^[0-9]+$/ { next }
        {
            p = phase($1)
            if (p != "" && p == pp) {
                area[p] += ($2 + pd) / 2 * ($1 - pm) / 1000
                if (pd > 0) { behind[p] += ($1 - pm) / 1000 }
            }
            if (p != "" && $2 > peak[p]) peak[p] = $2
            if ($4 != "-") {
                if (p != "" && p == sp && sd > 0) { ran[p] += $4 - se; ran_ms[p] += $1 - sm }
                sp = p; sm = $1; se = $4; sd = $2
            }
            pp = p; pm = $1; pd = $2
        }
        END {
            out = ""
            if (na > 0 && ("tam" in area)) out = sprintf("tam %.3f s", area["tam"] / na)
            if (nb > 0 && ("vp" in area)) out = out (out == "" ? "" : ", ") sprintf("vp %.3f s", area["vp"] / nb)
            if (out != "") print "mean due->commit from the backlog samples (Little'"'"'s law): " out "  (mean_s above runs to the commit of each batch)"
            for (p in peak) {
                printf "backlog (%s): at most %d steps due and not run; steps were waiting in %.1f s of the phase", p, peak[p], behind[p]
                if (ran_ms[p] > 0) printf "; sweep throughput while behind: %d steps/s (due rate ~%d/s)", ran[p] * 1000 / ran_ms[p], rate
                printf "\n"
            }
        }' "$work/timeline"

    # The server's log: warnings and errors (startup/shutdown INFO lines are normal).
    echo
    sed 's/\x1b\[[0-9;]*m//g' "$work/server.stderr" >"$work/server.log"
    errors=$(grep -Ec ' ERROR |panicked' "$work/server.log" || true)
    warnings=$(grep -Ec ' WARN ' "$work/server.log" || true)
    if [ "$errors" -gt 0 ] || [ "$warnings" -gt 0 ]; then
        echo "server log: $errors errors, $warnings warnings; the most frequent (with counts):"
        grep -E ' (WARN|ERROR) |panicked' "$work/server.log" | cut -d' ' -f2- | cut -c1-300 |
            sort | uniq -c | sort -rn | head -n 8 | sed 's/^/  /'
        [ "$errors" = 0 ] || {
            notes+=("FAILURE: the server logged errors")
            failures=$((failures + 1))
        }
    else
        echo "server log: no warnings or errors"
    fi
    for n in "${notes[@]}"; do echo "$n"; done
    echo "total time: $elapsed_total s from the start of the create phase"

    return $((failures > 0))
}

main "$@"; exit $? # one line: bash reads no further while main runs
