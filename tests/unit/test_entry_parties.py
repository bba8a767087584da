"""Entry rules about the parties: a broker presenting for the importer holds a verified power of
attorney (issued by the importer of record, naming the broker, covering entry, valid on the
date of import, not revoked) and is the entry's filer; the importer is anchored by a verified
identity anchor of its importer number; a line's manufacturer ID is the anchored MID of its
mill. Real signed credentials, a real status list read from a snapshot directory."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from pathlib import Path

import pytest

from support.entries import (
    BROKER, CHALLENGE, DOMAIN, IMPORTER, MID, MILL, OTHER, PRODUCER, REGISTRY, certification, finding, policy, rules_hit,
)
from support.parties import FILER_CODE, PartiesWorld, importer_anchor, power_of_attorney, status_snapshot
from support.vouches import anchor, vouch
from tradevc.vc.keys import KeyPair
from tradevc.vc.retrieval.mirror import Mirror
from tradevc.verifier import Verifier
from tradevc.verifier.entry import Decision, Entry, EntryError, RuleSet, verify_entry
from tradevc.wallet import HolderPolicy, KdfParams, Wallet

HOLDER = "parties.holder-is-importer-or-broker"
IMPORT_REGISTER = KeyPair.generate("Ed25519")


@pytest.fixture
def world(tmp_path: Path) -> PartiesWorld:
    """The steel entry, presented by the broker with the importer's power of attorney (status
    entry 7 of the importer's revocation list, not set)."""
    w = PartiesWorld.steel()
    w.holder = BROKER
    w.snapshot = status_snapshot(tmp_path / "snapshot", day=w.day)
    w.credentials.append(power_of_attorney(day=w.day))
    return w


def holder_finding(world: PartiesWorld) -> str:
    f = finding(world.run(), HOLDER, line=None)
    assert f.decision is Decision.REVIEW
    return f.message


def test_a_broker_with_a_sound_power_of_attorney_may_present(world: PartiesWorld) -> None:
    report = world.run()
    assert HOLDER not in rules_hit(report, line=None)
    assert report.decision is Decision.ACCEPT, report.summary()
    # so may the filer it declares itself as (its DID and filer code)
    world.entry["filer"] = {"identifier": FILER_CODE, "did": BROKER.did, "name": "Border Brokers Inc."}
    assert HOLDER not in rules_hit(world.run(), line=None)


def test_without_a_power_of_attorney_the_broker_may_not(world: PartiesWorld) -> None:
    world.drop("urn:uuid:poa-1")
    assert "neither the importer of record" in holder_finding(world)


def test_an_expired_power_of_attorney_does_not_do(world: PartiesWorld) -> None:
    world.replace("urn:uuid:poa-1", power_of_attorney(day=world.day, from_days=-400, until_days=-1))
    message = holder_finding(world)
    assert "urn:uuid:poa-1" in message and "not valid on the date of import 2026-03-10" in message


def test_a_power_not_yet_valid_on_the_date_of_import_does_not_do(world: PartiesWorld) -> None:
    world.replace("urn:uuid:poa-1", power_of_attorney(day=world.day, from_days=1, until_days=300))
    assert "not valid on the date of import" in holder_finding(world)


def test_the_date_of_import_counts_not_the_day_of_the_audit(world: PartiesWorld) -> None:
    # valid on the date of import, expired when customs looks again ten days later
    world.replace("urn:uuid:poa-1", power_of_attorney(day=world.day, until_days=5))
    world.verify_days = 10
    assert HOLDER not in rules_hit(world.run(), line=None)


def test_a_revoked_power_of_attorney_does_not_do(world: PartiesWorld, tmp_path: Path) -> None:
    world.snapshot = status_snapshot(tmp_path / "revoked", day=world.day, revoked=(7,))
    message = holder_finding(world)
    assert "revoked" in message and "urn:uuid:poa-1" in message


def test_a_power_whose_status_cannot_be_checked_is_reviewed(world: PartiesWorld) -> None:
    world.snapshot = None  # offline, no snapshot: the importer's status list cannot be read
    assert "could not be verified" in holder_finding(world)


def test_a_tampered_power_of_attorney_does_not_do(world: PartiesWorld) -> None:
    tampered = copy.deepcopy(power_of_attorney(day=world.day))
    tampered["credentialSubject"]["scope"] = ["customs-business"]
    world.replace("urn:uuid:poa-1", tampered)
    assert "did not verify" in holder_finding(world)


