"""``vc-issuer issue-batch``: many credentials in one process, one subject per JSON Lines line,
atomically per credential (issue 18, point 11)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli
from tradevc.issuer.credential_types import load_example
from tradevc.verifier import TrustPolicy, Verifier

PASS = "mill passphrase"
TYPE = "USMCACertificationOfOrigin"
UNTIL = "2027-06-30T23:59:59Z"


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    Issuer.init(path, PASS.encode(), name="Aceros del Norte").close()
    return path


def subjects(n: int) -> list[str]:
    base = load_example(TYPE)
    return [json.dumps(base, ensure_ascii=False) for _ in range(n)]


def run(home: Path, *args: str):
    env = {"TRADEVC_ISSUER_HOME": str(home), "TRADEVC_ISSUER_PASSPHRASE": PASS}
    return CliRunner().invoke(cli, ["issue-batch", *args], env=env)


def issued(home: Path):
    with Issuer.open(home, PASS.encode()) as issuer:
        return [r for r in issuer.issued() if r.state == "issued"], issuer.did


def test_twenty_subjects_give_twenty_files_that_verify(home, tmp_path):
    source = tmp_path / "subjects.jsonl"
    source.write_text("\n".join(subjects(20)) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = run(home, str(source), "--type", TYPE, "--valid-until", UNTIL, "--out-dir", str(out))
    assert result.exit_code == 0, result.output
    assert "issued 20" in result.output and "failed 0" in result.output
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"line-{n:04d}.json" for n in range(1, 21)]
    records, did = issued(home)
    assert len(records) == 20
    verifier = Verifier.offline(policy=TrustPolicy({did: [TYPE]}))
    for f in files:
        verdict = verifier.verify_credential(json.loads(f.read_text(encoding="utf-8")))
        assert verdict.verified, verdict.summary()
    assert {json.loads(f.read_text())["id"] for f in files} == {r.id for r in records}


def test_out_jsonl_holds_one_credential_a_line(home, tmp_path):
    source = tmp_path / "subjects.jsonl"
    source.write_text("\n".join(subjects(3)) + "\n", encoding="utf-8")
    out = tmp_path / "issued.jsonl"
    result = run(home, str(source), "--type", TYPE, "--valid-until", UNTIL, "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all(json.loads(line)["proof"] for line in lines)


def test_a_bad_line_is_named_and_skipped(home, tmp_path):
    lines = subjects(5)
    lines[2] = '{"broken": '
    source = tmp_path / "subjects.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = run(home, str(source), "--type", TYPE, "--valid-until", UNTIL, "--out-dir", str(out))
    assert result.exit_code == 1, result.output
    assert "issued 4" in result.output and "failed 1" in result.output
    assert "line 3:" in result.output
    assert "Traceback" not in result.output
    assert sorted(f.name for f in out.iterdir()) == ["line-0001.json", "line-0002.json", "line-0004.json",
                                                     "line-0005.json"]
    assert len(issued(home)[0]) == 4


def test_unknown_type_is_refused(home, tmp_path):
    source = tmp_path / "subjects.jsonl"
    source.write_text("\n".join(subjects(2)) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = run(home, str(source), "--type", "MillTestReport", "--out-dir", str(out))
    assert result.exit_code == 2, result.output
    assert "not a known credential type" in result.output
    assert list(out.iterdir()) == [] and issued(home)[0] == []


def test_a_bom_file_works(home, tmp_path):
    source = tmp_path / "subjects.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + ("\n".join(subjects(2)) + "\n").encode("utf-8"))
    out = tmp_path / "out"
    out.mkdir()
    result = run(home, str(source), "--type", TYPE, "--valid-until", UNTIL, "--out-dir", str(out))
    assert result.exit_code == 0, result.output
    assert len(list(out.iterdir())) == 2


def test_a_latin1_file_is_refused(home, tmp_path):
    lines = subjects(2)
    source = tmp_path / "subjects.jsonl"
    source.write_bytes(("\n".join(lines) + "\n").replace("}", ', "note": "Treviño"}', 1).encode("latin-1"))
    out = tmp_path / "out"
    out.mkdir()
    result = run(home, str(source), "--type", TYPE, "--valid-until", UNTIL, "--out-dir", str(out))
    assert result.exit_code == 2, result.output
    assert "not UTF-8" in result.output and "Traceback" not in result.output
    assert issued(home)[0] == []


def test_no_lines_is_bad_input(home, tmp_path):
    source = tmp_path / "subjects.jsonl"
    source.write_text("\n\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = run(home, str(source), "--type", TYPE, "--out-dir", str(out))
    assert result.exit_code == 2, result.output


def test_nothing_is_recorded_for_a_line_whose_write_fails(home, tmp_path):
    source = tmp_path / "subjects.jsonl"
    source.write_text("\n".join(subjects(3)) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "line-0002.json").mkdir()  # a folder where the file should go: that write fails
    result = run(home, str(source), "--type", TYPE, "--valid-until", UNTIL, "--out-dir", str(out))
    assert result.exit_code == 1, result.output
    assert "line 2:" in result.output
    records, _ = issued(home)
    assert len(records) == 2
    with Issuer.open(home, PASS.encode()) as issuer:
        assert len(issuer.issued()) == 2  # not even a reserved one


def test_a_subject_the_trade_checks_refuse_is_named(home, tmp_path):
    lines = subjects(2)
    lines.insert(1, json.dumps({"name": "no origin criterion"}))
    lines.insert(2, "[1, 2]")
    source = tmp_path / "subjects.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result = run(home, str(source), "--type", TYPE, "--valid-until", UNTIL, "--out-dir", str(out))
    assert result.exit_code == 1, result.output
    assert "issued 2, failed 2" in result.output
    assert "line 2:" in result.output and "line 3: " in result.output and "JSON object" in result.output
    assert "Traceback" not in result.output


def test_ctrl_c_stops_after_the_current_credential(home, tmp_path, monkeypatch):
    source = tmp_path / "subjects.jsonl"
    source.write_text("\n".join(subjects(5)) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    calls = []
    real = Issuer.issue

    def issue_then_press_ctrl_c(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # while the second credential is being signed
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Issuer, "issue", issue_then_press_ctrl_c)
    result = run(home, str(source), "--type", TYPE, "--valid-until", UNTIL, "--out-dir", str(out))
    assert result.exit_code == 130, result.output
    assert "issued 2, failed 0 of 5" in result.output and "interrupted: 3 subject(s) not issued" in result.output
    assert sorted(f.name for f in out.iterdir()) == ["line-0001.json", "line-0002.json"]
    assert len(issued(home)[0]) == 2
