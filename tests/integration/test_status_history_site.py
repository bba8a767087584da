"""The two forms of a list's history a verifier reads: ``<list>?timestamp=`` (Bitstring Status
List v1.0), answered by ``vc-issuer serve-site`` (a real process) from the history ``publish``
wrote and by a server that implements the query (the local HTTPS server, with the history
files taken away), and the history folder itself served as plain files by serve-site."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from support.https_server import body
from support.site_process import Site, free_port
from tradevc.issuer import Issuer, sign_credential
from tradevc.issuer.credential_types import load_example
from tradevc.verifier import TrustPolicy, Verifier

PASS = b"issuer passphrase"
T = datetime.now(timezone.utc).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(n: float) -> datetime:
    return T - timedelta(days=n)


def revoked_after_the_entry(issuer, site):
    """A certificate signed 60 days ago; lists published clear 40 days ago, revoked 20 days ago."""
    issued = issuer.issue(load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
                          valid_from=stamp(days_ago(90)), valid_until=stamp(T + timedelta(days=200)))
    key, method = issuer.home.signing_key(PASS)
    signed = sign_credential({k: v for k, v in issued.items() if k != "proof"}, key, verification_method=method,
                             created=stamp(days_ago(60)))
    issuer.publish(site, now=days_ago(40))
    issuer.revoke(signed["id"])
    issuer.publish(site, now=days_ago(20))
    return signed


@pytest.fixture
def served(tmp_path):
    port = free_port()
    issuer = Issuer.init(tmp_path / "mill", PASS, name="Aceros del Norte", did_web_domain=f"localhost:{port}",
                         status_base_url=f"https://localhost:{port}/status/")
    site = tmp_path / "site"
    signed = revoked_after_the_entry(issuer, site)
    server = Site(site, port, tmp_path / "site-ca.pem")
    yield server, issuer, site, signed
    server.stop()
    issuer.close()


def test_serve_site_answers_timestamp_from_the_history(served):
    server, issuer, site, signed = served
    history = site / "status" / "revocation" / "1.history"
    status, headers, data = server.raw("GET", f"/status/revocation/1?timestamp={quote(stamp(days_ago(30)))}")
    assert status == 200 and data == (history / "1").read_bytes() and headers["content-type"] == "application/vc"
    status, _, data = server.raw("GET", f"/status/revocation/1?timestamp={stamp(days_ago(10))}")
    assert status == 200 and data == (history / "2").read_bytes()
    assert server.raw("GET", f"/status/revocation/1?timestamp={stamp(days_ago(50))}")[0] == 404  # before the list
    assert server.raw("GET", "/status/revocation/1?timestamp=last%20week")[0] == 400
    assert server.raw("GET", "/status/revocation/1?timestamp=2026-01-01")[0] == 400  # no time zone
    assert server.raw("GET", f"/status/revocation/1?timestamp={stamp(T)}&timestamp={stamp(T)}")[0] == 400
    status, _, data = server.raw("GET", "/status/revocation/1")
    assert status == 200 and data == (site / "status" / "revocation" / "1").read_bytes()
    assert server.raw("GET", f"/.well-known/did.json?timestamp={stamp(days_ago(30))}")[0] == 200  # no history: ignored
    assert server.raw("GET", "/status/revocation/1.history/index.json")[0] == 200

    verifier = Verifier(policy=TrustPolicy({issuer.did: ["USMCACertificationOfOrigin"]}), session=server_session(server),
                        allow_hosts=[f"localhost:{server.port}"])
    then = verifier.verify_credential(signed, now=days_ago(30))
    assert then.verified and "historical list version 1" in then.check("revocation").message, then.summary()
    assert verifier.verify_credential(signed).check("revocation").code == "REVOKED"


def server_session(server):
    import requests

    session = requests.Session()
    session.verify = str(server.ca)
    session.trust_env = False
    return session


def test_the_verifier_reads_a_list_as_of_a_moment_from_timestamp(tmp_path, https_server):
    """A server that answers ?timestamp= and keeps no history files: the verifier asks it."""
    host = "mill.example"
    site = https_server.site(host)
    with Issuer.init(tmp_path / "mill", PASS, name="Aceros del Norte", did_web_domain=host,
                     status_base_url=f"https://{host}/status/") as issuer:
        signed = revoked_after_the_entry(issuer, site)
        history = site / "status" / "revocation" / "1.history"
        version_1, current = (history / "1").read_bytes(), (site / "status" / "revocation" / "1").read_bytes()
        for purpose in ("revocation", "suspension"):
            shutil.rmtree(site / "status" / purpose / "1.history")

        def as_of(request):
            body(version_1 if "timestamp=" in request.path else current)(request)

        https_server.special[f"/{host}/status/revocation/1"] = as_of
        verifier = Verifier(policy=TrustPolicy({issuer.did: ["USMCACertificationOfOrigin"]}),
                            session=https_server.session(), mirror=https_server.mirror(host))
        then = verifier.verify_credential(signed, now=days_ago(30))
        check = then.check("revocation")
        assert then.verified and "from ?timestamp=" in check.message, then.summary()
        assert check.data["statusListVersionUrl"].endswith(f"?timestamp={quote(stamp(days_ago(30)), safe='')}")
        # the suspension list's server ignores the query (a static host): the current list, said to be current
        assert then.check("suspension").data["historical"] is False
        assert any("publishes no status history" in w for w in then.warnings)

        # a server answering ?timestamp= with a version that does not cover the moment is not believed
        https_server.special[f"/{host}/status/revocation/1"] = lambda request: body(current)(request)
        assert verifier.verify_credential(signed, now=days_ago(30)).check("revocation").data["historical"] is False


def test_vc_verify_credential_at_a_past_moment(served, tmp_path):
    import subprocess
    import sys

    from support.site_process import ENV

    server, issuer, site, signed = served
    (tmp_path / "coo.json").write_text(json.dumps(signed), encoding="utf-8")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"trustedIssuers": {issuer.did: ["USMCACertificationOfOrigin"]}}), encoding="utf-8")
    command = [sys.executable, "-m", "tradevc.verifier", "credential", str(tmp_path / "coo.json"), "--trust",
               str(policy), "--ca-bundle", str(server.ca), "--allow-host", f"localhost:{server.port}"]
    then = subprocess.run([*command, "--at", stamp(days_ago(30))], capture_output=True, text=True, env=ENV, timeout=120)
    assert then.returncode == 0, then.stdout + then.stderr
    assert "historical list version 1" in then.stdout
    now = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=120)
    assert now.returncode == 1 and "REVOKED" in now.stdout, now.stdout + now.stderr
    bad = subprocess.run([*command, "--at", "last tuesday"], capture_output=True, text=True, env=ENV, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "error: --at: not an ISO 8601 time: 'last tuesday' (e.g. 2026-03-01T00:00:00Z)"), bad.stderr