def test_a_power_issued_by_someone_else_does_not_do(world: PartiesWorld) -> None:
    world.replace("urn:uuid:poa-1", power_of_attorney(day=world.day, principal=OTHER))
    message = holder_finding(world)
    assert f"issued by {OTHER.did}, not the importer of record {IMPORTER.did}" in message


def test_a_power_naming_another_agent_does_not_do(world: PartiesWorld) -> None:
    world.replace("urn:uuid:poa-1", power_of_attorney(day=world.day, agent=OTHER))
    message = holder_finding(world)
    assert f"names {OTHER.did} as agent" in message and BROKER.did in message


@pytest.mark.parametrize("scope", [("drawback",), ("protest", "drawback")])
def test_a_power_that_does_not_cover_entry_does_not_do(world: PartiesWorld, scope: tuple[str, ...]) -> None:
    world.replace("urn:uuid:poa-1", power_of_attorney(day=world.day, scope=scope))
    message = holder_finding(world)
    assert "does not cover making entry" in message and "customs-entry" in message


def test_a_general_power_covers_entry(world: PartiesWorld) -> None:
    world.replace("urn:uuid:poa-1", power_of_attorney(day=world.day, scope=("customs-business",)))
    assert HOLDER not in rules_hit(world.run(), line=None)


def test_the_entry_scopes_are_a_policy_setting(world: PartiesWorld) -> None:
    world.policy["entryRules"] = {HOLDER: {"entryScopes": ["customs-business"]}}
    assert "does not cover making entry" in holder_finding(world)


def test_a_power_for_another_importer_number_does_not_do(world: PartiesWorld) -> None:
    world.replace("urn:uuid:poa-1", power_of_attorney(day=world.day, importer_number="12-3456789"))
    message = holder_finding(world)
    assert "12-3456789" in message and "76-1234567" in message


@pytest.mark.parametrize("filer,named", [
    ({"identifier": "XYZ", "did": "BROKER"}, "filer code XYZ"),
    ({"identifier": FILER_CODE, "did": "OTHER"}, "OTHER"),
])
def test_the_entry_filer_must_be_the_broker(world: PartiesWorld, filer: dict[str, str], named: str) -> None:
    dids = {"BROKER": BROKER.did, "OTHER": OTHER.did}
    world.entry["filer"] = {**filer, "did": dids[filer["did"]]}
    message = holder_finding(world)
    assert "filer" in message and (dids.get(named) or named) in message


def test_a_power_limited_to_ports_covers_only_those(world: PartiesWorld) -> None:
    # the example power is for Houston (5301) and Laredo (2304)
    world.entry["portOfEntry"] = "2304"
    assert HOLDER not in rules_hit(world.run(), line=None)
    world.entry["portOfEntry"] = "1001"
    message = holder_finding(world)
    assert "port 1001" in message and "5301, 2304" in message


def test_the_importer_presenting_itself_needs_no_power(world: PartiesWorld) -> None:
    world.holder = IMPORTER
    world.drop("urn:uuid:poa-1")
    assert HOLDER not in rules_hit(world.run(), line=None)


# -- the importer of record, anchored --------------------------------------------------------------


def importer_register(world: PartiesWorld) -> None:
    """The policy trusts CBP's importer records as a root for importer-number anchors."""
    world.policy["roots"].append({"did": IMPORT_REGISTER.did, "name": "CBP importer records (Form 5106)",
                                  "vouches": ["anchor"], "types": ["PowerOfAttorneyCredential"],
                                  "schemes": ["IOR"]})


def without_importer_anchor(world: PartiesWorld) -> None:
    """The border's policy without the default importer records' root and anchor."""
    world.policy = policy(anchored_importer=False)


def test_an_importer_without_an_anchor_is_not_anchored(world: PartiesWorld) -> None:
    without_importer_anchor(world)
    world.policy["entryRules"] = {HOLDER: {"requireAnchoredImporter": False}}
    report = world.run()
    assert HOLDER not in rules_hit(report, line=None)  # the broker's power is sound
    assert not report.importer_anchored and report.importer_anchor is None
    assert "importer 76-1234567 (not anchored)" in report.summary().splitlines()[0]
    assert report.to_dict()["importerAnchor"] is None


