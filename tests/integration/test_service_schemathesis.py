"""A property-based test of ``tradevc-serve`` against its own OpenAPI document, with
schemathesis (its command line, ``st run``): a real server process on 127.0.0.1 (HTTPS, a mill
that is its own website, a verifier, a ledger) and a real bearer token with every scope. For
each operation of the document served at ``/openapi.json`` it sends the document's examples,
requests that cover its schemas' edges (missing and wrong bodies and media types, methods the
document does not list...) and requests drawn from its schemas, valid and invalid, and checks
each answer:

- no server error (5xx);
- the status code is one the document gives for the operation, a method it does not list is
  a 405 with ``Allow``;
- the ``Content-Type`` and the headers are the documented ones, the body conforms to the
  documented schema where one is given; an operation with a security requirement refuses a
  request without a valid token.

Not checked: that every request valid by the schemas is accepted (``positive_data_acceptance``):
a schema cannot say what a correctly signed credential is, so most such requests are rightly a
400 or a 422.

Bounded in ``make test``: :data:`EXAMPLES` requests per operation and phase (the environment's
``TRADEVC_API_FUZZ_EXAMPLES``, default 15), seeded and deterministic (the same requests on every
run). ``make fuzz`` (``HYPOTHESIS_PROFILE=fuzz``) raises the count and draws at random.

Below it, what the property-based test found, pinned: each a test of its own."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys

import httpx
import pytest

from support.https_server import make_tls_files
from support.service import stop_server, wait_ready
from support.site_process import ENV, free_port
from tradevc.issuer import Issuer

PASS = "mill passphrase 2026"
SECRET = "fuzz-secret-0123456789"
FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
EXAMPLES = int(os.environ.get("TRADEVC_API_FUZZ_EXAMPLES", "15"))
SEED = 20261202
CHECKS_LEFT_OUT = "positive_data_acceptance"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("schemathesis")
    port = free_port()
    ca, cert, key = make_tls_files(root)
    host = f"localhost:{port}"
    with Issuer.init(root / "mill", PASS.encode(), name="Aceros del Norte", did_web_domain=host,
                     status_base_url=f"https://{host}/status/") as mill:
        did = mill.did
    (root / "mill.passphrase").write_text(PASS)
    (root / "fuzz.secret").write_text(SECRET)
    (root / "trust.json").write_text(json.dumps({"trustedIssuers": [
        {"did": did, "name": "Aceros del Norte", "types": ["USMCACertificationOfOrigin"]}]}))
    (root / "service.toml").write_text(f"""
[listen]
port = {port}
tls_cert = "{cert.name}"
tls_key = "{key.name}"
max_body_bytes = 65536

[verifier]
trust = "trust.json"
challenges = "challenges.sqlite"
ca_bundle = "{ca.name}"
allow_hosts = ["{host}"]

[ledger]
url = "sqlite:///ledger.sqlite"

[issuers.mill]
home = "mill"
passphrase_file = "mill.passphrase"

[clients.fuzz]
secret_file = "fuzz.secret"
scopes = ["issue", "status", "verify", "entries", "metrics"]
""")
    log = root / "server.log"
    with open(log, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "tradevc.service", "--config", str(root / "service.toml")],
                                   stdout=subprocess.DEVNULL, stderr=stderr, text=True, env=ENV)
    base = f"https://{host}"
    try:
        with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=str(ca)), timeout=30) as client:
            wait_ready(client, process, log)
            answer = client.post("/token", data={"grant_type": "client_credentials"}, auth=("fuzz", SECRET))
            assert answer.status_code == 200, answer.text
        yield base, str(ca), answer.json()["access_token"], log
    finally:
        stop_server(process)


def test_every_operation_answers_as_its_openapi_document_says(server, tmp_path):
    base, ca, token, log = server
    config = tmp_path / "schemathesis.toml"
    # the issuers' operations name the mill: a random name is only ever a 404
    config.write_text('[parameters]\n"path.name" = "mill"\n')
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{base}/openapi.json",
        "--header", f"Authorization: Bearer {token}", "--tls-verify", ca, "--checks", "all",
        "--exclude-checks", CHECKS_LEFT_OUT, "--max-examples", str(EXAMPLES), "--workers", "1",
        "--phases", "examples,coverage,fuzzing", "--request-timeout", "60", "--no-color",
        "--output-truncate", "false",
        *(("--generation-database", "none") if FUZZING else ("--seed", str(SEED), "--generation-deterministic")),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=tmp_path, env={
        **os.environ, "SCHEMATHESIS_TELEMETRY": "false"})
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert "13 selected / 13 total" in run.stdout, run.stdout
    assert "Traceback" not in log.read_text()


# -- what it found, pinned ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(server):
    base, ca, token, _ = server
    with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=ca), timeout=60,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


POSTED = ["/credentials/verify", "/presentations/verify", "/presentations", "/challenges", "/entries/verify",
          "/issuers/mill/credentials/issue", "/issuers/mill/credentials/status"]


@pytest.mark.parametrize("path", POSTED)
def test_a_body_that_is_not_json_is_a_documented_415(client, path):
    answer = client.post(path, content=b"<credential/>", headers={"Content-Type": "application/xml"})
    assert answer.status_code == 415 and answer.json()["type"] == "urn:tradevc:problem:unsupported-media-type"
    document = client.get("/openapi.json").json()
    template = path.replace("/mill/", "/{name}/")
    assert "415" in document["paths"][template]["post"]["responses"]


@pytest.mark.parametrize("method, path", [("GET", "/challenges"), ("GET", "/token"), ("HEAD", "/credentials/verify"),
                                          ("GET", "/issuers/mill/credentials/issue"), ("PUT", "/challenges")])
def test_a_method_an_endpoint_does_not_take_is_a_405_with_allow(client, method, path):
    """Not a 404 from the issuers' website (GET and HEAD of any other path)."""
    answer = client.request(method, path)
    assert answer.status_code == 405, answer.text
    assert answer.headers["allow"] == "POST"
    if method != "HEAD":
        assert answer.json()["type"] == "urn:tradevc:problem:method-not-allowed"
    assert client.get("/no/such/file.json").status_code == 404
    assert client.get("/.well-known/did.json").status_code == 200
