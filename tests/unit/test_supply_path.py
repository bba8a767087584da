"""The supply-path walker (verifier/supply.py) over real signed credentials: a melt shop's mill
test report in CN, a rolling event in MX, a pipe mill's event and its mill test report in MX."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from tradevc.issuer.credential_types import build_credential, load_example
from tradevc.vc.checks.supply import credential_bytes, related_resource, to_kg
from tradevc.vc.digests import digest_multibase
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.data_integrity import sign_credential
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.verifier import TrustPolicy, verify_credential
from tradevc.verifier.supply import (
    CYCLE,
    DIGEST_MISMATCH,
    FINDING_CODES,
    MASS_IMBALANCE,
    MISSING_LINK,
    ORIGIN_CONFLICT,
    TOO_DEEP,
    TOO_LARGE,
    UNPINNED_LINK,
    UNVERIFIABLE_NODE,
    heat_key,
    walk_supply_path,
)

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
MELT_SHOP = KeyPair.generate("Ed25519")
ROLLING_MILL = KeyPair.generate("Ed25519")
PIPE_MILL = KeyPair.generate("Ed25519")

MTR1, EVENT1, EVENT2, MTR2 = (
    "urn:uuid:00000000-0000-4000-8000-00000000a001", "urn:uuid:00000000-0000-4000-8000-00000000a002",
    "urn:uuid:00000000-0000-4000-8000-00000000a003", "urn:uuid:00000000-0000-4000-8000-00000000a004",
)


def verify(document: Any) -> Any:
    return verify_credential(document, policy=TrustPolicy.unsafe_any_issuer(), now=NOW)


def address(country: str) -> dict[str, Any]:
    return {"type": ["PostalAddress"], "streetAddress": "1 Mill Rd", "addressLocality": "Town", "addressCountry": country}


def party(name: str, country: str) -> dict[str, Any]:
    return {"type": ["Organization"], "name": name, "location": {"type": ["Place"], "address": address(country)}}


def mtr_subject(products: list[tuple[str, str, str, str]], country: str, source: str | None = None) -> dict[str, Any]:
    """A mill test report of ``products``: (identifier, heat, melt country, weight in TNE)."""
    subject = load_example("MillTestReportCredential")
    template = subject["product"][0]
    subject["manufacturer"] = party("Mill", country)
    subject["product"] = []
    for identifier, heat, melt, weight in products:
        product = copy.deepcopy(template)
        product.update(identifier=identifier, heatNumber=heat, originalCountryOfMeltAndPour=melt,
                       manufacturingCountry=country, weight=weight, weightUnit="TNE")
        if source:
            product["sourceCredential"] = source
        subject["product"].append(product)
    return subject


def event_subject(consumed: list[dict[str, Any]], produced: list[tuple[str, str]], country: str,
                  tolerance: str | None = None) -> dict[str, Any]:
    subject: dict[str, Any] = {
        "type": ["TransformationEvent"],
        "place": {"type": ["Place"], "address": address(country)},
        "organization": party("Works", country),
        "eventTime": "2026-03-02T06:00:00Z",
        "consumedProducts": [{"type": ["SteelProduct"], "weightUnit": "TNE", **c} for c in consumed],
        "newProducts": [
            {"type": ["SteelProduct"], "identifier": lot, "weight": weight, "weightUnit": "TNE",
             "commodity": {"type": ["Commodity"], "commodityCode": "730419", "commodityCodeType": "HS"}}
            for lot, weight in produced
        ],
    }
    if tolerance is not None:
        subject["yieldTolerance"] = tolerance
    return subject


def issue(type_name: str, subject: dict[str, Any], key: KeyPair, credential_id: str,
          inputs: tuple[Any, ...] = (), *, check: bool = True) -> dict[str, Any]:
    """Sign a credential of ``type_name``, pinned to ``inputs`` ((id, signed) pairs)."""
    if check:
        credential = build_credential(type_name, subject, issuer=key.did, valid_from="2026-01-01T00:00:00Z",
                                      credential_id=credential_id)
    else:  # beyond what the issuing desk would sign (an imbalance), signed with the library
        credential = build_credential(type_name, load_example(type_name), issuer=key.did,
                                      valid_from="2026-01-01T00:00:00Z", credential_id=credential_id)
        credential["credentialSubject"] = subject
        credential.pop("credentialSchema", None)
    if inputs:
        credential["relatedResource"] = [related_resource(cid, signed) for cid, signed in inputs]
    return sign_credential(credential, key, created="2026-01-01T00:00:00Z")


def chain(*, rolled: tuple[str, str] = ("49", "49"), pipe_weight: str = "96", restated: str = "CN",
          event1_tolerance: str | None = None) -> dict[str, Any]:
    """melt shop MTR (H1, H2 in CN) -> rolling event (MX) -> pipe event (MX) -> pipe mill MTR."""
    mtr1 = issue("MillTestReportCredential",
                 mtr_subject([("SLAB-1", "H1", "CN", "50"), ("SLAB-2", "H2", "CN", "50"), ("SLAB-3", "H3", "CN", "50")], "CN"),
                 MELT_SHOP, MTR1)
    event1 = issue("TransformationEventCredential", event_subject(
        [{"heatNumber": "H1", "weight": "50", "sourceCredential": MTR1},
         {"heatNumber": "H2", "weight": "50", "sourceCredential": MTR1}],
        [("C1", rolled[0]), ("C2", rolled[1])], "MX", event1_tolerance), ROLLING_MILL, EVENT1, ((MTR1, mtr1),),
        check=Decimal(rolled[0]) + Decimal(rolled[1]) <= 100)
    event2 = issue("TransformationEventCredential", event_subject(
        [{"identifier": "C1", "weight": rolled[0], "sourceCredential": EVENT1},
         {"identifier": "C2", "weight": rolled[1], "sourceCredential": EVENT1}],
        [("P1", pipe_weight)], "MX"), PIPE_MILL, EVENT2, ((EVENT1, event1),),
        check=Decimal(pipe_weight) <= Decimal(rolled[0]) + Decimal(rolled[1]))
    half = str(Decimal(pipe_weight) / 2)
    mtr2 = issue("MillTestReportCredential",
                 mtr_subject([("P1", "H1", restated, half), ("P1", "H2", "CN", half)], "MX", source=EVENT2),
                 PIPE_MILL, MTR2, ((EVENT2, event2),))
    return {MTR1: mtr1, EVENT1: event1, EVENT2: event2, MTR2: mtr2}


@pytest.fixture(scope="module")
def good() -> dict[str, Any]:
    return chain()


def codes(path: Any) -> list[str]:
    return [f.code for f in path.findings]


# ---- the whole path ---------------------------------------------------------------------------


def test_a_three_step_path_gives_the_melt_shops_heats(good):
    path = walk_supply_path([good[MTR2]], [good[MTR1], good[EVENT1], good[EVENT2]], verify)
    assert path.findings == [], path.findings
    assert path.ok
    assert path.root_ids == [MTR2]
    assert set(path.edges) == {(MTR2, EVENT2), (EVENT2, EVENT1), (EVENT1, MTR1)}
    heats = path.heats_for(MTR2)
    assert [(h.number, h.melt_country, h.issuer, h.credential_id) for h in heats] == [
        ("H1", "CN", MELT_SHOP.did, MTR1), ("H2", "CN", MELT_SHOP.did, MTR1),
    ]
    assert heats[0].weight_kg == Decimal(50000)
    # H3 is in the melt shop's report but no step consumed it: not upstream of the pipe
    assert heat_key(MELT_SHOP.did, "H3") in path.heats
    assert "H3" not in {h.number for h in heats}
    assert {h.number for h in path.heats_for(MTR1)} == {"H1", "H2", "H3"}
    nodes = path.nodes
    assert nodes[EVENT1].country == "MX" and nodes[MTR1].country == "CN"
    assert nodes[EVENT1].kind == "transformation-event" and nodes[MTR1].kind == "mill-test-report"
    assert [nodes[i].depth for i in (MTR2, EVENT2, EVENT1, MTR1)] == [0, 1, 2, 3]
    assert all(n.verified and n.linked for n in nodes.values())
    report = json.loads(json.dumps(path.to_dict()))
    assert {"from": EVENT1, "to": MTR1} in report["edges"]
    assert {h["number"] for h in report["heats"]} == {"H1", "H2", "H3"}


def test_credentials_as_text_tokens_and_envelopes(good):
    """JSON text (its exact bytes), a vc+jwt and an enveloped vc+jwt are walked alike."""
    token = sign_credential_jwt({k: v for k, v in good[EVENT1].items() if k != "proof"}, ROLLING_MILL)
    event1 = {k: v for k, v in good[EVENT1].items() if k != "proof"}
    event2 = issue("TransformationEventCredential", event_subject(
        [{"identifier": "C1", "weight": "49", "sourceCredential": EVENT1},
         {"identifier": "C2", "weight": "49", "sourceCredential": EVENT1}], [("P1", "96")], "MX"),
        PIPE_MILL, EVENT2, ((EVENT1, token),))
    assert event1["id"] == EVENT1
    text = json.dumps(good[MTR1], indent=4)
    envelope = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "EnvelopedVerifiableCredential",
                "id": "data:application/vc+jwt," + token}
    for held in (token, envelope, token.encode()):
        path = walk_supply_path([json.dumps(event2)], [held, text], verify)
        assert path.findings == [], path.findings
        assert [h.number for h in path.heats_for(EVENT2)] == ["H1", "H2"]


def test_a_digest_of_the_exact_file_bytes_is_accepted(good):
    """Another issuer may digest the file as it holds it; the walker then needs those bytes."""
    text = json.dumps(good[MTR1], indent=1).encode()
    credential = build_credential("TransformationEventCredential", event_subject(
        [{"heatNumber": "H1", "weight": "50", "sourceCredential": MTR1}], [("C1", "49")], "MX"),
        issuer=ROLLING_MILL.did, credential_id=EVENT1, valid_from="2026-01-01T00:00:00Z")
    credential["relatedResource"] = [{"id": MTR1, "digestMultibase": digest_multibase(text, "sha384")}]
    event1 = sign_credential(credential, ROLLING_MILL, created="2026-01-01T00:00:00Z")
    assert walk_supply_path([event1], [text], verify).findings == []
    found = walk_supply_path([event1], [good[MTR1]], verify)  # the JSON value alone is not those bytes
    assert codes(found) == [DIGEST_MISMATCH]


# ---- breaks -----------------------------------------------------------------------------------


def test_missing_link(good):
    path = walk_supply_path([good[MTR2]], [good[EVENT2], good[MTR1]], verify)
    assert codes(path) == [MISSING_LINK]
    finding = path.findings[0]
    assert finding.credential_id == EVENT2 and EVENT1 in finding.message
    assert finding.pointer == "/relatedResource/0"
    assert path.heats_for(MTR2) == []  # no origin without the link


def test_digest_mismatch_on_a_tampered_upstream_credential(good):
    tampered = copy.deepcopy(good[MTR1])
    tampered["credentialSubject"]["product"][0]["originalCountryOfMeltAndPour"] = "MX"
    path = walk_supply_path([good[MTR2]], [tampered, good[EVENT1], good[EVENT2]], verify)
    assert DIGEST_MISMATCH in codes(path)
    assert UNVERIFIABLE_NODE in codes(path)  # and its proof no longer verifies
    assert [f.credential_id for f in path.findings if f.code == DIGEST_MISMATCH] == [EVENT1]
    assert not path.nodes[MTR1].linked
    assert path.heats_for(MTR2) == []


def test_the_path_as_json_says_what_each_node_says(good):
    """What the entry report draws: each node's mill or facility name, its date, and its
    products, inputs and outputs with their weights in kilograms."""
    path = walk_supply_path([good[MTR2]], [good[MTR1], good[EVENT1], good[EVENT2]], verify)
    nodes = {n["id"]: n for n in json.loads(json.dumps(path.to_dict()))["nodes"]}
    assert (nodes[MTR1]["name"], nodes[MTR1]["issued"]) == ("Mill", "2026-01-01T00:00:00Z")
    assert [(p["heatNumber"], p["meltCountry"], p["weightKg"]) for p in nodes[MTR1]["facts"]["products"]] == [
        ("H1", "CN", "50000"), ("H2", "CN", "50000"), ("H3", "CN", "50000")]
    event = nodes[EVENT1]
    assert (event["name"], event["issued"]) == ("Works", "2026-03-02T06:00:00Z")
    assert [(c["heatNumber"], c["sourceCredential"]) for c in event["facts"]["consumed"]] == [
        ("H1", MTR1), ("H2", MTR1)]
    assert [(p["identifier"], p["weightKg"]) for p in event["facts"]["produced"]] == [("C1", "49000"), ("C2", "49000")]


def test_a_link_finding_names_the_credential_it_links_to(good):
    missing = walk_supply_path([good[MTR2]], [good[EVENT2], good[MTR1]], verify)
    assert [(f.credential_id, f.related) for f in missing.findings] == [(EVENT2, EVENT1)]
    assert missing.to_dict()["findings"][0]["related"] == EVENT1
    tampered = copy.deepcopy(good[MTR1])
    tampered["credentialSubject"]["product"][0]["originalCountryOfMeltAndPour"] = "MX"
    path = walk_supply_path([good[MTR2]], [tampered, good[EVENT1], good[EVENT2]], verify)
    (mismatch,) = [f for f in path.findings if f.code == DIGEST_MISMATCH]
    assert (mismatch.credential_id, mismatch.related) == (EVENT1, MTR1)
    assert all(f.related is None for f in path.findings if f.code == UNVERIFIABLE_NODE)

def test_a_validly_signed_substitute_under_the_same_id(good):
    """The melt shop signs another report under the same id: its signature holds, its digest
    does not; held next to the original, the original is taken."""
    substitute = issue("MillTestReportCredential", mtr_subject([("SLAB-1", "H1", "MX", "50"), ("SLAB-2", "H2", "MX", "50")], "MX"),
                       MELT_SHOP, MTR1)
    alone = walk_supply_path([good[MTR2]], [substitute, good[EVENT1], good[EVENT2]], verify)
    assert codes(alone) == [DIGEST_MISMATCH]
    assert alone.heats_for(MTR2) == [] and alone.heats == {}
    both = walk_supply_path([good[MTR2]], [substitute, good[MTR1], good[EVENT1], good[EVENT2]], verify)
    assert both.findings == []
    assert {h.melt_country for h in both.heats_for(MTR2)} == {"CN"}


def test_unverifiable_node_bad_signature(good):
    forged = copy.deepcopy(good[EVENT1])
    forged["proof"]["proofValue"] = "z" + "1" * 86
    # re-pin the forged event downstream so that only the signature is wrong
    event2 = issue("TransformationEventCredential", event_subject(
        [{"identifier": "C1", "weight": "49", "sourceCredential": EVENT1},
         {"identifier": "C2", "weight": "49", "sourceCredential": EVENT1}], [("P1", "96")], "MX"),
        PIPE_MILL, EVENT2, ((EVENT1, forged),))
    path = walk_supply_path([event2], [forged, good[MTR1]], verify)
    assert codes(path) == [UNVERIFIABLE_NODE]
    assert path.findings[0].credential_id == EVENT1
    assert not path.nodes[EVENT1].verified
    assert path.heats_for(EVENT2) == []  # nothing is taken through an unverified step


def test_unreadable_input_is_a_finding_not_an_exception(good):
    path = walk_supply_path(["not a credential", b"\xff", 42], [b"{", good[MTR1]], verify)
    assert codes(path) == [UNVERIFIABLE_NODE] * 3
    assert path.root_ids == [] and path.nodes == {}
    # what the verifier holds besides may be anything: listed, not a finding of the path
    assert path.unread == ["available[0]: " + path.unread[0].split(": ", 1)[1]] and len(path.unread) == 1
    clean = walk_supply_path([good[MTR1]], [b"\xff", "{"], verify)
    assert clean.findings == [] and len(clean.unread) == 2


def test_mass_imbalance_outputs_beyond_inputs():
    within = chain(rolled=("50", "50.4"), event1_tolerance="0.005")  # 100.4 <= 100 * 1.005
    path = walk_supply_path([within[MTR2]], list(within.values()), verify)
    assert MASS_IMBALANCE not in codes(path), path.findings
    beyond = chain(rolled=("50", "51"), pipe_weight="100")  # 101 t of coils from 100 t of slabs
    path = walk_supply_path([beyond[MTR2]], list(beyond.values()), verify)
    messages = [f.message for f in path.findings if f.code == MASS_IMBALANCE]
    assert any("more than the 100000 kg of inputs" in m for m in messages), path.findings
    assert {f.credential_id for f in path.findings if f.code == MASS_IMBALANCE} >= {EVENT1}


def test_mass_imbalance_a_declared_tolerance_beyond_the_limit():
    loose = chain(rolled=("55", "55"), pipe_weight="100", event1_tolerance="0.5")
    path = walk_supply_path([loose[MTR2]], list(loose.values()), verify)
    assert codes(path).count(MASS_IMBALANCE) >= 2  # the tolerance, and 110 t out of 100 t at 5 %
    relaxed = walk_supply_path([loose[MTR2]], list(loose.values()), verify, max_yield_tolerance=Decimal("0.5"))
    assert MASS_IMBALANCE not in [f.code for f in relaxed.findings if f.credential_id == EVENT1]


def test_mass_imbalance_a_heat_consumed_twice(good):
    """Two events each consume all 50 t of heat H1: 100 t of a 50 t heat."""
    again = issue("TransformationEventCredential", event_subject(
        [{"heatNumber": "H1", "weight": "50", "sourceCredential": MTR1}], [("C9", "49")], "MX"),
        ROLLING_MILL, "urn:uuid:00000000-0000-4000-8000-00000000a009", ((MTR1, good[MTR1]),))
    path = walk_supply_path([good[MTR2], again], [good[MTR1], good[EVENT1], good[EVENT2]], verify)
    imbalance = [f for f in path.findings if f.code == MASS_IMBALANCE]
    assert len(imbalance) == 1 and imbalance[0].credential_id == MTR1
    assert "100 kg" not in imbalance[0].message and "100000 kg of it is used" in imbalance[0].message


def test_an_input_the_source_does_not_name(good):
    ghost = issue("TransformationEventCredential", event_subject(
        [{"heatNumber": "H7", "weight": "10", "sourceCredential": MTR1}], [("C7", "9")], "MX"),
        ROLLING_MILL, EVENT1, ((MTR1, good[MTR1]),))
    path = walk_supply_path([ghost], [good[MTR1]], verify)
    assert codes(path) == [MISSING_LINK]
    assert "heat H7" in path.findings[0].message


def test_a_source_named_without_a_digest_is_unpinned(good):
    event1 = issue("TransformationEventCredential", event_subject(
        [{"heatNumber": "H1", "weight": "50", "sourceCredential": MTR1}], [("C1", "49")], "MX"),
        ROLLING_MILL, EVENT1)
    path = walk_supply_path([event1], [good[MTR1]], verify)
    assert codes(path) == [UNPINNED_LINK]


def test_origin_conflict_a_pipe_mill_restates_another_country():
    restated = chain(restated="MX")
    path = walk_supply_path([restated[MTR2]], list(restated.values()), verify)
    assert codes(path) == [ORIGIN_CONFLICT]
    finding = path.findings[0]
    assert finding.credential_id == MTR2 and finding.pointer == "/credentialSubject/product/0"
    # the melt country is still the melt shop's
    assert {h.number: h.melt_country for h in path.heats_for(MTR2)} == {"H1": "CN", "H2": "CN"}


def test_cycle():
    a, b = "urn:uuid:00000000-0000-4000-8000-0000000000c1", "urn:uuid:00000000-0000-4000-8000-0000000000c2"
    first = issue("MillTestReportCredential", mtr_subject([("L1", "H1", "CN", "10")], "CN", source=b), MELT_SHOP, a)
    second = issue("MillTestReportCredential", mtr_subject([("L1", "H1", "CN", "10")], "CN", source=a), MELT_SHOP, b,
                   ((a, first),))
    path = walk_supply_path([second], [first], verify)
    assert CYCLE in codes(path)
    assert set(path.edges) == {(b, a), (a, b)}


def test_depth_and_size_bounds(good):
    everything = [good[MTR1], good[EVENT1], good[EVENT2]]
    shallow = walk_supply_path([good[MTR2]], everything, verify, max_depth=2)
    assert codes(shallow) == [TOO_DEEP]
    assert shallow.findings[0].credential_id == EVENT1 and MTR1 not in shallow.nodes
    small = walk_supply_path([good[MTR2]], everything, verify, max_nodes=2)
    assert codes(small) == [TOO_LARGE]
    assert len(small.nodes) == 2
    assert walk_supply_path([good[MTR2]], everything, verify, max_depth=3).findings == []
    with pytest.raises(ValueError):
        walk_supply_path([], [], verify, max_nodes=0)


def test_every_finding_code_is_documented():
    from tradevc.verifier import supply

    for code in FINDING_CODES:
        assert f"``{code}``" in (supply.__doc__ or "")


# ---- units and digests ------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "unit", "kg"), [
    ("1", "KGM", "1"), ("1.5", "TNE", "1500"), ("1", "LBR", "0.45359237"), ("2", "STN", "1814.36948"), (3, "TNE", "3000"),
])
def test_to_kg_is_exact(value, unit, kg):
    assert to_kg(value, unit) == Decimal(kg)


@pytest.mark.parametrize(("value", "unit"), [("1", "KG"), ("1", "tne"), ("-1", "KGM"), ("1e3", "KGM"), (True, "KGM")])
def test_to_kg_refuses(value, unit):
    from tradevc.vc.checks.supply import SupplyError

    with pytest.raises(SupplyError):
        to_kg(value, unit)


def test_credential_digest_is_over_jcs_or_the_token(good):
    assert credential_bytes(good[MTR1]) == credential_bytes(json.loads(json.dumps(good[MTR1], indent=3)))
    assert credential_bytes(" a.b.c \n") == b"a.b.c"
    entry = related_resource(MTR1, good[MTR1])
    assert entry["mediaType"] == "application/vc" and entry["digestSRI"].startswith("sha384-")


def test_credential_bytes_are_rfc8785_on_either_path(good):
    """The digest form is RFC 8785 whether the C writer (plain JSON) or the rfc8785 package
    (floats ECMAScript writes otherwise, astral keys, ...) produces it."""
    import rfc8785

    from tradevc.vc.errors import InvalidDocument

    for credential in good.values():
        assert credential_bytes(credential) == rfc8785.dumps(credential)
    for odd in ({"a": 1.0, "b": 1e21, "c": 5e-7}, {"\U0001f6a2": 1, "\uffff": 2}, {"w": 78422.5}):
        assert credential_bytes(odd) == rfc8785.dumps(odd)
    assert credential_bytes({"a": 1.0}) == b'{"a":1}'
    with pytest.raises(InvalidDocument):
        credential_bytes({"a": float("nan")})


def test_upstream_references_reuse_facts_already_read(good):
    from tradevc.vc.checks.supply import read_supply_facts, upstream_references

    for credential in good.values():
        facts = read_supply_facts(credential)
        assert upstream_references(credential, facts=facts) == upstream_references(credential)
    references, _ = upstream_references(good[EVENT1], facts=read_supply_facts(good[EVENT1]))
    assert [r.credential_id for r in references] == [MTR1] and references[0].digests


def test_a_related_image_is_not_a_missing_credential(good):
    """relatedResource also pins images and documents: without a credential mediaType, an
    entry the verifier holds no credential for is left to the pipeline's related_resource check."""
    credential = build_credential("TransformationEventCredential", event_subject(
        [{"heatNumber": "H1", "weight": "50", "sourceCredential": MTR1}], [("C1", "49")], "MX"),
        issuer=ROLLING_MILL.did, credential_id=EVENT1, valid_from="2026-01-01T00:00:00Z")
    credential["relatedResource"] = [
        related_resource(MTR1, good[MTR1]),
        {"id": "https://mill.example/photos/coil-c1.jpg", "digestSRI": "sha384-" + "A" * 64},
    ]
    event1 = sign_credential(credential, ROLLING_MILL, created="2026-01-01T00:00:00Z")
    assert walk_supply_path([event1], [good[MTR1]], verify).findings == []
    # the same entry with a credential's media type is a link the walk needs
    credential["relatedResource"][1]["mediaType"] = "application/vc"
    event1 = sign_credential(credential, ROLLING_MILL, created="2026-01-01T00:00:00Z")
    assert codes(walk_supply_path([event1], [good[MTR1]], verify)) == [MISSING_LINK]


def test_a_restated_heat_with_no_melt_shop_upstream(good):
    """The pipe mill's report names heat H9, which nothing upstream made."""
    stray = issue("MillTestReportCredential", mtr_subject([("P1", "H9", "CN", "48")], "MX", source=EVENT2),
                  PIPE_MILL, MTR2, ((EVENT2, good[EVENT2]),))
    path = walk_supply_path([stray], [good[MTR1], good[EVENT1], good[EVENT2]], verify)
    assert codes(path) == [MISSING_LINK]
    assert "heat H9" in path.findings[0].message and path.findings[0].credential_id == MTR2
    assert path.heats_for(MTR2) == []  # the line names H9 only, which no melt shop made
    assert "H9" not in {h.number for h in path.heats.values()}
