#!/usr/bin/env bash
# The kill -9 loop for keyed writes (issue 25, F22): runs the idempotency crash test with
# ROUNDS kills of KEYS keyed writes each, of every sort in turn (tickets, comments, users,
# schedules, status components, integration keys, report comments), on SQLite and on a
# private PostgreSQL cluster (scripts/with-postgres). Each round fires its keys at once,
# SIGKILLs the server at a random moment, restarts it and retries every key until it
# succeeds; at the end the database must hold exactly one of each per key. Prints per
# backend: keyed writes, kills, duplicates, and written/duplicates per sort.
#
#   bench/idempotency_kill.sh            # 25 kills × 220 keys = 5,500 keyed writes
#   ROUNDS=30 KEYS=300 bench/idempotency_kill.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export STRINGER_KILL_ROUNDS="${ROUNDS:-25}" STRINGER_KILL_KEYS="${KEYS:-220}"
scripts/with-postgres env STRINGER_REQUIRE_POSTGRES=1 cargo test -p stringer --test black_box idempotency_crash:: -- --nocapture --test-threads 1 2>&1 |
    grep -E "idempotency kill loop|test result|panicked|FAILED"
