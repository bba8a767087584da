"""The default rule table's scopes and dates, as the sources give them: the Section 232 steel
articles of Proclamation 9705 clause 1 (HTS 7206.10-7216.50, 7216.99-7301.10, 7302.10,
7302.40-7302.90, 7304.10-7306.90, as CBP lists them in CSMS #62582900), the SIMA licence scope
(harmonized with them in 2020), the mill certificate scope of 19 CFR 141.89 (chapter 72 and
headings 7301-7307), Mexico's derivative steel articles (Proclamation 9980 Annex II); and each
change of date: the day before, the day of and the day after. Scopes are checked on the rules
themselves (every HTS number just inside and just outside), dates on the table and, for the
main ones, end to end with real signed credentials."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from support.entries import World, finding, rules_hit
from tradevc.verifier.entry import Decision, RuleSet
from tradevc.verifier.entry.model import Entry, Line

RULES = RuleSet.default()


def line(hts: str, origin: str = "MX") -> Line:
    return Entry.from_json({
        "entryNumber": "ABC-1234567-8", "dateOfImport": "2026-03-10", "entrySummaryDate": "2026-03-12",
        "importerOfRecord": {"identifier": "76-1234567"},
        "lines": [{"line": 1, "hts": hts, "description": "d", "quantity": 1, "unit": "KGM", "value": 1,
                   "countryOfOrigin": origin}],
    }).lines[0]


def applies(rule_id: str, hts: str, origin: str = "MX") -> bool:
    return RULES.rule(rule_id).applies_to(line(hts, origin))


# each range's first and last subheading, and its neighbours outside
S232_INSIDE = ["7206.10.0000", "7206.90.0000", "7208.51.0030", "7216.10.0010", "7216.50.0000", "7216.99.0010",
               "7217.10.1000", "7229.90.9000", "7301.10.0000", "7302.10.1010", "7302.40.0000", "7302.90.1000",
               "7304.11.0020", "7304.19.1020", "7305.11.1030", "7306.90.5000"]
S232_OUTSIDE = ["7204.49.0060", "7205.10.0000", "7216.61.0000", "7216.69.0000", "7216.91.0010", "7301.20.1000",
                "7302.30.0000", "7303.00.0030", "7307.19.3000", "7308.90.9590", "7317.00.5503", "8708.10.3010"]
S232_RULES = ["steel.melt-pour.declared", "steel.melt-pour.declared-mexico", "s232.mexico.north-america-melt",
              "s232.all-countries", "s232.all-countries-50", "sima.licence.present", "sima.licence.matches",
              "sima.licence.single-use"]


@pytest.mark.parametrize("hts", S232_INSIDE)
def test_steel_articles_are_in_the_section_232_and_sima_scopes(hts: str) -> None:
    assert {r for r in S232_RULES if applies(r, hts)} == set(S232_RULES)


@pytest.mark.parametrize("hts", S232_OUTSIDE)
def test_other_iron_and_steel_is_outside_them(hts: str) -> None:
    assert {r for r in S232_RULES if applies(r, hts) and r != "s232.mexico.north-america-melt"} == set()


@pytest.mark.parametrize("hts, inside", [
    ("7201.10.0000", True), ("7205.10.0000", True), ("7216.61.0000", True), ("7303.00.0030", True),
    ("7307.19.3000", True), ("7308.90.9590", False), ("7106.10.0000", False), ("7317.00.5503", False),
])
def test_a_mill_certificate_is_asked_for_chapter_72_and_headings_7301_to_7307(hts: str, inside: bool) -> None:
    for rule in ("steel.mill-certificate.present", "steel.melt-pour.matches-mill", "quantity.heat"):
        assert applies(rule, hts) is inside, rule


@pytest.mark.parametrize("hts, inside", [
    ("7317.00.3000", True), ("7317.00.5503", True), ("7317.00.5580", True), ("7317.00.6560", True),
    ("8708.10.3020", True), ("8708.29.2120", True),  # stampings of steel
    ("7317.00.5570", False), ("7317.00.6530", False), ("8708.10.3030", False), ("8708.29.2130", False),  # of aluminium
    ("8708.10.6010", False), ("8708.29.5060", False),
])
def test_mexicos_derivative_steel_articles(hts: str, inside: bool) -> None:
    assert applies("steel.melt-pour.declared-mexico-derivatives", hts) is inside
    assert applies("s232.mexico.north-america-melt", hts) is inside
    assert not applies("steel.melt-pour.declared-mexico-derivatives", hts, origin="CA")
    assert not applies("steel.melt-pour.declared", hts)  # derivatives of other countries: optional


def in_force(rule_id: str, day: date) -> bool:
    return rule_id in {r.id for r in RULES.in_force(day)}


@pytest.mark.parametrize("rule_id, start, until", [
    ("steel.melt-pour.declared-mexico", date(2024, 7, 10), date(2024, 11, 21)),
    ("steel.melt-pour.declared", date(2024, 11, 21), None),
    ("steel.melt-pour.declared-mexico-derivatives", date(2024, 11, 21), None),
    ("s232.mexico.north-america-melt", date(2024, 7, 10), date(2025, 3, 12)),
    ("s232.all-countries", date(2025, 3, 12), date(2025, 6, 4)),
    ("s232.all-countries-50", date(2025, 6, 4), None),
    ("usmca.certification.present", date(2020, 7, 1), None),
    ("parties.listed-entity", date(2022, 6, 21), None),
    ("sima.licence.present", date(2005, 3, 11), None),
])
def test_the_day_before_the_day_of_and_the_day_after_each_change(rule_id: str, start: date,
                                                                  until: date | None) -> None:
    day = timedelta(days=1)
    assert not in_force(rule_id, start - day)
    assert in_force(rule_id, start) and in_force(rule_id, start + day)
    if until is not None:
        assert in_force(rule_id, until - day)
        assert not in_force(rule_id, until) and not in_force(rule_id, until + day)


def test_every_rule_cites_its_source_and_says_what_is_unconfirmed() -> None:
    for rule in RULES.rules:
        assert rule.source, rule.id
        assert "unconfirmed" not in rule.source, f"{rule.id}: say what is unconfirmed in the note, not the source"
    assert "CSMS #62582900" in RULES.rule("steel.melt-pour.declared").source
    assert "Proclamation 10947" in RULES.rule("s232.all-countries-50").source
    assert "85 FR 56162" in RULES.rule("sima.licence.present").source
    assert RULES.rule("usmca.certification.period").note  # the paragraph was not confirmed
    assert RULES.rule("usmca.certification.period").to_dict()["note"] == RULES.rule("usmca.certification.period").note


# -- end to end, real signed credentials -------------------------------------------------------


def undeclared(day: date, **line: Any) -> World:
    world = World.steel(day)
    world.line = {k: v for k, v in world.line.items() if k != "countryOfMeltAndPour"} | line
    return world


def test_mexican_steel_without_melt_and_pour_around_2024_07_10_and_2024_11_21() -> None:
    assert not {"steel.melt-pour.declared", "steel.melt-pour.declared-mexico"} & rules_hit(
        undeclared(date(2024, 7, 9)).run())
    f = finding(undeclared(date(2024, 7, 10)).run(), "steel.melt-pour.declared-mexico")
    assert f.decision is Decision.REVIEW and "North America" in f.message
    assert "steel.melt-pour.declared-mexico" in rules_hit(undeclared(date(2024, 11, 20)).run())
    report = undeclared(date(2024, 11, 21)).run()
    assert finding(report, "steel.melt-pour.declared").decision is Decision.REJECT
    assert "steel.melt-pour.declared-mexico" not in rules_hit(report)


def test_canadian_steel_without_melt_and_pour_around_2024_11_21() -> None:
    assert "steel.melt-pour.declared" not in rules_hit(undeclared(date(2024, 11, 20), countryOfOrigin="CA").run())
    assert "steel.melt-pour.declared" in rules_hit(undeclared(date(2024, 11, 21), countryOfOrigin="CA").run())


def test_the_section_232_rate_is_the_rate_of_the_date_of_import() -> None:
    assert "25%" in finding(World.steel(date(2025, 6, 3)).run(), "s232.all-countries").message
    report = World.steel(date(2025, 6, 4)).run()
    assert "s232.all-countries" not in rules_hit(report)
    f = finding(report, "s232.all-countries-50")
    assert f.decision is Decision.ACCEPT and "50%" in f.message and "Proclamation 10947" in f.source
    british = World.steel(date(2025, 6, 4))
    british.line = dict(british.line, countryOfOrigin="GB")
    assert "25%" in finding(british.run(), "s232.all-countries-50").message


def test_a_line_outside_the_section_232_scope_needs_no_melt_and_pour_nor_licence() -> None:
    world = undeclared(date(2026, 3, 10), hts="7307.19.3000", simaLicenseNumber=None, preference=None)
    hit = rules_hit(world.run())
    assert not {"steel.melt-pour.declared", "sima.licence.present", "s232.all-countries-50"} & hit
