"""``POST /entries/verify`` and ``GET /entries/{id}`` of a real ``tradevc-serve`` process on
127.0.0.1, called with httpx: the entry tests' steel world (did:key issuers, verified offline
as of the date of import) decided ACCEPT and REJECT, the report as JSON and as the HTML page
of ``vc-verify entry --report`` (also in a real headless browser, under the service's
Content-Security-Policy), the quantity ledger of ``[ledger]``, and the refusals."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import httpx
import pytest

from support.browser import headless_chromium
from support.entries import DOMAIN, World, _iso
from support.service import stop_server, wait_ready
from support.site_process import ENV, free_port

BROKER_SECRET = "broker-secret-0123456789"
CUSTOMS_SECRET = "customs-secret-0123456789"


@pytest.fixture(scope="module")
def steel() -> World:
    return World.steel()


@pytest.fixture(scope="module")
def service(tmp_path_factory, steel):
    root = tmp_path_factory.mktemp("service")
    port = free_port()
    (root / "border-policy.json").write_text(json.dumps(steel.policy), encoding="utf-8")
    (root / "broker.secret").write_text(BROKER_SECRET)
    (root / "customs.secret").write_text(CUSTOMS_SECRET)
    (root / "service.toml").write_text(f"""
[listen]
host = "127.0.0.1"
port = {port}

[verifier]
trust = "border-policy.json"
offline = true

[ledger]
url = "sqlite:///ledger.sqlite"

[clients.broker]
secret_file = "broker.secret"
scopes = ["entries"]

[clients.customs]
secret_file = "customs.secret"
scopes = ["verify"]
""")
    process = subprocess.Popen([sys.executable, "-m", "tradevc.service", "--config", str(root / "service.toml")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        wait_ready(client, process)
        client.root = root  # type: ignore[attr-defined]
        yield client
    finally:
        client.close()
        stop_server(process)


def token(service, client_id, secret):
    answer = service.post("/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture(scope="module")
def broker(service):
    return token(service, "broker", BROKER_SECRET)


@pytest.fixture(scope="module")
def customs(service):
    return token(service, "customs", CUSTOMS_SECRET)


def submit(service, broker, customs, world, **options):
    """The world's entry, presented with a challenge this service gave, decided as of noon of
    the date of import."""
    world = copy.deepcopy(world)
    made = service.post("/challenges", headers=customs)
    assert made.status_code == 201, made.text
    world.challenge = made.json()["challenge"]
    body = {"entry": world.declaration(), "presentation": world.presentation(), "options": {
        "challenge": world.challenge, "domain": DOMAIN, "at": _iso(world.day).replace("T00:", "T12:"), **options}}
    return service.post("/entries/verify", json=body, headers=broker)


def test_an_accepted_entry_as_json_and_as_the_html_report(service, broker, customs, steel):
    answer = submit(service, broker, customs, steel)
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert report["decision"] == "ACCEPT" and report["entryNumber"] == "ABC-1234567-8"
    assert report["recordedInLedger"] is True
    assert answer.headers["location"] == f"/entries/{report['id']}"
    kept = service.get(f"/entries/{report['id']}", headers=broker)
    assert kept.status_code == 200 and kept.headers["content-type"] == "application/json"
    assert kept.json() == report
    page = service.get(f"/entries/{report['id']}", headers={**broker, "Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text.startswith("<!DOCTYPE html>") and "Entry ABC-1234567-8: ACCEPT" in page.text
    assert "<script" not in page.text.lower()
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["x-content-type-options"] == "nosniff"


def test_a_rejected_entry_and_the_ledger(service, broker, customs, steel):
    world = copy.deepcopy(steel)
    world.line = dict(world.line, countryOfMeltAndPour="CN")
    world.entry = dict(world.entry, entryNumber="ABC-2222222-2")
    answer = submit(service, broker, customs, world)
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert report["decision"] == "REJECT" and report["lines"][0]["decision"] == "REJECT"
    assert "steel.melt-pour.matches-mill" in {f["rule"] for f in report["lines"][0]["findings"]}
    page = service.get(f"/entries/{report['id']}", headers={**broker, "Accept": "text/html"})
    assert "Entry ABC-2222222-2: REJECT" in page.text
    # the licence was drawn by the accepted entry (the ledger of [ledger]): another entry on it is refused
    assert submit(service, broker, customs, steel).json()["decision"] == "ACCEPT"
    again = copy.deepcopy(steel)
    again.entry = dict(again.entry, entryNumber="ABC-3333333-3")
    second = submit(service, broker, customs, again)
    assert second.status_code == 201, second.text
    assert "sima.licence.single-use" in {f["rule"] for line in second.json()["lines"] for f in line["findings"]}
    assert (service.root / "ledger.sqlite").exists()


def test_refusals(service, broker, customs, steel):
    assert service.get("/entries/no-such-report", headers=broker).status_code == 404
    assert service.get("/entries/no-such-report", headers=customs).status_code == 403
    assert service.get("/entries/no-such-report").status_code == 401
    forbidden = service.post("/entries/verify", json={}, headers=customs)
    assert forbidden.status_code == 403 and forbidden.headers["content-type"] == "application/problem+json"
    assert service.post("/entries/verify", json={}).status_code == 401
    bad = copy.deepcopy(steel)
    bad.line = dict(bad.line, hts="73")
    malformed = submit(service, broker, customs, bad)
    assert malformed.status_code == 400, malformed.text
    assert malformed.json()["problems"] and "lines[0].hts" in malformed.json()["problems"][0]
    for options in ({"at": "yesterday"}, {"at": "9999-12-31T23:59:59Z"}, {"at": "0001-01-01T00:00:00Z"},
                    {"unknown": 1}, {"challenge": 7}):
        answer = submit(service, broker, customs, steel, **options)
        assert answer.status_code == 400, (options, answer.text)
    for body in ({"entry": 7, "presentation": {}, "options": {"challenge": "c", "domain": "d"}},
                 {"entry": {}, "options": {"challenge": "c", "domain": "d"}}):
        answer = service.post("/entries/verify", json=body, headers=broker)
        assert answer.status_code == 400, answer.text
        assert "Traceback" not in answer.text


# -- the served page in a real headless browser (Debian's chromium, as test_entry_report_browser) --

@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as driver:
        yield driver


def test_the_served_report_page_in_a_browser(service, broker, customs, steel, browser):
    """The page as the service serves it, under its Content-Security-Policy: the inline style
    applies, the browser logs no error (no CSP violation), nothing else is loaded, no script."""
    from selenium.webdriver.common.by import By

    world = copy.deepcopy(steel)
    world.line = dict(world.line, description="<script>alert(1)</script> pipe", countryOfMeltAndPour="CN")
    world.entry = dict(world.entry, entryNumber="ABC-4444444-4")
    answer = submit(service, broker, customs, world)
    assert answer.status_code == 201, answer.text
    report = answer.json()
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {
        "Authorization": broker["Authorization"], "Accept": "text/html"}})
    browser.get_log("browser")
    url = str(service.base_url.join(f"/entries/{report['id']}"))
    browser.get(url)
    heading = browser.find_element(By.TAG_NAME, "h1")
    assert heading.is_displayed() and heading.text == "Entry ABC-4444444-4: REJECT"
    assert heading.value_of_css_property("background-color") == "rgba(253, 226, 225, 1)"  # .REJECT: the style applied
    assert "<script>alert(1)</script> pipe" in browser.find_element(By.TAG_NAME, "body").text
    assert [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"] == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert browser.find_elements(By.TAG_NAME, "script") == []
