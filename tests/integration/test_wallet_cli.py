"""``vc-wallet`` from the command line: every command, its failure paths, and a revocation
seen by ``vc-wallet check`` over real HTTPS (did:web issuer, status lists on a local server)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import load_vector
from tradevc.issuer import Issuer, sign_credential
from tradevc.issuer.credential_types import load_example
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.wallet.cli import cli

PASS = "importer passphrase"
ISSUER = KeyPair.generate("Ed25519")


def credential(n: int = 1, **extra) -> dict:
    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"] = ISSUER.did
    document["id"] = f"urn:uuid:00000000-0000-4000-8000-{n:012d}"
    document.update(extra)
    return sign_credential(document, ISSUER, created="2026-01-01T00:00:00Z")


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "wallet"
        self.tmp = tmp_path
        self.env = {"TRADEVC_WALLET_HOME": str(self.home), "TRADEVC_WALLET_PASSPHRASE": PASS,
                    "TRADEVC_WALLET_PASSPHRASE_FILE": None}

    def __call__(self, *args: str, expect: int = 0, env: dict | None = None, input: str | None = None):
        result = CliRunner().invoke(cli, list(args), env={**self.env, **(env or {})}, input=input)
        assert result.exit_code == expect, (result.output, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result

    def file(self, name: str, document) -> str:
        path = self.tmp / name
        path.write_text(json.dumps(document) if not isinstance(document, str) else document)
        return str(path)


@pytest.fixture
def run(tmp_path):
    run = Cli(tmp_path)
    run("init")
    return run


def test_help_for_every_command():
    for command in ["", "init", "add", "list", "show", "check", "present", "export", "import", "remove", "did"]:
        result = CliRunner().invoke(cli, [*command.split(), "--help"])
        assert result.exit_code == 0 and "Usage: " in result.output and "--help" in result.output
        assert len(result.output.split("Options:")[0]) > 40, result.output  # says what the command does


def test_init(tmp_path, run):
    assert stat.S_IMODE((run.home / "wallet.vcw").stat().st_mode) == 0o600
    did = run("did").output.strip()
    assert did.startswith("did:key:z6Mk")
    again = run("init", expect=1)
    assert "already exists" in again.output and run("did").output.strip() == did


def test_init_with_did_jwk_and_a_p384_key(tmp_path):
    run = Cli(tmp_path)
    assert "holder DID: did:jwk:" in run("init", "--key-type", "P-384", "--did-method", "jwk").output


def test_passphrase_from_a_file_and_never_from_argv(tmp_path, run):
    secret = tmp_path / "pass.txt"
    secret.write_text(PASS + "\n")
    assert run("did", env={"TRADEVC_WALLET_PASSPHRASE": None, "TRADEVC_WALLET_PASSPHRASE_FILE": str(secret)}).output
    assert run("--passphrase-file", str(secret), "did", env={"TRADEVC_WALLET_PASSPHRASE": None}).output
    missing = run("did", env={"TRADEVC_WALLET_PASSPHRASE": None}, expect=2)
    assert "no passphrase: use --passphrase-file" in missing.output
    assert run("did", "--passphrase", PASS, expect=2)  # there is no such flag


def test_wrong_passphrase_is_one_clear_line(run):
    result = run("list", env={"TRADEVC_WALLET_PASSPHRASE": "guess"}, expect=1)
    assert result.output == "error: wrong passphrase\n"


def test_no_wallet_yet(tmp_path):
    result = Cli(tmp_path)("list", expect=1)
    assert "no wallet at" in result.output and "vc-wallet init" in result.output


def test_add_list_show_remove(run):
    one, two = run.file("one.json", credential(1)), run.file("two.json", credential(2))
    out = run("add", one, two, "--offline").output
    assert out.count("added urn:uuid:") == 2 and "AlumniCredential from did:key:" in out
    assert "already held urn:uuid:00000000-0000-4000-8000-000000000001" in run("add", one, "--offline").output
    table = run("list").output
    assert table.splitlines()[0].split() == ["ID", "TYPE", "ISSUER", "VALID", "UNTIL", "STATUS", "(LAST", "CHECKED)"]
    assert "urn:uuid:00000000-0000-4000-8000-000000000002  AlumniCredential" in table and "valid (" in table
    listed = json.loads(run("list", "--json").output)
    assert [c["id"] for c in listed] == [credential(1)["id"], credential(2)["id"]] and listed[0]["status"] == "valid"
    assert json.loads(run("show", credential(2)["id"]).output) == credential(2)
    assert "OK: removed" in run("remove", credential(1)["id"]).output
    assert [c["id"] for c in json.loads(run("list", "--json").output)] == [credential(2)["id"]]


def test_unknown_ids(run):
    assert "no credential 'urn:uuid:nope'" in run("show", "urn:uuid:nope", expect=1).output
    assert "no credential 'urn:uuid:nope'" in run("remove", "urn:uuid:nope", expect=1).output
    assert "no credential 'urn:uuid:nope'" in run(
        "present", "--credential", "urn:uuid:nope", "--challenge", "c", "--domain", "cbp.gov", expect=1).output


def test_add_refuses_invalid_input_and_keeps_the_valid_rest(run):
    tampered = credential(3)
    tampered["credentialSubject"]["alumniOf"] = "Forged University"
    files = [run.file("good.json", credential(1)), run.file("tampered.json", tampered),
             run.file("garbage.json", "{not json"), str(run.tmp / "missing.json"),
             run.file("expired.json", credential(4, validUntil="2024-01-01T00:00:00Z"))]
    result = run("add", *files, "--offline", expect=2)  # 2: a file cannot be read (bad input); the rest refused
    assert "REFUSED" in result.output and "tampered.json: did not verify: proof:" in result.output
    assert "garbage.json: not JSON" in result.output and "missing.json: cannot read it" in result.output
    assert "expired.json: did not verify: validity_period" in result.output
    assert "nothing was stored" in result.output and "Traceback" not in result.output
    assert [c["id"] for c in json.loads(run("list", "--json").output)] == [credential(1)["id"]]


def test_present_and_customs_verifies(run, tmp_path):
    run("add", run.file("one.json", credential(1)), run.file("two.json", credential(2)), "--offline")
    out = tmp_path / "vp.json"
    result = run("present", "--credential", credential(1)["id"], "--credential", credential(2)["id"],
                 "--challenge", "7d1f3c", "--domain", "cbp.gov", "--out", str(out))
    assert "presentation of 2 credential(s) for cbp.gov" in result.output
    vp = json.loads(out.read_text())
    customs = Verifier.offline(policy=TrustPolicy({ISSUER.did: ["AlumniCredential"]}))
    verdict = customs.verify_presentation(vp, challenge="7d1f3c", domain="cbp.gov")
    assert verdict.verified and len(verdict.credentials) == 2, verdict.summary()
    assert vp["holder"] == run("did").output.strip()
    assert not customs.verify_presentation(vp, challenge="another", domain="cbp.gov").verified
    stdout = json.loads(run("present", "--credential", credential(1)["id"], "--challenge", "x", "--domain", "d").output)
    assert stdout["proof"]["challenge"] == "x"
    assert run("present", "--credential", credential(1)["id"], "--domain", "d", expect=2)  # the challenge is required


def test_a_corrupted_wallet_is_reported_and_left_alone(run):
    run("add", run.file("one.json", credential(1)), "--offline")
    path = run.home / "wallet.vcw"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    for command in (["list"], ["add", run.file("two.json", credential(2)), "--offline"], ["remove", credential(1)["id"]]):
        result = run(*command, expect=1)
        assert "error: the file fails its integrity check" in result.output
    assert path.read_bytes() == bytes(data)
    path.write_bytes(bytes(data[:40]))
    assert "truncated" in run("list", expect=1).output


def test_export_and_import(run, tmp_path):
    run("add", run.file("one.json", credential(1)), "--offline")
    backup = tmp_path / "backup.vcw"
    assert "backup of 1 credential(s)" in run("export", str(backup)).output
    did = run("did").output.strip()

    restored = Cli(tmp_path / "elsewhere")
    out = restored("import", str(backup)).output
    assert "wallet restored" in out and did in out
    assert [c["id"] for c in json.loads(restored("list", "--json").output)] == [credential(1)["id"]]

    run("remove", credential(1)["id"])
    run("add", run.file("two.json", credential(2)), "--offline")
    assert "1 credential(s) added, 0 already held" in run("import", str(backup)).output
    assert {c["id"] for c in json.loads(run("list", "--json").output)} == {credential(1)["id"], credential(2)["id"]}


def test_backup_under_its_own_passphrase(run, tmp_path):
    secret = tmp_path / "backup-pass.txt"
    secret.write_text("another passphrase\n")
    backup = tmp_path / "backup.vcw"
    run("export", str(backup), "--backup-passphrase-file", str(secret))
    assert run("import", str(backup), expect=1).output == "error: wrong passphrase\n"
    assert "0 credential(s) added" in run("import", str(backup), "--backup-passphrase-file", str(secret)).output
    assert "does not exist" in run("import", str(tmp_path / "none.vcw"), expect=2).output


def test_check_sees_a_revocation_over_https(tmp_path, https_server):
    mill = Issuer.init(tmp_path / "mill", b"mill passphrase", name="Aceros del Norte", did_web_domain="mill.example",
                       status_base_url="https://mill.example/status/")  # read from the local server by --mirror
    now = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        signed = mill.issue(load_example("MillTestReportCredential"), type_name="MillTestReportCredential",
                            valid_from=(now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        mill.publish(https_server.site("mill.example"))
        _check_sees_a_revocation(tmp_path, https_server, mill, signed)
    finally:
        mill.close()


def _check_sees_a_revocation(tmp_path, https_server, mill, signed):
    run = Cli(tmp_path)
    run("init")
    document = run.file("mtr.json", signed)
    offline = run("add", document, "--offline", expect=1)
    assert "could not be verified: proof:" in offline.output and "needs the network" in offline.output
    assert "nothing was stored" in offline.output
    ca = ["--ca-bundle", str(https_server.ca_path), "--mirror", f"mill.example={https_server.url('mill.example/')}"]
    assert "added " + signed["id"] in run("add", document, *ca).output
    assert "valid  " in run("check", *ca).output

    mill.revoke(signed["id"])
    mill.publish(https_server.site("mill.example"))
    result = run("check", *ca, expect=1)
    row = next(line for line in result.output.splitlines() if line.startswith(signed["id"]) and "CHANGED" in line)
    assert row.split()[2:] == ["valid", "REVOKED", "CHANGED"]
    assert "revocation: revoked by the issuer" in result.output
    assert "REVOKED (" in run("list").output
    refused = run("present", "--credential", signed["id"], "--challenge", "c", "--domain", "cbp.gov",
                  "--out", str(tmp_path / "vp.json"), *ca, expect=1)
    assert f"error: {signed['id']} is revoked (revocation: revoked by the issuer" in refused.output
    assert not (tmp_path / "vp.json").exists()
    warned = run("present", "--credential", signed["id"], "--challenge", "c", "--domain", "cbp.gov",
                 "--out", str(tmp_path / "vp.json"), *ca, "--anyway")
    assert f"warning: {signed['id']} is revoked" in warned.output and (tmp_path / "vp.json").exists()
    other = run.file("t.json", {"trustedIssuers": [{"did": ISSUER.did, "name": "Someone else", "types": ["AlumniCredential"]}]})
    [entry] = json.loads(run("check", *ca, "--trust", other, "--json", expect=1).output)
    assert (entry["before"], entry["after"]) == ("REVOKED", "REVOKED")
    assert {c["name"]: c["outcome"] for c in entry["report"]["checks"]}["issuer_trust"] == "failed"


def test_the_console_script_runs(tmp_path):
    """The installed entry point, in a real process: no stack trace for a wrong passphrase."""
    env = {**os.environ, "TRADEVC_WALLET_HOME": str(tmp_path / "w"), "TRADEVC_WALLET_PASSPHRASE": PASS}
    created = subprocess.run([sys.executable, "-m", "tradevc.wallet.cli", "init"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    wrong = subprocess.run([sys.executable, "-m", "tradevc.wallet.cli", "list"], env={**env, "TRADEVC_WALLET_PASSPHRASE": "no"},
                           capture_output=True, text=True, timeout=60)
    assert (wrong.returncode, wrong.stderr) == (1, "error: wrong passphrase\n")


def test_the_passphrase_prompt_on_a_terminal(tmp_path):
    """With no file and no environment variable, a terminal is asked (twice on init), and what
    is typed is not echoed."""
    import fcntl
    import pty
    import termios
    import time

    master, slave = pty.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEVC_WALLET_PASSPHRASE")}
    env["TRADEVC_WALLET_HOME"] = str(tmp_path / "w")
    proc = subprocess.Popen([sys.executable, "-m", "tradevc.wallet.cli", "init"], env=env,
                            stdin=slave, stdout=slave, stderr=slave, preexec_fn=controlling_terminal)
    os.close(slave)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 30
        while marker not in seen:
            assert time.monotonic() < deadline and proc.poll() is None, seen
            seen += os.read(master, 1024)

    try:
        read_until(b"Wallet passphrase: ")
        os.write(master, b"typed secret\n")
        read_until(b"Repeat for confirmation: ")
        os.write(master, b"typed secret\n")
        read_until(b"holder DID: ")
        proc.wait(timeout=60)
    finally:
        os.close(master)
    assert proc.returncode == 0, seen
    assert b"Wallet passphrase" in seen and b"typed secret" not in seen
    from tradevc.wallet import Wallet

    assert Wallet.open(tmp_path / "w", "typed secret").holder_did.startswith("did:key:")


def test_add_detects_a_compact_jws_and_show_prints_it(run):
    from tradevc.vc.securing.jose import sign_credential_jwt

    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"], document["id"] = ISSUER.did, "urn:uuid:jose"
    token = sign_credential_jwt(document, ISSUER)
    out = run("add", run.file("coo.jwt", token + "\n"), run.file("one.json", credential(1)), "--offline").output
    assert "added urn:uuid:jose  AlumniCredential" in out and out.count("added ") == 2
    assert run("show", "urn:uuid:jose").output == token + "\n"
    vp = json.loads(run("present", "--credential", "urn:uuid:jose", "--credential", credential(1)["id"],
                        "--challenge", "c", "--domain", "cbp.gov").output)
    customs = Verifier.offline(policy=TrustPolicy({ISSUER.did: ["AlumniCredential"]}))
    assert customs.verify_presentation(vp, challenge="c", domain="cbp.gov").verified
