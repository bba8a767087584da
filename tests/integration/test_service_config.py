"""``tradevc-serve``'s configuration: every mistake is one ``error:`` line and exit status 2,
before anything listens; secrets are never taken from the file itself; an address in use is
exit status 1. And the OpenAPI document kept in the repository is the one the code makes."""

from __future__ import annotations

import json
import signal
import socket

import pytest
from click.testing import CliRunner

from conftest import ROOT
from tradevc.issuer import Issuer
from tradevc.service.cli import cli, openapi_document

PASS = "mill passphrase 2026"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "trust.json").write_text(json.dumps({"trustedIssuers": [
        {"did": "did:web:mill.example", "name": "Mill", "types": ["USMCACertificationOfOrigin"]}]}))
    (tmp_path / "erp.secret").write_text("erp-secret-0123456789")
    (tmp_path / "mill.passphrase").write_text(PASS)
    (tmp_path / "wrong.passphrase").write_text("not the passphrase at all")
    Issuer.init(tmp_path / "mill", PASS.encode(), name="Mill").close()
    return tmp_path


def run(folder, text):
    (folder / "service.toml").write_text(text)
    return CliRunner().invoke(cli, ["--config", str(folder / "service.toml")])


VERIFIER = '[verifier]\ntrust = "trust.json"\n'
TWO_ISSUERS = ('[issuers.mill]\nhome = "mill"\npassphrase_file = "mill.passphrase"\n'
               '[issuers.smelter]\nhome = "mill"\npassphrase_file = "mill.passphrase"\n')
ERP = '[clients.erp]\nsecret_file = "erp.secret"\n'


