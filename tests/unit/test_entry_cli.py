"""``vc-verify entry``: the text table, --json, the exit codes (0 ACCEPT, 1 REJECT, 4 REVIEW,
2 bad input, 3 ledger unusable), --ledger across runs, and no traceback for bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from support.entries import World
from tradevc.verifier.cli import cli


@pytest.fixture(scope="module")
def steel() -> World:
    return World.steel()


def run(args: list[str]) -> Any:
    result = CliRunner().invoke(cli, ["entry", *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def test_an_accepted_entry(steel: World, tmp_path: Path) -> None:
    result = run(steel.cli_args(tmp_path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("ENTRY ABC-1234567-8 importer 76-1234567 (anchored by CBP importer records (Form 5106)) "
                        "date of import 2026-03-10 "
                        "decision: ACCEPT")
    assert lines[1].split() == ["LINE", "HTSUS", "DESCRIPTION", "QUANTITY", "ORIGIN", "MELT/POUR", "DECISION", "REASON"]
    assert lines[2].split()[:2] == ["1", "7304.19.1020"] and "ACCEPT" in lines[2]


def test_a_rejected_entry_as_json(steel: World, tmp_path: Path) -> None:
    world = copy.deepcopy(steel)
    world.line = dict(world.line, countryOfMeltAndPour="CN")
    result = run([*world.cli_args(tmp_path), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["decision"] == "REJECT" and report["lines"][0]["decision"] == "REJECT"
    (f,) = [f for f in report["lines"][0]["findings"] if f["rule"] == "steel.melt-pour.matches-mill"]
    assert f["severity"] == "error" and f["evidence"][1] == {
        "credential": "urn:uuid:mtr-1", "pointer": "/credentialSubject/product/0/originalCountryOfMeltAndPour",
        "value": "MX"}


def test_an_entry_for_review(steel: World, tmp_path: Path) -> None:
    world = copy.deepcopy(steel)
    world.line = dict(world.line, credentials=["urn:uuid:coo-1", "urn:uuid:sima-1"])
    result = run(world.cli_args(tmp_path))
    assert result.exit_code == 4, result.output
    assert "decision: REVIEW" in result.output.splitlines()[0]
    assert "[steel.mill-certificate.present] steel line without a verified mill test report" in result.output


def test_the_ledger_remembers_a_standard_licence(steel: World, tmp_path: Path) -> None:
    args = [*steel.cli_args(tmp_path), "--ledger", str(tmp_path / "ledger.db")]
    assert run(args).exit_code == 0
    world = copy.deepcopy(steel)
    world.entry = dict(world.entry, entryNumber="ABC-7654321-0")
    again = run([*world.cli_args(tmp_path), "--ledger", str(tmp_path / "ledger.db")])
    assert again.exit_code == 1 and "[sima.licence.single-use]" in again.output
    assert "ABC-1234567-8" in again.output


def test_a_malformed_entry_is_one_line_per_problem(steel: World, tmp_path: Path) -> None:
    args = steel.cli_args(tmp_path)
    bad = steel.declaration()
    bad["lines"][0]["hts"] = "73"
    bad["lines"][0]["countryOfOrigin"] = "Mexico"
    Path(args[0]).write_text(json.dumps(bad), encoding="utf-8")
    result = run(args)
    assert result.exit_code == 2
    assert [line.split(": ")[2] for line in result.output.splitlines()] == ["lines[0].hts", "lines[0].countryOfOrigin"]
    assert all(line.startswith("error: ") for line in result.output.splitlines())


@pytest.mark.parametrize("what, content, words", [
    ("policy", '{"trustedIssuers": [{"did": "did:key:z6Mk", "types": ["X"]}], "entryRules": {"no.such.rule": {}}}',
     "no.such.rule: no such rule"),
    ("policy", '{"trustedIssuers": [{"did": "did:key:z6Mk", "types": ["X"]}], "entryRules": '
               '{"expressions": [{"id": "x", "when": "line.value >", "decision": "REVIEW"}]}}', "not a CEL expression"),
    ("vp", "{not json", "vp.json"),
    ("entry", "[]", "(entry)"),
])
def test_bad_input_is_a_usage_error_without_traceback(steel: World, tmp_path: Path, what: str, content: str,
                                                       words: str) -> None:
    args = steel.cli_args(tmp_path)
    target = {"entry": args[0], "vp": args[1], "policy": args[3]}[what]
    Path(target).write_text(content, encoding="utf-8")
    result = run(args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and words in result.output


def test_a_ledger_that_cannot_be_opened(steel: World, tmp_path: Path) -> None:
    result = run([*steel.cli_args(tmp_path), "--ledger", "ftp://ledger.example/x"])
    assert result.exit_code == 2 and "error: --ledger" in result.output


def test_an_html_report_with_every_value_escaped(steel: World, tmp_path: Path) -> None:
    world = copy.deepcopy(steel)
    world.line = dict(world.line, description='<script>alert("x")</script> pipe', countryOfMeltAndPour="CN")
    args = world.cli_args(tmp_path)
    result = run([*args, "--report", str(tmp_path / "entry.html")])
    assert result.exit_code == 1
    page = (tmp_path / "entry.html").read_text(encoding="utf-8")
    assert "<h1 class=\"REJECT\">Entry ABC-1234567-8: REJECT</h1>" in page
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; pipe" in page
    assert "steel.melt-pour.matches-mill" in page and "urn:uuid:mtr-1" in page


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"entryNumber": ' * 50_000 + "1" + "}" * 50_000])
def test_an_entry_nested_too_deeply_is_bad_input(steel: World, tmp_path: Path, text: str) -> None:
    """A declaration nested deeper than the JSON reader can go is refused as bad input (exit 2,
    one line), not a traceback with exit 1 (which reads as REJECT)."""
    args = steel.cli_args(tmp_path)
    Path(args[0]).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["entry", *args])
    assert result.exit_code == 2, (result.exit_code, repr(result.exception))
    assert "Traceback" not in result.output and "nested" in result.output
