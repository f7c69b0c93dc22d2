#!/usr/bin/env bash
# Escalation lag of `stringer serve` on SQLite with many open tickets whose timers fall due.
#
#   bench/escalation_lag.sh [TICKETS]          (default: 100000)
#
# Target (from the issue): p99 < 1 s from a timer's due instant to its hand-off (the notices
# committed to the outbox), as measured by the server's own histogram
# stringer_escalation_lag_seconds at GET /metrics. (GoAlert's engine cycles every 5 s.)
#
# Every figure comes from the server's API, its /metrics (served on a separate free port,
# --metrics-listen) or this script's own clock; the bench never reads the database.
#
# What it does, on a fresh server (127.0.0.1, free ports, a temporary SQLite directory):
#   1. Runs the server with the checked-in contract bench/escalation/contract.toml (CONTRACT=FILE
#      replaces it), after `stringer contract check`: the default contract with the enterprise
#      escalation steps shortened, TAM after 150 s and VP engineering after 300 s (instead of
#      15 and 30 minutes). The two delays (STEP1 and STEP2 in the log and report) are read
#      from the contract used, where they must be written `after = "N seconds"`. In the
#      checked-in contract the P1 response target stays 1 hour, so every ticket's breach
#      timer stays pending.
#   2. `create` phase: an enterprise org, then TICKETS P1 tickets opened as fast as wrk can,
#      or at CREATE_RPS per second (bench/escalation/create_p1.lua). Each P1 pages on-call at
#      once and leaves its TAM step and response-breach timers pending (the VP step's timer is
#      set when the TAM step runs). The tickets are opened over the whole phase, so each step's
#      timers fall due spread over a window as long as the phase, at the rate the tickets were
#      created. The tickets created are counted by the gauge stringer_open_tickets (read once
#      it has been refreshed after the phase: the server counts it every 2 s); their opening
#      seconds are taken from this script's clock, the seconds in which the phase started and
#      ended (the server's due instants are whole seconds), so a step's due window as reported
#      may be up to a second wider at each end than the real one.
#   3. `tam` phase: the TAM steps fall due on an otherwise idle server (apart from its own
#      outbox dispatcher working off the pages); it ends, once the last due second has passed,
#      when the counter stringer_timers_run_total{kind="escalation"} at /metrics has counted a
#      step for every ticket created.
#   4. `vp` phase: the VP steps fall due while a read load runs (GET /api/v1/tickets/{id}
#      over READ_IDS tickets, bench/escalation/read_paced.lua, READ_RPS requests/s; READ_RPS=0
#      reads as fast as READ_CONNECTIONS connections can; READ_LOAD=0: no read load); it ends
#      when that counter reaches two steps per ticket created.
#   5. The report, per phase (the difference of two scrapes at the phase boundaries) and
#      overall: count, mean (sum/count), p50 and p99 of the histogram and the fraction above
#      1 s. p50/p99 are estimated like Prometheus' histogram_quantile(): linear interpolation
#      inside the bucket holding the rank (bench/escalation/quantiles.awk), so they are only
#      as precise as the buckets (…, 0.5, 1, 2, 5, … s). Then the evidence for what bounds the
#      lag: the backlog timeline, from /metrics scraped every SAMPLE_MS (cheap: a scrape does
#      not touch the database): the gauges stringer_timers_due (every timer due and not yet
#      run, not only escalation steps) and stringer_outbox_pending (outbox records not yet
#      handed on), which the server refreshes every 2 s only, and the counters of steps run
#      and of lags recorded; the sweep's throughput while behind; the mean due-to-commit time
#      from the backlog (Little's law, as coarse as the gauge's 2 s); and the server's CPU per
#      thread (the SQLite writer's worker thread apart).
#
# The histogram measures from a timer's due instant to the commit of the sweep batch that
# ran it (up to 256 timers, committed together; the server records a batch's lags once it has
# committed), so every timer in a batch counts as late as the batch's commit.
# Due instants are whole seconds, so the timers of all tickets opened in one second fall due
# together and the sweep works them off a batch at a time: the lag grows with the create rate
# (CREATE_RPS), which is the knob to find the rate the server sustains.
# The create phase should end before the first TAM step falls due (else the tam phase overlaps
# the create load, and the report says so): at ~1,000 tickets/s unpaced on 2 cores, the
# checked-in contract's 150 s leave room for about 100,000 tickets; for more, or slower
# creates, give a contract with longer steps.
#
# SLOW_RECEIVER=1 adds webhook deliveries, one receiver of them slow (bench/escalation/
# receiver.py, a local Python receiver that records each page on arrival): two Pro orgs
# (a Pro P1 pages on-call at once and has no further step, so the escalation counters stay
# the bench org's), "slowrx" whose on-call engineer's webhook answers only after SLOW_SECONDS
# (8), and "fastrx" whose on-call engineer's answers at once; from the end of the create
# phase to the end of the vp phase a P1 is opened in each every second, just after the
# second turns (so a page's whole-second instant is its request's). The slow receiver's pages
# pile up (two at a time, SLOW_SECONDS each) through both phases; the report adds how late
# the fast receiver's pages arrived after their ticket's opening second.
#
# Knobs (environment): CONTRACT (the contract file; default bench/escalation/contract.toml),
# CONNECTIONS (16) and THREADS (2) for the create load, CREATE_RPS (0 = as fast as possible;
# N paces the creates, and so the rate at which the steps fall due, to about N/s),
# READ_LOAD (1), READ_RPS (500; 0 = unpaced), READ_CONNECTIONS (8), READ_THREADS (1),
# READ_IDS (1000), SLOW_RECEIVER (0), SLOW_SECONDS (8), SAMPLE_MS (250), DRAIN_TIMEOUT (300: seconds a phase may take beyond its
# due window before the run gives up), CREATE_LIMIT (900: seconds the create phase may take),
# QUIET_WAIT (60: seconds to wait for other work on the machine to calm down first), KEEP=1
# keeps the work directory (database, server logs, scrapes, timeline), STRINGER_BIN runs
# another binary instead of building and running target/release/stringer.
#
# Needs wrk, curl and jq (installed with apt when missing). Traffic goes to 127.0.0.1 only;
# every wait has a deadline. Exit status: 0 when the run completed without errors (the target
# is reported, not enforced), 1 on errors, 2 on bad usage.
set -euo pipefail