@pytest.mark.parametrize("text, message", [
    ("[listen\n", "not TOML"),
    ("", "nothing to serve"),
    ("[server]\n" + VERIFIER, "server: unknown member"),
    ('[verifier]\ntrust = "missing.json"\n', "verifier.trust: missing.json does not exist"),
    ('[verifier]\ntrust = "erp.secret"\n', "verifier.trust: erp.secret:"),
    ('[issuers.mill]\nhome = "mill"\npassphrase = "mill passphrase 2026"\n',
     "issuers.mill.passphrase: secrets are never written in the configuration"),
    ('[issuers.mill]\nhome = "mill"\npassphrase_file = "wrong.passphrase"\n', "issuers.mill: WRONG_PASSPHRASE"),
    ('[issuers.mill]\nhome = "nowhere"\npassphrase_file = "mill.passphrase"\n', "issuers.mill.home: nowhere"),
    ('[issuers."../x"]\nhome = "mill"\npassphrase_file = "mill.passphrase"\n', "a name is letters"),
    (VERIFIER + '[clients.erp]\nsecret = "erp-secret-0123456789"\nscopes = ["verify"]\n',
     "clients.erp.secret: secrets are never written"),
    (VERIFIER + '[clients.erp]\nsecret_env = "TRADEVC_TEST_UNSET_SECRET"\nscopes = ["verify"]\n',
     "TRADEVC_TEST_UNSET_SECRET is not set"),
    (VERIFIER + '[clients.erp]\nsecret_file = "erp.secret"\nscopes = ["admin"]\n', "clients.erp.scopes"),
    (VERIFIER + '[clients.erp]\nsecret_file = "mill.passphrase"\nsecret_env = "X"\nscopes = ["verify"]\n',
     "exactly one of secret_file or secret_env"),
    (VERIFIER + '[clients.erp]\nsecret_file = "short.secret"\nscopes = ["verify"]\n', "at least 16 characters"),
    (VERIFIER + '[listen]\ntls_cert = "erp.secret"\n', "give both tls_cert and tls_key"),
    (VERIFIER + '[listen]\ntls_cert = "erp.secret"\ntls_key = "erp.secret"\n', "cannot be used"),
    (VERIFIER + '[listen]\nport = 70000\n', "listen.port: must be a whole number"),
    (VERIFIER + '[listen]\nworkers = 0\n', "listen.workers: must be a whole number from 1 to 64"),
    (VERIFIER + '[listen]\nworkers = 65\n', "listen.workers: must be a whole number from 1 to 64"),
    (VERIFIER + '[listen]\nworkers = "2"\n', "listen.workers: must be a whole number from 1 to 64"),
    (VERIFIER + '[listen]\nhost = "0.0.0.0"\n', "listen.host: 0.0.0.0 is not a loopback address"),
    (VERIFIER + '[listen]\nhost = "192.0.2.7"\nplain_http_beyond_loopback = "yes"\n',
     "plain_http_beyond_loopback: must be true or false"),
    (VERIFIER + '[tokens]\nkey_file = "erp.secret"\n', "at least 32 bytes"),
    (VERIFIER + '[tokens]\nlifetime_seconds = 0\n', "tokens.lifetime_seconds"),
    (VERIFIER + '[ledger]\n', "ledger.url: required"),
    (VERIFIER + '[ledger]\nurl = "ftp://ledger.example/db"\n', "ledger.url: a file path, sqlite:///path or postgresql"),
    (VERIFIER + '[ledger]\nurl = "sqlite://ledger.sqlite"\n', "ledger.url: an SQLite URL is sqlite:///relative"),
    (VERIFIER + '[ledger]\npath = "ledger.sqlite"\n', "ledger.path: unknown member"),
    ('[verifier]\ntrust = "bad-rules.json"\n', "verifier.trust: the entry rules"),
    (VERIFIER + '[tokens]\nfailures_per_ip = "0/minute"\n', 'tokens.failures_per_ip: must be "COUNT/second"'),
    (VERIFIER + '[clients.erp]\nsecret_file = "erp.secret"\nscopes = ["verify"]\nrate = "lots"\n',
     'clients.erp.rate: must be "COUNT/second", "COUNT/minute" or "COUNT/hour"'),
    (VERIFIER + '[clients.erp]\nsecret_file = "erp.secret"\nscopes = ["verify"]\nrate = 5\n', "clients.erp.rate"),
    (VERIFIER + '[clients.erp]\nsecret_file = "erp.secret"\nscopes = ["verify"]\nburst = 5\n',
     "clients.erp.burst: give rate too"),
    (VERIFIER + '[clients.erp]\nsecret_file = "erp.secret"\nscopes = ["verify"]\nrate = "5/minute"\nburst = 0\n',
     "clients.erp.burst: must be a whole number"),
    # per-client issuers: required with two issuers, known names only, for issue and status only
    (TWO_ISSUERS + ERP + 'scopes = ["issue"]\n', "clients.erp.issuers: required with the issue scope"),
    (TWO_ISSUERS + ERP + 'scopes = ["status", "verify"]\n', "clients.erp.issuers: required with the status scope"),
    (TWO_ISSUERS + ERP + 'scopes = ["issue"]\nissuers = ["mill", "forge"]\n',
     "clients.erp.issuers: no issuer 'forge' is configured"),
    (TWO_ISSUERS + ERP + 'scopes = ["issue"]\nissuers = []\n', "clients.erp.issuers: a non-empty list"),
    (TWO_ISSUERS + ERP + 'scopes = ["issue"]\nissuers = "mill"\n', "clients.erp.issuers: a non-empty list"),
    (TWO_ISSUERS + VERIFIER + ERP + 'scopes = ["verify"]\nissuers = ["mill"]\n',
     "clients.erp.issuers: only for a client with the issue or status scope"),
    # what the service keeps
    (VERIFIER + '[records]\nfile = "nowhere/records.sqlite"\n', "records.file: the folder"),
    (VERIFIER + '[records]\nentry_report_days = 0\n', "records.entry_report_days: must be a whole number"),
    (VERIFIER + '[records]\npresentation_days = "30"\n', "records.presentation_days: must be a whole number"),
    (VERIFIER + '[records]\nkeep = 3\n', "records.keep: unknown member"),
    (VERIFIER + '[records]\nfile = "trust.json"\n', "records.file: the records: "),
    (VERIFIER + '[listen]\nrequest_timeout_seconds = 0\n', "listen.request_timeout_seconds: must be a number of seconds"),
    (VERIFIER + '[listen]\nrequest_timeout_seconds = "30"\n', "listen.request_timeout_seconds: must be a number"),
    (VERIFIER + '[listen]\nrequest_timeout_seconds = true\n', "listen.request_timeout_seconds: must be a number"),
    (VERIFIER + '[listen]\nrequest_timeout_seconds = 3601\n', "listen.request_timeout_seconds: must be a number"),
    (VERIFIER + '[listen]\nrequest_timeout_seconds = nan\n', "listen.request_timeout_seconds: must be a number"),
    (VERIFIER + '[listen]\nmax_concurrent_requests = 0\n', "listen.max_concurrent_requests: must be a whole number"),
    (VERIFIER + '[listen]\nmax_concurrent_requests = 2.5\n', "listen.max_concurrent_requests: must be a whole number"),
])
def test_a_bad_configuration_is_one_error_line_and_exit_2(folder, text, message):
    (folder / "short.secret").write_text("short")
    policy = json.loads((folder / "trust.json").read_text())
    (folder / "bad-rules.json").write_text(json.dumps({**policy, "entryRules": {"no.such.rule": {"decision": "X"}}}))
    result = run(folder, text)
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert message in lines[0], lines[0]
    assert "Traceback" not in result.output and PASS not in result.output


