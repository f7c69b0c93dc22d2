"""The site against a hostile link, in a real browser: signing in never takes Chromium off the
site, whatever `next` says; and the pages work under their Content-Security-Policy (htmx
loads and polls, nothing inline is refused)."""

from urllib.parse import quote, urlparse

import pytest

from conftest import axe_violations

# `next` values that Chromium would once have followed off the site (a tab or newline it
# drops, a backslash it reads as a slash), or that no redirect header can carry.
HOSTILE = ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\v/evil.example", "/\\evil.example",
           "\\\\evil.example", "//evil.example", "/\t\\evil.example", "javascript:alert(1)"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_signing_in_stays_on_the_site(people, server, hostile):
    nico = people()
    page = nico.page
    page.goto("/signin?next=" + quote(hostile, safe=""))
    page.fill("#email", "nico@vendor.example")
    page.fill("#password", "correct horse battery staple")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state()
    # The Person's guard aborts (and records) every request that would leave 127.0.0.1.
    assert nico.left == [], f"Chromium set off for {nico.left}"
    where = urlparse(page.url)
    assert (f"{where.scheme}://{where.netloc}", where.path) == (server.url, "/console"), page.url
    assert axe_violations(page) == []


def test_the_pages_work_under_their_content_security_policy(people):
    refused = []
    nico = people()
    nico.page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    nico.sign_in("nico@vendor.example")
    page = nico.page
    for path in ["/console", "/console/oncall", "/console/status", "/status", "/contact"]:
        response = page.goto(path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
        if page.locator('script[src="/static/htmx.min.js"]').count():
            assert page.evaluate("typeof htmx") == "object", f"htmx runs on {path}"
        assert axe_violations(page) == []
    # The queue keeps itself fresh through htmx.
    page.goto("/console")
    with page.expect_response(lambda r: "/console/queue" in r.url):
        pass
    assert refused == [], refused