# A relative CONTRACT is relative to where the script was started.
CONTRACT=${CONTRACT:-}
case "$CONTRACT" in "" | /*) ;; *) CONTRACT=$PWD/$CONTRACT ;; esac

cd "$(dirname "$0")/.."
root=$(pwd)

# Logging, tools, the binary, CPU accounting, the server, cleanup: shared with bench/load.sh.
bench_name=escalation
log_clock=1
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"

usage() {
    echo "usage: bench/escalation_lag.sh [TICKETS]   (a whole number >= 100; default 100000)" >&2
    exit 2
}
[ $# -le 1 ] || usage
TICKETS=${1:-100000}
if ! [[ "$TICKETS" =~ ^[0-9]+$ ]] || [ "$TICKETS" -lt 100 ]; then usage; fi

CONTRACT=${CONTRACT:-$root/bench/escalation/contract.toml}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
CREATE_RPS=${CREATE_RPS:-0}
READ_LOAD=${READ_LOAD:-1}
READ_RPS=${READ_RPS:-500}
READ_CONNECTIONS=${READ_CONNECTIONS:-8}
READ_THREADS=${READ_THREADS:-1}
READ_IDS=${READ_IDS:-1000}
SAMPLE_MS=${SAMPLE_MS:-250}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-300}
CREATE_LIMIT=${CREATE_LIMIT:-900}
QUIET_WAIT=${QUIET_WAIT:-60}
SLOW_RECEIVER=${SLOW_RECEIVER:-0}
SLOW_SECONDS=${SLOW_SECONDS:-8}
TARGET_P99=1

for v in CONNECTIONS THREADS READ_CONNECTIONS READ_THREADS READ_IDS SAMPLE_MS DRAIN_TIMEOUT CREATE_LIMIT \
    QUIET_WAIT; do
    if ! [[ "${!v}" =~ ^[0-9]+$ ]] || [ "${!v}" -eq 0 ]; then
        echo "bench/escalation_lag.sh: $v must be a positive whole number (got '${!v}')" >&2
        exit 2
    fi
done
for v in READ_RPS CREATE_RPS SLOW_RECEIVER SLOW_SECONDS; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || {
        echo "bench/escalation_lag.sh: $v must be a whole number (got '${!v}')" >&2
        exit 2
    }
done
[ -f "$CONTRACT" ] || {
    echo "bench/escalation_lag.sh: CONTRACT: no such file: $CONTRACT" >&2
    exit 2
}

now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

sleep_until_ms() {
    local d=$(($1 - $(now_ms)))
    [ "$d" -le 0 ] || sleep "$(awk -v d="$d" 'BEGIN { printf "%.3f", d / 1000 }')"
}

# --- The contract ----------------------------------------------------------------------

# contract_step FILE ROLE: the delay, in seconds, of the enterprise escalation step that
# notifies ROLE (its `after = "N seconds"` under [escalation.enterprise]).
contract_step() {
    local file=$1 role=$2 after
    after=$(awk -v role="$role" '
        /^[[:space:]]*\[/ { section = $0; sub(/[[:space:]]*#.*/, "", section); gsub(/[[:space:]]/, "", section) }
        section == "[escalation.enterprise]" && $0 ~ ("notify[[:space:]]*=[[:space:]]*\"" role "\"") {
            if (match($0, /after[[:space:]]*=[[:space:]]*"[^"]*"/)) {
                s = substr($0, RSTART, RLENGTH)
                sub(/^[^"]*"/, "", s)
                sub(/"$/, "", s)
                print s
            } else print "(none)"
            exit
        }' "$file")
    [ -n "$after" ] || die "$file: no enterprise escalation step with notify = \"$role\" under [escalation.enterprise]"
    if ! [[ "$after" =~ ^([0-9]+)\ seconds?$ ]] || [ "${BASH_REMATCH[1]}" -eq 0 ]; then
        die "$file: the enterprise \"$role\" step is after = \"$after\"; this bench needs a whole number of seconds: after = \"N seconds\""
    fi
    echo "${BASH_REMATCH[1]}"
}

# Checks CONTRACT and sets STEP1 and STEP2 from it.
read_contract() {
    "$bin" contract check "$CONTRACT" >/dev/null || die "the contract does not check: $CONTRACT"
    STEP1=$(contract_step "$CONTRACT" tam)
    STEP2=$(contract_step "$CONTRACT" vp_engineering)
    [ "$STEP2" -gt "$STEP1" ] ||
        die "$CONTRACT: the VP engineering step ($STEP2 s) must come after the TAM step ($STEP1 s)"
}

# --- CPU accounting (proc_snapshot, machine_ticks, cpu_split: bench/lib.sh) -------------

# The same per thread of the server: "TID COMM TICKS" (its own ticks: threads reap nothing).
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

# cpu_mark NAME: snapshots for the start or end of a phase.
cpu_mark() {
    proc_snapshot >"$work/cpu.$1"
    thread_snapshot >"$work/threads.$1"
    machine_ticks >"$work/machine.$1"
    now_ms >"$work/wall.$1"
}

wall_ms_between() {
    local ms=$(($(cat "$work/wall.$2") - $(cat "$work/wall.$1")))
    if [ "$ms" -gt 0 ]; then echo "$ms"; else echo 1; fi
}

# cpu_between A B: "SERVER BENCH OTHERS MACHINE" in percent of one core between two marks.
# BENCH is this script, its sampler, wrk and curl. OTHERS is the machine's busy time less
# those two (kernel work charged to no process included): summing the other processes' ticks
# would count a neighbour's reaped children (a compiler run) when it reaps them.
cpu_between() {
    local wall_ms split machine srv bench others
    wall_ms=$(wall_ms_between "$1" "$2")
    read -r -a split <<<"$(cpu_split "$work/cpu.$1" "$work/cpu.$2")"
    machine=$(machine_pct "$(cat "$work/machine.$1")" "$(cat "$work/machine.$2")")
    srv=$(cpu_pct "${split[0]}" "$wall_ms")
    bench=$(cpu_pct "${split[2]}" "$wall_ms")
    others=$((machine - srv - bench))
    [ "$others" -ge 0 ] || others=0
    echo "$srv $bench $others $machine"
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

# --- /metrics (scrape and metric: bench/lib.sh) -----------------------------------------

escalations_run() { metric "$1" 'stringer_timers_run_total{kind="escalation"}'; }
lag_count() { metric "$1" stringer_escalation_lag_seconds_count; }
open_tickets() { awk '/^stringer_open_tickets\{/ { n += $2 } END { print n + 0 }' "$1"; }

# snapshot NAME: saves a scrape as $work/scrape.NAME.
snapshot() { scrape >"$work/scrape.$1" || die "cannot scrape /metrics"; }

# --- The sampler -----------------------------------------------------------------------

# One line per SAMPLE_MS in $work/timeline, from one scrape of /metrics:
#   MS TIMERS_DUE OUTBOX_PENDING ESCALATIONS_RUN LAG_COUNT LAG_SUM
# ("MS - - - - -" when the scrape failed). TIMERS_DUE (every timer due and not yet run) and
# OUTBOX_PENDING (outbox records not yet handed on) are gauges the server refreshes every 2 s;
# the counters move when a sweep batch has committed.
sampler() {
    trap - EXIT INT TERM # a background subshell: never run the main script's cleanup
    local tmp="$work/scrape.sampler" ms
    while :; do
        ms=$(now_ms)
        if scrape >"$tmp" 2>/dev/null; then
            awk -v ms="$ms" '
                $1 == "stringer_timers_due" { due = $2 }
                $1 == "stringer_outbox_pending" { outbox = $2 }
                $1 == "stringer_timers_run_total{kind=\"escalation\"}" { esc = $2 }
                $1 == "stringer_escalation_lag_seconds_count" { cnt = $2 }
                $1 == "stringer_escalation_lag_seconds_sum" { sum = $2 }
                END { printf "%s %d %d %d %d %s\n", ms, due, outbox, esc, cnt, (sum == "" ? 0 : sum) }' "$tmp" >>"$work/timeline"
        else
            echo "$ms - - - - -" >>"$work/timeline"
        fi
        sleep_until_ms $((ms + SAMPLE_MS))
    done
}

# --- The receivers (SLOW_RECEIVER=1) -----------------------------------------------------

# Starts bench/escalation/receiver.py and the orgs and people whose pages go to it.
start_receivers() {
    : >"$work/received"
    python3 "$root/bench/escalation/receiver.py" "$work/receiver.port" "$work/received" "$SLOW_SECONDS" &
    helper_pids+=($!)
    for _ in $(seq 100); do [ -s "$work/receiver.port" ] && break; sleep 0.1; done
    [ -s "$work/receiver.port" ] || die "the webhook receiver did not start"
    local hooks="http://127.0.0.1:$(cat "$work/receiver.port")" name kind role id
    declare -A ids
    for spec in sam:slow:engineer fay:fast:engineer; do
        IFS=: read -r name kind role <<<"$spec"
        id=$(api POST /api/v1/users "{\"email\":\"$name@bench.example\",\"name\":\"$name\",\"role\":\"$role\"}" | jq -r .id) ||
            die "cannot create $name"
        api POST "/api/v1/users/$id/contact-methods" "{\"kind\":\"webhook\",\"address\":\"$hooks/$kind/$name\"}" >/dev/null ||
            die "cannot give $name a webhook"
        ids[$name]=$id
    done
    api POST /api/v1/orgs "{\"slug\":\"slowrx\",\"name\":\"Slow receiver\",\"tier\":\"pro\",\"deployment\":\"shared\",\"named_engineers\":[\"${ids[sam]}\"]}" >/dev/null ||
        die "cannot create the org slowrx"
    api POST /api/v1/orgs "{\"slug\":\"fastrx\",\"name\":\"Fast receiver\",\"tier\":\"pro\",\"deployment\":\"shared\",\"named_engineers\":[\"${ids[fay]}\"]}" >/dev/null ||
        die "cannot create the org fastrx"
    log "receivers at $hooks: slowrx's on-call answers after ${SLOW_SECONDS}s, fastrx's at once"
}

# Opens a P1 in slowrx and one in fastrx every second, 50 ms after the second turns.
trickle() {
    trap - EXIT INT TERM # a background subshell: never run the main script's cleanup
    local next
    while :; do
        next=$((($(now_ms) / 1000 + 1) * 1000 + 50))
        sleep_until_ms "$next"
        for org in slowrx fastrx; do
            api POST /api/v1/tickets "{\"org\":\"$org\",\"severity\":\"P1\",\"subject\":\"trickle\",\"description\":\"bench\"}" >/dev/null 2>&1 &
        done
        wait
    done
}

# The receivers' report: how many pages each got, and how late the fast one's arrived (from
# the page's instant: its ticket's opening second, 50 ms before the request was sent).
receivers_report() {
    echo
    echo "receivers (SLOW_RECEIVER=1; late = arrival - the page's instant, its ticket's opening second; the request was sent 50 ms into it):"
    echo "  slow receiver: $(awk '$3 == "slow"' "$work/received" | wc -l) pages received (it answers one in $SLOW_SECONDS s, two at a time)"
    awk '$3 == "fast" && $4 == "oncall" { print $1 - $2 }' "$work/received" | sort -g | awk '
        { v[NR] = $1 }
        function q(p,   i) { i = int(p * NR + 0.999999); if (i < 1) i = 1; return v[i] }
        END { if (NR) printf "  fast on-call pages: %d, late p50 %.3f s, p99 %.3f s, max %.3f s\n", NR, q(.5), q(.99), v[NR] }'
    echo "  page delivery lag at the server (due -> send started; histogram): $(awk '
        $1 ~ /^stringer_delivery_lag_seconds_count\{urgency="page"\}/ { c = $2 }
        $1 ~ /^stringer_delivery_lag_seconds_sum\{urgency="page"\}/ { s = $2 }
        END { if (c > 0) printf "%d sends, mean %.3f s (the slow receiver'"'"'s queue included)", c, s / c; else print "none" }' "$work/scrape.vp")"
}

# --- Main ------------------------------------------------------------------------------

# All in one function, read whole before it runs: editing this file during a run is harmless.
main() {
    ensure_tools wrk curl jq
    build
    read_contract
    log "contract $CONTRACT: enterprise TAM step after ${STEP1}s, VP step after ${STEP2}s"
    # The create phase should be over before the first TAM step falls due: ~1,000/s unpaced
    # (2 cores), or a little under the paced rate.
    local est_rate=1000
    if [ "$CREATE_RPS" -gt 0 ] && [ $((CREATE_RPS * 9 / 10)) -lt 1000 ]; then
        est_rate=$((CREATE_RPS * 9 / 10 + 1))
    fi
    [ $((10 + (TICKETS + est_rate - 1) / est_rate)) -le "$STEP1" ] ||
        log "note: at ~$est_rate/s, creating $TICKETS tickets may still be under way when the first TAM steps fall due (${STEP1}s): a contract with longer steps keeps the phases apart"
    work=$(mktemp -d /tmp/stringer-escalation.XXXXXX)
    local receiver_flags=()
    [ "$SLOW_RECEIVER" != 1 ] || receiver_flags=(--allow-private-webhooks)
    start_server --tick-seconds 1 --metrics-listen 127.0.0.1:0 --data-dir "$work/db" --contract "$CONTRACT" "${receiver_flags[@]}"
    [ -n "$metrics_url" ] || die "the server did not print its metrics address ('metrics on http://127.0.0.1:PORT/metrics')"
    log "server at $base_url, metrics at $metrics_url (pid $server_pid); work directory $work"
    api POST /api/v1/orgs '{"slug":"bench","name":"Escalation bench","tier":"enterprise","deployment":"shared"}' >/dev/null ||
        die "cannot create the org"
    [ "$SLOW_RECEIVER" != 1 ] || start_receivers

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
    # The tickets' opening seconds, by this script's clock: from the second the phase started
    # to the one in which its last request had surely been answered (the server's due instants
    # are whole seconds). Each step's timers fall due STEP seconds after these.
    open_first=$((t_create0 / 1000))
    open_last=$(($(now_ms) / 1000))
    # The tickets created, from the open-ticket gauge, which the server counts every 2 s: read
    # it once a count has surely begun after the phase, and again until two reads agree.
    sleep 2.5
    snapshot created
    created=$(open_tickets "$work/scrape.created")
    for _ in $(seq 10); do
        sleep 2.5
        snapshot created.again
        [ "$(open_tickets "$work/scrape.created.again")" = "$created" ] && break
        mv "$work/scrape.created.again" "$work/scrape.created"
        created=$(open_tickets "$work/scrape.created")
    done
    create_ms=$((t_create1 - t_create0))
    line=$(grep '^RESULT ' "$work/create.wrk") || {
        cat "$work/create.wrk" >&2
        die "no RESULT line from wrk in the create phase"
    }
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

    # The read phase reads these tickets (fetched now, while nothing is due).
    [ "$READ_LOAD" != 1 ] || fetch_ids "$READ_IDS"
    if [ "$SLOW_RECEIVER" = 1 ]; then
        trickle &
        helper_pids+=($!)
    fi

    # run_phase NAME STEP TARGET: the step's timers fall due over [open_first + STEP,
    # open_last + STEP]; waits until that window is past and the server has run TARGET
    # escalation steps in all (the counter stringer_timers_run_total{kind="escalation"} moves
    # when a sweep batch has committed), then until the histogram holds TARGET lags in all.
    # Sets p_start, p_end.
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
        while :; do
            kill -0 "$server_pid" 2>/dev/null || die "the server died (KEEP=1 keeps its log)"
            if [ "$(now_ms)" -ge $((last_due * 1000)) ] && scrape >"$work/scrape.poll" 2>/dev/null &&
                [ "$(escalations_run "$work/scrape.poll")" -ge "$target" ]; then
                break
            fi
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
        # The server records a batch's lags right after counting its timers run.
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

    sampler_pid_was=$sampler_pid
    stop_pid "$sampler_pid" TERM 5
    sampler_pid=""
    for pid in "${helper_pids[@]}"; do stop_pid "$pid" TERM 5; done
    helper_pids=()
    # Cost of one scrape at this size.
    scrape_ms=$(curl -sS -o /dev/null -w '%{time_total}' --max-time 30 "$metrics_url" | awk '{ printf "%d", $1 * 1000 }') ||
        scrape_ms=-
    server_pid_was=$server_pid
    stop_server

    # --- Report ----------------------------------------------------------------------------

    q() { awk ${2:+-v before="$2"} -f "$root/bench/escalation/quantiles.awk" "$1"; }
    kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

    tam_q=$(q "$work/scrape.tam" "$work/scrape.created")
    vp_q=$(q "$work/scrape.vp" "$work/scrape.tam")
    all_q=$(q "$work/scrape.vp")

    # The CPU split needs the pids of the server and the sampler, stopped by now.
    server_pid=$server_pid_was sampler_pid=$sampler_pid_was
    read -r s_srv s_bench s_oth s_all <<<"$(cpu_between create.0 create.1)"
    read -r t_srv t_bench t_oth t_all <<<"$(cpu_between tam.0 tam.1)"
    read -r v_srv v_bench v_oth v_all <<<"$(cpu_between vp.0 vp.1)"
    server_pid="" sampler_pid=""

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
    lag_row() { printf '%-12s %7s %6s %6s %7s %6s %6s %8s  %-10s %s\n' "$@"; }
    phase_row() { # NAME QUANTILES DRAIN
        local qs=$2 verdict
        if awk -v p="$(kv "$qs" p99)" -v t="$TARGET_P99" 'BEGIN { exit !(p != "-" && p !~ />/ && p + 0 < t) }'; then
            verdict=met
        else
            verdict=MISSED
        fi
        lag_row "$1" "$(kv "$qs" count)" "$(kv "$qs" p50)" "$(kv "$qs" p99)" "$(kv "$qs" mean)" \
            "$(awk -v f="$(kv "$qs" over1s)" 'BEGIN { if (f == "-") print "-"; else printf "%.1f%%", f * 100 }')" \
            "$(kv "$qs" max_le)" "$3" "p99 < ${TARGET_P99} s" "$verdict"
    }

    elapsed_total=$(secs $(($(now_ms) - t_create0)))
    if [ "$READ_LOAD" = 1 ]; then vp_name="vp (+reads)"; else vp_name="vp (idle)"; fi
    echo
    echo "== escalation lag: $created open P1 tickets (enterprise org), SQLite, $(nproc) cores; TAM step at +${STEP1}s, VP step at +${STEP2}s =="
    echo "contract: $CONTRACT"
    echo "create: $created tickets in $(secs "$create_ms") s = $c_rate/s (asked: ${CREATE_RPS}/s, 0 = unpaced; wrk $THREADS threads, $CONNECTIONS connections; p50 $c_p50 ms, p99 $c_p99 ms; $c_errors errors)"
    echo "        so each step's timers fall due over $window_s s (the create phase's seconds, by this script's clock) at ~$c_rate/s"
    echo
    lag_row phase timers p50_s p99_s mean_s '>1s' max_le drain_s target verdict
    phase_row "tam (idle)" "$tam_q" "$(secs $((tam_end - tam_start)))"
    phase_row "$vp_name" "$vp_q" "$(secs $((vp_end - vp_start)))"
    phase_row "all" "$all_q" -
    echo
    echo "p50/p99: linear interpolation inside the histogram's buckets (... 0.5 1 2 5 10 30 60 s), like histogram_quantile();"
    echo "         '>1s' is exact (1 s is a bucket bound); max_le: upper bound of the highest non-empty bucket."
    echo "lag:     due instant -> commit of the sweep batch (<= 256 timers) that wrote the notices (recorded per batch)."
    echo "drain_s: from 2 s before the first step fell due until /metrics counted the last one run (the due window is $window_s s)."
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
    [ "$SLOW_RECEIVER" != 1 ] || receivers_report
    echo "one /metrics scrape at this size: ${scrape_ms} ms (scraped every ${SAMPLE_MS} ms; the gauges timers_due and outbox_pending are refreshed every 2 s)"

    # The backlog timeline: the samples from 2 s before each phase's first due instant to 2 s
    # after its end, about 20 rows a phase (one every 2 s at least, as often as the gauges
    # change) and its last one; then the sweep throughput while behind, and the mean
    # due-to-commit time from the backlog.
    echo
    echo "timeline (t from the start of the create phase; timers_due: every timer due and not yet run, not only escalation steps;"
    echo "          outbox_pending: outbox records not yet handed on; both gauges refreshed every 2 s;"
    echo "          steps/s and lag_mean over the steps recorded since the row before):"
    printf '  %-5s %7s %10s %14s %9s %8s %9s\n' phase t_s timers_due outbox_pending steps_run steps/s lag_mean
    awk -v t0="$t_create0" -v a="$tam_start" -v b="$tam_end" -v c="$vp_start" -v d="$vp_end" -v tail=2000 -v rows=20 '
        function phase(ms) { return (ms >= a && ms <= b + tail) ? "tam" : (ms >= c && ms <= d + tail) ? "vp" : "" }
        $4 == "-" { next }
        NR == FNR { p = phase($1); if (p != "") last[p] = FNR; next }
        {
            p = phase($1)
            if (p == "") next
            if (p != cur) {
                cur = p; pm = ""; pr = ""; pc = ""; ps = ""; due_row = $1
                every = int(((p == "tam" ? b - a : d - c) + tail) / rows / 1000) * 1000
                if (every < 2000) every = 2000
            }
            if ($1 < due_row && FNR != last[p]) next
            while (due_row <= $1) due_row += every
            rate = lag = "-"
            if (pm != "" && $1 > pm) rate = sprintf("%d", ($4 - pr) * 1000 / ($1 - pm))
            if (pc != "" && $5 > pc) lag = sprintf("%.3f", ($6 - ps) / ($5 - pc))
            printf "  %-5s %7.1f %10s %14s %9d %8s %9s\n", p, ($1 - t0) / 1000, $2, $3, $4, rate, lag
            pm = $1; pr = $4; pc = $5; ps = $6
        }' "$work/timeline" "$work/timeline"
    # A timer leaves timers_due when its commit deletes it, so (Little's law) the area under
    # timers_due over a phase, divided by the steps run, is their mean wait from the due second
    # to the commit, provided the due timers are the phase's steps (the breach timers are an
    # hour off). Trapezoids between samples of a gauge refreshed every 2 s: coarse. The
    # throughput while behind is the steps run over the sample intervals that began with
    # timers waiting (the counter moves when a sweep batch commits, so it needs a long backlog
    # to mean much).
    awk -v a="$tam_start" -v b="$tam_end" -v c="$vp_start" -v d="$vp_end" \
        -v na="$(kv "$tam_q" count)" -v nb="$(kv "$vp_q" count)" -v rate="$c_rate" '
        function phase(ms) { return (ms >= a && ms <= b) ? "tam" : (ms >= c && ms <= d) ? "vp" : "" }
        $2 !~ /^[0-9]+$/ { next }
        {
            p = phase($1)
            if (p != "" && p == pp) {
                area[p] += ($2 + pd) / 2 * ($1 - pm) / 1000
                if (pd > 0) {
                    behind[p] += ($1 - pm) / 1000
                    ran[p] += $4 - pe
                    ran_ms[p] += $1 - pm
                }
            }
            if (p != "" && $2 > peak[p]) peak[p] = $2
            pp = p; pm = $1; pd = $2; pe = $4
        }
        END {
            out = ""
            if (na > 0 && ("tam" in area)) out = sprintf("tam %.3f s", area["tam"] / na)
            if (nb > 0 && ("vp" in area)) out = out (out == "" ? "" : ", ") sprintf("vp %.3f s", area["vp"] / nb)
            if (out != "") print "mean due->commit from the timers_due samples (Little'"'"'s law, as coarse as the 2 s gauge): " out "  (mean_s above runs to the commit of each batch)"
            for (p in peak) {
                printf "backlog (%s): at most %d timers due and not run; timers were waiting in %.1f s of the phase", p, peak[p], behind[p]
                if (ran_ms[p] > 0) printf "; sweep throughput while behind: %d steps/s (due rate ~%d/s)", ran[p] * 1000 / ran_ms[p], rate
                printf "\n"
            }
        }' "$work/timeline"

    # The server's log: warnings and errors (startup/shutdown INFO lines are normal).
    echo
    server_log_report || {
        notes+=("FAILURE: the server logged errors")
        failures=$((failures + 1))
    }
    for n in "${notes[@]}"; do echo "$n"; done
    echo "total time: $elapsed_total s from the start of the create phase"

    return $((failures > 0))
}

main "$@"; exit $? # one line: bash reads no further while main runs
