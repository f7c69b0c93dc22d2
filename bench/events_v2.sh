#!/usr/bin/env bash
# Monitoring events into Stringer: PagerDuty Events API v2 triggers with deduplication at
# POST /v2/enqueue, on the embedded SQLite database (target: at least 5,000 events/s accepted
# on the 2-core machine, with the load generator on the same machine), while Slack Events API
# callbacks arrive at /slack/events (target: acknowledged with p99 under 100 ms meanwhile;
# they are stored, as always before the answer; the server has no bot token here, so they are
# not processed further).
#
#   bench/events_v2.sh
#
# It starts a fresh release server, creates an org and KEYS integration keys, and runs wrk
# for DURATION: each key triggers DEDUPS deduplication keys in turn, so all but the first
# KEYS x DEDUPS events repeat an open alert. It reports the accepted rate and latency, then
# waits until the engine has processed every stored event and reports how long that took
# and how many tickets the alerts opened (exactly KEYS x DEDUPS when deduplication holds).
#
# Knobs (environment): DURATION (20s), CONNECTIONS (32), THREADS (2), KEYS (128), DEDUPS (8),
# QUIET_WAIT (120), KEEP=1 keeps the work directory. STRINGER_BIN runs another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
KEYS=${KEYS:-128}
DEDUPS=${DEDUPS:-8}
QUIET_WAIT=${QUIET_WAIT:-120}

bench_name=events
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$root/bench/lib.sh"

ensure_tools wrk jq curl sqlite3
build
work=$(mktemp -d)
slack_secret=bench-signing-secret
start_server --data-dir "$work/data" --metrics-listen 127.0.0.1:0 --slack-signing-secret "$slack_secret"
log "server at $base_url (SQLite in $work/data)"

api POST /api/v1/orgs '{"slug":"acme","name":"Acme","tier":"enterprise","deployment":"shared"}' >/dev/null ||
    die "cannot create the org"
: >"$work/keys"
for i in $(seq "$KEYS"); do
    api POST /api/v1/orgs/acme/integration-keys "{\"name\":\"monitor $i\",\"kind\":\"events_v2\"}" |
        jq -r .key >>"$work/keys" || die "cannot create integration key $i"
done
log "$KEYS integration keys, $DEDUPS deduplication keys each"

wait_for_quiet
proc_snapshot >"$work/cpu0"
t0=$(date +%s%N)
python3 "$root/bench/events/slack_ack.py" "$base_url" "$slack_secret" "${DURATION%s}" 20 >"$work/slack.out" &
slack_pid=$!
wrk --latency -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --timeout 5s \
    -s "$root/bench/events/enqueue.lua" "$base_url" -- "$work/keys" "$DEDUPS" >"$work/wrk.out" 2>"$work/wrk.err" ||
    die "wrk failed: $(cat "$work/wrk.err")"
t1=$(date +%s%N)
proc_snapshot >"$work/cpu1"
wait "$slack_pid" || die "the Slack sender failed"
slack_line=$(grep '^RESULT ' "$work/slack.out") || die "no RESULT line from the Slack sender"
line=$(grep '^RESULT ' "$work/wrk.out") || die "no RESULT line from wrk: $(cat "$work/wrk.out")"
requests=$(field requests)
rps=$(field rps)
p50=$(awk -v us="$(field p50_us)" 'BEGIN { printf "%.2f", us / 1000 }')
p99=$(awk -v us="$(field p99_us)" 'BEGIN { printf "%.2f", us / 1000 }')
non2xx=$(field non2xx)
read -r -a split <<<"$(cpu_split "$work/cpu0" "$work/cpu1")"
wall_ms=$(((t1 - t0) / 1000000))
log "accepted: $requests events in ${wall_ms} ms = $rps events/s; p50 $p50 ms, p99 $p99 ms; non-202: $non2xx"
log "CPU (percent of one core): server $(cpu_pct "${split[0]}" "$wall_ms"), wrk and this script $(cpu_pct "${split[2]}" "$wall_ms"), others $(cpu_pct "${split[3]}" "$wall_ms")"
log "Slack events meanwhile: ${slack_line#RESULT }"
[ "$non2xx" = 0 ] || log "some events were not accepted: $(sort "$work/wrk.err" | uniq -c | sort -rn | head -3)"

# Drain: every accepted event processed.
done_at=""
for _ in $(seq 1200); do
    scrape >"$work/metrics"
    processed=$(metric "$work/metrics" stringer_alert_signals_processed_total)
    if [ "${processed%.*}" -ge "$requests" ]; then
        done_at=$(date +%s%N)
        break
    fi
    sleep 0.5
done
[ -n "$done_at" ] || die "the engine processed only $processed of $requests events within 10 minutes"
opened=$(sqlite3 "$work/data/stringer.db" "SELECT count(*) FROM alerts")
log "processed: all $requests events $(((done_at - t1) / 1000000)) ms after the load ended; alerts opened: $opened (expected $((KEYS * DEDUPS)))"
echo "RESULT ${slack_line#RESULT } accepted_rps=$rps p50_ms=$p50 p99_ms=$p99 non2xx=$non2xx events=$requests drain_ms=$(((done_at - t1) / 1000000)) alerts=$opened"
