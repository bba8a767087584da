"""``sima.licence.matches`` checks the licence's country of melt and pour against the heats the
mill certificates (and the supply path upstream of them) show, not only against the line's
declaration: a licence saying MX for steel melted and poured in CN is a mismatch, with both as
evidence. Real signed credentials."""

from __future__ import annotations

from typing import Any

from support.entries import MELT_SHOP, World, licence, mill_report
from tradevc.verifier.entry import Decision

HEAT_WORDS = "but the mill certificates show"


def sima_heat_findings(world: World) -> list[Any]:
    report = world.run()
    return [f for f in report.line(1).findings if f.rule == "sima.licence.matches" and HEAT_WORDS in f.message]


def test_a_licence_for_mexican_melt_on_chinese_heats_is_a_mismatch() -> None:
    world = World.steel(heats=[("H26-18841", "CN", 100000)])  # declared MX, licence MX, melted in CN
    (f,) = sima_heat_findings(world)
    assert f.decision is Decision.REJECT and f.applies_to == "line"
    assert "SIMA-2026-0418739" in f.message and "MX" in f.message and "heat H26-18841 in CN" in f.message
    evidence = {(e.credential_id, e.pointer, e.value) for e in f.evidence}
    assert ("urn:uuid:sima-1", "/credentialSubject/productInformation/0/countryOfMeltAndPour", "MX") in evidence
    assert ("urn:uuid:mtr-1", "/credentialSubject/product/0/originalCountryOfMeltAndPour", "CN") in evidence


def test_the_heats_melt_country_is_taken_upstream_on_the_supply_path() -> None:
    world = World.steel()
    melt = mill_report(day=world.day, key=MELT_SHOP, id="urn:uuid:melt-1", heats=[("H26-18841", "CN", 100000)])
    world.replace("urn:uuid:mtr-1", mill_report(day=world.day, heats=[("H26-18841", "CN", 100000)], source=melt))
    world.credentials.append(melt)
    (f,) = sima_heat_findings(world)
    assert ("urn:uuid:melt-1", "/credentialSubject/product/0/originalCountryOfMeltAndPour", "CN") in {
        (e.credential_id, e.pointer, e.value) for e in f.evidence}


def test_a_licence_that_agrees_with_the_heats_passes() -> None:
    world = World.steel(heats=[("H26-18841", "CN", 100000)])
    world.line = dict(world.line, countryOfMeltAndPour="CN")
    world.replace("urn:uuid:sima-1", licence(day=world.day, melt="CN"))
    assert sima_heat_findings(world) == []
    assert World.steel().run().decision is Decision.ACCEPT  # MX everywhere


def test_only_the_lines_heats_are_compared() -> None:
    world = World.steel(heats=[("H26-18841", "MX", 100000), ("H26-18842", "CN", 100000)])
    assert sima_heat_findings(world) == []  # the line names H26-18841 only
    world.line = dict(world.line, heats=[])  # all of the certificate's heats: H26-18842 counts
    (f,) = sima_heat_findings(world)
    assert "H26-18842 in CN" in f.message and "H26-18841" not in f.message


def test_the_mismatch_rejects_the_line_declared_truthfully() -> None:
    world = World.steel(heats=[("H26-18841", "CN", 100000)])
    world.line = dict(world.line, countryOfMeltAndPour="CN")  # the declaration is right, the licence says MX
    report = world.run()
    heat = [f for f in report.line(1).findings if f.rule == "sima.licence.matches" and HEAT_WORDS in f.message]
    assert len(heat) == 1 and "steel.melt-pour.matches-mill" not in {f.rule for f in report.line(1).findings}
    assert report.line(1).decision is Decision.REJECT
