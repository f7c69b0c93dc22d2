# shellcheck shell=bash
# What bench/load.sh and bench/escalation_lag.sh share: logging, tools, the binary, CPU
# accounting, one server (start, first-run token, API and /metrics), and cleaning up.
#
# Sourced, not run. Before sourcing, a script sets:
#   root        the repository root (the script has cd'd there)
#   bench_name  the prefix of its log lines ("load", "escalation")
#   log_clock   1 to stamp each log line with the time of day (optional)
#   QUIET_WAIT  seconds wait_for_quiet may wait
# Sourcing sets `bin` (STRINGER_BIN, or target/release/stringer) and the EXIT trap (cleanup);
# the script sets `work` (its work directory) and, when it starts them, `wrk_pid`,
# `sampler_pid` and `helper_pids` (other helpers, an array): cleanup stops each process by its
# pid and removes `work` unless KEEP=1.

# --- Logging ---------------------------------------------------------------------------

# shellcheck disable=SC2154 # bench_name is set by the sourcing script
log() {
    if [ "${log_clock:-0}" = 1 ]; then
        echo "[$bench_name] $(date +%T) $*" >&2
    else
        echo "[$bench_name] $*" >&2
    fi
}
# shellcheck disable=SC2154 # bench_name is set by the sourcing script
die() {
    echo "[$bench_name] error: $*" >&2
    exit 1
}

# --- Tools -----------------------------------------------------------------------------

# From Debian's packages; on a fresh machine the package lists may be empty, so update them
# when the first attempt fails.
apt_install() {
    log "installing $1 with apt"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null 2>&1 || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
    }
}

# ensure_tools TOOL...: installs each missing tool (the package has the tool's name).
ensure_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || apt_install "$tool"
    done
}

# --- The binary ------------------------------------------------------------------------

# STRINGER_BIN runs another binary instead of building and running target/release/stringer.
bin=${STRINGER_BIN:-$root/target/release/stringer}

build() {
    if [ -n "${STRINGER_BIN:-}" ]; then
        [ -x "$bin" ] || die "STRINGER_BIN=$bin is not an executable file"
        log "using $bin"
        return
    fi
    log "building the release binary"
    cargo build --release --locked -q -p stringer
}

# --- CPU accounting --------------------------------------------------------------------

hz=$(getconf CLK_TCK)

