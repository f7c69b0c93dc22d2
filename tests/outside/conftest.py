"""The outside systems' own software against the real server: PagerDuty's Python client
library and Debian's Prometheus Alertmanager (apt `prometheus-alertmanager`).

Environment:
  STRINGER_BIN           the stringer binary (default: target/debug/stringer)
  STRINGER_ALERTMANAGER  Alertmanager's binary (default: /usr/bin/prometheus-alertmanager)
"""

import asyncio
import http.server
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.parse

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pysupport"))
from stringer_server import Server  # noqa: E402


@pytest.fixture(scope="module")
def server():
    """A server with the org acme (Enterprise, dedicated) and its customer alice."""
    s = Server()
    s.api("POST", "/api/v1/orgs", {"slug": "acme", "name": "Acme Corp", "tier": "enterprise",
                                  "deployment": "dedicated"})
    yield s
    s.stop()


class TlsFront:
    """TLS in front of the server, as a reverse proxy is in production: clients that insist on
    https (PagerDuty's library does) reach the real server through it. It only terminates TLS
    and pipes bytes; `context` trusts its self-signed certificate."""

    def __init__(self, target):
        work = tempfile.mkdtemp(prefix="tls-front-")
        self.cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                        self.cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        self.context = ssl.create_default_context(cafile=self.cert)
        server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_side.load_cert_chain(self.cert, key)
        host, port = urllib.parse.urlparse(target).netloc.split(":")
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                writer.close()

        async def handle(client_reader, client_writer):
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer),
                                 return_exceptions=True)

        async def serve():
            self.tcp = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_side)
            self.url = f"https://127.0.0.1:{self.tcp.sockets[0].getsockname()[1]}"
            started.set()

        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(serve(), self.loop)
        assert started.wait(10), "the TLS front did not start"

    def stop(self):
        async def shutdown():
            self.tcp.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in others:
                t.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture(scope="module")
def tls(server):
    front = TlsFront(server.url)
    yield front
    front.stop()


class StandIn(http.server.BaseHTTPRequestHandler):
    """The stand-ins' request handler: answers with `reply`, logs nothing."""

    def reply(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(handler):
    """Serves `handler` on 127.0.0.1 in a thread; the server and its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class SlackApi:
    """A local stand-in for Slack's Web API that records every call (method, arguments) and
    answers as Slack does for the methods Stringer calls. Channel ids spell their channel's
    name (CSTRINGER-ACME is #stringer-acme); `members` maps member ids to confirmed emails."""

    def __init__(self, members):
        self.calls = []
        api = self

        class Handler(StandIn):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or "{}")
                else:
                    args = dict(urllib.parse.parse_qsl(raw))
                method = self.path.rsplit("/", 1)[-1]
                api.calls.append((method, args))
                self.reply(200, "application/json", json.dumps(api.answer(method, args, members)).encode())

        self.server, base = serve(Handler)
        self.url = base + "/api"

    def answer(self, method, args, members):
        if method == "users.info":
            email = members.get(args.get("user"))
            if email is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": args["user"], "deleted": False, "is_bot": False,
                                         "is_email_confirmed": True, "profile": {"email": email}}}
        if method == "users.lookupByEmail":
            found = [m for m, e in members.items() if e == args.get("email")]
            return {"ok": True, "user": {"id": found[0]}} if found else {"ok": False, "error": "users_not_found"}
        if method == "conversations.info":
            channel = args.get("channel", "")
            if not channel.startswith("C") or len(channel) < 2:
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": {"id": channel, "name": channel[1:].lower()}}
        if method == "conversations.create":
            return {"ok": True, "channel": {"id": "C" + args["name"].upper(), "name": args["name"]}}
        return {"ok": True, "channel": args.get("channel"), "ts": f"{len(self.calls)}.000100"}

    def of(self, method):
        return [args for m, args in self.calls if m == method]

    def stop(self):
        self.server.shutdown()


class TwilioApi:
    """A local stand-in for a Twilio-compatible REST API that records every message and call
    Stringer places (resource, form), answering 201 as Twilio does, and serves recordings
    (`GET …/Recordings/RE….mp3`: MP3 bytes), recording each fetch (path, Authorization)."""

    RECORDING = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(400)

    def __init__(self):
        self.calls = []
        self.fetched = []
        api = self

        class Handler(StandIn):
            def do_GET(self):
                api.fetched.append((self.path, self.headers.get("Authorization")))
                if "/Recordings/" in self.path and self.path.endswith(".mp3"):
                    self.reply(200, "audio/mpeg", api.RECORDING)
                else:
                    self.reply(404, "text/plain", b"not found")

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                resource = self.path.rsplit("/", 1)[-1]
                api.calls.append((resource, dict(urllib.parse.parse_qsl(raw))))
                self.reply(201, "application/json",
                           json.dumps({"sid": f"SM{len(api.calls):032d}", "status": "queued"}).encode())

        self.server, self.url = serve(Handler)

    def to(self, number):
        return [form for _, form in self.calls if form.get("To") == number]

    def stop(self):
        self.server.shutdown()
