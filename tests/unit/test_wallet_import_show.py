"""``vc-wallet import`` keeps only the credentials of a backup that verify, as ``add`` does, and
says which it refused; ``vc-wallet show`` and ``list`` print control and format characters
(bidirectional overrides, isolates, marks) as JSON escapes."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from conftest import load_vector
from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier import Verifier
from tradevc.wallet import HolderPolicy, KdfParams, Wallet
from tradevc.wallet.cli import cli
from tradevc.wallet.store import new_key, seal, unseal

PASS = "importer passphrase"
FAST = KdfParams(n=2**14)
MILL = KeyPair.generate("Ed25519")
OFFLINE = Verifier.offline(policy=HolderPolicy())


def credential(n: int, **extra):
    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"] = MILL.did
    document["id"] = f"urn:uuid:00000000-0000-4000-8000-{n:012d}"
    document.update(extra)
    return sign_credential(document, MILL, created="2026-01-01T00:00:00Z")


def tampered(n: int):
    document = credential(n)
    document["description"] = "altered after signing"
    return document


EXPIRED = 3


def record(document, *, id=None):
    return {"id": id or document["id"], "types": document["type"], "issuer": MILL.did, "validUntil": None,
            "added": "2026-01-02T00:00:00Z", "lastCheck": {"at": "2026-01-02T00:00:00Z", "status": "valid"},
            "credential": document}


def forged_backup(tmp_path, wallet: Wallet, records) -> str:
    """A backup of ``wallet`` whose credential records are ``records``, sealed as export seals
    one (what a damaged or crafted backup looks like after it decrypts)."""
    path = tmp_path / "backup.vcw"
    wallet.export(path, kdf=FAST)
    content = json.loads(unseal(path.read_bytes(), PASS, kind="backup").plaintext)
    content["credentials"] = records
    path.write_bytes(seal(json.dumps(content).encode(), new_key(PASS, FAST), kind="backup"))
    return str(path)


@pytest.fixture
def source(tmp_path):
    return Wallet.create(tmp_path / "source", PASS, kdf=FAST, verifier=OFFLINE)


def crafted_records():
    return [
        record(credential(1)),
        record(tampered(2)),
        record(credential(EXPIRED, validUntil="2026-01-31T00:00:00Z")),
        record(credential(4), id="urn:uuid:what-the-record-claims"),
        {"id": "urn:uuid:no-credential"},
        "not a record",
    ]


REFUSED_IDS = ["urn:uuid:00000000-0000-4000-8000-000000000002", "urn:uuid:00000000-0000-4000-8000-000000000003",
               "urn:uuid:no-credential", "#6"]
KEPT_IDS = ["urn:uuid:00000000-0000-4000-8000-000000000001", "urn:uuid:00000000-0000-4000-8000-000000000004"]
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def test_import_keeps_only_what_verifies_and_reports_the_rest(tmp_path, source):
    backup = forged_backup(tmp_path, source, crafted_records())
    wallet = Wallet.create(tmp_path / "wallet", PASS, kdf=FAST, verifier=OFFLINE)
    report = wallet.import_backup(backup, now=NOW)
    assert list(report.added) == KEPT_IDS and report.already_held == ()
    assert [i for i, _ in report.refused] == REFUSED_IDS
    why = dict(report.refused)
    assert why[REFUSED_IDS[0]].startswith("did not verify: ")
    assert "validity_period" in why[REFUSED_IDS[1]]
    assert why["#6"] == why["urn:uuid:no-credential"] == "the backup's record holds no credential"
    held = Wallet.open(tmp_path / "wallet", PASS).list()
    assert [h.id for h in held] == KEPT_IDS  # the id comes from the credential, not from the record
    assert held[0].added == "2026-01-02T00:00:00Z" and held[0].status == "valid"


def test_import_refuses_a_different_credential_under_a_held_id(tmp_path, source):
    wallet = Wallet.create(tmp_path / "wallet", PASS, kdf=FAST, verifier=OFFLINE)
    wallet.add(credential(1), now=NOW)
    other = credential(1, description="another credential with the same id")
    report = wallet.import_backup(forged_backup(tmp_path, source, [record(other)]), now=NOW)
    assert report.added == () and report.already_held == ()
    assert report.refused == ((KEPT_IDS[0], f"a different credential with the id {KEPT_IDS[0]} is already held; "
                                            "remove it first"),)
    assert Wallet.open(tmp_path / "wallet", PASS).get(KEPT_IDS[0]).credential == credential(1)
    same = wallet.import_backup(forged_backup(tmp_path, source, [record(credential(1))]), now=NOW)
    assert same.added == () and same.already_held == (KEPT_IDS[0],) and same.refused == ()


def test_restore_keeps_only_what_verifies(tmp_path, source):
    backup = forged_backup(tmp_path, source, crafted_records())
    restored = Wallet.restore(tmp_path / "restored", backup, PASS, verifier=OFFLINE, now=NOW)
    assert restored.holder_did == source.holder_did
    assert restored.last_import is not None and [i for i, _ in restored.last_import.refused] == REFUSED_IDS
    assert [h.id for h in Wallet.open(tmp_path / "restored", PASS).list()] == KEPT_IDS


def test_an_honest_backup_imports_everything(tmp_path, source):
    source.add(credential(1), now=NOW)
    source.add(credential(4), now=NOW)
    source.export(tmp_path / "honest.vcw", kdf=FAST)
    wallet = Wallet.create(tmp_path / "wallet", PASS, kdf=FAST, verifier=OFFLINE)
    report = wallet.import_backup(tmp_path / "honest.vcw", now=NOW)
    assert list(report.added) == KEPT_IDS and report.refused == ()


# -- the command line -------------------------------------------------------------------------------


def run(home, *args: str, expect: int):
    env = {"TRADEVC_WALLET_HOME": str(home), "TRADEVC_WALLET_PASSPHRASE": PASS, "TRADEVC_WALLET_PASSPHRASE_FILE": None}
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == expect, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_cli_import_and_restore_report_what_they_refused(tmp_path, source):
    records = [record(credential(1)), record(tampered(2)), {"id": "urn:uuid:\u202eevil"}]
    backup = forged_backup(tmp_path, source, records)
    run(tmp_path / "wallet", "init", expect=0)
    result = run(tmp_path / "wallet", "import", backup, "--offline", expect=1)
    refused = result.stderr.splitlines()
    assert refused[0].startswith(f"REFUSED {REFUSED_IDS[0]}: did not verify: ")
    assert refused[1] == "REFUSED urn:uuid:\\u202eevil: the backup's record holds no credential; not kept"
    assert result.stdout == "OK: 1 credential(s) added, 0 already held, 2 refused\n"
    assert [c["id"] for c in json.loads(run(tmp_path / "wallet", "list", "--json", expect=0).output)] == KEPT_IDS[:1]

    restored = run(tmp_path / "restored", "import", backup, "--offline", expect=1)
    assert len(restored.stderr.splitlines()) == 2
    assert restored.stdout.startswith(f"OK: wallet restored in {tmp_path / 'restored'} with 1 credential(s), 2 refused")


HIDDEN = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u200b\u00ad\ufeff\u2028\x7f\x85"


def test_cli_show_and_list_escape_format_characters(tmp_path):
    run(tmp_path / "wallet", "init", expect=0)
    shown = credential(7, name=f"Invoice {HIDDEN} fdp.exe", id="urn:example:inv\u202eoice")
    (tmp_path / "shown.json").write_text(json.dumps(shown, ensure_ascii=False), encoding="utf-8")
    added = run(tmp_path / "wallet", "add", str(tmp_path / "shown.json"), "--offline", expect=0).output
    assert added.startswith("added urn:example:inv\\u202eoice  AlumniCredential from did:key:")
    output = run(tmp_path / "wallet", "show", shown["id"], expect=0).output
    assert not any(c in output for c in HIDDEN)
    assert "Invoice \\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u200b" in output
    assert json.loads(output) == shown  # the same JSON, escaped
    listed = run(tmp_path / "wallet", "list", expect=0).output
    assert "urn:example:inv\\u202eoice" in listed and "\u202e" not in listed


def test_cli_show_keeps_visible_text_as_it_is(tmp_path):
    run(tmp_path / "wallet", "init", expect=0)
    wallet = Wallet.open(tmp_path / "wallet", PASS, verifier=OFFLINE)
    text = "Aceros del Norte — Monterrey, México; 钢铁; مصنع الصلب; emoji 🏭\ttab"
    shown = credential(8, name=text)
    wallet.add(shown)
    output = run(tmp_path / "wallet", "show", shown["id"], expect=0).output
    assert "Aceros del Norte — Monterrey, México; 钢铁; مصنع الصلب; emoji 🏭\\ttab" in output
    assert json.loads(output) == shown
