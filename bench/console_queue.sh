#!/usr/bin/env bash
# The console queue page with many open tickets, on SQLite.
#
#   bench/console_queue.sh [TICKETS]        (default: 100000)
#
# Targets (from the issue): p99 server time of the queue page under 50 ms with 100,000 open
# tickets; the heaviest page under 150 KB with its assets.
#
# What it does, on a fresh server (127.0.0.1, free port, a temporary SQLite directory):
#   1. an Enterprise org and TICKETS open P1 tickets (bench/escalation/create_p1.lua, unpaced);
#   2. an engineer signs in through the sign-in form (a real session cookie);
#   3. wrk reads GET /console (the whole page: the 100 most urgent tickets, filters) for
#      DURATION seconds on CONNECTIONS connections, then the same for GET /console/queue (the
#      rows the page polls every 5 s) and for one ticket page; latency percentiles are wrk's
#      (client-side, on 127.0.0.1: an upper bound of the server time);
#   4. the size of each page with its assets (stylesheet, htmx), as sent (no compression).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bench_name=console
QUIET_WAIT=${QUIET_WAIT:-60}
# shellcheck source=bench/lib.sh
source bench/lib.sh

TICKETS=${1:-100000}
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-4}

main() {
    ensure_tools wrk curl jq
    build
    work=$(mktemp -d /tmp/stringer-console.XXXXXX)
    start_server --data-dir "$work/db" --contract bench/escalation/contract.toml
    log "server at $base_url (pid $server_pid); work directory $work"
    api POST /api/v1/orgs '{"slug":"bench","name":"Console bench","tier":"enterprise","deployment":"shared"}' >/dev/null
    api POST /api/v1/users '{"email":"eng@bench.example","name":"Bench Engineer","role":"engineer","password":"bench-engineer-password"}' >/dev/null

    log "opening $TICKETS P1 tickets"
    mkdir -p "$work/done"
    local t0 t1
    t0=$(now_ms)
    wrk -t 2 -c 16 -d 900s --timeout 10s -s bench/escalation/create_p1.lua "$base_url" -- "$token" bench "$TICKETS" 2 "$work/done" 0 16 >"$work/create.wrk" 2>&1 &
    wrk_pid=$!
    while kill -0 "$wrk_pid" 2>/dev/null; do
        [ "$(find "$work/done" -type f | wc -l)" -ge 2 ] && break
        sleep 0.2
    done
    stop_pid "$wrk_pid" INT 10
    wrk_pid=""
    t1=$(now_ms)
    log "opened in $(secs $((t1 - t0))) s"

    # Sign in through the form, as a browser does.
    curl -sS -c "$work/jar" -b "$work/jar" "$base_url/signin" >"$work/signin.html"
    local guard cookie
    guard=$(sed -n 's/.*name="guard" value="\([^"]*\)".*/\1/p' "$work/signin.html")
    curl -sS -c "$work/jar" -b "$work/jar" -o /dev/null --data-urlencode "email=eng@bench.example" \
        --data-urlencode "password=bench-engineer-password" --data-urlencode "guard=$guard" "$base_url/signin"
    cookie="stringer_session=$(awk '$6 == "stringer_session" { print $7 }' "$work/jar")"
    [ "$cookie" != "stringer_session=" ] || die "sign-in failed"
    local key
    key=$(curl -sS -b "$work/jar" "$base_url/console/queue" | sed -n 's|.*href="/console/tickets/\([A-Z0-9-]*\)".*|\1|p' | head -n1)
    [ -n "$key" ] || die "the queue shows no ticket"

    wait_for_quiet
    echo
    echo "== console pages: $TICKETS open tickets, SQLite, 2 cores; wrk $CONNECTIONS connections, ${DURATION}s each =="
    printf '%-24s %9s %8s %8s %6s\n' page req/s p50_ms p99_ms errors
    local path line
    for path in /console /console/queue "/console/tickets/$key"; do
        line=$(wrk --latency -t 1 -c "$CONNECTIONS" -d "${DURATION}s" -s bench/console/page.lua "$base_url" -- "$cookie" "$path" | grep '^RESULT ')
        printf '%-24s %9s %8s %8s %6s\n' "$path" "$(field rps)" \
            "$(awk -v us="$(field p50_us)" 'BEGIN { printf "%.1f", us / 1000 }')" \
            "$(awk -v us="$(field p99_us)" 'BEGIN { printf "%.1f", us / 1000 }')" \
            "$(($(field non2xx) + $(field timeout)))"
    done
    echo
    echo "page sizes as sent (bytes), with the assets every page loads:"
    local css js size
    css=$(curl -sS -o /dev/null -w '%{size_download}' "$base_url/static/style.css")
    js=$(curl -sS -o /dev/null -w '%{size_download}' "$base_url/static/htmx.min.js")
    for path in /console "/console/tickets/$key" /admin/contract; do
        size=$(curl -sS -b "$work/jar" -o /dev/null -w '%{size_download}' "$base_url$path")
        printf '  %-24s page %7d + css %6d + htmx %6d = %7d (%d KB)\n' "$path" "$size" "$css" "$js" $((size + css + js)) $(((size + css + js) / 1024))
    done
    server_log_report
}

now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

main "$@"