def test_two_issuers_may_not_serve_their_lists_at_the_same_paths(folder):
    for name in ("north", "south"):
        Issuer.init(folder / name, PASS.encode(), name=name, status_base_url=f"https://{name}.example/status/").close()
    result = run(folder, "".join(
        f'[issuers.{name}]\nhome = "{name}"\npassphrase_file = "mill.passphrase"\n' for name in ("north", "south")
    ))
    assert result.exit_code == 2, result.output
    assert "issuers.south: its status lists (https://south.example/status/) would be served at the paths of " \
           "issuers.north's" in result.output


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_plain_http_on_loopback_and_a_signal_stops_it(folder, signum):
    """The default: plain HTTP on 127.0.0.1 (behind a proxy); a verifier only, no issuer.
    SIGTERM or Ctrl-C stops it gracefully, exit status 0."""
    import subprocess
    import sys
    import time

    import httpx

    from support.site_process import ENV, free_port

    port = free_port()
    (folder / "service.toml").write_text(VERIFIER + f"[listen]\nport = {port}\n")
    process = subprocess.Popen([sys.executable, "-m", "tradevc.service", "--config", str(folder / "service.toml")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        for _ in range(600):
            assert process.poll() is None, process.communicate()
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert ready.json() == {"status": "ready", "issuers": [], "verifier": True}
        assert httpx.post(f"http://127.0.0.1:{port}/issuers/mill/credentials/issue", json={}).status_code == 401
    finally:
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert f"listening on http://127.0.0.1:{port}" in stderr and "Traceback" not in stderr
    assert stderr.splitlines()[-1] == "stopped"


def test_plain_http_beyond_loopback_when_asked_or_with_tls(folder):
    from tradevc.service.config import load_config

    (folder / "service.toml").write_text(VERIFIER + '[listen]\nhost = "0.0.0.0"\nplain_http_beyond_loopback = true\n')
    assert load_config(folder / "service.toml").host == "0.0.0.0"
    (folder / "service.toml").write_text(VERIFIER + '[listen]\nhost = "::1"\n')
    assert load_config(folder / "service.toml").port == 8080


def test_workers_from_the_file_or_the_command_line(folder):
    from tradevc.service.config import load_config

    (folder / "service.toml").write_text(VERIFIER)
    assert load_config(folder / "service.toml").workers == 1
    (folder / "service.toml").write_text(VERIFIER + "[listen]\nworkers = 2\n")
    assert load_config(folder / "service.toml").workers == 2
    for wrong in ("0", "65", "two"):
        result = CliRunner().invoke(cli, ["--config", str(folder / "service.toml"), "--workers", wrong])
        assert result.exit_code == 2, result.output
        assert "--workers" in result.output and "Traceback" not in result.output
    assert "--workers N" in CliRunner().invoke(cli, ["--help"]).output


def test_no_configuration_file():
    result = CliRunner().invoke(cli, ["--config", "/nonexistent/service.toml"])
    assert result.exit_code == 2 and result.output.startswith("error: ") and "cannot read" in result.output
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 2 and result.output == "error: give --config FILE (the service's TOML configuration)\n"


def test_an_address_in_use_is_exit_1(folder):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run(folder, VERIFIER + f"[listen]\nport = {port}\n")
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[-1].startswith(f"error: cannot listen on 127.0.0.1:{port}: ")


def test_the_openapi_document_in_the_repository_is_up_to_date():
    kept = (ROOT / "service" / "openapi.json").read_text(encoding="utf-8")
    assert kept == openapi_document(), "run: python -m tradevc.service --openapi > service/openapi.json"
    paths = json.loads(kept)["paths"]
    assert {"/token", "/credentials/verify", "/presentations/verify", "/challenges", "/healthz", "/readyz", "/metrics",
            "/issuers/{name}/credentials/issue", "/issuers/{name}/credentials/status",
            "/1.0/identifiers/{did}", "/presentations", "/entries/verify", "/entries/{report_id}"} == set(paths)
    # 422 means "not verified" here, never FastAPI's "Validation Error" (a malformed request is a 400)
    with_422 = {path for path, operations in paths.items() for op in operations.values() if "422" in op["responses"]}
    assert with_422 == {"/credentials/verify", "/presentations/verify", "/presentations"}
    assert "Validation Error" not in kept
    result = CliRunner().invoke(cli, ["--openapi"])
    assert result.exit_code == 0 and result.output == kept


def test_rates_of_clients_and_of_failed_authentications(folder):
    from tradevc.service.config import DEFAULT_TOKEN_FAILURES, Rate, load_config

    (folder / "service.toml").write_text(VERIFIER + '[clients.erp]\nsecret_file = "erp.secret"\nscopes = ["verify"]\n')
    config = load_config(folder / "service.toml")
    assert config.clients[0].rate is None and config.token_failures == DEFAULT_TOKEN_FAILURES == Rate(10, 60, 10)
    (folder / "service.toml").write_text(
        VERIFIER + '[tokens]\nfailures_per_ip = "5/hour"\n'
        '[clients.erp]\nsecret_file = "erp.secret"\nscopes = ["verify", "metrics"]\nrate = "100 / minute"\nburst = 20\n')
    config = load_config(folder / "service.toml")
    assert config.clients[0].rate == Rate(100, 60, 20) and config.token_failures == Rate(5, 3600, 5)
    assert config.clients[0].scopes == {"verify", "metrics"}


def test_the_deadline_and_the_concurrency_cap(folder):
    from tradevc.service.config import DEFAULT_MAX_CONCURRENT, DEFAULT_REQUEST_TIMEOUT, load_config

    (folder / "service.toml").write_text(VERIFIER)
    config = load_config(folder / "service.toml")
    assert (config.request_timeout, config.max_concurrent) == (DEFAULT_REQUEST_TIMEOUT, DEFAULT_MAX_CONCURRENT)
    (folder / "service.toml").write_text(VERIFIER + "[listen]\nrequest_timeout_seconds = 2.5\nmax_concurrent_requests = 8\n")
    config = load_config(folder / "service.toml")
    assert (config.request_timeout, config.max_concurrent) == (2.5, 8)
