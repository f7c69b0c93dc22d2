"""End-to-end mail throughput: messages sent over SMTP to the built-in listener until each is a
ticket in the database (SQLite, the embedded default).

    python3 bench/mail/smtp_load.py BINARY [--messages 20000] [--connections 8] [--senders 1000]

Starts `BINARY serve` with a fresh data directory on free ports, creates the org "acme"
(Enterprise) that accepts mail from new senders, warms up by sending one message per sender
(each becomes a member of acme), then sends the measured messages over `--connections` SMTP
sessions in parallel (one process each, Python's smtplib) and polls the database until every
message is processed. Prints the SMTP acceptance rate (messages answered 250 per second) and the
end-to-end rate (messages that became tickets per second, from the first message sent to the
last ticket committed), and fails if any message was held or refused. Traffic stays on
127.0.0.1; the sender runs on the same machine as the server.
"""
import argparse
import json
import multiprocessing
import os
import re
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

DOMAIN = "support.bench.example"


def api(base, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def message(sender, n):
    return (
        f"From: {sender}\r\nTo: support+acme@{DOMAIN}\r\nSubject: Load {n}\r\n"
        f"Message-ID: <load-{n}@acme.example>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\nMessage {n}: the export fails.\r\n"
    )


def send(args):
    host, port, items = args
    refused = 0
    with smtplib.SMTP(host, port, timeout=120) as s:
        s.ehlo("bench.example")
        for sender, n in items:
            try:
                s.sendmail(sender, [f"support+acme@{DOMAIN}"], message(sender, n).encode())
            except smtplib.SMTPException:
                refused += 1
    return refused


def processed(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = dict(con.execute("SELECT state, count(*) FROM inbound_mail GROUP BY state").fetchall())
    finally:
        con.close()
    return rows


def wait_processed(db, total, deadline):
    while time.time() < deadline:
        rows = processed(db)
        if sum(v for k, v in rows.items() if k != "pending") >= total:
            return rows, time.time()
        time.sleep(0.05)
    raise SystemExit(f"not all processed in time: {processed(db)}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--senders", type=int, default=1000)
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="stringer-mail-bench-")
    out = open(os.path.join(work, "out"), "w+")
    server = subprocess.Popen(
        [a.binary, "serve", "--listen", "127.0.0.1:0", "--smtp-listen", "127.0.0.1:0", "--mail-domain", DOMAIN,
         "--mail-trust-loopback", "--data-dir", work,
         # The load generator is one client address: lift the per-client budgets (they
         # protect against one abusive client, not what is measured here).
         "--smtp-messages-per-minute", "100000", "--smtp-sessions-per-client", "512"], stdout=out, stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "error"})
    try:
        deadline = time.time() + 60
        text = ""
        while time.time() < deadline and ("SMTP on" not in text or "listening on" not in text):
            time.sleep(0.1)
            out.seek(0)
            text = out.read()
        base = re.search(r"listening on (\S+)", text).group(1)
        smtp = re.search(r"SMTP on (\S+)", text).group(1)
        token = re.search(r"token (stg_\S+)", text).group(1)
        host, port = smtp.rsplit(":", 1)
        api(base, token, "POST", "/api/v1/orgs", {"slug": "acme", "name": "Acme", "tier": "enterprise", "deployment": "shared"})
        api(base, token, "PUT", "/api/v1/orgs/acme/mail", {"unknown_senders": "accept", "subject_severity": True,
                                                         "accept_domains": ["acme.example"]})
        db = os.path.join(work, "stringer.db")
        senders = [f"user{i}@acme.example" for i in range(a.senders)]

        # Warm-up: every sender once, so the measured run is steady state (no new accounts).
        warm = [(s, -i - 1) for i, s in enumerate(senders)]
        chunks = [(host, int(port), warm[i::a.connections]) for i in range(a.connections)]
        with multiprocessing.Pool(a.connections) as pool:
            assert sum(pool.map(send, chunks)) == 0, "warm-up messages refused"
        wait_processed(db, len(warm), time.time() + 300)

        items = [(senders[n % a.senders], n) for n in range(a.messages)]
        chunks = [(host, int(port), items[i::a.connections]) for i in range(a.connections)]
        start = time.time()
        with multiprocessing.Pool(a.connections) as pool:
            refused = sum(pool.map(send, chunks))
        accepted_at = time.time()
        rows, done_at = wait_processed(db, len(warm) + a.messages, time.time() + 600)
        if refused:
            raise SystemExit(f"{refused} messages refused")
        not_done = {k: v for k, v in rows.items() if k != "done"}
        if not_done:
            raise SystemExit(f"not every message became a ticket: {rows}")
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        tickets = con.execute("SELECT count(*) FROM tickets WHERE org = 'acme'").fetchone()[0]
        con.close()
        print(json.dumps({
            "messages": a.messages,
            "connections": a.connections,
            "senders": a.senders,
            "smtp_accepted_per_s": round(a.messages / (accepted_at - start)),
            "end_to_end_per_s": round(a.messages / (done_at - start)),
            "seconds": round(done_at - start, 2),
            "tickets": tickets,
        }))
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
