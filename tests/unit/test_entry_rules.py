"""Entry rules (tradevc.verifier.entry) with real signed credentials: for every rule a case that
passes and one that fails, the date ranges (the same entry judged differently before and after
2025-03-12; no melt-and-pour declaration needed before it was required), the ledger's quantities,
and the policy's configuration (a rule off, a decision changed, CEL expressions)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from support.entries import (
    BROKER, IMPORTER, MELT_SHOP, MID, MILL, OTHER, World, certification, finding, licence, mill_report, policy,
    rules_hit,
)
from support.parties import power_of_attorney
from support.vouches import authorisation
from tradevc.vc.keys import KeyPair
from tradevc.verifier.entry import Decision, RuleError, RuleSet
from tradevc.verifier.ledger import open_ledger

MARCH_2026 = date(2026, 3, 10)


@pytest.fixture(scope="module")
def steel() -> World:
    return World.steel()


def fresh(world: World) -> World:
    return copy.deepcopy(world)


# -- the whole entry ----------------------------------------------------------------------------


def test_a_supported_entry_is_accepted_and_the_report_shows_it(steel: World) -> None:
    report = steel.run()
    assert report.decision is Decision.ACCEPT, report.summary()
    assert report.line(1).decision is Decision.ACCEPT
    assert rules_hit(report) == {"s232.all-countries-50"}  # information only: the duty applies (50% since 2025-06-04)
    text = report.summary()
    assert text.splitlines()[0] == ("ENTRY ABC-1234567-8 importer 76-1234567 (anchored by CBP importer records "
                                    "(Form 5106)) date of import "
                                    "2026-03-10 decision: ACCEPT")
    assert "7304.19.1020" in text and "78422 KGM" in text
    data = report.to_dict()
    assert data["decision"] == "ACCEPT" and data["lines"][0]["decision"] == "ACCEPT"
    assert {d["type"] for d in data["documents"]} == {
        "MillTestReportCredential", "USMCACertificationOfOrigin", "SIMASteelImportLicenseCredential"}
    assert all(d["verified"] for d in data["documents"])
    assert "usmca.certification.covers-line" in data["rulesApplied"]


def test_the_entry_decision_is_the_worst_line(steel: World) -> None:
    world = fresh(steel)
    second = dict(world.line, line=2, countryOfMeltAndPour="CN")  # misdeclared: REJECT
    third = dict(world.line, line=3, credentials=[])  # nothing supports it: REVIEW at least
    world.entry["lines"] = [world.line, second, third]
    report = world.run()
    assert report.line(1).decision is Decision.ACCEPT
    assert report.line(2).decision is Decision.REJECT
    assert report.line(3).decision is Decision.REVIEW
    assert report.decision is Decision.REJECT


# -- documents ---------------------------------------------------------------------------------


def test_a_presentation_that_does_not_verify_rejects_the_entry(steel: World) -> None:
    world = fresh(steel)
    world.challenge = "another-challenge"
    report = world.run()
    f = finding(report, "documents.presentation-verified", line=None)
    assert f.decision is Decision.REJECT and "challenge" in f.message.lower()
    assert report.decision is Decision.REJECT


def test_a_tampered_credential_is_not_used(steel: World) -> None:
    world = fresh(steel)
    tampered = copy.deepcopy(world.credentials[0])
    tampered["credentialSubject"]["product"][0]["originalCountryOfMeltAndPour"] = "US"
    world.replace("urn:uuid:mtr-1", tampered)
    report = world.run()
    f = finding(report, "documents.line-credentials-verified")
    assert f.decision is Decision.REJECT and "not verified" in f.message
    assert f.evidence[0].credential_id == "urn:uuid:mtr-1"
    # and the line is judged without it: no mill certificate
    assert finding(report, "steel.mill-certificate.present").decision is Decision.REVIEW


def test_a_referenced_credential_missing_from_the_presentation(steel: World) -> None:
    world = fresh(steel)
    world.line = dict(world.line, credentials=[*world.line["credentials"], "urn:uuid:nowhere"])
    f = finding(world.run(), "documents.line-credentials-verified")
    assert f.decision is Decision.REVIEW and "urn:uuid:nowhere" in f.message


# -- parties -----------------------------------------------------------------------------------


def test_the_holder_is_the_importer_or_its_broker(steel: World) -> None:
    world = fresh(steel)
    world.holder = BROKER
    f = finding(world.run(), "parties.holder-is-importer-or-broker", line=None)
    assert f.decision is Decision.REVIEW and BROKER.did in f.message
    # a customs power of attorney without a status entry (tests/unit/test_entry_parties.py has the rest)
    world.credentials.append(power_of_attorney(day=world.day, principal=IMPORTER, agent=BROKER, index=None))
    assert "parties.holder-is-importer-or-broker" not in rules_hit(world.run(), line=None)
    # a power of attorney from someone else does not do
    world.credentials[-1] = power_of_attorney(day=world.day, principal=OTHER, agent=BROKER, index=None)
    assert "parties.holder-is-importer-or-broker" in rules_hit(world.run(), line=None)


def test_the_manufacturer_id_must_be_anchored_to_the_mill(steel: World) -> None:
    world = fresh(steel)
    world.line = dict(world.line, manufacturerId="MXOTHERMIL99MTY")
    f = finding(world.run(), "parties.manufacturer")
    assert f.decision is Decision.REVIEW and "MXOTHERMIL99MTY" in f.message and f"MID {MID}" in f.message


def test_the_producer_and_the_mill_must_be_the_same_party(steel: World) -> None:
    world = fresh(steel)
    world.replace("urn:uuid:mtr-1", mill_report(day=world.day, manufacturer="Laminadora del Golfo S.A."))
    f = finding(world.run(), "parties.manufacturer")
    assert "Laminadora del Golfo" in f.message and "not the same anchored party" in f.message


def test_listed_entities_are_named(steel: World) -> None:
    world = fresh(steel)
    world.policy = policy(listedEntities=[{"list": "UFLPA Entity List", "name": "Xinjiang Example Steel",
                                           "identifiers": [f"MID {MID}"]}])
    f = finding(world.run(), "parties.listed-entity")
    assert f.decision is Decision.REVIEW and "UFLPA Entity List" in f.message and MID in f.message
    world.policy = policy(listedEntities=[{"list": "UFLPA Entity List", "name": "Someone Unrelated Ltd"}])
    assert "parties.listed-entity" not in rules_hit(world.run())


def test_a_listed_mill_is_found_by_its_did(steel: World) -> None:
    world = fresh(steel)
    world.policy = policy(listedEntities=[{"list": "UFLPA Entity List", "dids": [MILL.did]}])
    f = finding(world.run(), "parties.listed-entity")
    assert MILL.did in f.message


RIGHTS = KeyPair.generate("Ed25519")


def test_goods_bearing_a_recorded_mark_need_an_authorisation_chain(steel: World) -> None:
    world = fresh(steel)
    world.policy = dict(policy(), recordedMarks=[{"mark": "ACME", "rightsHolder": RIGHTS.did, "goods": ["7304"],
                                                  "territories": ["US"], "recordation": "TMK 21-00123"}])
    world.line = dict(world.line, marks=["ACME"])
    f = finding(world.run(), "ip.recorded-mark")
    assert f.decision is Decision.REVIEW and "ACME" in f.message
    world.credentials.append(authorisation(RIGHTS, MILL.did, marks=["ACME"], goods=["7304"], territories=["US"],
                                           valid_from="2026-01-01T00:00:00Z", valid_until="2027-01-01T00:00:00Z"))
    assert "ip.recorded-mark" not in rules_hit(world.run())
    # a mark not recorded with customs is not checked
    world.line = dict(world.line, marks=["NOTRECORDED"])
    world.credentials.pop()
    assert "ip.recorded-mark" not in rules_hit(world.run())


# -- USMCA -------------------------------------------------------------------------------------


def test_a_usmca_claim_without_a_certification(steel: World) -> None:
    world = fresh(steel)
    world.drop("urn:uuid:coo-1")
    world.line = dict(world.line, credentials=["urn:uuid:mtr-1", "urn:uuid:sima-1"])
    f = finding(world.run(), "usmca.certification.present")
    assert f.decision is Decision.REVIEW
    world.line = dict(world.line, preference=None)  # no claim: nothing to support
    assert "usmca.certification.present" not in rules_hit(world.run())


def test_a_certification_missing_elements_is_correctable(steel: World) -> None:
    world = fresh(steel)

    def defective(credential: dict[str, Any]) -> None:
        del credential["credentialSubject"]["certifier"]["certifierDetails"]["phoneNumber"]
        del credential["credentialSubject"]["exporterDetails"]["email"]

    world.replace("urn:uuid:coo-1", certification(day=world.day, after=defective))
    report = world.run()
    f = finding(report, "usmca.certification.elements")
    assert f.decision is Decision.REVIEW
    assert "certifier telephone number" in f.message and "exporter email address" in f.message
    assert {e.pointer for e in f.evidence} == {"/credentialSubject/certifier/certifierDetails/phoneNumber",
                                              "/credentialSubject/exporterDetails/email"}
    assert report.line(1).decision is Decision.REVIEW


def test_a_certification_by_someone_other_than_importer_exporter_producer(steel: World) -> None:
    world = fresh(steel)

    def broker(credential: dict[str, Any]) -> None:
        credential["credentialSubject"]["certifier"]["role"] = "Freight forwarder"

    world.replace("urn:uuid:coo-1", certification(day=world.day, after=broker))
    assert finding(world.run(), "usmca.certification.certifier").decision is Decision.REJECT


def test_the_certification_must_cover_the_lines_subheading(steel: World) -> None:
    world = fresh(steel)
    world.replace("urn:uuid:coo-1", certification(day=world.day, goods=("720851",)))
    f = finding(world.run(), "usmca.certification.covers-line")
    assert f.decision is Decision.REJECT and "720851" in f.message and "730419" in f.message


def test_the_blanket_period_must_cover_the_date_of_import(steel: World) -> None:
    world = fresh(steel)
    world.verify_days = 10  # verified after the import, when the certification is valid
    world.replace("urn:uuid:coo-1", certification(day=world.day, start_days=5))
    f = finding(world.run(), "usmca.certification.period")
    assert f.decision is Decision.REJECT and "does not cover the date of import 2026-03-10" in f.message


def test_a_blanket_period_over_twelve_months(steel: World) -> None:
    world = fresh(steel)

    def long(credential: dict[str, Any]) -> None:
        credential["validUntil"] = "2027-03-01T00:00:00Z"

    world.replace("urn:uuid:coo-1", certification(day=world.day, after=long))
    f = finding(world.run(), "usmca.certification.period")
    assert "longer than 12 months" in f.message


def test_a_certification_naming_another_importer(steel: World) -> None:
    world = fresh(steel)
    world.replace("urn:uuid:coo-1", certification(day=world.day, importer="Houston Tubulars Inc."))
    f = finding(world.run(), "usmca.certification.importer")
    assert f.decision is Decision.REVIEW and "Houston Tubulars" in f.message


def test_non_originating_steel_on_the_supply_path(steel: World) -> None:
    world = World.steel(heats=[("H26-18841", "CN", 100000)])
    world.line = dict(world.line, countryOfMeltAndPour="CN")
    world.replace("urn:uuid:sima-1", licence(day=world.day, melt="CN"))
    world.replace("urn:uuid:coo-1", certification(day=world.day, criterion="A"))
    f = finding(world.run(), "usmca.supply.originating-steel")
    assert f.decision is Decision.REVIEW and "CN" in f.message
    world.replace("urn:uuid:coo-1", certification(day=world.day, criterion="B"))  # a tariff shift may do
    assert "usmca.supply.originating-steel" not in rules_hit(world.run())


# -- steel: mill certificates, melt and pour, Section 232 ---------------------------------------


def test_a_steel_line_needs_a_mill_certificate(steel: World) -> None:
    world = fresh(steel)
    world.drop("urn:uuid:mtr-1")
    world.line = dict(world.line, credentials=["urn:uuid:coo-1", "urn:uuid:sima-1"])
    assert finding(world.run(), "steel.mill-certificate.present").decision is Decision.REVIEW
    world.line = dict(world.line, hts="8471.30.0100", simaLicenseNumber=None)  # not steel
    assert "steel.mill-certificate.present" not in rules_hit(world.run())


def test_a_heat_no_mill_certificate_reports(steel: World) -> None:
    world = fresh(steel)
    world.line = dict(world.line, heats=["H26-99999"])
    f = finding(world.run(), "steel.mill-certificate.present")
    assert "H26-99999" in f.message


def test_melt_and_pour_must_be_declared_from_2024_11_21() -> None:
    world = World.steel(date(2026, 3, 10))
    world.line = {k: v for k, v in world.line.items() if k != "countryOfMeltAndPour"}
    report = world.run()
    assert finding(report, "steel.melt-pour.declared").decision is Decision.REJECT
    # Canadian steel: required since 2024-11-21 ...
    canadian = World.steel(date(2024, 12, 2))
    canadian.line = {k: v for k, v in canadian.line.items() if k != "countryOfMeltAndPour"} | {"countryOfOrigin": "CA"}
    assert "steel.melt-pour.declared" in rules_hit(canadian.run())
    # ... not before
    canadian = World.steel(date(2024, 11, 1))
    canadian.line = {k: v for k, v in canadian.line.items() if k != "countryOfMeltAndPour"} | {"countryOfOrigin": "CA"}
    assert not {"steel.melt-pour.declared", "steel.melt-pour.declared-mexico"} & rules_hit(canadian.run())


def test_mexican_steel_declared_melt_and_pour_from_2024_07_10() -> None:
    world = World.steel(date(2024, 8, 1))
    world.line = {k: v for k, v in world.line.items() if k != "countryOfMeltAndPour"}
    hit = rules_hit(world.run())
    assert "steel.melt-pour.declared-mexico" in hit and "steel.melt-pour.declared" not in hit
    world = World.steel(date(2024, 6, 3))
    world.line = {k: v for k, v in world.line.items() if k != "countryOfMeltAndPour"}
    assert not {"steel.melt-pour.declared", "steel.melt-pour.declared-mexico"} & rules_hit(world.run())


def test_melt_and_pour_is_where_the_steel_was_first_cast_not_finished() -> None:
    # the mill certificate's product was finished (manufacturingCountry) in Mexico from a heat
    # melted and poured in China: declaring Mexico is a misdeclaration
    world = World.steel(heats=[("H26-18841", "CN", 100000)])
    report = world.run()
    f = finding(report, "steel.melt-pour.matches-mill")
    assert f.decision is Decision.REJECT and "misdeclared" in f.message
    assert f.evidence[0].pointer == "/lines/0/countryOfMeltAndPour" and f.evidence[0].value == "MX"
    assert (f.evidence[1].credential_id, f.evidence[1].pointer, f.evidence[1].value) == (
        "urn:uuid:mtr-1", "/credentialSubject/product/0/originalCountryOfMeltAndPour", "CN")
    assert report.decision is Decision.REJECT


def test_only_the_heats_the_line_references_count() -> None:
    world = World.steel(heats=[("H26-18841", "MX", 100000), ("H26-18842", "CN", 100000)])
    assert "steel.melt-pour.matches-mill" not in rules_hit(world.run())  # the line names H26-18841
    world.line = dict(world.line, heats=[])  # all of the certificate's heats
    assert "steel.melt-pour.matches-mill" in rules_hit(world.run())


def chinese_steel_from_mexico(day: date) -> World:
    world = World.steel(day, heats=[("H26-18841", "CN", 100000)])
    world.line = dict(world.line, countryOfMeltAndPour="CN", preference=None,
                      credentials=["urn:uuid:mtr-1", "urn:uuid:sima-1"])
    world.drop("urn:uuid:coo-1")
    world.replace("urn:uuid:sima-1", licence(day=day, melt="CN"))
    return world


def test_section_232_mexico_exemption_is_judged_by_the_date_of_import() -> None:
    before = chinese_steel_from_mexico(date(2025, 3, 11)).run()
    f = finding(before, "s232.mexico.north-america-melt")
    assert f.decision is Decision.REVIEW and "outside North America" in f.message
    assert "Proclamation 10783" in f.source
    assert before.decision is Decision.REVIEW
    after = chinese_steel_from_mexico(date(2025, 3, 12)).run()
    assert "s232.mexico.north-america-melt" not in rules_hit(after)
    assert finding(after, "s232.all-countries").decision is Decision.ACCEPT
    assert after.decision is Decision.ACCEPT, after.summary()


def test_section_232_mexico_melted_in_north_america_is_exempt() -> None:
    world = World.steel(date(2025, 1, 15))
    assert not {"s232.mexico.north-america-melt", "s232.all-countries"} & rules_hit(world.run())


# -- SIMA --------------------------------------------------------------------------------------


def test_a_steel_line_needs_a_sima_licence(steel: World) -> None:
    world = fresh(steel)
    world.line = {k: v for k, v in world.line.items() if k != "simaLicenseNumber"}
    assert finding(world.run(), "sima.licence.present").decision is Decision.REJECT
    world.line = dict(world.line, simaLicenseNumber="SIMA-2026-0000001")
    f = finding(world.run(), "sima.licence.present")
    assert f.decision is Decision.REVIEW and "SIMA-2026-0000001" in f.message


@pytest.mark.parametrize("change, words", [
    ({"hts": "7304.19.5020"}, "covers HTS 7304.19.1020, not 7304.19.5020"),
    ({"countryOfOrigin": "CA"}, "for goods of MX, the line declares CA"),
    ({"quantity": 90000}, "differs from the licence's 78422 kg"),
])
def test_the_licence_must_match_the_line(steel: World, change: dict[str, Any], words: str) -> None:
    world = fresh(steel)
    world.line = dict(world.line, **change)
    report = world.run()
    messages = [f.message for f in report.line(1).findings if f.rule == "sima.licence.matches"]
    assert any(words in m for m in messages), messages
    assert report.line(1).decision is Decision.REJECT


def test_the_licence_melt_and_pour_and_issue_date(steel: World) -> None:
    world = fresh(steel)
    world.verify_days = 10  # verified once the licence is valid
    world.replace("urn:uuid:sima-1", licence(day=world.day, melt="BR", issued_days=5))
    messages = [f.message for f in world.run().line(1).findings if f.rule == "sima.licence.matches"]
    assert any("melt and pour BR" in m for m in messages)
    assert any("after the entry summary date" in m for m in messages)


def test_the_quantity_tolerance_is_a_policy_setting(steel: World) -> None:
    world = fresh(steel)
    world.line = dict(world.line, quantity=82000)  # 4.6% over the licence
    assert "sima.licence.matches" not in rules_hit(world.run())
    world.policy = policy(**{"sima.licence.matches": {"tolerance": 0.02}})
    assert "sima.licence.matches" in rules_hit(world.run())


def test_a_standard_licence_serves_one_entry(steel: World) -> None:
    ledger = open_ledger(":memory:")
    first = steel.run(ledger=ledger)
    assert first.decision is Decision.ACCEPT and first.recorded
    world = fresh(steel)
    world.entry = dict(world.entry, entryNumber="ABC-7654321-0")
    world.line = dict(world.line, quantity=1000)
    second = world.run(ledger=ledger)
    f = finding(second, "sima.licence.single-use")
    assert f.decision is Decision.REJECT and "ABC-1234567-8" in f.message
    assert not second.recorded


def test_a_low_value_licence_may_be_used_again(steel: World) -> None:
    ledger = open_ledger(":memory:")
    world = fresh(steel)
    world.replace("urn:uuid:sima-1", licence(day=world.day, value=1200.0, kind="LowValue"))
    world.line = dict(world.line, value=1200)
    assert world.run(ledger=ledger).decision is Decision.ACCEPT
    world.entry = dict(world.entry, entryNumber="ABC-7654321-0")
    assert "sima.licence.single-use" not in rules_hit(world.run(ledger=ledger))


# -- quantities --------------------------------------------------------------------------------


def test_a_heat_cannot_supply_more_than_it_weighed(steel: World) -> None:
    ledger = open_ledger(":memory:")
    world = fresh(steel)
    world.replace("urn:uuid:sima-1", licence(day=world.day, value=1200.0, kind="LowValue"))  # reusable, to isolate the heat
    world.run(ledger=ledger)  # 78 422 of 100 000 kg
    world.entry = dict(world.entry, entryNumber="ABC-7654321-0")
    f = finding(world.run(ledger=ledger), "quantity.heat")
    assert f.decision is Decision.REJECT and "100000" in f.message and "ABC-1234567-8" in f.message


def test_a_rejected_entry_draws_nothing() -> None:
    ledger = open_ledger(":memory:")
    world = World.steel(heats=[("H26-18841", "MX", 100000)])
    world.replace("urn:uuid:sima-1", licence(day=world.day, value=1200.0, kind="LowValue"))
    world.line = dict(world.line, countryOfMeltAndPour="CN")  # misdeclared: REJECT
    rejected = world.run(ledger=ledger)
    assert rejected.decision is Decision.REJECT and not rejected.recorded
    world.line = dict(world.line, countryOfMeltAndPour="MX")
    world.entry = dict(world.entry, entryNumber="ABC-7654321-0")
    assert "quantity.heat" not in rules_hit(world.run(ledger=ledger))


def test_lines_of_one_entry_cannot_overdraw_a_heat_without_a_ledger(steel: World) -> None:
    world = fresh(steel)
    world.replace("urn:uuid:sima-1", licence(day=world.day, value=1200.0, kind="LowValue"))
    world.entry["lines"] = [world.line, dict(world.line, line=2)]  # 2 x 78 422 > 100 000
    report = world.run()
    assert "quantity.heat" not in rules_hit(report, 1)
    assert finding(report, "quantity.heat", 2).decision is Decision.REJECT


def test_a_certification_that_states_its_quantity_caps_the_entries(steel: World) -> None:
    ledger = open_ledger(":memory:")
    world = fresh(steel)
    world.replace("urn:uuid:sima-1", licence(day=world.day, value=1200.0, kind="LowValue"))
    world.replace("urn:uuid:coo-1", certification(day=world.day, quantity=120000))
    world.credentials[0] = mill_report(day=world.day, heats=[("H26-18841", "MX", 10**6)])  # the heat is not the limit
    world.run(ledger=ledger)
    world.entry = dict(world.entry, entryNumber="ABC-7654321-0")
    f = finding(world.run(ledger=ledger), "quantity.certification")
    # correctable by default (the issue: REVIEW, naming the earlier entry); REJECT is a policy setting
    assert f.decision is Decision.REVIEW and "120000" in f.message and "ABC-1234567-8" in f.message
    # a blanket certification stating no quantity has no cap
    world.replace("urn:uuid:coo-1", certification(day=world.day, id="urn:uuid:coo-1"))
    world.entry = dict(world.entry, entryNumber="ABC-1111111-1")
    assert "quantity.certification" not in rules_hit(world.run(ledger=open_ledger(":memory:")))


# -- the rule table and the policy -------------------------------------------------------------


def test_every_rule_says_what_implements_it_where_it_comes_from_and_when() -> None:
    rules = RuleSet.default()
    for rule in rules.rules:
        assert rule.id and rule.description and rule.source and rule.in_force, rule
    s232 = rules.rule("s232.mexico.north-america-melt")
    assert [r.to_dict() for r in s232.in_force] == [{"from": "2024-07-10", "until": "2025-03-12"}]
    assert rules.rule("steel.melt-pour.declared").in_force[0].to_dict() == {"from": "2024-11-21", "until": None}


def test_a_rule_disabled_by_the_policy(steel: World) -> None:
    world = fresh(steel)
    world.drop("urn:uuid:mtr-1")
    world.line = dict(world.line, credentials=["urn:uuid:coo-1", "urn:uuid:sima-1"])
    assert "steel.mill-certificate.present" in rules_hit(world.run())
    world.policy = policy(**{"steel.mill-certificate.present": {"enabled": False}})
    report = world.run()
    assert "steel.mill-certificate.present" not in rules_hit(report)
    assert "steel.mill-certificate.present" not in report.rules_applied


def test_a_decision_changed_by_the_policy(steel: World) -> None:
    world = fresh(steel)
    world.replace("urn:uuid:coo-1", certification(day=world.day, goods=("720851",)))
    world.policy = policy(**{"usmca.certification.covers-line": {"decision": "REVIEW"}})
    assert finding(world.run(), "usmca.certification.covers-line").decision is Decision.REVIEW


def test_a_policy_expression(steel: World) -> None:
    world = fresh(steel)
    expression = {"id": "policy.large-pipe", "when": "line.hts.startsWith('7304') && line.quantityKg > 50000.0",
                  "decision": "REVIEW", "message": "large pipe shipment: to the import specialist",
                  "source": "port directive 7"}
    world.policy = policy(expressions=[expression])
    f = finding(world.run(), "policy.large-pipe")
    assert f.decision is Decision.REVIEW and f.message == "large pipe shipment: to the import specialist"
    assert f.source == "port directive 7"
    world.line = dict(world.line, quantity=40000)
    assert "policy.large-pipe" not in rules_hit(world.run())


def test_a_policy_expression_over_the_heats_and_its_date_range(steel: World) -> None:
    expression = {"id": "policy.heat-country", "when": "heats.exists(h, h.meltCountry == 'MX')",
                  "decision": "REJECT", "message": "m", "inForce": [{"until": "2026-01-01"}]}
    world = fresh(steel)
    world.policy = policy(expressions=[expression])
    assert "policy.heat-country" not in rules_hit(world.run())  # 2026-03-10: no longer in force
    world.policy = policy(expressions=[dict(expression, inForce=[{"from": "2026-01-01"}])])
    assert finding(world.run(), "policy.heat-country").decision is Decision.REJECT


@pytest.mark.parametrize("config, words", [
    ({"expressions": [{"id": "x", "when": "line.value >", "decision": "REVIEW"}]}, "expressions[0] (x).when: not a CEL"),
    ({"no.such.rule": {"enabled": False}}, "no.such.rule: no such rule"),
    ({"sima.licence.matches": {"tolerence": 0.1}}, "sima.licence.matches.tolerence: unknown setting"),
    ({"sima.licence.matches": {"tolerance": "2%"}}, "sima.licence.matches.tolerance: must be like"),
    ({"sima.licence.matches": {"decision": "MAYBE"}}, "decision: must be ACCEPT, REVIEW or REJECT"),
    ({"steel.melt-pour.declared": {"inForce": [{"from": "2024-13-01"}]}}, "inForce[0].from: must be an ISO date"),
    ({"steel.melt-pour.declared": {"hsScope": ["steel!"]}}, "hsScope: must be a non-empty list of HTS prefixes"),
    ({"expressions": [{"id": "usmca.certification.period", "when": "true", "decision": "REVIEW"}]}, "already a rule"),
    ({"listedEntities": [{"name": "no list"}]}, "listedEntities[0]: needs 'list'"),
])
def test_policy_errors_name_the_member(config: dict[str, Any], words: str) -> None:
    with pytest.raises(RuleError) as e:
        RuleSet.from_policy({"entryRules": config}, source="border-policy.json")
    assert words in str(e.value) and str(e.value).startswith("border-policy.json: entryRules")


def test_an_expression_that_cannot_be_evaluated_is_review(steel: World) -> None:
    world = fresh(steel)
    world.policy = policy(expressions=[{"id": "policy.typo", "when": "line.nosuchmember == 'x'",
                                        "decision": "REJECT", "message": "m"}])
    f = finding(world.run(), "policy.typo")
    assert f.decision is Decision.REVIEW and "could not be evaluated" in f.message


# -- the supply path ---------------------------------------------------------------------------


def finished_in_mexico(steel: World, *, restated: str, upstream: bool = True) -> World:
    """The pipe mill's report restates heat H26-18841 of a melt shop's report (melted in CN)."""
    world = fresh(steel)
    melt = mill_report(day=world.day, key=MELT_SHOP, id="urn:uuid:melt-1", heats=[("H26-18841", "CN", 100000)])
    world.replace("urn:uuid:mtr-1", mill_report(day=world.day, heats=[("H26-18841", restated, 100000)], source=melt))
    if upstream:
        world.credentials.append(melt)
    return world


def test_melt_and_pour_is_taken_upstream_on_the_supply_path(steel: World) -> None:
    world = finished_in_mexico(steel, restated="CN")
    report = world.run()
    f = finding(report, "steel.melt-pour.matches-mill")  # declared MX, melted in CN at the melt shop
    assert f.evidence[1].credential_id == "urn:uuid:melt-1" and f.evidence[1].value == "CN"
    assert "supply.path-intact" not in rules_hit(report)
    assert report.supply_paths["1"]["edges"] == [{"from": "urn:uuid:mtr-1", "to": "urn:uuid:melt-1"}]
    world.line = dict(world.line, countryOfMeltAndPour="CN")
    assert "steel.melt-pour.matches-mill" not in rules_hit(world.run())


def test_a_heat_restated_with_another_country_is_rejected(steel: World) -> None:
    world = finished_in_mexico(steel, restated="MX")
    report = world.run()
    f = next(f for f in report.line(1).findings if f.rule == "supply.path-intact")
    assert f.decision is Decision.REJECT and "ORIGIN_CONFLICT" in f.message
    assert "steel.melt-pour.matches-mill" in rules_hit(report)  # the melt shop's CN, not the restated MX


def test_a_missing_upstream_credential_is_review(steel: World) -> None:
    world = finished_in_mexico(steel, restated="CN", upstream=False)
    f = finding(world.run(), "supply.path-intact")
    assert f.decision is Decision.REVIEW and "MISSING_LINK" in f.message


def test_the_readme_lists_every_default_rule() -> None:
    from conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [r.id for r in RuleSet.default().rules if f"| `{r.id}` |" not in text]
    assert not missing, f"README's rule table lacks {missing}"


def test_the_text_table_shows_control_characters_as_escapes(steel: World) -> None:
    world = fresh(steel)
    world.line = dict(world.line, description="pipe\x1b[2J\u202e")
    text = world.run().summary()
    assert "\x1b" not in text and "\u202e" not in text and "pipe\\u001b[2J\\u202e" in text


def test_a_licence_secured_as_a_vc_jwt(steel: World) -> None:
    world = fresh(steel)
    world.replace("urn:uuid:sima-1", licence(day=world.day, jose=True))
    report = world.run()
    assert report.decision is Decision.ACCEPT, report.summary()
    assert any(d.type == "SIMASteelImportLicenseCredential" and d.verified for d in report.documents)
    world.credentials[-1] = licence(day=world.day, jose=True, melt="BR")  # the token is last
    assert "sima.licence.matches" in rules_hit(world.run())
