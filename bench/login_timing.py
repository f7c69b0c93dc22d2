#!/usr/bin/env python3
"""Sign-in timing: does a wrong password for a known address take as long as any password
for an unknown one? (A difference tells an attacker which addresses have accounts.)

Starts `stringer serve --demo` on a free port with a fresh database, then alternates sign-in
attempts: a known address (the demo's alice@acme.example) with a wrong password, and an
address nobody has. Each attempt comes from another client address (X-Forwarded-For through
a trusted proxy), so the per-address limits never answer instead. Prints the median and p90
of each kind and their ratio.

    bench/login_timing.py [PATH/TO/stringer] [ATTEMPTS]   (default target/release/stringer, 60)
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def start(binary, data_dir):
    out = open(os.path.join(data_dir, "out"), "w+")
    server = subprocess.Popen(
        [binary, "serve", "--demo", "--listen", "127.0.0.1:0", "--smtp-listen", "127.0.0.1:0", "--data-dir", data_dir,
         "--trusted-proxy", "127.0.0.1"],
        stdout=out, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        out.seek(0)
        found = re.search(r"^listening on (http://\S+)", out.read(), re.M)
        if found:
            return server, found.group(1)
        time.sleep(0.1)
    server.kill()
    sys.exit("the server did not start")


def attempt(base, email, client):
    body = json.dumps({"email": email, "password": "not-the-password-123"}).encode()
    request = urllib.request.Request(
        base + "/api/v1/login", data=body, method="POST",
        headers={"content-type": "application/json", "x-forwarded-for": client})
    started = time.perf_counter()
    try:
        urllib.request.urlopen(request).read()
        status = 200
    except urllib.error.HTTPError as e:
        e.read()
        status = e.code
    elapsed = time.perf_counter() - started
    if status != 401:
        sys.exit(f"expected 401 for {email}, got {status}")
    return elapsed * 1000


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/stringer"
    attempts = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    with tempfile.TemporaryDirectory() as data_dir:
        server, base = start(binary, data_dir)
        try:
            known, unknown = [], []
            for i in range(attempts):
                client = f"198.18.{i // 250}.{i % 250 + 1}"
                known.append(attempt(base, "alice@acme.example", client))
                unknown.append(attempt(base, f"nobody-{i}@nowhere.example", client))
        finally:
            server.terminate()
            server.wait()
    for name, xs in (("known address, wrong password", known), ("unknown address", unknown)):
        xs = sorted(xs)
        print(f"{name:32} median {statistics.median(xs):7.2f} ms   p90 {xs[int(len(xs) * 0.9)]:7.2f} ms")
    print(f"ratio of medians (known / unknown): {statistics.median(known) / statistics.median(unknown):.3f}")


if __name__ == "__main__":
    main()
