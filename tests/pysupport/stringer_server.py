"""The real `stringer serve` on 127.0.0.1:0 with a fresh SQLite directory, for the Python test
suites (browser, outside systems). Standard library only.

Environment:
  STRINGER_BIN  the stringer binary (default: target/debug/stringer)
"""

import json
import os
import re
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STRINGER_BIN", os.path.join(ROOT, "target", "debug", "stringer"))


class Server:
    """A `stringer serve` on 127.0.0.1:0 with a fresh SQLite directory and the given extra
    arguments; `token` is the first admin's."""

    def __init__(self, args=()):
        self.dir = tempfile.mkdtemp(prefix="stringer-test-")
        self.out = open(os.path.join(self.dir, "stdout"), "w+")
        self.err = open(os.path.join(self.dir, "stderr"), "w+")
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRINGER_")}
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(self.dir, "db"), *args],
            stdout=self.out, stderr=self.err, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            self.out.seek(0)
            text = self.out.read()
            m = re.search(r"^listening on (http://127\.0\.0\.1:\d+)", text, re.M)
            if m:
                self.url = m.group(1)
                self.token = re.search(r"token (stg_[A-Za-z0-9_-]+)", text).group(1)
                return
            assert self.proc.poll() is None, "the server exited: " + open(self.err.name).read()
            time.sleep(0.1)
        raise AssertionError("the server did not start")

    def api(self, method, path, body=None, token=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + (token or self.token))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def mail(self, recipient, raw):
        """Hands a raw message in at the HTTP door, as an inbound-mail service would."""
        query = urllib.parse.urlencode({"recipient": recipient})
        req = urllib.request.Request(f"{self.url}/api/v1/mail/inbound?{query}", data=raw.encode(), method="POST")
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Content-Type", "message/rfc822")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def until(what, probe, seconds=60):
    """Polls `probe` until it answers something truthy; fails naming `what` after `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")
