"""The example trust policy shipped with the verifier (verifier/examples/trust-policy.json, in
the package as ``tradevc.verifier``'s data): it loads, with every part the README explains, and
``vc-verify --trust`` verifies the README walkthrough's certificate of origin with it (the
walkthrough's mill, did:web:localhost%3A8443, its site served by ``vc-issuer serve-site`` on
another port and read through a mirror, so the test needs no fixed port)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from importlib import resources

from conftest import ROOT
from support.site_process import ENV, Site, free_port
from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import load_example
from tradevc.verifier.trust import TrustPathPolicy, load_policy

POLICY = ROOT / "verifier" / "examples" / "trust-policy.json"
WALKTHROUGH_DID = "did:web:localhost%3A8443"


def test_the_example_policy_loads_with_every_part():
    policy = load_policy(POLICY)
    assert isinstance(policy, TrustPathPolicy)
    document = json.loads(POLICY.read_text(encoding="utf-8"))
    assert set(document) == {"trustedIssuers", "roots", "recordedMarks", "anchors", "limits"}
    assert WALKTHROUGH_DID in [entry["did"] for entry in document["trustedIssuers"]]
    shipped = resources.files("tradevc.verifier").joinpath("examples", "trust-policy.json")
    assert shipped.read_bytes() == POLICY.read_bytes()


def test_vc_verify_trusts_the_walkthrough_mill_with_it(tmp_path):
    issuer = Issuer.init(tmp_path / "mill", b"walkthrough mill passphrase", name="Aceros del Norte",
                         did_web_domain="localhost:8443", status_base_url="https://localhost:8443/status/")
    assert issuer.did == WALKTHROUGH_DID
    now = datetime.now(timezone.utc).replace(microsecond=0)
    signed = issuer.issue(load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
                          valid_from=(now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                          valid_until=(now + timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    issuer.publish(tmp_path / "site")
    issuer.close()
    (tmp_path / "coo.json").write_text(json.dumps(signed), encoding="utf-8")
    port = free_port()
    server = Site(tmp_path / "site", port, tmp_path / "site-ca.pem")
    try:
        printed = "\n".join(server.lines)
        assert "the DID names port 8443" in printed  # and the mirror that reads it from here:
        mirror = f"--mirror localhost:8443=https://localhost:{port}/"
        assert f"--ca-bundle {server.ca} {mirror}" in printed
        run = subprocess.run(
            [sys.executable, "-m", "tradevc.verifier", "credential", str(tmp_path / "coo.json"), "--trust", str(POLICY),
             "--ca-bundle", str(server.ca), *mirror.split()],
            capture_output=True, text=True, env=ENV, timeout=120,
        )
    finally:
        server.stop()
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0].startswith("VERIFIED")
    assert "issuer_trust" in run.stdout and "Aceros del Norte" in run.stdout
