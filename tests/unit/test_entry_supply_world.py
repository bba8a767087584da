"""Issue 17's bench entry as a test: 20 lines of seamless pipe backed by 8 presented credentials
(support.entries.World.supply), with a 3-step supply path from the pipe mill's report back to
the melt shop's. The entry is accepted; the same entry on steel melted elsewhere, or on a
supply path with a substituted step, is rejected."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from support.entries import MELT_SHOP, ROLLING_MILL, SUPPLY_IDS, World, finding, rules_hit, sign, supply_policy
from tradevc.verifier.entry import Decision

IDS = SUPPLY_IDS
STEPS = [(IDS["pipe"], IDS["piping"]), (IDS["piping"], IDS["rolling"]), (IDS["rolling"], IDS["melt"])]


@pytest.fixture(scope="module")
def world() -> World:
    return World.supply()


@pytest.fixture(scope="module")
def report(world: World) -> Any:
    return world.run()


def test_the_bench_entry_has_20_lines_on_8_credentials(world: World) -> None:
    presentation = world.presentation()
    assert len(presentation["verifiableCredential"]) == 8
    assert len(world.declaration()["lines"]) == 20
    assert all(c["proof"]["cryptosuite"] == "eddsa-rdfc-2022" for c in world.credentials)


def test_the_bench_entry_is_accepted(report: Any) -> None:
    assert report.decision is Decision.ACCEPT, report.summary()
    assert [r.line for r in report.lines] == list(range(1, 21))
    assert all(line.decision is Decision.ACCEPT for line in report.lines)
    for n in range(1, 21):  # the only finding is the duty notice
        assert rules_hit(report, n) == {"s232.all-countries-50"}  # the Section 232 duty applies (50 % from 2025-06-04)
    assert not report.findings
    assert len(report.documents) == 8 and all(d.verified for d in report.documents), [
        (d.id, d.reason) for d in report.documents]


def test_the_walk_sees_three_steps_to_the_melt_shop(report: Any) -> None:
    for n in range(1, 21):
        path = report.supply_paths[str(n)]
        assert [(e["from"], e["to"]) for e in path["edges"]] == STEPS
        depths = {node["id"]: node["depth"] for node in path["nodes"]}
        assert depths == {IDS["pipe"]: 0, IDS["piping"]: 1, IDS["rolling"]: 2, IDS["melt"]: 3,
                          IDS["certification"]: 0, IDS["licence"]: 0, IDS["invoice"]: 0}  # the line's own
        assert all(node["verified"] and node["linked"] for node in path["nodes"])
        assert path["findings"] == []
        issuers = {node["id"]: node["issuer"] for node in path["nodes"]}
        assert issuers[IDS["melt"]] == MELT_SHOP.did and issuers[IDS["rolling"]] == ROLLING_MILL.did
        assert {h["meltCountry"] for h in path["heats"]} == {"MX"}
        assert {h["credentialId"] for h in path["heats"]} == {IDS["melt"]}


def test_the_line_heats_are_taken_from_the_melt_shop(world: World) -> None:
    world = copy.deepcopy(world)
    world.entry["lines"][0]["countryOfMeltAndPour"] = "CA"  # misdeclared on one line
    report = world.run()
    f = finding(report, "steel.melt-pour.matches-mill")
    assert f.decision is Decision.REJECT
    assert [(e.credential_id, e.value) for e in f.evidence[1:]] == [(IDS["melt"], "MX")]
    assert report.line(2).decision is Decision.ACCEPT


def test_steel_melted_elsewhere_is_a_misdeclaration_on_every_line() -> None:
    report = World.supply(melt_country="CN").run()
    assert report.decision is Decision.REJECT
    for n in range(1, 21):
        assert finding(report, "steel.melt-pour.matches-mill", n).decision is Decision.REJECT
        assert "supply.path-intact" not in rules_hit(report, n)


def test_a_substituted_step_breaks_every_line(world: World) -> None:
    world = copy.deepcopy(world)
    rolling = next(c for c in world.credentials if c["id"] == IDS["rolling"])
    forged = copy.deepcopy(rolling)
    del forged["proof"]
    forged["credentialSubject"]["newProducts"][0]["weight"] = "1"  # re-signed by the rolling mill
    world.replace(IDS["rolling"], sign(forged, ROLLING_MILL))
    report = world.run()
    assert report.decision is Decision.REJECT
    for n in range(1, 21):
        broken = [f for f in report.line(n).findings if f.rule == "supply.path-intact"]
        assert any(f.decision is Decision.REJECT and "DIGEST_MISMATCH" in f.message for f in broken), broken


def test_policy_expressions_see_each_line_and_the_whole_entry(world: World) -> None:
    world = copy.deepcopy(world)
    world.policy = supply_policy(expressions=[
        {"id": "policy.last-lines", "decision": "REVIEW", "message": "m",
         "when": "line.line > 18 && size(entry.lines) == 20 && size(documents) == 4 "
                 "&& size(heats) == 4 && heats.all(h, h.meltCountry == 'MX')"},
        {"id": "policy.heaviest", "decision": "REVIEW", "message": "m", "when": "line.quantityKg == 12000.0"},
        {"id": "policy.entry", "level": "entry", "decision": "REVIEW", "message": "m",
         "when": "size(entry.lines) == 20 && size(documents) == 8 && entry.lines[19].hts == '7304390044'"},
    ])
    report = world.run()
    hits = {n: rules_hit(report, n) - {"s232.all-countries-50"} for n in range(1, 21)}
    assert hits == {**{n: set() for n in range(1, 19)}, 19: {"policy.last-lines"},
                    20: {"policy.last-lines", "policy.heaviest"}}
    assert finding(report, "policy.entry", line=None).decision is Decision.REVIEW
    assert world.declaration()["lines"][0] == World.supply().declaration()["lines"][0]  # nothing changed
