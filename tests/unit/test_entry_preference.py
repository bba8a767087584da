"""A denied preference is not a refused good: USMCA findings target the preference claim
(``Finding.applies_to == "preference"``), the report gives each line the decision on its goods
and the decision on its preference, and a rejected preference makes the line REVIEW (duty at
the general rate), never ACCEPT and never REJECT on its own. Real signed credentials, real
SQLite, the real CLI."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from support.entries import MILL, World, certification, finding, licence
from tradevc.verifier.cli import cli
from tradevc.verifier.entry import Decision, RuleError, RuleSet
from tradevc.verifier.ledger import open_ledger


@pytest.fixture(scope="module")
def steel() -> World:
    return World.steel()


def uncovered(steel: World) -> World:
    """The certification covers plate (7208.51), the line is pipe (7304.19): the claim fails."""
    world = copy.deepcopy(steel)
    world.replace("urn:uuid:coo-1", certification(day=world.day, goods=("720851",)))
    return world


def test_goods_not_covered_reject_the_preference_not_the_goods(steel: World) -> None:
    report = uncovered(steel).run()
    f = finding(report, "usmca.certification.covers-line")
    assert f.decision is Decision.REJECT and f.applies_to == "preference"
    line = report.line(1)
    assert line.preference_decision is Decision.REJECT
    assert line.decision is Decision.REVIEW
    assert line.reason.startswith("preference USMCA denied: duty at the general rate")
    assert "7304.19" in line.reason or "730419" in line.reason
    assert report.decision is Decision.REVIEW


def test_a_defective_certification_puts_the_preference_under_review(steel: World) -> None:
    world = copy.deepcopy(steel)

    def defective(credential: dict[str, Any]) -> None:
        del credential["credentialSubject"]["certifier"]["certifierDetails"]["phoneNumber"]

    world.replace("urn:uuid:coo-1", certification(day=world.day, after=defective))
    report = world.run()
    assert finding(report, "usmca.certification.elements").applies_to == "preference"
    assert report.line(1).preference_decision is Decision.REVIEW
    assert report.line(1).decision is Decision.REVIEW
    assert "correctable" in report.line(1).reason


def test_a_supported_claim_and_no_claim(steel: World) -> None:
    report = steel.run()
    assert report.line(1).preference_decision is Decision.ACCEPT
    assert report.line(1).decision is Decision.ACCEPT
    world = copy.deepcopy(steel)
    world.line = dict(world.line, preference=None)
    assert world.run().line(1).preference_decision is None


def test_goods_findings_still_reject_the_line_whatever_the_preference(steel: World) -> None:
    world = uncovered(steel)
    world.line = dict(world.line, countryOfMeltAndPour="CN")  # misdeclared: the goods are refused
    report = world.run()
    assert finding(report, "steel.melt-pour.matches-mill").applies_to == "line"
    assert report.line(1).preference_decision is Decision.REJECT
    assert report.line(1).decision is Decision.REJECT
    assert "misdeclared" in report.line(1).reason
    assert report.decision is Decision.REJECT


def test_the_report_shows_both_decisions(steel: World) -> None:
    report = uncovered(steel).run()
    data = report.to_dict()
    line = data["lines"][0]
    assert line["decision"] == "REVIEW" and line["preferenceDecision"] == "REJECT"
    (f,) = [f for f in line["findings"] if f["rule"] == "usmca.certification.covers-line"]
    assert f["appliesTo"] == "preference"
    assert all(f["appliesTo"] == "line" for f in line["findings"] if not f["rule"].startswith("usmca."))
    text = report.summary()
    assert "preference USMCA: REJECTED" in text
    assert "line 1 preference REJECT [usmca.certification.covers-line]" in text
    page = report.to_html()
    assert "USMCA: REJECTED" in page and "<td>preference REJECT</td>" in page
    assert steel.run().to_dict()["lines"][0]["preferenceDecision"] == "ACCEPT"


def test_the_default_table_targets_usmca_rules_at_the_preference() -> None:
    rules = RuleSet.default()
    for rule in rules.rules:
        expected = "preference" if rule.id.startswith(("usmca.", "preference.")) or rule.id == "quantity.certification" \
            else "line"
        assert rule.target == expected, rule.id
        assert rule.to_dict()["appliesTo"] == expected


def test_a_bad_target_in_a_table_or_policy_is_named() -> None:
    table = {"version": 1, "rules": [{"id": "x", "check": "usmca_present", "description": "d", "source": "s",
                                      "decision": "REVIEW", "appliesTo": "goods"}]}
    with pytest.raises(RuleError, match=r"rules\[0\] \(x\)\.appliesTo: must be 'line' or 'preference'"):
        RuleSet.from_table(table)
    with pytest.raises(RuleError, match="appliesTo: must be 'line' or 'preference'"):
        RuleSet.from_policy({"entryRules": {"usmca.certification.covers-line": {"appliesTo": "entry"}}})


def test_a_policy_may_make_a_preference_rule_refuse_the_goods(steel: World) -> None:
    world = uncovered(steel)
    world.policy = dict(world.policy, entryRules={"usmca.certification.covers-line": {"appliesTo": "line"}})
    report = world.run()
    assert finding(report, "usmca.certification.covers-line").applies_to == "line"
    assert report.line(1).decision is Decision.REJECT


def test_a_denied_preference_draws_nothing_from_the_certification(steel: World) -> None:
    ledger = open_ledger(":memory:")
    world = copy.deepcopy(steel)
    world.replace("urn:uuid:sima-1", licence(day=world.day, value=1200.0, kind="LowValue"))

    def outside(credential: dict[str, Any]) -> None:
        credential["credentialSubject"]["certifier"]["role"] = "Freight forwarder"

    world.replace("urn:uuid:coo-1", certification(day=world.day, after=outside, quantity=100000))
    report = world.run(ledger=ledger)
    assert report.line(1).preference_decision is Decision.REJECT and report.decision is Decision.REVIEW
    assert report.recorded  # the goods enter (at the general rate): the heat is drawn ...
    assert ledger.drawn("urn:uuid:coo-1#730419")[0] == Decimal(0)  # ... the certification is not
    assert ledger.drawn(f"heat:{MILL.did}:H26-18841")[0] == Decimal(78422)


# -- the CLI: 0 ACCEPT, 1 REJECT, 4 REVIEW ------------------------------------------------------


def test_the_cli_exits_review_for_a_denied_preference(steel: World, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["entry", *uncovered(steel).cli_args(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 4, result.output
    assert "decision: REVIEW" in result.output.splitlines()[0]
    assert "preference USMCA: REJECTED" in result.output


def test_the_cli_exits_reject_when_the_goods_are_refused_too(steel: World, tmp_path: Path) -> None:
    world = uncovered(steel)
    world.line = dict(world.line, countryOfMeltAndPour="CN")
    result = CliRunner().invoke(cli, ["entry", *world.cli_args(tmp_path), "--json"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    line = json.loads(result.output)["lines"][0]
    assert line["decision"] == "REJECT" and line["preferenceDecision"] == "REJECT"


@pytest.mark.parametrize("claimed", ["S", "s+", " USMCA "])
def test_the_usmca_claim_under_its_special_programme_indicator_is_checked(steel: World, claimed: str) -> None:
    """CBP's special programme indicator for USMCA is S (S+ with a Section 232 or 301
    exclusion): claimed that way, with goods the certification does not cover, the claim is
    still checked and denied, not accepted unchecked."""
    world = uncovered(steel)
    world.line = dict(world.line, preference=claimed)
    report = world.run()
    assert finding(report, "usmca.certification.covers-line").applies_to == "preference"
    assert report.line(1).preference_decision is Decision.REJECT
    assert report.decision is Decision.REVIEW


@pytest.mark.parametrize("claimed", ["GSP", "KORUS", "NAFTA"])
def test_a_preference_no_rule_verifies_is_not_accepted(steel: World, claimed: str) -> None:
    """A claim the rule set has no rules for is not reported ACCEPTED: nothing checked it."""
    world = copy.deepcopy(steel)
    world.line = dict(world.line, preference=claimed)
    report = world.run()
    f = finding(report, "preference.claim-verified")
    assert f.decision is Decision.REVIEW and f.applies_to == "preference" and claimed in f.message
    assert report.line(1).preference_decision is Decision.REVIEW
    assert "ACCEPTED" not in report.summary()
    assert report.decision is Decision.REVIEW
