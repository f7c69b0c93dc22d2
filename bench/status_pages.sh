#!/usr/bin/env bash
# Status pages under read load, on SQLite.
#
#   bench/status_pages.sh [COMPONENTS]        (default: 50)
#
# Targets (from the issue): GET /status/api/v2/summary.json at 20,000 req/s or more on the
# 2-core machine, and the HTML page (GET /status, with 90-day uptime bars) at 5,000 req/s,
# both with p99 reported.
#
# What it does, on a fresh server (127.0.0.1, free port, a temporary SQLite directory):
#   1. COMPONENTS components on the public page, in groups of ten;
#   2. history: 20 incidents, each taking a few components down and then resolving them
#      (so every component has status intervals to compute uptime from), and one
#      incident left open;
#   3. wrk reads each path for DURATION seconds on CONNECTIONS connections (anonymous, as
#      readers and widgets are), once as browsers ask (Accept-Encoding: gzip) and once
#      without compression; latency percentiles are wrk's (client-side, on 127.0.0.1,
#      sharing the two cores with the server: an upper bound of the server's time).
# The page's view is recomputed at most once a second (routes::status::FRESH), so the load
# measures serving the rendered document and the revalidation around it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bench_name=status
QUIET_WAIT=${QUIET_WAIT:-60}
# shellcheck source=bench/lib.sh
source bench/lib.sh

COMPONENTS=${1:-50}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}

main() {
    ensure_tools wrk curl jq
    build
    work=$(mktemp -d /tmp/stringer-status.XXXXXX)
    start_server --data-dir "$work/db"
    log "server at $base_url (pid $server_pid); work directory $work"
    local page group="" i n
    page=$(api GET /api/v1/status-pages | jq -r '.[] | select(.org == null) | .id')
    : >"$work/components"
    for ((i = 0; i < COMPONENTS; i++)); do
        if ((i % 10 == 0)); then
            group=$(api POST "/api/v1/status-pages/$page/components" "{\"name\":\"Group $((i / 10))\",\"group\":true}" | jq -r .id)
        fi
        api POST "/api/v1/status-pages/$page/components" \
            "{\"name\":\"Component $i\",\"group_id\":\"$group\",\"description\":\"Service $i\"}" | jq -r .id >>"$work/components"
    done
    log "$COMPONENTS components; writing history"
    mapfile -t ids <"$work/components"
    local statuses=(degraded_performance partial_outage major_outage) incident body
    for ((n = 0; n < 21; n++)); do
        body=$(jq -cn --arg a "${ids[$((n % COMPONENTS))]}" --arg b "${ids[$(((n * 7 + 3) % COMPONENTS))]}" \
            --arg s "${statuses[$((n % 3))]}" --arg name "Incident $n" \
            '{name:$name,status:"investigating",impact:"minor",body:"Looking into it.",components:[{id:$a,status:$s},{id:$b,status:$s}]}')
        incident=$(api POST "/api/v1/status-pages/$page/incidents" "$body" | jq -r .id)
        if ((n < 20)); then
            api POST "/api/v1/status-pages/$page/incidents/$incident/updates" '{"status":"resolved","body":"Fixed."}' >/dev/null
        fi
    done
    wait_for_quiet
    echo
    echo "== status pages: $COMPONENTS components, 21 incidents, SQLite, 2 cores; wrk $CONNECTIONS connections, ${DURATION}s each =="
    printf '%-30s %-9s %9s %8s %8s %8s %6s\n' path encoding req/s p50_ms p99_ms bytes errors
    local path line size encoding
    for path in /status/api/v2/summary.json /status; do
        for encoding in gzip identity; do
            size=$(curl -sS -o /dev/null -H "Accept-Encoding: $encoding" -w '%{size_download}' "$base_url$path")
            line=$(wrk --latency -t 2 -c "$CONNECTIONS" -d "${DURATION}s" -s bench/status/get.lua "$base_url" -- "$path" "$encoding" | grep '^RESULT ')
            printf '%-30s %-9s %9s %8s %8s %8s %6s\n' "$path" "$encoding" "$(field rps)" \
                "$(awk -v us="$(field p50_us)" 'BEGIN { printf "%.2f", us / 1000 }')" \
                "$(awk -v us="$(field p99_us)" 'BEGIN { printf "%.2f", us / 1000 }')" "$size" \
                "$(($(field non2xx) + $(field timeout)))"
        done
    done
    server_log_report
}

main "$@"