def test_an_anchor_in_the_presentation_anchors_the_importer(world: PartiesWorld) -> None:
    importer_register(world)
    world.credentials.append(importer_anchor(key=IMPORT_REGISTER))
    report = world.run()
    assert report.importer_anchored
    anchor = report.to_dict()["importerAnchor"]
    assert anchor == {"issuer": IMPORT_REGISTER.did, "issuerName": "CBP importer records (Form 5106)",
                      "identifier": "IOR 76-1234567", "credential": "urn:uuid:importer-anchor",
                      "root": IMPORT_REGISTER.did}
    assert "importer 76-1234567 (anchored by CBP importer records (Form 5106))" in report.summary().splitlines()[0]
    page = report.to_html()
    assert "anchored by CBP importer records (Form 5106)" in page and "IOR 76-1234567" in page


def test_an_anchor_in_the_trust_store_anchors_the_importer(world: PartiesWorld) -> None:
    importer_register(world)
    world.policy["anchors"].append(importer_anchor(key=IMPORT_REGISTER))
    assert world.run().importer_anchored


def test_an_anchor_through_an_anchored_registrar_anchors_the_importer(world: PartiesWorld) -> None:
    # the root anchors a customs-records office, which anchors the importer: a path of two vouches
    importer_register(world)
    world.policy["roots"][-1]["maxDepth"] = 2
    office = KeyPair.generate("Ed25519")
    world.credentials += [vouch(IMPORT_REGISTER, office.did, name="Port of Houston importer desk",
                                identifier=[{"type": "PropertyValue", "propertyID": "IOR", "value": "99-9999999"}],
                                valid_from="2020-01-01T00:00:00Z", valid_until="2030-01-01T00:00:00Z"),
                          importer_anchor(key=office)]
    anchor = world.run().importer_anchor
    assert anchor is not None and anchor["issuer"] == office.did
    assert anchor["issuerName"] == "Port of Houston importer desk" and anchor["root"] == IMPORT_REGISTER.did


@pytest.mark.parametrize("case", ["other number", "other scheme", "untrusted registrar", "other subject", "expired",
                                  "tampered"])
def test_an_anchor_that_does_not_fit_does_not_anchor(world: PartiesWorld, case: str) -> None:
    without_importer_anchor(world)
    importer_register(world)
    if case == "other number":
        made = importer_anchor(key=IMPORT_REGISTER, number="12-3456789")
    elif case == "other scheme":  # a MID is not an importer number
        world.policy["roots"][-1]["schemes"] = ["IOR", "MID"]
        made = importer_anchor(key=IMPORT_REGISTER, scheme="MID", number="USGULCOA4400HOU")
    elif case == "untrusted registrar":
        made = importer_anchor(key=OTHER)
    elif case == "other subject":
        made = importer_anchor(key=IMPORT_REGISTER, subject=OTHER)
    elif case == "expired":
        made = importer_anchor(key=IMPORT_REGISTER, valid_until="2026-01-01T00:00:00Z")
    else:
        made = copy.deepcopy(importer_anchor(key=IMPORT_REGISTER, number="12-3456789"))
        made["credentialSubject"]["identifier"][0]["value"] = "76-1234567"
    world.credentials.append(made)
    report = world.run()
    assert not report.importer_anchored and report.importer_anchor is None
    assert "(not anchored)" in report.summary().splitlines()[0]


def test_the_importer_number_is_compared_without_punctuation(world: PartiesWorld) -> None:
    importer_register(world)
    world.credentials.append(importer_anchor(key=IMPORT_REGISTER))
    world.entry["importerOfRecord"]["identifier"] = "761234567"
    assert world.run().importer_anchored


# -- the manufacturer ID against the anchored MID ------------------------------------------------------

MANUFACTURER = "parties.manufacturer"


def test_the_declared_mid_is_the_mills_anchored_mid(world: PartiesWorld) -> None:
    assert MANUFACTURER not in rules_hit(world.run())


