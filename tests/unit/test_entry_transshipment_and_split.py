"""The entries at the end of ``make demo``, at the library level with real signed credentials
and a real SQLite ledger file: a transshipment through a two-step supply path is rejected,
naming the melt shop's report and heat; a single-shipment certification drawn beyond its
declared quantity by a second entry is REVIEW naming the first (REJECT when the policy says so)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from support.entries import MELT_SHOP, World, finding, policy, rules_hit
from support.transshipment import EVENT_ID, MELT_ID, PIPE_ID, second_entry, split_shipment, transshipment
from tradevc.verifier.entry import Decision, RuleSet
from tradevc.verifier.ledger import open_ledger


@pytest.fixture(scope="module")
def shipped() -> World:
    return transshipment()


# -- the transshipment --------------------------------------------------------------------------


def test_pipe_finished_in_mexico_from_chinese_heats_declared_mexico_is_rejected(shipped: World) -> None:
    report = shipped.run()
    assert report.decision is Decision.REJECT, report.summary()
    f = finding(report, "steel.melt-pour.matches-mill")
    assert f.decision is Decision.REJECT
    assert "melted and poured in CN (mill test report urn:uuid:melt-cn, heats H26-C7731, H26-C7732, upstream" in f.message
    assert "declared MX, misdeclared" in f.message
    upstream = [(e.credential_id, e.value) for e in f.evidence if e.credential_id is not None]
    assert upstream == [(MELT_ID, "CN"), (MELT_ID, "CN")]  # the melt shop's report, not the pipe mill's
    # every node verified, every digest matched: the finding is a misdeclaration, not a broken path
    assert "supply.path-intact" not in rules_hit(report)
    assert all(d.verified for d in report.documents), [(d.id, d.reason) for d in report.documents]
    edges = report.supply_paths["1"]["edges"]
    assert {"from": PIPE_ID, "to": EVENT_ID} in edges and {"from": EVENT_ID, "to": MELT_ID} in edges


def test_the_same_path_declared_as_melted_in_china_is_no_misdeclaration(shipped: World) -> None:
    world = copy.deepcopy(shipped)
    world.line = dict(shipped.line, countryOfMeltAndPour="CN")
    report = world.run()
    assert "steel.melt-pour.matches-mill" not in rules_hit(report)


def test_an_untrusted_melt_shop_breaks_the_path_instead(shipped: World) -> None:
    # without a trust path for the melt shop its report is an unverifiable node: REVIEW for the
    # path, and its heats are not taken as the origin
    world = copy.deepcopy(shipped)
    world.policy = dict(shipped.policy, trustedIssuers=[
        t for t in shipped.policy["trustedIssuers"] if t["did"] != MELT_SHOP.did])
    report = world.run()
    f = finding(report, "supply.path-intact")
    assert f.decision is Decision.REVIEW and "UNVERIFIABLE_NODE" in f.message
    melt = report.line(1).findings
    assert not any(e.credential_id == MELT_ID for x in melt for e in x.evidence if x.rule != "supply.path-intact")


# -- one certification, two entries --------------------------------------------------------------


def test_a_second_entry_beyond_the_certified_quantity_is_review_naming_the_first(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    first = split_shipment()
    a = first.run(ledger=open_ledger(db))
    assert a.decision is Decision.ACCEPT and a.recorded, a.summary()
    # customs opens the same ledger file again, as another port would
    b = second_entry(first).run(ledger=open_ledger(db))
    assert b.decision is Decision.REVIEW, b.summary()
    f = finding(b, "quantity.certification")
    assert f.decision is Decision.REVIEW
    assert "50000 kg" in f.message and "entry ABC-1234567-8 drew 30000 kg" in f.message
    assert [e.value for e in f.evidence if e.pointer == "ledger: earlier entry"] == ["ABC-1234567-8"]
    # nothing else asks for a decision (the Section 232 duty finding is information)
    assert {x.rule for x in b.all_findings() if x.decision is not Decision.ACCEPT} == {"quantity.certification"}


def test_within_the_certified_quantity_the_second_entry_is_accepted(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    first = split_shipment()
    first.run(ledger=open_ledger(db))
    b = second_entry(first, kg=20000)
    # the 30 t licence, 20 t used: beyond the default 5 % tolerance
    b.policy = policy(**{"sima.licence.matches": {"tolerance": 0.5}})
    report = b.run(ledger=open_ledger(db))
    assert "quantity.certification" not in rules_hit(report), report.summary()
    assert report.decision is Decision.ACCEPT


def test_the_policy_may_make_it_reject_and_then_nothing_is_drawn(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    # REJECT on the preference (the rule's default target) denies the claim: duty at the general
    # rate, the entry goes to review; a policy that refuses the entry itself says appliesTo "line"
    strict = policy(**{"quantity.certification": {"decision": "REJECT", "appliesTo": "line"}})
    first = split_shipment()
    first.policy = strict
    assert first.run(ledger=open_ledger(db)).decision is Decision.ACCEPT
    second = second_entry(first)
    b = second.run(ledger=open_ledger(db))
    f = finding(b, "quantity.certification")
    assert f.decision is Decision.REJECT and "ABC-1234567-8" in f.message
    assert b.decision is Decision.REJECT and not b.recorded
    # the rejected entry drew nothing: a third one for the 20 t left is within the certification
    third = second_entry(first, "ABC-2222222-2", kg=20000)
    third.policy = policy(**{"quantity.certification": {"decision": "REJECT", "appliesTo": "line"},
                             "sima.licence.matches": {"tolerance": 0.5}})
    assert "quantity.certification" not in rules_hit(third.run(ledger=open_ledger(db)))


def test_reject_on_the_preference_denies_the_claim_and_sends_the_entry_to_review(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    first = split_shipment()
    first.policy = policy(**{"quantity.certification": {"decision": "REJECT"}})
    assert first.run(ledger=open_ledger(db)).decision is Decision.ACCEPT
    second = second_entry(first)
    second.policy = first.policy
    b = second.run(ledger=open_ledger(db))
    assert finding(b, "quantity.certification").decision is Decision.REJECT
    assert b.decision is Decision.REVIEW
    assert all(line.preference_decision is Decision.REJECT for line in b.lines), b.summary()


def test_the_default_table_says_review_and_the_policy_can_override_it() -> None:
    assert RuleSet.default().rule("quantity.certification").decision is Decision.REVIEW
    rules = RuleSet.from_policy(policy(**{"quantity.certification": {"decision": "REJECT"}}), source="p.json")
    assert rules.rule("quantity.certification").decision is Decision.REJECT
