"""Sends messages to an SMTP server over one real SMTP conversation (Python's smtplib) and
prints what the server answered for each, as JSON: the black-box tests' SMTP client.

stdin: a JSON list of {"from": ADDRESS, "to": [ADDRESS...], "data": RAW MESSAGE}.
argv: HOST PORT [--starttls]
"""
import json
import smtplib
import ssl
import sys

host, port = sys.argv[1], int(sys.argv[2])
messages = json.load(sys.stdin)
results = []
with smtplib.SMTP(host, port, timeout=30) as smtp:
    smtp.ehlo("tests.example")
    if "--starttls" in sys.argv:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        code, _ = smtp.starttls(context=context)
        results.append({"starttls": code})
        smtp.ehlo("tests.example")
    for m in messages:
        try:
            refused = smtp.sendmail(m["from"], m["to"], m["data"].encode("utf-8"))
            results.append({"ok": True, "refused": {k: v[0] for k, v in refused.items()}})
        except smtplib.SMTPRecipientsRefused as e:
            results.append({"ok": False, "code": min(v[0] for v in e.recipients.values())})
        except smtplib.SMTPResponseException as e:
            results.append({"ok": False, "code": e.smtp_code})
            smtp.rset()
print(json.dumps(results))
