"""Lists schemathesis's failures one per line — check, operation, status, and the server's
own words (the problem document's `detail`) — so a run's business-rule refusals (ST202) can
be read and checked at a glance.

    failures.py SCHEMATHESIS_OUTPUT
"""

import json
import re
import sys

HEADING = re.compile(r"^_{3,} (.+?) _{3,}$")
CHECK = re.compile(r"^- (ST\d+) (.+)$")
STATUS = re.compile(r"^\[(\d{3})\] ")
COMPONENT = re.compile(r"^\s+Invalid component: (.+)$")


def failures(lines):
    operation = code = status = component = None
    for line in lines:
        if m := HEADING.match(line):
            operation = m.group(1)
        elif m := CHECK.match(line):
            code, status, component = m.group(1), None, None
        elif code and (m := COMPONENT.match(line)):
            component = m.group(1)
        elif code and (m := STATUS.match(line)):
            status = m.group(1)
        elif code and status and line.strip().startswith("`"):
            body = line.strip().strip("`")
            try:
                detail = json.loads(body).get("detail", body)
            except (ValueError, AttributeError):
                detail = body
            yield code, operation, status, f"{detail} [sent: {component}]" if component else detail
            code = status = None


def main():
    text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
    part = text.split(" FAILURES ", 1)[-1].split(" SUMMARY ", 1)[0] if " FAILURES " in text else ""
    for code, operation, status, detail in failures(part.splitlines()):
        print(f"  {code} {operation} -> {status}: {detail}")


if __name__ == "__main__":
    main()
