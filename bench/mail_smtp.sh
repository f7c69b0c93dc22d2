#!/usr/bin/env bash
# Mail throughput over SMTP into tickets, on the embedded SQLite database: builds the release
# binary (or runs STRINGER_BIN) and runs bench/mail/smtp_load.py against it (target: at least
# 500 messages/s end to end on the 2-core machine with the sender on the same machine).
#
#   bench/mail_smtp.sh [--messages N] [--connections C] [--senders S]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${STRINGER_BIN:-target/release/stringer}
if [ -z "${STRINGER_BIN:-}" ]; then
    cargo build --release --locked -q -p stringer
fi
exec python3 bench/mail/smtp_load.py "$bin" "$@"
