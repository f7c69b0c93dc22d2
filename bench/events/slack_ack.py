#!/usr/bin/env python3
"""Sends signed Slack Events API message callbacks to a server at a steady rate for a while
and prints the acknowledgement latencies (p50, p99, max) as one RESULT line.

    slack_ack.py BASE_URL SIGNING_SECRET SECONDS [PER_SECOND]

Each request is a new event (its own event_id), signed as Slack signs it (HMAC-SHA256 of
"v0:timestamp:body"); one connection, as Slack's deliveries are sequential per app."""

import hashlib
import hmac
import http.client
import json
import sys
import time
import urllib.parse


def main():
    base, secret, seconds = sys.argv[1], sys.argv[2].encode(), float(sys.argv[3])
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else 20.0
    host = urllib.parse.urlparse(base).netloc
    conn = http.client.HTTPConnection(host, timeout=10)
    latencies, failures, n = [], 0, 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        n += 1
        body = json.dumps({"type": "event_callback", "team_id": "T1", "event_id": f"EvBench{n}-{time.time_ns()}",
                           "event": {"type": "message", "channel": "CBENCH", "user": "UBENCH",
                                     "ts": f"{int(time.time())}.{n:06d}", "text": f"bench message {n}"}})
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(secret, f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        t0 = time.perf_counter()
        conn.request("POST", "/slack/events", body=body, headers={
            "Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
        resp = conn.getresponse()
        resp.read()
        latencies.append((time.perf_counter() - t0) * 1000)
        if resp.status != 200:
            failures += 1
        time.sleep(max(0.0, 1.0 / rate - (time.perf_counter() - t0)))
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"RESULT slack_events={len(latencies)} slack_p50_ms={pick(0.5):.2f} slack_p99_ms={pick(0.99):.2f} "
          f"slack_max_ms={latencies[-1]:.2f} slack_failed={failures}")


if __name__ == "__main__":
    main()
