"""vc-issuer backup / restore: keys, profile and status registry in one sealed file, taken
while another process issues; restored into a fresh home, where a credential issued before
the backup can still be revoked."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from click.testing import CliRunner

from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli as issuer_cli

PASS = "backup test passphrase"
DOCUMENT = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "credentialSubject": {"id": "did:example:lot-7"},
}

ISSUING = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from tradevc.issuer import Issuer
    home, passphrase, stop, document = sys.argv[1], sys.argv[2].encode(), Path(sys.argv[3]), json.loads(sys.argv[4])
    with Issuer.open(home, passphrase) as issuer:
        print("ready", flush=True)
        for n in range(5000):  # until told to stop
            if stop.exists():
                break
            issuer.issue(document)
    """
)


def cli(home, *args, passphrase=PASS):
    env = {"TRADEVC_ISSUER_HOME": str(home), "TRADEVC_ISSUER_PASSPHRASE": passphrase, "TRADEVC_ISSUER_PASSPHRASE_FILE": None}
    return CliRunner().invoke(issuer_cli, list(args), env=env)


@pytest.fixture
def mill(tmp_path):
    """An issuer home with one revocable credential issued; returns (home, that credential's id)."""
    home = tmp_path / "mill"
    with Issuer.init(home, PASS.encode(), name="Aceros del Norte", did_web_domain="mill.example",
                     status_base_url="https://mill.example/status/") as issuer:
        first = issuer.issue(DOCUMENT)["id"]
    return home, first


def records(home):
    result = cli(home, "list", "--json")
    assert result.exit_code == 0, result.output
    return {r["id"]: r for r in json.loads(result.output)}


def wait_for_more_than(home, count, timeout=120.0):
    deadline = time.monotonic() + timeout
    while len(records(home)) <= count:
        assert time.monotonic() < deadline, f"no more than {count} credentials issued in {timeout} s"
        time.sleep(0.05)


def test_backup_while_another_process_issues_then_restore_and_revoke(tmp_path, mill):
    home, first = mill
    stop = tmp_path / "stop"
    issuing = subprocess.Popen([sys.executable, "-c", ISSUING, str(home), PASS, str(stop), json.dumps(DOCUMENT)],
                               stdout=subprocess.PIPE, text=True)
    assert issuing.stdout is not None and issuing.stdout.readline() == "ready\n"
    wait_for_more_than(home, 1)  # the other process has begun issuing
    backups = []
    for n in range(2):  # taken while the other process issues (it stops only when told)
        backup = tmp_path / f"mill-{n}.backup"
        result = cli(home, "backup", str(backup))
        assert result.exit_code == 0, result.output
        assert result.output.startswith("OK: backup of did:web:mill.example: 1 key(s), ")
        backups.append(backup)
    wait_for_more_than(home, len(records(home)))  # and it goes on after the last backup
    stop.touch()
    issuing.communicate(timeout=300)
    assert issuing.returncode == 0
    everything = records(home)

    fresh = tmp_path / "restored"
    result = cli(fresh, "restore", str(backups[-1]))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"OK: restored did:web:mill.example in {fresh}: 1 key(s), ")
    restored = records(fresh)
    assert first in restored and len(restored) >= 2
    assert set(restored) < set(everything)  # the credentials issued after the backup are not in it
    for credential_id, record in restored.items():  # each credential whole, with both status entries
        # (one caught between its reservation and its signing is "reserved": its indexes stay burned)
        assert record["state"] in ("issued", "reserved") and record["revoked"] is False and record["suspended"] is False
        assert record["types"] == everything[credential_id]["types"]
    assert restored[first]["state"] == "issued"
    with sqlite3.connect(fresh / "registry.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert (fresh / "keys").stat().st_mode & 0o077 == 0 and (fresh / "registry.sqlite").stat().st_mode & 0o077 == 0

    revoked = cli(fresh, "revoke", first)
    assert revoked.exit_code == 0 and f"OK: {first} revoked" in revoked.output
    assert records(fresh)[first]["revoked"] is True
    published = cli(fresh, "publish", "--out-dir", str(tmp_path / "site"))
    assert published.exit_code == 0, published.output
    assert (tmp_path / "site" / "status" / "revocation" / "1").exists()


def test_restore_refuses_an_existing_home_unless_forced(tmp_path, mill):
    home, first = mill
    backup = tmp_path / "mill.backup"
    assert cli(home, "backup", str(backup)).exit_code == 0
    assert cli(home, "revoke", first).exit_code == 0
    registry = (home / "registry.sqlite").read_bytes()

    refused = cli(home, "restore", str(backup))
    assert refused.exit_code == 1 and "already holds an issuer" in refused.output and "--force" in refused.output
    assert (home / "registry.sqlite").read_bytes() == registry
    assert records(home)[first]["revoked"] is True

    forced = cli(home, "restore", str(backup), "--force")
    assert forced.exit_code == 0, forced.output
    assert records(home)[first]["revoked"] is False  # back to the state of the backup
    assert cli(home, "revoke", first).exit_code == 0


def test_a_wrong_passphrase_or_a_damaged_backup_restores_nothing(tmp_path, mill):
    home, _ = mill
    backup = tmp_path / "mill.backup"
    wrong = cli(home, "backup", str(backup), passphrase="not the passphrase")
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output and not backup.exists()
    assert cli(home, "backup", str(backup)).exit_code == 0
    assert backup.stat().st_mode & 0o077 == 0 and b"Aceros" not in backup.read_bytes()

    result = cli(tmp_path / "a", "restore", str(backup), passphrase="not the passphrase")
    assert result.exit_code == 1 and "wrong passphrase" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "a").exists()

    damaged = tmp_path / "damaged.backup"
    data = bytearray(backup.read_bytes())
    data[-5] ^= 1
    damaged.write_bytes(bytes(data))
    result = cli(tmp_path / "b", "restore", str(damaged))
    assert result.exit_code == 1 and result.output.count("\n") == 1 and "integrity check" in result.output
    assert not (tmp_path / "b").exists()

    not_a_backup = tmp_path / "wallet-like.vcw"
    not_a_backup.write_bytes(b"hello")
    result = cli(tmp_path / "c", "restore", str(not_a_backup))
    assert result.exit_code == 1 and result.output.startswith("error: ") and "Traceback" not in result.output


def test_a_backup_inside_the_home_is_refused(mill):
    home, _ = mill
    for inside in (home / "mill.backup", home / "keys" / "mill.backup"):
        result = cli(home, "backup", str(inside))
        assert result.exit_code == 1 and "outside the issuer home" in result.output
        assert not inside.exists()
