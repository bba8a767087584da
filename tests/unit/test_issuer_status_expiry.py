"""The issuer remembers when its status lists were published and says when they run out
(issue 18, point 7, issuer side), and warns when it issues a credential that is expired, not
valid yet, or that can never be revoked (point 13, in part). Through the real CLI."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli
from tradevc.issuer.credential_types import load_example
from tradevc.issuer.service import REGISTRY_FILE, STATUS_EXPIRY_WARNING

PASS = "mill passphrase"
CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "credentialSubject": {"id": "did:example:buyer", "name": "Steel Buyer"},
}
STATUS_BASE = "https://mill.example/status/"
REVOCATION_URL = STATUS_BASE + "revocation/1"
TYPE = "USMCACertificationOfOrigin"
SUBJECT = json.dumps(load_example(TYPE), ensure_ascii=False)
UNTIL = (datetime.now(timezone.utc) + timedelta(days=180)).strftime("%Y-%m-%dT%H:%M:%SZ")  # within 12 months


def now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture
def home(tmp_path):
    """A did:web issuer with status lists that has issued one credential (so it has lists)."""
    path = tmp_path / "home"
    with Issuer.init(path, PASS.encode(), name="Aceros del Norte", did_web_domain="mill.example",
                     status_base_url=STATUS_BASE) as issuer:
        issuer.issue(CREDENTIAL, credential_id="urn:uuid:first")
    return path


def publish(home: Path, out: Path, *, days_ago: float, valid_days: int = 30) -> None:
    """Publish the lists as if it had been done ``days_ago`` days ago (the clock passed in)."""
    with Issuer.open(home, PASS.encode()) as issuer:
        issuer.publish(out, valid_for=timedelta(days=valid_days), now=now() - timedelta(days=days_ago))


def run(home: Path, *args: str):
    env = {"TRADEVC_ISSUER_HOME": str(home), "TRADEVC_ISSUER_PASSPHRASE": PASS}
    return CliRunner().invoke(cli, list(args), env=env)


def warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def expiry_warnings(result) -> list[str]:
    return [line for line in warnings(result) if "status lists" in line]


@pytest.fixture
def credential_file(tmp_path):
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(CREDENTIAL), encoding="utf-8")
    return path


# -- the publish record and `vc-issuer status` -----------------------------------------------------


def test_the_warning_window_is_a_week():
    assert STATUS_EXPIRY_WARNING == timedelta(days=7)


def test_publish_then_status_shows_valid_until(home, tmp_path):
    out = tmp_path / "site"
    result = run(home, "publish", "--out-dir", str(out))
    assert result.exit_code == 0, result.output
    assert expiry_warnings(result) == []
    status = run(home, "status")
    assert status.exit_code == 0, status.output
    assert REVOCATION_URL in status.stdout and STATUS_BASE + "suspension/1" in status.stdout
    published = json.loads((out / "status" / "revocation" / "1").read_text(encoding="utf-8"))
    assert published["validUntil"] in status.stdout
    assert "expires in 30 days" in status.stdout
    assert "1/131072" in status.stdout  # entries used
    assert expiry_warnings(status) == []
    data = json.loads(run(home, "status", "--json").stdout)
    lists = {entry["url"]: entry for entry in data["lists"]}
    entry = lists[REVOCATION_URL]
    assert entry["purpose"] == "revocation" and entry["used"] == 1
    assert entry["valid_until"] == published["validUntil"] and entry["valid_from"] == published["validFrom"]
    assert entry["state"] == "valid" and entry["changed_since_publish"] is False
    assert entry["out_dir"] == str(out.resolve())
    assert run(home, "status", "--check").exit_code == 0


def test_never_published_status_says_so_and_other_commands_do_not_warn(home, credential_file):
    status = run(home, "status")
    assert status.exit_code == 0, status.output
    assert "never published" in status.stdout
    assert run(home, "status", "--check").exit_code == 1
    for args in (["list"], ["did"], ["key", "list"], ["issue", "--credential", str(credential_file)]):
        result = run(home, *args)
        assert result.exit_code == 0, (args, result.output)
        assert expiry_warnings(result) == [], args


def test_an_issuer_without_status_lists_has_nothing_to_publish(tmp_path):
    path = tmp_path / "home"
    Issuer.init(path, PASS.encode(), name="Aceros del Norte", did_web_domain="mill.example").close()
    status = run(path, "status")
    assert status.exit_code == 0, status.output
    assert "no status lists" in status.stdout
    assert json.loads(run(path, "status", "--json").stdout)["lists"] == []
    assert run(path, "status", "--check").exit_code == 0


def test_lists_published_25_days_ago_warn_in_every_command(home, tmp_path, credential_file):
    out = tmp_path / "site"
    publish(home, out, days_ago=25)
    subjects = tmp_path / "subjects.jsonl"
    subjects.write_text(SUBJECT + "\n", encoding="utf-8")
    issued = tmp_path / "issued"
    issued.mkdir()
    commands = [
        ["list"], ["status"], ["did"], ["key", "list"],
        ["issue", "--credential", str(credential_file), "--out", str(tmp_path / "c.json")],
        ["issue-batch", str(subjects), "--type", TYPE, "--valid-until", UNTIL,
         "--out-dir", str(issued)],
        ["suspend", "urn:uuid:first"], ["reinstate", "urn:uuid:first"], ["revoke", "urn:uuid:first"],
        ["backup", str(tmp_path / "mill.backup")],
    ]
    for args in commands:
        result = run(home, *args)
        assert result.exit_code == 0, (args, result.output)
        lines = expiry_warnings(result)
        assert len(lines) == 1, (args, result.stderr)
        assert "expire in 5 days" in lines[0], lines[0]
        assert f"run 'vc-issuer publish --out-dir {out.resolve()}' and upload" in lines[0]
        published = (now() - timedelta(days=25)).date().isoformat()
        assert f"published {published}" in lines[0]
    status = run(home, "status")
    assert "expires in 5 days" in status.stdout
    assert run(home, "status", "--check").exit_code == 1


def test_lists_published_40_days_ago_warn_expired(home, tmp_path):
    publish(home, tmp_path / "site", days_ago=40)
    for args in (["list"], ["revoke", "urn:uuid:first"], ["status"]):
        result = run(home, *args)
        assert result.exit_code == 0, (args, result.output)
        (line,) = expiry_warnings(result)
        assert "EXPIRED 10 days ago" in line, line
    status = run(home, "status")
    assert "EXPIRED 10 days ago" in status.stdout
    assert json.loads(run(home, "status", "--json").stdout)["lists"][0]["state"] == "expired"
    assert run(home, "status", "--check").exit_code == 1


def test_lists_published_10_days_ago_do_not_warn(home, tmp_path):
    publish(home, tmp_path / "site", days_ago=10)
    for args in (["list"], ["did"], ["status"]):
        result = run(home, *args)
        assert result.exit_code == 0, (args, result.output)
        assert expiry_warnings(result) == [], args


def test_publish_does_not_warn_about_the_lists_it_replaces(home, tmp_path):
    out = tmp_path / "site"
    publish(home, out, days_ago=40)
    result = run(home, "publish", "--out-dir", str(out))
    assert result.exit_code == 0, result.output
    assert expiry_warnings(result) == []
    after = run(home, "list")
    assert expiry_warnings(after) == []
    assert "expires in 30 days" in run(home, "status").stdout


def test_revoke_after_publish_is_an_unpublished_change(home, tmp_path):
    publish(home, tmp_path / "site", days_ago=1)
    assert "changed since last publish" not in run(home, "status").stdout
    revoked = run(home, "revoke", "urn:uuid:first")
    assert revoked.exit_code == 0, revoked.output
    assert "changed since" not in revoked.output  # only `status` says so
    status = run(home, "status")
    assert status.exit_code == 0
    revocation = [line for line in status.stdout.splitlines() if REVOCATION_URL in line]
    suspension = [line for line in status.stdout.splitlines() if STATUS_BASE + "suspension/1" in line]
    assert "changed since last publish (revoke/suspend not yet published)" in revocation[0]
    assert "changed since" not in suspension[0]
    lists = {e["url"]: e for e in json.loads(run(home, "status", "--json").stdout)["lists"]}
    assert lists[REVOCATION_URL]["changed_since_publish"] is True
    assert run(home, "status", "--check").exit_code == 1
    publish(home, tmp_path / "site", days_ago=0)
    assert "changed since" not in run(home, "status").stdout


def test_a_new_list_after_publish_is_never_published(home, tmp_path):
    publish(home, tmp_path / "site", days_ago=1)
    with Issuer.open(home, PASS.encode()) as issuer:  # a fresh list, as when the first one fills up
        with issuer.registry._transaction() as db:
            db.execute("INSERT INTO lists (purpose, seq, length, used) VALUES ('revocation', 2, 131072, 0)")
    lines = [line for line in run(home, "status").stdout.splitlines() if STATUS_BASE + "revocation/2" in line]
    assert "never published" in lines[0]
    assert expiry_warnings(run(home, "list")) == []


def test_a_registry_from_before_the_publish_record_opens_and_works(home, tmp_path, credential_file):
    database = sqlite3.connect(home / REGISTRY_FILE)
    tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    new = tables - {"lists", "credentials", "entries"}
    assert new, "the publish record lives in a table of its own"
    for table in new:
        database.execute(f"DROP TABLE {table}")
    database.commit()
    database.close()
    status = run(home, "status")
    assert status.exit_code == 0, status.output
    assert "never published" in status.stdout
    issued = run(home, "issue", "--credential", str(credential_file))
    assert issued.exit_code == 0, issued.output
    assert run(home, "revoke", "urn:uuid:first").exit_code == 0
    assert run(home, "publish", "--out-dir", str(tmp_path / "site")).exit_code == 0
    assert "expires in 30 days" in run(home, "status").stdout


# -- warnings when issuing ---------------------------------------------------------------------------


def test_an_expired_credential_is_issued_with_a_warning(home, credential_file, tmp_path):
    out = tmp_path / "expired.json"
    result = run(home, "issue", "--credential", str(credential_file), "--valid-from", "2019-01-01T00:00:00Z",
                 "--valid-until", "2020-01-01T00:00:00Z", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["validUntil"] == "2020-01-01T00:00:00Z"
    (line,) = warnings(result)
    assert "already expired" in line and "2020-01-01T00:00:00Z" in line


def test_a_credential_not_valid_yet_is_issued_with_a_warning(home, credential_file, tmp_path):
    out = tmp_path / "future.jwt"
    result = run(home, "issue", "--credential", str(credential_file), "--valid-from", "2099-01-01T00:00:00Z",
                 "--format", "jose", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").count(".") == 2
    (line,) = warnings(result)
    assert "not valid yet" in line and "2099-01-01T00:00:00Z" in line


def test_a_credential_valid_now_gives_no_warning(home, credential_file):
    soon = (now() + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")  # within the clock skew
    result = run(home, "issue", "--credential", str(credential_file), "--valid-from", soon,
                 "--valid-until", "2099-01-01T00:00:00Z")
    assert result.exit_code == 0, result.output
    assert warnings(result) == []


def test_issue_batch_warns_once_for_expired_credentials(home, tmp_path):
    subjects = tmp_path / "subjects.jsonl"
    subjects.write_text("\n".join([SUBJECT] * 3) + "\n", encoding="utf-8")
    out = tmp_path / "issued"
    out.mkdir()
    result = run(home, "issue-batch", str(subjects), "--type", TYPE, "--valid-from", "2019-06-01T00:00:00Z",
                 "--valid-until", "2020-01-01T00:00:00Z",
                 "--out-dir", str(out))
    assert result.exit_code == 0, result.output
    assert len(list(out.iterdir())) == 3
    expired = [line for line in warnings(result) if "already expired" in line]
    assert len(expired) == 1 and "3 credentials" in expired[0], result.stderr


@pytest.fixture
def did_key_home(tmp_path):
    path = tmp_path / "key-home"
    Issuer.init(path, PASS.encode(), name="Aceros del Norte").close()
    return path


def test_did_key_without_status_base_url_warns_cannot_be_revoked(did_key_home, credential_file):
    result = run(did_key_home, "issue", "--credential", str(credential_file))
    assert result.exit_code == 0, result.output
    assert "credentialStatus" not in json.loads(result.stdout)
    (line,) = warnings(result)
    assert line.startswith("warning: this credential cannot be revoked or suspended: ")
    assert "give --status-base-url at init (did:web issuers publish status lists on their site)" in line


def test_did_key_batch_warns_once_cannot_be_revoked(did_key_home, tmp_path):
    subjects = tmp_path / "subjects.jsonl"
    subjects.write_text("\n".join([SUBJECT] * 2) + "\n", encoding="utf-8")
    result = run(did_key_home, "issue-batch", str(subjects), "--type", TYPE,
                 "--valid-until", UNTIL, "--out", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    lines = [line for line in warnings(result) if "cannot be revoked" in line]
    assert len(lines) == 1, result.stderr


def test_did_key_with_no_revocation_warns_cannot_be_revoked(tmp_path, credential_file):
    path = tmp_path / "key-home"
    Issuer.init(path, PASS.encode(), name="Aceros del Norte", status_base_url=STATUS_BASE).close()
    plain = run(path, "issue", "--credential", str(credential_file))
    assert plain.exit_code == 0 and warnings(plain) == [], plain.output
    result = run(path, "issue", "--credential", str(credential_file), "--no-revocation")
    assert result.exit_code == 0, result.output
    (line,) = warnings(result)
    assert line.startswith("warning: this credential cannot be revoked: ") and "--no-revocation" in line


def test_did_web_with_status_base_url_does_not_warn(home, credential_file):
    result = run(home, "issue", "--credential", str(credential_file))
    assert result.exit_code == 0, result.output
    assert warnings(result) == []
    assert "credentialStatus" in json.loads(result.stdout)


def test_publish_valid_days_is_what_status_and_the_warning_count_from(home, tmp_path):
    out = tmp_path / "site"
    published = run(home, "publish", "--out-dir", str(out), "--valid-days", "5")
    assert published.exit_code == 0, published.output
    assert "valid until" in published.stdout
    assert expiry_warnings(published) == []
    assert "expires in 5 days" in run(home, "status").stdout
    (line,) = expiry_warnings(run(home, "list"))
    assert "expire in 5 days" in line