# One line "PID PPID COMM TICKS" per process: user+system CPU ticks so far, its own plus
# those of its reaped children (so that short-lived processes, such as a neighbour's compiler
# runs, are still counted, in their parent). Blanks in COMM become "_".
proc_snapshot() {
    local p stat rest comm f
    for p in /proc/[0-9]*; do
        { read -r stat <"$p/stat"; } 2>/dev/null || continue
        comm=${stat#*(}
        comm=${comm%)*}
        rest=${stat##*) } # the fields after "(comm) ": ppid is the 2nd; utime, stime, cutime, cstime the 12th-15th
        read -r -a f <<<"$rest"
        echo "${p#/proc/} ${f[1]} ${comm//[[:space:]]/_} $((f[11] + f[12] + f[13] + f[14]))"
    done
}

# Machine-wide "BUSY TOTAL" ticks, all cores, from /proc/stat (idle and iowait are not busy).
machine_ticks() {
    awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}

# machine_pct BEFORE AFTER: the machine's busy share between two machine_ticks outputs, in
# percent of one core (N cores = N*100%).
machine_pct() {
    awk -v a="$1" -v b="$2" -v n="$(nproc)" \
        'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", (y[2] > x[2] ? (y[1] - x[1]) * 100 * n / (y[2] - x[2]) : 0) }'
}

# cpu_pct TICKS WALL_MS: CPU ticks over a wall time, in percent of one core.
cpu_pct() { echo $(($1 * 100000 / hz / ($2 > 0 ? $2 : 1))); }

# cpu_split BEFORE AFTER: "SERVER DB BENCH OTHERS" CPU ticks used between two proc_snapshot
# files: the server (server_pid); a database server (db_pid, when set, and its children); the
# bench (this script, its sampler sampler_pid when set, and the wrk and curl processes); and
# every other process. A new pid counts from zero.
cpu_split() {
    awk -v srv="${server_pid:--1}" -v db="${db_pid:--1}" -v me="$$" -v smp="${sampler_pid:--1}" '
        NR == FNR { a[$1] = $4; next }
        { d = $4 - a[$1] }
        $1 == srv { s += d; next }
        $1 == db || $2 == db { pg += d; next }
        $1 == me || $1 == smp || $3 == "wrk" || $3 == "curl" { b += d; next }
        { o += d }
        END { print s + 0, pg + 0, b + 0, o + 0 }' "$1" "$2"
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

# Busy share of the machine over the next second, in percent of one core.
machine_busy_1s() {
    local a b
    a=$(machine_ticks)
    sleep 1
    b=$(machine_ticks)
    machine_pct "$a" "$b"
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

# --- Processes we start (each stopped by its own pid) ----------------------------------

work=""
server_pid=""
wrk_pid=""
sampler_pid=""
helper_pids=()

# stop_pid PID SIGNAL SECONDS: signal, wait up to SECONDS, then SIGKILL. No-op without a pid.
stop_pid() {
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

# Graceful shutdown finishes in-flight requests; give it 20 s, then force.
stop_server() {
    stop_pid "$server_pid" TERM 20
    server_pid=""
}

# Removes the work directory (or keeps it with KEEP=1) and forgets it.
finish_work() {
    if [ -n "$work" ]; then
        if [ "${KEEP:-0}" = 1 ]; then
            log "kept $work"
        else
            rm -rf "$work"
        fi
    fi
    work=""
}

cleanup() {
    stop_pid "$wrk_pid" INT 10
    stop_pid "$sampler_pid" TERM 5
    local pid
    for pid in "${helper_pids[@]}"; do stop_pid "$pid" TERM 5; done
    helper_pids=()
    stop_server
    finish_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- The server ------------------------------------------------------------------------

# start_server ARGS...: starts `$bin serve --listen 127.0.0.1:0 ARGS...` in the background,
# logging to $work/server.stdout and $work/server.stderr, and waits until it listens. Sets
# server_pid, base_url, token (the first-run admin's; kept from an earlier start on the same
# database) and, when the server serves metrics
# (--metrics-listen), metrics_url (else empty).
start_server() {
    local out="$work/server.stdout" err="$work/server.stderr" v
    # Only our flags count: ignore any STRINGER_* settings from the environment.
    local -a unset_env=()
    for v in $(compgen -e); do
        case "$v" in STRINGER_*) unset_env+=(-u "$v") ;; esac
    done
    env "${unset_env[@]}" "$bin" serve --listen 127.0.0.1:0 "$@" >"$out" 2>"$err" &
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
    # Printed before "listening on" when the server serves metrics.
    metrics_url=$(sed -n 's|^metrics on \(http://127\.0\.0\.1:[0-9]*/metrics\).*|\1|p' "$out" | head -n1)
    # The first-run admin: "First run: created the first admin..." then "      token stg_...".
    # A restart on the same database prints none: the token of the first start stays.
    local first
    first=$(sed -n '/^First run: created the first admin/,$ s/^ *token \(stg_[A-Za-z0-9_-]*\).*/\1/p' "$out" | head -n1)
    token=${first:-${token:-}}
    [ -n "$token" ] || die "no first-run admin token in the server's output (is the database fresh?)"
}

# curl against the server: METHOD PATH [JSON]; prints the body, fails on non-2xx.
api() {
    local method=$1 path=$2 body=${3:-}
    curl -sS --fail-with-body --max-time 30 -X "$method" -H "Authorization: Bearer $token" \
        ${body:+-H 'Content-Type: application/json' --data "$body"} "$base_url$path"
}

# fetch_ids N: the ids of the newest N tickets (via the list endpoint, 200 a page) into
# $work/ids.
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

# One scrape of the server's /metrics (metrics_url), to stdout.
scrape() { curl -sS --fail --max-time 30 "$metrics_url"; }

# metric FILE NAME: the value of a metric line (exact name and labels) in a scrape file, as
# printed; 0 if absent.
metric() { awk -v k="$2" '$1 == k { v = $2 } END { print (v == "" ? 0 : v) }' "$1"; }

# field NAME: a number from the wrk RESULT line in the caller's variable `line`
# ("RESULT requests=N rps=X ...", printed by the bench's wrk scripts).
# shellcheck disable=SC2154 # line is the caller's
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }

# server_log_report: prints the counts of warnings and errors in the server's log
# ($work/server.stderr; startup/shutdown INFO lines are normal) and the most frequent ones.
# Fails when there are errors or panics (warnings are shown but do not fail).
server_log_report() {
    local errors warnings
    # The log may be coloured: strip ANSI escapes before looking at the levels.
    sed 's/\x1b\[[0-9;]*m//g' "$work/server.stderr" >"$work/server.log"
    errors=$(grep -Ec ' ERROR |panicked' "$work/server.log" || true)
    warnings=$(grep -Ec ' WARN ' "$work/server.log" || true)
    if [ "$errors" -gt 0 ] || [ "$warnings" -gt 0 ]; then
        echo "server log: $errors errors, $warnings warnings; the most frequent (with counts):"
        grep -E ' (WARN|ERROR) |panicked' "$work/server.log" | cut -d' ' -f2- | cut -c1-300 |
            sort | uniq -c | sort -rn | head -n 8 | sed 's/^/  /'
    else
        echo "server log: no warnings or errors"
    fi
    [ "$errors" = 0 ]
}