def test_a_declared_mid_other_than_the_anchored_one_is_reviewed(world: PartiesWorld) -> None:
    world.line = dict(world.line, manufacturerId="MXOTHERMIL99MTY")
    f = finding(world.run(), MANUFACTURER)
    assert f.decision is Decision.REVIEW
    assert "MXOTHERMIL99MTY" in f.message and f"MID {MID}" in f.message
    assert "urn:uuid:mill-anchor" in f.message and "Registro Publico de Comercio" in f.message
    pointers = {(e.credential_id, e.pointer, e.value) for e in f.evidence}
    assert (None, "/lines/0/manufacturerId", "MXOTHERMIL99MTY") in pointers
    assert ("urn:uuid:mill-anchor", "/credentialSubject/identifier", f"MID {MID}") in pointers


def test_an_identifier_of_another_scheme_is_not_a_mid(world: PartiesWorld) -> None:
    # the register anchors the mill with a national register number that happens to read like the MID
    world.policy["roots"][0]["schemes"] = ["MID", "RFC"]
    world.policy["anchors"] = [vouch(REGISTRY, MILL.did, name="Aceros del Norte", id="urn:uuid:rfc-anchor",
                                     identifier=[{"type": "PropertyValue", "propertyID": "RFC", "value": MID}],
                                     valid_from="2020-01-01T00:00:00Z", valid_until="2030-01-01T00:00:00Z")]
    f = finding(world.run(), MANUFACTURER)
    assert MID in f.message and "no MID" in f.message


@pytest.mark.parametrize("declared,reviewed", [(MID, True), ("MXACEPRO12SAN", False)])
def test_the_producer_anchored_with_a_mid(world: PartiesWorld, declared: str, reviewed: bool) -> None:
    # the certification's producer is trusted through the register's anchor, not directly; no mill report
    world.policy["trustedIssuers"] = [t for t in world.policy["trustedIssuers"] if t["did"] != PRODUCER.did]
    world.policy["anchors"].append(anchor(REGISTRY, PRODUCER.did, mid="MXACEPRO12SAN", id="urn:uuid:producer-anchor",
                                          valid_from="2020-01-01T00:00:00Z", valid_until="2030-01-01T00:00:00Z"))
    world.replace("urn:uuid:coo-1", certification(day=world.day, edit=lambda s: s["certifier"].update(role="Producer")))
    world.drop("urn:uuid:mtr-1")
    world.line = dict(world.line, manufacturerId=declared,
                      credentials=[c for c in world.line["credentials"] if c != "urn:uuid:mtr-1"])
    report = world.run()
    if reviewed:
        f = finding(report, MANUFACTURER)
        assert declared in f.message and "MID MXACEPRO12SAN" in f.message and "urn:uuid:producer-anchor" in f.message
    else:
        assert MANUFACTURER not in rules_hit(report)


@pytest.mark.parametrize("port", ["Laredo", "230", "23045", " "])
def test_the_port_of_entry_is_a_four_digit_code(world: PartiesWorld, port: str) -> None:
    with pytest.raises(EntryError) as info:
        Entry.from_json({**world.declaration(), "portOfEntry": port})
    assert [p.split(":")[0] for p in info.value.problems] == ["portOfEntry"]
    assert Entry.from_json({**world.declaration(), "portOfEntry": "2304"}).port_of_entry == "2304"


def test_a_filer_mismatch_names_the_declared_filer_as_evidence(world: PartiesWorld) -> None:
    world.entry["filer"] = {"identifier": "XYZ", "did": BROKER.did, "name": "Border Brokers Inc."}
    f = finding(world.run(), HOLDER, line=None)
    assert (None, "/filer") in {(e.credential_id, e.pointer) for e in f.evidence}
    assert next(e.value for e in f.evidence if e.pointer == "/filer")["identifier"] == "XYZ"


