"""``vc-issuer serve-site``: the output of ``vc-issuer publish`` served over HTTPS on loopback
with a throwaway CA, as a real process. What it serves (media types, CORS), what it refuses
(path traversal, symbolic links out of the site, directories, hidden files, other methods, a
non-loopback bind), what it prints (the DID, the options for vc-verify), that a real
``vc-verify`` run verifies against it, and that it stops cleanly."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import requests
from click.testing import CliRunner

from support.site_process import ENV, Site, free_port
from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.credential_types import load_example

PASS = b"issuer passphrase for the site"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def published(tmp_path):
    """An issuer with did:web:localhost%3A<port>, one certificate of origin issued, its site published."""
    port = free_port()
    issuer = Issuer.init(tmp_path / "mill", PASS, name="Aceros del Norte", did_web_domain=f"localhost:{port}",
                         status_base_url=f"https://localhost:{port}/status/")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    signed = issuer.issue(load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
                          valid_from=stamp(now - timedelta(days=1)), valid_until=stamp(now + timedelta(days=200)))
    site = tmp_path / "site"
    issuer.publish(site)
    (tmp_path / "coo.json").write_text(json.dumps(signed), encoding="utf-8")
    (tmp_path / "secret.txt").write_text("the key to the vault\n", encoding="utf-8")
    yield issuer, site, port, signed
    issuer.close()


@pytest.fixture
def served(published, tmp_path):
    issuer, site, port, signed = published
    server = Site(site, port, tmp_path / "site-ca.pem")
    yield server, issuer, site, signed
    server.stop()


def test_serves_the_did_document_and_status_lists_with_their_media_types(served):
    server, issuer, site, signed = served
    session = requests.Session()
    session.trust_env = False
    session.verify = str(server.ca)
    answer = session.get(server.url(".well-known/did.json"), timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/did+json"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.json()["id"] == issuer.did == f"did:web:localhost%3A{server.port}"
    status_url = signed["credentialStatus"][0]["statusListCredential"]
    assert status_url.startswith(f"https://localhost:{server.port}/status/")
    listed = session.get(status_url, timeout=10)
    assert listed.status_code == 200 and listed.headers["Content-Type"] == "application/vc"
    assert listed.json()["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert "max-age" not in listed.headers.get("Cache-Control", "") and listed.headers["Cache-Control"] == "no-cache"
    head = session.head(server.url(".well-known/did.json"), timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"] == "application/did+json"
    assert int(head.headers["Content-Length"]) == len(answer.content)


def test_a_compact_jws_is_served_as_vc_jwt_and_other_files_by_their_kind(served):
    server, _issuer, site, _signed = served
    (site / "status" / "jose").write_text("eyJhbGciOiJFUzI1NiJ9.eyJ2YyI6MX0.c2ln\n", encoding="ascii")
    (site / "notes.json").write_text('{"hello": "world"}', encoding="utf-8")
    (site / "logo.bin").write_bytes(b"\x89PNG\r\n")
    assert server.raw("GET", "/status/jose")[1]["content-type"] == "application/vc+jwt"
    assert server.raw("GET", "/notes.json")[1]["content-type"] == "application/json"
    assert server.raw("GET", "/logo.bin")[1]["content-type"] == "application/octet-stream"


def test_prints_the_did_and_the_options_for_vc_verify(served):
    server, issuer, _site, _signed = served
    text = "\n".join(server.lines)
    assert issuer.did in text
    assert f"https://localhost:{server.port}/.well-known/did.json" in text
    assert f"--ca-bundle {server.ca} --allow-host localhost:{server.port}" in text
    assert server.ca.read_text().startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize("target", [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/.well-known/../../secret.txt",
    "/.well-known/%2e%2e/%2e%2e/secret.txt",
    "/status/..%2f..%2fsecret.txt",
    "/status/%2e%2e%5c%2e%2e%5csecret.txt",
    "/./.well-known/did.json",
    "/%00/secret.txt",
    "secret.txt",
])
def test_no_path_leaves_the_site(served, target):
    server, *_ = served
    status, headers, body = server.raw("GET", target)
    assert status in (400, 404), (target, status)
    assert b"vault" not in body and "location" not in headers


def test_a_symbolic_link_out_of_the_site_is_not_followed(served, tmp_path):
    server, _issuer, site, _signed = served
    (site / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (site / "outside").symlink_to(tmp_path, target_is_directory=True)
    for target in ("/leak.txt", "/outside/secret.txt"):
        status, _headers, body = server.raw("GET", target)
        assert status == 404 and b"vault" not in body
    (site / "inside.json").symlink_to(site / ".well-known" / "did.json")  # within the site: served
    assert server.raw("GET", "/inside.json")[0] == 200


def test_no_directory_listing_no_redirect_no_hidden_files(served):
    server, _issuer, site, _signed = served
    (site / ".env").write_text("SECRET=vault\n", encoding="utf-8")
    for target in ("/", "/status", "/status/", "/.well-known", "/.well-known/", "/.env", "/.well-known//did.json"):
        status, headers, body = server.raw("GET", target)
        assert status == 404, (target, status)
        assert "location" not in headers and b"vault" not in body and b"revocation" not in body


def test_only_get_and_head(served):
    server, *_ = served
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        status, headers, _body = server.raw(method, "/.well-known/did.json")
        assert status == 405, method
        assert headers["allow"] == "GET, HEAD"


def test_vc_verify_verifies_against_it_and_sees_a_revocation(served, tmp_path):
    server, issuer, site, signed = served
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"trustedIssuers": {issuer.did: ["USMCACertificationOfOrigin"]}}), encoding="utf-8")
    command = [sys.executable, "-m", "tradevc.verifier", "credential", str(tmp_path / "coo.json"), "--trust",
               str(policy), "--ca-bundle", str(server.ca), "--allow-host", f"localhost:{server.port}"]
    run = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0].startswith("VERIFIED")
    issuer.revoke(signed["id"])
    issuer.publish(site)
    run = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[0].startswith("NOT VERIFIED") and "REVOKED" in run.stdout


def test_the_ca_is_trusted_for_this_server_only(served):
    """The certificate names localhost and 127.0.0.1; the CA is constrained to those names."""
    server, *_ = served
    from cryptography import x509

    ca = x509.load_pem_x509_certificate(server.ca.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert x509.DNSName("localhost") in constraints.value.permitted_subtrees
    context = ssl.create_default_context(cafile=str(server.ca))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            context.wrap_socket(raw, server_hostname="mill.example").close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_stops_it_cleanly(published, tmp_path, signum):
    _issuer, site, port, _signed = published
    server = Site(site, port, tmp_path / "ca.pem")
    code, out, err = server.stop(signum)
    assert code == 0, err
    assert out.splitlines()[-1] == "stopped"
    assert "Traceback" not in err


def test_a_non_loopback_bind_is_refused_without_public(published):
    _issuer, site, port, _signed = published
    runner = CliRunner()
    for host in ("0.0.0.0", "192.0.2.10", "::"):
        result = runner.invoke(issuer_cli, ["serve-site", str(site), "--host", host, "--port", str(port)])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and "--public" in result.output


def test_a_missing_site_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(issuer_cli, ["serve-site", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "vc-issuer publish --out-dir" in result.output


def test_a_ca_out_that_cannot_be_written_is_a_usage_error_before_listening(published, tmp_path):
    """--ca-out into a folder that does not exist, or onto a folder: one line naming the file
    given (not a temporary file of ours), exit 2, and nothing listens."""
    _issuer, site, port, _signed = published
    for target in (tmp_path / "no-such-folder" / "ca.pem", tmp_path):
        result = CliRunner().invoke(issuer_cli, ["serve-site", str(site), "--port", str(port),
                                                 "--ca-out", str(target)])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: ") and str(target) in result.output
        assert ".tmp" not in result.output and "Traceback" not in result.output
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_port_in_use_is_one_line(published, tmp_path):
    _issuer, site, _port, _signed = published
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(issuer_cli, ["serve-site", str(site), "--port", str(port),
                                                 "--ca-out", str(tmp_path / "ca.pem")])
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and str(port) in result.output and "Traceback" not in result.output


def test_a_plain_http_client_or_a_stalled_one_holds_no_one_up(served):
    """The TLS handshake runs in each connection's own thread: a client that speaks plain HTTP
    is dropped, and one that sends nothing does not keep the others waiting."""
    server, *_ = served
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as plain:
        plain.sendall(b"GET /.well-known/did.json HTTP/1.0\r\n\r\n")
        try:
            answer = plain.recv(4096)
        except ConnectionResetError:  # closed without reading the rest
            answer = b""
        assert b"did:web" not in answer
    with socket.create_connection(("127.0.0.1", server.port), timeout=10):  # silent, left open
        status, _headers, body = server.raw("GET", "/.well-known/did.json")
        assert status == 200 and b"did:web" in body
