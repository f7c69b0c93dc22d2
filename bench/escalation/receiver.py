#!/usr/bin/env python3
"""A local webhook receiver for bench/escalation_lag.sh (SLOW_RECEIVER=1).

    receiver.py PORT_FILE LOG_FILE SLOW_SECONDS

Listens on 127.0.0.1 (a free port, written to PORT_FILE) and records every page it gets, on
arrival, as one line of LOG_FILE:

    ARRIVAL_UNIX_SECONDS NOTICE_AT_UNIX_SECONDS PATH_KIND ROLE TICKET

`POST /fast/{who}` answers at once; `POST /slow/{who}` answers only after SLOW_SECONDS (a
receiver that is slow to answer). The standard library only; one thread per request.
"""

import json
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    port_file, log_file, slow_seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    lock = threading.Lock()
    log = open(log_file, "a", buffering=1)

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
            arrived = time.time()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
            kind = self.path.strip("/").split("/")[0]
            try:
                notice = json.loads(body)["notice"]
                at = datetime.fromisoformat(notice["at"].replace("Z", "+00:00")).timestamp()
                role, ticket = notice.get("role", notice.get("kind", "-")), notice.get("ticket", "-")
            except (ValueError, KeyError, TypeError):
                at, role, ticket = 0.0, "-", "-"
            with lock:
                log.write(f"{arrived:.3f} {at:.0f} {kind} {role} {ticket}\n")
            if kind == "slow":
                time.sleep(slow_seconds)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.daemon_threads = True
    with open(port_file, "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
