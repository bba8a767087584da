"""``vc-issuer issue --out``: a path that cannot be written is refused before anything is
signed or recorded, with a message naming the path; the registry lists a credential only once
its file was written (issue 18, point 6)."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli
from tradevc.issuer.credential_types import load_example

PASS = "mill passphrase"
TYPE = "USMCACertificationOfOrigin"


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    Issuer.init(path, PASS.encode(), name="Aceros del Norte", did_web_domain="mill.example",
                status_base_url="https://mill.example/status/").close()
    return path


@pytest.fixture
def subject(tmp_path):
    path = tmp_path / "subject.json"
    path.write_text(json.dumps(load_example(TYPE)), encoding="utf-8")
    return path


def issue(home: Path, subject: Path, out: str):
    env = {"TRADEVC_ISSUER_HOME": str(home), "TRADEVC_ISSUER_PASSPHRASE": PASS}
    return CliRunner().invoke(cli, ["issue", "--type", TYPE, "--subject", str(subject),
                                    "--valid-until", "2027-06-30T23:59:59Z", "--out", out], env=env)


def registry_of(home: Path):
    with Issuer.open(home, PASS.encode()) as issuer:
        return issuer.issued(), issuer.registry.lists()


@pytest.mark.parametrize(
    "where, message",
    [
        ("missing/coo.json", "the folder {tmp}/missing does not exist; create it first"),
        ("deeper/still/coo.json", "the folder {tmp}/deeper/still does not exist"),
        ("subject.json/coo.json", "{tmp}/subject.json is not a folder"),
    ],
    ids=["missing-folder", "missing-folders", "file-as-folder"],
)
def test_an_unwritable_out_is_refused_before_anything_is_recorded(home, subject, tmp_path, where, message):
    before = registry_of(home)
    out = str(tmp_path / where)
    result = issue(home, subject, out)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: --out: cannot write ") and result.output.count("\n") == 1
    assert message.format(tmp=tmp_path) in result.output
    assert "Traceback" not in result.output and ".tmp" not in result.output
    assert registry_of(home) == before == ([], [])


def test_a_writable_out_is_written_then_recorded(home, subject, tmp_path):
    (tmp_path / "inbox").mkdir()
    out = tmp_path / "inbox" / "coo.json"
    result = issue(home, subject, str(out))
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    records, lists = registry_of(home)
    assert [(r.id, r.state) for r in records] == [(written["id"], "issued")]
    assert len(lists) == 2  # revocation and suspension


def test_a_failed_delivery_releases_the_reservation(home):
    """The write fails after signing (a full disk, a folder removed meanwhile): nothing stays
    recorded, not even as reserved, and no status list is left behind."""
    with Issuer.open(home, PASS.encode()) as issuer:
        first = issuer.issue(load_example(TYPE), type_name=TYPE, valid_until="2027-06-30T23:59:59Z")

        def full_disk(signed):
            assert signed["proof"]  # it was signed
            raise OSError(errno.ENOSPC, "No space left on device", "coo.json")

        with pytest.raises(OSError, match="No space left"):
            issuer.issue(load_example(TYPE), type_name=TYPE, valid_until="2027-06-30T23:59:59Z",
                         credential_id="urn:uuid:lost", deliver=full_disk)
        assert [r.id for r in issuer.issued()] == [first["id"]]
        assert [len(bits) for *_, bits in issuer.registry.lists()] == [0, 0]
        # the id can be issued now, and the lists count one entry more each
        delivered = []
        issuer.issue(load_example(TYPE), type_name=TYPE, valid_until="2027-06-30T23:59:59Z",
                     credential_id="urn:uuid:lost", deliver=delivered.append)
        assert [d["id"] for d in delivered] == ["urn:uuid:lost"]
        assert {r.id: r.state for r in issuer.issued()} == {first["id"]: "issued", "urn:uuid:lost": "issued"}


def test_release_keeps_an_issued_credential(home):
    with Issuer.open(home, PASS.encode()) as issuer:
        signed = issuer.issue(load_example(TYPE), type_name=TYPE, valid_until="2027-06-30T23:59:59Z")
        assert issuer.registry.release(signed["id"]) is False
        assert issuer.registry.release("urn:uuid:never") is False
        assert [r.state for r in issuer.issued()] == ["issued"]


def test_a_failed_delivery_without_status_lists_releases_too(tmp_path):
    path = tmp_path / "keyhome"
    Issuer.init(path, PASS.encode(), name="Aceros del Norte").close()
    with Issuer.open(path, PASS.encode()) as issuer:
        def fail(signed):
            raise OSError(errno.EACCES, "Permission denied", "coo.json")

        with pytest.raises(OSError):
            issuer.issue(load_example(TYPE), type_name=TYPE, valid_until="2027-06-30T23:59:59Z", deliver=fail)
        assert issuer.issued() == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where no file can be made")
def test_a_write_that_fails_after_signing_names_the_path_and_records_nothing(home, subject):
    """/proc passes the checks made beforehand (a folder, writable for root) but takes no new
    file: the failure comes after signing, and the reservation is released."""
    result = issue(home, subject, "/proc/coo.json")
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: IO_ERROR: /proc/coo.json: ") and result.output.count("\n") == 1
    assert "nothing was recorded as issued" in result.output and ".tmp" not in result.output
    assert registry_of(home) == ([], [])