def test_the_brokers_wallet_presents_the_importers_anchor_with_its_power(world: PartiesWorld, tmp_path: Path) -> None:
    """vc-wallet present adds the held anchors of the chosen credentials' issuers: the power of
    attorney's issuer is the importer, so its anchor goes with the power, and anchors it."""
    importer_register(world)
    wallet = Wallet.create(tmp_path / "broker-wallet", "broker passphrase", kdf=KdfParams(n=2**14),
                           verifier=Verifier.offline(policy=HolderPolicy(), mirror=Mirror(snapshots=[str(world.snapshot)])))
    now = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    power = power_of_attorney(day=world.day, agent_did=wallet.holder_did)
    ids = [wallet.add(c, now=now)[0].id for c in [*world.credentials[:3], power]]
    wallet.add(importer_anchor(key=IMPORT_REGISTER), now=now)
    presentation = wallet.present(ids, challenge=CHALLENGE, domain=DOMAIN, now=now, created="2026-03-10T00:00:00Z")
    assert [a.held.id for a in wallet.last_anchors.added] == ["urn:uuid:importer-anchor"]
    report = verify_entry(world.declaration(), presentation, verifier=world.verifier(), challenge=CHALLENGE,
                          domain=DOMAIN, rules=RuleSet.from_policy(world.policy))
    assert report.importer_anchor is not None and report.importer_anchor["identifier"] == "IOR 76-1234567"
    assert HOLDER not in rules_hit(report, line=None)


def test_the_mid_of_a_certifier_that_is_not_the_producer_is_not_the_manufacturers(world: PartiesWorld) -> None:
    """A certification made by the exporter (a trader, anchored with an MID of its own) does not
    make the exporter's MID the goods' manufacturer ID: the mill's report says who made them."""
    world.policy["trustedIssuers"] = [t for t in world.policy["trustedIssuers"] if t["did"] != PRODUCER.did]
    world.policy["anchors"].append(anchor(REGISTRY, PRODUCER.did, mid="MXTRADER77MTY", id="urn:uuid:exporter-anchor",
                                          valid_from="2020-01-01T00:00:00Z", valid_until="2030-01-01T00:00:00Z"))
    coo = next(c for c in world.credentials if c.get("id") == "urn:uuid:coo-1")
    assert coo["credentialSubject"]["certifier"]["role"] == "Exporter"
    world.line = dict(world.line, manufacturerId="MXTRADER77MTY")
    f = finding(world.run(), MANUFACTURER)
    assert f.decision is Decision.REVIEW and "MXTRADER77MTY" in f.message and f"MID {MID}" in f.message


# -- an importer of record nobody anchored -----------------------------------------------------------------


def self_declared(world: PartiesWorld) -> PartiesWorld:
    """The broker files for the importer's number, declaring its own DID as the importer's and
    signing as that 'importer': no power of attorney needed."""
    world.drop("urn:uuid:poa-1")
    world.entry["importerOfRecord"] = dict(world.entry["importerOfRecord"], did=BROKER.did)
    return world


def test_the_default_rules_require_the_importer_to_be_anchored(world: PartiesWorld) -> None:
    # a broker declares its own DID next to the real importer's number and signs as the importer
    self_declared(world)
    report = world.run()
    f = finding(report, HOLDER, line=None)
    assert f.decision is Decision.REVIEW and report.decision is Decision.REVIEW
    assert BROKER.did in f.message and "76-1234567" in f.message and "not anchored" in f.message
    # a policy may turn the requirement off (and then the self-declared importer passes)
    world.policy["entryRules"] = {HOLDER: {"requireAnchoredImporter": False}}
    assert HOLDER not in rules_hit(world.run(), line=None)


def test_an_anchored_importer_meets_the_requirement(world: PartiesWorld) -> None:
    without_importer_anchor(world)
    importer_register(world)
    world.policy["anchors"].append(importer_anchor(key=IMPORT_REGISTER))
    report = world.run()  # the broker, with the anchored importer's power of attorney
    assert report.importer_anchored and HOLDER not in rules_hit(report, line=None)
    world.holder = IMPORTER
    world.drop("urn:uuid:poa-1")
    assert HOLDER not in rules_hit(world.run(), line=None)


def test_the_powers_importer_number_is_compared_without_punctuation(world: PartiesWorld) -> None:
    # the power states 76-1234567 (its schema's form), the entry 761234567: the same number
    world.entry["importerOfRecord"]["identifier"] = "761234567"
    assert HOLDER not in rules_hit(world.run(), line=None)


def test_a_broker_holding_two_powers_may_present_under_the_one_that_fits(world: PartiesWorld) -> None:
    # an older power names another filer code; the current one fits the declared filer
    world.credentials.insert(0, power_of_attorney(day=world.day, filer_code="XYZ", id="urn:uuid:poa-0"))
    world.entry["filer"] = {"identifier": FILER_CODE, "did": BROKER.did, "name": "Border Brokers Inc."}
    assert HOLDER not in rules_hit(world.run(), line=None)
