"""Trust paths (tradevc.verifier.trust) with real signed credentials and did:key parties:
a path to a root and every broken link (each with its refusal code), licence chains, IP
authorisations and the mark check, the policy file's errors, and the cache."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from support.vouches import anchor, authorisation, certificate, licence, vouch
from tradevc.vc.checks.policy import TrustPolicy
from tradevc.vc.keys import KeyPair
from tradevc.verifier import Verifier, verify_credential
from tradevc.verifier.trust import (
    REASONS, TrustPathPolicy, TrustPaths, describe_path, goods_codes, load_policy, vouches_in,
)
from tradevc.wallet import sign_presentation

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
CREATED = "2026-05-31T12:00:00Z"
REGISTRY, MILL, OTHER = (KeyPair.generate("Ed25519") for _ in range(3))
TYPES = ["USMCACertificationOfOrigin", "MillTestReportCredential"]


def root(key: KeyPair = REGISTRY, **kw: Any) -> dict[str, Any]:
    return {"did": key.did, "name": "Registro Nacional de Empresas", "vouches": ["anchor"], "types": TYPES} | kw


def policy(*roots: dict[str, Any], anchors: list[Any] = (), **members: Any) -> TrustPathPolicy:  # type: ignore[assignment]
    return TrustPathPolicy.from_dict({"roots": list(roots or [root()]), "anchors": list(anchors), **members},
                                     source="border-policy.json")


def verify(document: Any, trust: TrustPathPolicy, now: datetime = NOW) -> Any:
    return Verifier.offline(policy=trust, clock=lambda: now).verify_credential(document)


def trusted(result: Any) -> dict[str, Any]:
    check = result.check("issuer_trust")
    assert result.verified and check.outcome.value == "passed", result.summary()
    return check.data["trustPath"]


def refused(result: Any, code: str, outcome: str = "failed") -> Any:
    check = result.check("issuer_trust")
    assert not result.verified, result.summary()
    assert check.outcome.value == outcome and check.code == "UNTRUSTED_ISSUER", check
    assert code in check.data["codes"], (code, check.data["codes"], check.message)
    assert code in REASONS
    return check


# -- a path, and what the report says ---------------------------------------------------------


def test_an_anchored_issuer_is_trusted_and_the_report_shows_the_path() -> None:
    mill_anchor = anchor(REGISTRY, MILL.did, id="urn:uuid:anchor-1")
    path = trusted(verify(certificate(MILL), policy(root(schemes=["MID"]), anchors=[mill_anchor])))
    assert path["length"] == 2 and path["issuer"] == MILL.did
    (step,) = path["steps"]
    assert step["party"] == MILL.did and step["identifiers"] == ["MID MXACEDEL1234MON"]
    assert step["vouch"] == {"id": "urn:uuid:anchor-1", "type": "IdentityAnchorCredential", "issuer": REGISTRY.did,
                             "status": "valid (no status list)", "validUntil": "2027-01-01T00:00:00Z",
                             "from": "trust store (anchors[0], inline)"}
    assert path["root"]["did"] == REGISTRY.did and path["root"]["source"] == "border-policy.json"
    lines = describe_path(path)
    assert lines[0] == f"issuer {MILL.did}"
    assert lines[1].startswith("  anchored by MID MXACEDEL1234MON  (IdentityAnchorCredential urn:uuid:anchor-1, "
                               f"issued by {REGISTRY.did}, valid")
    assert lines[2] == ("  Registro Nacional de Empresas trusted for: MillTestReportCredential, "
                        "USMCACertificationOfOrigin (root in border-policy.json)")


def test_the_policy_works_without_a_verifier_too() -> None:
    trust = policy(anchors=[anchor(REGISTRY, MILL.did)])
    result = verify_credential(certificate(MILL), policy=trust, now=NOW)
    assert result.check("issuer_trust").data["trustPath"]["length"] == 2
    assert not verify_credential(certificate(OTHER), policy=trust, now=NOW).verified


def test_flat_policy_files_are_read_as_before(tmp_path) -> None:
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"trustedIssuers": [{"did": MILL.did, "name": "Mill", "types": TYPES}]}))
    loaded = load_policy(flat)
    assert type(loaded) is TrustPolicy
    assert Verifier.offline(policy=loaded, clock=lambda: NOW).verify_credential(certificate(MILL)).verified
    # direct trust in a path-aware file: a path of length 1
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"trustedIssuers": {MILL.did: TYPES}, "roots": [root()]}))
    path = trusted(verify(certificate(MILL), load_policy(both)))
    assert path["length"] == 1 and path["root"]["source"] == "both.json" and path["root"]["direct"] is True
    assert describe_path(path)[1] == (f"  {MILL.did} trusted directly for: MillTestReportCredential, "
                                      "USMCACertificationOfOrigin (trustedIssuers in both.json)")


def test_a_root_is_trusted_itself_for_its_types() -> None:
    assert trusted(verify(certificate(REGISTRY), policy()))["length"] == 1


def test_anchors_from_files_and_folders_relative_to_the_policy(tmp_path) -> None:
    (tmp_path / "anchors").mkdir()
    (tmp_path / "anchors" / "mill.json").write_text(json.dumps(anchor(REGISTRY, MILL.did)))
    (tmp_path / "other.json").write_text(json.dumps(anchor(REGISTRY, OTHER.did, mid="MXOTHER0001MON")))
    file = tmp_path / "border-policy.json"
    file.write_text(json.dumps({"roots": [root()], "anchors": ["anchors/", "other.json"]}))
    trust = load_policy(file)
    assert isinstance(trust, TrustPathPolicy)
    assert trusted(verify(certificate(MILL), trust))["steps"][0]["vouch"]["from"] == "trust store anchors/mill.json"
    assert trusted(verify(certificate(OTHER), trust))["steps"][0]["vouch"]["from"] == "trust store other.json"


# -- every broken link ------------------------------------------------------------------------


def test_no_anchor() -> None:
    check = refused(verify(certificate(MILL), policy(anchors=[anchor(REGISTRY, OTHER.did)])), "NO_ANCHOR")
    assert MILL.did in check.message


def test_anchor_expired_and_not_yet_valid() -> None:
    expired = anchor(REGISTRY, MILL.did, valid_from="2025-01-01T00:00:00Z", valid_until="2026-03-01T00:00:00Z")
    refused(verify(certificate(MILL), policy(anchors=[expired])), "ANCHOR_EXPIRED")
    later = anchor(REGISTRY, MILL.did, valid_from="2026-09-01T00:00:00Z")
    refused(verify(certificate(MILL), policy(anchors=[later])), "ANCHOR_NOT_YET_VALID")


def test_a_tampered_anchor_is_refused() -> None:
    forged = anchor(REGISTRY, OTHER.did)
    forged["credentialSubject"]["id"] = MILL.did  # the registry anchored OTHER, not the mill
    check = refused(verify(certificate(MILL), policy(anchors=[forged])), "ANCHOR_INVALID")
    assert "proof" in json.dumps(check.data)


def test_anchor_issued_by_a_party_that_is_not_a_root() -> None:
    check = refused(verify(certificate(MILL), policy(anchors=[anchor(OTHER, MILL.did)])), "ISSUER_NOT_TRUSTED")
    assert "NO_ANCHOR" in check.data["codes"]


def test_root_not_allowed_that_kind() -> None:
    accreditor = root(vouches=["accreditation"])
    refused(verify(certificate(MILL), policy(accreditor, anchors=[anchor(REGISTRY, MILL.did)])), "KIND_NOT_ALLOWED")


def test_types_beyond_the_root_and_the_anchor() -> None:
    only_mtr = root(types=["MillTestReportCredential"])
    check = refused(verify(certificate(MILL), policy(only_mtr, anchors=[anchor(REGISTRY, MILL.did)])),
                    "SCOPE_TOO_NARROW")
    assert "USMCACertificationOfOrigin" in check.message
    narrowed = anchor(REGISTRY, MILL.did, authorizedCredentialType=["MillTestReportCredential"])
    refused(verify(certificate(MILL), policy(anchors=[narrowed])), "SCOPE_TOO_NARROW")


def test_goods_out_of_scope() -> None:
    steel = root(goods=["72", "73"])
    assert trusted(verify(certificate(MILL), policy(steel, anchors=[anchor(REGISTRY, MILL.did)])))
    pipes_only = anchor(REGISTRY, MILL.did, hsScope=["7304"])
    check = refused(verify(certificate(MILL), policy(steel, anchors=[pipes_only])), "SCOPE_TOO_NARROW")
    assert "720851" in check.message and "730419" not in check.message.split("not ")[-1]
    assert trusted(verify(certificate(MILL, goods=("7304.19",)), policy(steel, anchors=[pipes_only])))


def test_identifier_scheme_the_root_does_not_register() -> None:
    eori_only = root(schemes=["EORI"])
    refused(verify(certificate(MILL), policy(eori_only, anchors=[anchor(REGISTRY, MILL.did)])), "SCHEME_NOT_ALLOWED")
    refused(verify(certificate(MILL), policy(root(schemes=["MID"]), anchors=[anchor(REGISTRY, MILL.did, mid=None)])),
            "SCHEME_NOT_ALLOWED")


def test_cycle_without_a_root() -> None:
    a, b = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    trust = policy(anchors=[anchor(b, a.did), anchor(a, b.did)])
    check = refused(verify(certificate(a), trust), "CYCLE")
    assert "ISSUER_NOT_TRUSTED" in check.data["codes"]
    refused(verify(certificate(a), policy(anchors=[anchor(a, a.did)])), "CYCLE")  # vouching for itself


def test_depth_bounded_by_the_root_and_by_max_path_length() -> None:
    broker = KeyPair.generate("Ed25519")
    chain = [anchor(REGISTRY, broker.did, mid="MXBROKER01"), anchor(broker, MILL.did)]
    refused(verify(certificate(MILL), policy(anchors=chain)), "CHAIN_TOO_DEEP")  # maxDepth 1
    path = trusted(verify(certificate(MILL), policy(root(maxDepth=2), anchors=chain)))
    assert path["length"] == 3 and [s["party"] for s in path["steps"]] == [MILL.did, broker.did]
    short = policy(root(maxDepth=1), anchors=chain, limits={"maxPathLength": 2})
    refused(verify(certificate(MILL), short), "CHAIN_TOO_DEEP")


def test_too_many_candidates() -> None:
    stale = [anchor(REGISTRY, MILL.did, valid_until="2026-02-01T00:00:00Z") for _ in range(3)]
    good = anchor(REGISTRY, MILL.did)
    check = refused(verify(certificate(MILL), policy(anchors=[*stale, good], limits={"maxCandidates": 3})),
                    "TOO_MANY_CANDIDATES")
    assert "ANCHOR_EXPIRED" in check.data["codes"]
    assert trusted(verify(certificate(MILL), policy(anchors=[*stale, good], limits={"maxCandidates": 4})))


# -- licences ---------------------------------------------------------------------------------


GS1 = KeyPair.generate("Ed25519")


def gs1_root(**kw: Any) -> dict[str, Any]:
    return {"did": GS1.did, "name": "GS1 Mexico", "vouches": ["licence"], "types": TYPES, "prefixes": ["0614"],
            "maxDepth": 2} | kw


def licences(child_prefix: str = "0614141", *, child_issuer: KeyPair | None = None,
             parent_until: str = "2027-01-01T00:00:00Z") -> tuple[KeyPair, list[dict[str, Any]]]:
    holder, sub = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    parent = licence(GS1, holder.did, prefixes=["06141"], id="urn:uuid:parent", valid_until=parent_until)
    child = licence(child_issuer or holder, sub.did, prefixes=[child_prefix], parent="urn:uuid:parent",
                    valid_until="2026-12-31T00:00:00Z")
    return sub, [parent, child]


def test_a_licence_chain_within_its_parent() -> None:
    sub, docs = licences()
    path = trusted(verify(certificate(sub), policy(gs1_root(), anchors=docs)))
    assert path["length"] == 3 and [s["kind"] for s in path["steps"]] == ["licence", "licence"]
    assert describe_path(path)[1].startswith("  licensed under ")


def test_a_licence_extended_by_someone_who_is_not_the_licensee() -> None:
    sub, docs = licences(child_issuer=OTHER)
    refused(verify(certificate(sub), policy(gs1_root(), anchors=docs)), "NOT_LICENSEE")


def test_a_child_licence_beyond_its_parent() -> None:
    sub, docs = licences("0615")
    check = refused(verify(certificate(sub), policy(gs1_root(), anchors=docs)), "SCOPE_BEYOND_PARENT")
    assert "0615" in check.message


def test_a_child_licence_whose_parent_is_invalid_or_missing() -> None:
    sub, docs = licences(parent_until="2026-03-01T00:00:00Z")  # the parent expired
    check = refused(verify(certificate(sub), policy(gs1_root(), anchors=docs)), "PARENT_INVALID")
    assert "ANCHOR_EXPIRED" in check.data["codes"]
    sub, docs = licences()
    refused(verify(certificate(sub), policy(gs1_root(), anchors=docs[1:])), "PARENT_INVALID")


def test_a_top_licence_must_come_from_a_root() -> None:
    sub = KeyPair.generate("Ed25519")
    refused(verify(certificate(sub), policy(gs1_root(), anchors=[licence(OTHER, sub.did, prefixes=["0614"])])),
            "PARENT_MISSING")


# -- IP authorisations and the mark check ----------------------------------------------------


ACME, MAKER, SHOP = (KeyPair.generate("Ed25519") for _ in range(3))
MARKS = [{"mark": "ACME", "recordation": "TMK 21-00123", "rightsHolder": ACME.did, "goods": ["8471"]}]


def ip_chain(shop_goods: str = "847130", shop_parent: str = "urn:uuid:maker") -> list[dict[str, Any]]:
    return [
        authorisation(ACME, MAKER.did, marks=["Acme"], goods=["8471"], territories=["US", "MX"], id="urn:uuid:maker"),
        authorisation(MAKER, SHOP.did, marks=["ACME"], goods=[shop_goods], territories=["US"], parent=shop_parent,
                      valid_until="2026-12-01T00:00:00Z"),
    ]


def marks_policy(docs: list[dict[str, Any]]) -> TrustPathPolicy:
    return TrustPathPolicy.from_dict({"recordedMarks": MARKS, "anchors": docs}, source="border-policy.json")


def test_mark_authorised_through_a_sub_authorisation() -> None:
    desk = Verifier.offline(policy=marks_policy(ip_chain()), clock=lambda: NOW)
    check = desk.check_mark("acme", SHOP.did, "8471.30.01", "US")
    assert check.outcome.value == "passed" and check.name == "mark_authorisation", check
    path = check.data["trustPath"]
    assert [s["party"] for s in path["steps"]] == [SHOP.did, MAKER.did] and path["root"]["mark"] == "ACME"
    assert "recorded mark ACME (TMK 21-00123)" in path["root"]["source"]
    assert desk.check_mark("ACME", ACME.did, "8471", "US").outcome.value == "passed"  # the rights holder


@pytest.mark.parametrize("mark, hs, country, code", [
    ("ACME", "8528.72", "US", "SCOPE_TOO_NARROW"),    # televisions: not authorised goods
    ("ACME", "8471.30", "MX", "SCOPE_TOO_NARROW"),    # the shop may sell in the US only
    ("ZENITH", "8471.30", "US", "MARK_NOT_RECORDED"),
])
def test_mark_not_authorised(mark: str, hs: str, country: str, code: str) -> None:
    check = Verifier.offline(policy=marks_policy(ip_chain()), clock=lambda: NOW).check_mark(mark, SHOP.did, hs, country)
    assert check.outcome.value == "failed" and check.code == "UNAUTHORISED_MARK" and code in check.data["codes"], check


def test_sub_authorisation_beyond_the_authorisation_or_from_a_stranger() -> None:
    desk = Verifier.offline(policy=marks_policy(ip_chain(shop_goods="85")), clock=lambda: NOW)
    assert "SCOPE_BEYOND_PARENT" in desk.check_mark("ACME", SHOP.did, "8471.30", "US").data["codes"]
    forged_chain = ip_chain()
    forged_chain[1] = authorisation(OTHER, SHOP.did, marks=["ACME"], goods=["847130"], territories=["US"],
                                    parent="urn:uuid:maker")
    desk = Verifier.offline(policy=marks_policy(forged_chain), clock=lambda: NOW)
    assert "NOT_LICENSEE" in desk.check_mark("ACME", SHOP.did, "8471.30", "US").data["codes"]


def test_authorisations_offered_with_a_presentation_and_never_trust_for_credentials() -> None:
    desk = Verifier.offline(policy=marks_policy([]), clock=lambda: NOW)
    assert desk.check_mark("ACME", SHOP.did, "847130", "US").outcome.value == "failed"
    vp = sign_presentation(ip_chain(), SHOP, challenge="c", domain="cbp.gov", cryptosuite="eddsa-jcs-2022", created=CREATED)
    assert desk.check_mark("ACME", SHOP.did, "847130", "US", presentation=vp).outcome.value == "passed"
    # an IP authorisation is no licence to issue trade credentials
    trust = marks_policy(ip_chain())
    assert not Verifier.offline(policy=trust, clock=lambda: NOW).verify_credential(certificate(MAKER)).verified
    assert not Verifier.offline(policy=trust, clock=lambda: NOW).verify_credential(certificate(ACME)).verified


# -- presentations ----------------------------------------------------------------------------


def test_anchors_offered_with_the_presentation() -> None:
    importer = KeyPair.generate("Ed25519")
    mill_anchor = anchor(REGISTRY, MILL.did)
    vp = sign_presentation([certificate(MILL), mill_anchor], importer, challenge="c", domain="cbp.gov",
                           cryptosuite="eddsa-jcs-2022", created=CREATED)
    assert vouches_in(vp) == [mill_anchor]
    desk = Verifier.offline(policy=policy(), clock=lambda: NOW)
    result = desk.verify_presentation(vp, challenge="c", domain="cbp.gov")
    assert result.verified, result.summary()
    first, second = result.credentials
    assert trusted(first)["steps"][0]["vouch"]["from"] == "presentation"
    assert second.check("issuer_trust").message.startswith(f"an anchor by {REGISTRY.did} on a path to Registro")
    # without the anchor the same certificate is not trusted, and an anchor from a stranger fails the presentation
    alone = sign_presentation([certificate(MILL)], importer, challenge="c", domain="cbp.gov", cryptosuite="eddsa-jcs-2022", created=CREATED)
    assert not desk.verify_presentation(alone, challenge="c", domain="cbp.gov").verified
    stranger = sign_presentation([certificate(MILL), anchor(OTHER, MILL.did)], importer, challenge="c",
                                 domain="cbp.gov", cryptosuite="eddsa-jcs-2022", created=CREATED)
    result = desk.verify_presentation(stranger, challenge="c", domain="cbp.gov")
    assert not result.verified and not result.credentials[1].verified


# -- the cache ---------------------------------------------------------------------------------


def test_paths_are_cached_per_issuer_until_the_cache_time_or_the_anchor_ends() -> None:
    from tradevc.verifier.trust import _offline_verify

    calls: list[Any] = []

    def counting(document: Any, keep: Any, now: datetime) -> Any:
        calls.append(document)
        return _offline_verify(document, keep, now)

    trust = policy(anchors=[anchor(REGISTRY, MILL.did, valid_until="2026-06-01T00:10:00Z")],
                   limits={"cacheSeconds": 300})
    finder = TrustPaths(trust, verify=counting)
    from tradevc.vc.model import parse_credential

    model = parse_credential(certificate(MILL))
    assert finder.check(model, now=NOW).outcome.value == "passed"
    assert finder.check(model, now=NOW + timedelta(seconds=60)).outcome.value == "passed"
    assert len(calls) == 1  # the second check reused the path
    assert finder.check(model, now=NOW + timedelta(seconds=301)).outcome.value == "passed"
    assert len(calls) == 2  # past cacheSeconds: the anchor was verified again
    assert finder.check(model, now=NOW + timedelta(minutes=11)).outcome.value == "failed"  # the anchor ended


# -- the policy file ---------------------------------------------------------------------------


@pytest.mark.parametrize("document, member", [
    ({"roots": [{"did": "did:web:r.example", "vouches": ["stamp"], "types": ["A"]}]}, r"roots\[0\].vouches: unknown kind 'stamp'"),
    ({"roots": [{"did": "did:web:r.example", "vouches": ["anchor"]}]}, r"roots\[0\].types: required"),
    ({"roots": [{"did": "https://r.example", "vouches": ["anchor"], "types": ["A"]}]}, r"roots\[0\].did"),
    ({"roots": [{"did": "did:web:r.example", "vouches": ["anchor"], "types": ["A"], "goods": ["7x"]}]}, r"roots\[0\].goods"),
    ({"roots": [{"did": "did:web:r.example", "vouches": ["anchor"], "types": ["A"], "maxDepth": 9}]}, r"roots\[0\].maxDepth"),
    ({"roots": [{"did": "did:web:r.example", "vouches": ["anchor"], "types": ["A"], "typo": 1}]}, r"roots\[0\].typo"),
    ({"roots": [root()], "limits": {"maxPathLength": 99}}, r"limits.maxPathLength"),
    ({"roots": [root()], "limits": {"maxCandidates": "many"}}, r"limits.maxCandidates"),
    ({"roots": [root()], "limits": {"depth": 3}}, r"limits.depth"),
    ({"roots": [root()], "limits": []}, r"limits"),
    ({"recordedMarks": [{"mark": "", "rightsHolder": "did:web:a.example"}]}, r"recordedMarks\[0\].mark"),
    ({"recordedMarks": [{"mark": "ACME"}]}, r"recordedMarks\[0\].rightsHolder"),
    ({"roots": [root()], "anchors": ["missing.json"]}, r"anchors\[0\]: cannot read missing.json"),
    ({"roots": [root()], "anchors": [17]}, r"anchors\[0\]"),
    ({"roots": []}, r"needs trustedIssuers, roots or recordedMarks"),
])
def test_a_malformed_policy_names_the_member(tmp_path, document: dict[str, Any], member: str) -> None:
    file = tmp_path / "policy.json"
    file.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=member):
        load_policy(file)


# -- goods -------------------------------------------------------------------------------------


def test_goods_codes_of_the_four_trade_types() -> None:
    from tradevc.issuer.credential_types import load_example

    codes = {name: goods_codes(load_example(name)) for name in (
        "USMCACertificationOfOrigin", "MillTestReportCredential", "SIMASteelImportLicenseCredential",
        "CommercialInvoiceCredential")}
    assert codes == {"USMCACertificationOfOrigin": ["730419", "720851"], "MillTestReportCredential": ["730419", "730419"],
                     "SIMASteelImportLicenseCredential": ["7304.19.1020"], "CommercialInvoiceCredential": ["730419"]}
    assert goods_codes([{"goods": {"commodityCode": "72"}}, "junk", {"product": "x"}]) == ["72"]


def test_goods_codes_of_a_transformation_event_are_its_inputs_and_outputs() -> None:
    from tradevc.issuer.credential_types import load_example

    assert goods_codes(load_example("TransformationEventCredential")) == ["730419", "730419"]
    event = {"consumedProducts": [{"heatNumber": "H1", "commodity": {"commodityCode": "720719"}}],
             "newProducts": [{"identifier": "P1", "commodity": {"commodityCode": "730419"}}, "junk"]}
    assert goods_codes(event) == ["720719", "730419"]


def test_a_goods_bounded_anchor_trusts_a_mills_transformation_event_within_its_goods() -> None:
    # a pipe mill anchored for steel (HS 72, 73) records how it turned billets into pipe: the
    # event names its goods in its products' commodities, within the bound or not
    from tradevc.issuer.credential_types import build_credential, load_example
    from tradevc.vc.securing.data_integrity import sign_credential

    def event(code: str) -> dict[str, Any]:
        subject = load_example("TransformationEventCredential")
        for product in subject["newProducts"]:
            product["commodity"]["commodityCode"] = code
        credential = build_credential("TransformationEventCredential", subject, issuer=MILL.did,
                                      valid_from="2026-01-01T00:00:00Z")
        return sign_credential(credential, MILL, created=CREATED)

    steel = root(goods=["72", "73"], types=[*TYPES, "TransformationEventCredential"])
    trust = policy(steel, anchors=[anchor(REGISTRY, MILL.did)])
    assert trusted(verify(event("730419"), trust))["length"] == 2
    check = refused(verify(event("940600"), trust), "SCOPE_TOO_NARROW")
    assert "940600" in check.message


def test_the_policy_is_not_changed_by_use() -> None:
    trust = policy(anchors=[anchor(REGISTRY, MILL.did)])
    before = copy.deepcopy(trust.anchors)
    verify(certificate(MILL), trust)
    assert trust.anchors == before


def test_vouches_secured_with_jose_in_the_store_and_in_a_vp_jwt() -> None:
    from tradevc.vc.securing.enveloped import envelope_credential
    from tradevc.vc.securing.jose import sign_credential_jwt, sign_presentation_jwt

    unsigned = {k: v for k, v in anchor(REGISTRY, MILL.did, id="urn:uuid:jwt-anchor").items() if k != "proof"}
    token = sign_credential_jwt(unsigned, REGISTRY)
    path = trusted(verify(certificate(MILL), policy(anchors=[token])))
    assert path["steps"][0]["vouch"]["id"] == "urn:uuid:jwt-anchor"
    assert trusted(verify(certificate(MILL), policy(anchors=[envelope_credential(token)])))
    vp = sign_presentation_jwt([token], MILL, challenge="c", domain="cbp.gov")
    assert vouches_in(vp) == [envelope_credential(token)]  # a vp+jwt holds enveloped credentials
    assert trusted(verify(certificate(MILL), policy(anchors=vouches_in(vp))))
    assert vouches_in({"type": "VerifiablePresentation"}) == [] and vouches_in("not a token") == []
    # a tampered token is refused like a tampered JSON anchor
    head, payload, signature = token.split(".")
    # change the first character: the last ones carry padding bits, which may decode alike
    forged = ".".join((head, payload, ("B" if signature[0] != "B" else "C") + signature[1:]))
    refused(verify(certificate(MILL), policy(anchors=[forged])), "ANCHOR_INVALID")


def test_a_policy_document_with_its_trust_store_already_read() -> None:
    """What a trust pack holds: the policy as given, and the anchors it names, read."""
    from tradevc.verifier.trust import policy_from_document

    document = {"roots": [root()], "anchors": ["anchors/mill.json"]}  # never read from disk here
    trust = policy_from_document(document, source="pack port-of-laredo v7",
                                 anchors=[("anchors/mill.json", anchor(REGISTRY, MILL.did))])
    assert isinstance(trust, TrustPathPolicy)
    path = trusted(verify(certificate(MILL), trust))
    assert path["steps"][0]["vouch"]["from"] == "trust store anchors/mill.json"
    assert path["root"]["source"] == "pack port-of-laredo v7"
    assert type(policy_from_document({"trustedIssuers": {MILL.did: TYPES}}, anchors=[])) is TrustPolicy
    with pytest.raises(ValueError, match="relative"):
        policy_from_document(document)


# -- a vouch is no licence to issue other credentials ------------------------------------------


def _also(document: dict[str, Any], key: KeyPair, extra: str) -> dict[str, Any]:
    """``document`` re-signed by ``key`` with the credential type ``extra`` added."""
    from support.vouches import _sign

    unsigned = {k: v for k, v in document.items() if k != "proof"}
    unsigned["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/traceability/v1",
                            "https://tradevc.example/contexts/trust/v1"]
    unsigned["type"] = [*unsigned["type"], extra]
    return _sign(unsigned, key, None)


def test_a_vouch_that_also_claims_a_trade_type_is_not_trusted_as_one() -> None:
    # MAKER is authorised by the rights holder for the ACME mark: an IP authorisation gives it
    # no right to issue trade credentials, yet a sub-authorisation that is also typed
    # USMCACertificationOfOrigin was judged only as a vouch, and passed issuer_trust
    sub = authorisation(MAKER, OTHER.did, marks=["ACME"], goods=["847130"], territories=["US"], parent="urn:uuid:maker")
    forged = _also(sub, MAKER, "USMCACertificationOfOrigin")
    desk = Verifier.offline(policy=marks_policy(ip_chain()), clock=lambda: NOW)
    check = refused(desk.verify_credential(forged), "ANCHOR_INVALID")
    assert "USMCACertificationOfOrigin" in check.message
    # the same for a registry allowed to anchor mills for mill test reports only
    only_mtr = policy(root(types=["MillTestReportCredential"]))
    refused(verify(_also(anchor(REGISTRY, MILL.did), REGISTRY, "USMCACertificationOfOrigin"), only_mtr), "ANCHOR_INVALID")
    assert verify(anchor(REGISTRY, MILL.did), only_mtr).verified  # the plain anchor is still checked as a vouch


# -- linked presentations: what one search may fetch -------------------------------------------


class _LinkedEverywhere:
    """DID documents that each point to four LinkedVerifiablePresentation URLs."""

    def resolve(self, did: str) -> dict[str, Any]:
        return {"id": did, "service": [{"id": f"{did}#vouches", "type": "LinkedVerifiablePresentation",
                                        "serviceEndpoint": [f"https://slow.example/{did[-12:]}/{i}" for i in range(4)]}]}


class _Unreachable:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def fetch(self, url: str, *, what: str, accept: str) -> Any:
        from tradevc.vc.retrieval.http import RetrievalError

        self.urls.append(url)
        raise RetrievalError(f"{what}: {url} did not answer within 10 s")


def test_one_search_fetches_a_bounded_number_of_linked_presentations() -> None:
    # a presentation offering vouches for the mill by 8 parties, each vouched for by the same
    # stranger: every party's DID document names 4 unreachable linked presentations (each a
    # 10 s timeout). The stranger's were fetched again for every chain through it (68 fetches).
    from tradevc.vc.model import parse_credential
    from tradevc.verifier.trust import MAX_LINKED_FETCHES, _offline_verify

    stranger = KeyPair.generate("Ed25519")
    middles = [KeyPair.generate("Ed25519") for _ in range(8)]
    offered = [anchor(m, MILL.did) for m in middles] + [anchor(stranger, m.did) for m in middles]
    fetcher = _Unreachable()
    finder = TrustPaths(policy(root(maxDepth=3)), verify=_offline_verify, resolvers=_LinkedEverywhere(),  # type: ignore[arg-type]
                        fetcher=fetcher)  # type: ignore[arg-type]
    check = finder.check(parse_credential(certificate(MILL)), now=NOW, offered=offered)
    assert check.outcome.value == "error" and "SOURCE_UNAVAILABLE" in check.data["codes"]
    assert len(fetcher.urls) <= MAX_LINKED_FETCHES, len(fetcher.urls)
    assert len(set(fetcher.urls)) == len(fetcher.urls)  # a source that failed is not fetched again in one search
    assert "TOO_MANY_CANDIDATES" in check.data["codes"]  # and the report says the search stopped looking


# -- printing what vouches say -----------------------------------------------------------------


def test_vc_verify_escapes_what_a_vouch_names(tmp_path) -> None:
    # the name is the vouch's, not customs': a newline forged a report line, an escape
    # sequence cleared the terminal, a bidi override reordered the line
    from click.testing import CliRunner

    from tradevc.verifier.cli import cli

    name = "Aceros\n  OK   revocation: forged\x1b[2J\u202eevil"
    document = {"roots": [root()], "anchors": [anchor(REGISTRY, MILL.did, mid=None, name=name, valid_until="2036-01-01T00:00:00Z")]}
    (tmp_path / "policy.json").write_text(json.dumps(document))
    (tmp_path / "c.json").write_text(json.dumps(certificate(MILL)))
    args = ["credential", str(tmp_path / "c.json"), "--trust", str(tmp_path / "policy.json"), "--offline"]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    assert "\x1b" not in run.output and "\u202e" not in run.output and "\n  OK   revocation" not in run.output, run.output
    assert "anchored by Aceros\\u000a  OK   revocation: forged\\u001b[2J\\u202eevil  (" in run.output
    run = CliRunner().invoke(cli, [*args, "--json"])
    assert "\x1b" not in run.output and "\u202e" not in run.output
    report = json.loads(run.output)  # the escapes read back as the name
    assert next(c for c in report["checks"] if c["name"] == "issuer_trust")["data"]["trustPath"]["steps"][0]["name"] == name


@pytest.mark.parametrize("text, member", [
    ("[" * 100_000 + "]" * 100_000, "not JSON"),  # nesting: was a RecursionError
    ('{"roots": [], "roots": []}', "not JSON"),  # a duplicate member: which one counts?
    (json.dumps({"trustedIssuers": {"did:web:a.example": 1}}), r"trustedIssuers"),  # was a TypeError
    (json.dumps({"trustedIssuers": {"did:web:a.example": [{}]}}), r"trustedIssuers"),
    (json.dumps({"trustedIssuers": [{"did": "did:web:a.example", "types": [["A"]]}]}), r"trustedIssuers\[0\]"),
    (json.dumps({"roots": [root()], "trustedIssuers": {"did:web:a.example": None}}), r"trustedIssuers"),
])
def test_a_malformed_policy_file_is_a_value_error_never_another(tmp_path, text: str, member: str) -> None:
    file = tmp_path / "policy.json"
    file.write_text(text)
    with pytest.raises(ValueError, match=member):
        load_policy(file)


@pytest.mark.parametrize("member", ["big", "deep", "surrogate"])
def test_a_hostile_vouch_in_a_presentation_is_a_report_not_an_exception(member: str) -> None:
    # the presentation's vouches are read (to be offered) before the presentation is held to
    # I-JSON and the limits: an integer beyond 64 bits or 300 levels of nesting made the
    # path finder's digest raise TypeError out of verify_presentation
    bad = anchor(REGISTRY, MILL.did)
    if member == "big":
        bad["credentialSubject"]["x"] = 2**70
    elif member == "surrogate":
        bad["credentialSubject"]["name"] = "\ud800"
    else:
        node = bad["credentialSubject"]
        for _ in range(300):
            node["n"] = {}
            node = node["n"]
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
          "verifiableCredential": [certificate(MILL), bad]}
    desk = Verifier.offline(policy=policy(), clock=lambda: NOW)
    result = desk.verify_presentation(vp, challenge="c", domain="cbp.gov")
    assert not result.verified and result.check("structure").outcome.value == "failed"


def test_the_path_names_the_vouch_type_a_link_was_used_as() -> None:
    # a registry's anchor that also carries another type is still an anchor as a link (its scope
    # is the anchor's), but the report named its first type, as if a certificate had vouched
    from support.vouches import _sign

    unsigned = {k: v for k, v in anchor(REGISTRY, MILL.did).items() if k != "proof"}
    unsigned["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/traceability/v1",
                            "https://tradevc.example/contexts/trust/v1"]
    unsigned["type"] = ["VerifiableCredential", "USMCACertificationOfOrigin", "IdentityAnchorCredential"]
    path = trusted(verify(certificate(MILL), policy(anchors=[_sign(unsigned, REGISTRY, None)])))
    assert path["steps"][0]["vouch"]["type"] == "IdentityAnchorCredential"


def test_one_verification_checks_each_vouch_once_even_when_it_could_not_be_checked() -> None:
    # 30 vouches among 6 parties, each with a status list (could-not-verify offline; online,
    # an unreachable list costs the fetcher's timeout each time): a failed check is not cached
    # between verifications, and within one it was redone for every search and every chain
    # through it, 200-odd times here (819 for 90 vouches)
    parties = [KeyPair.generate("Ed25519") for _ in range(6)]
    status = {"id": "https://lists.example/1#1", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
              "statusListIndex": "1", "statusListCredential": "https://lists.example/1"}
    vouches = [anchor(a, b.did, status=status) for a in parties for b in parties if a is not b]
    vp = sign_presentation([certificate(parties[0]), *vouches], parties[0], challenge="c", domain="cbp.gov",
                           cryptosuite="eddsa-jcs-2022", created=CREATED)
    desk = Verifier.offline(policy=policy(), clock=lambda: NOW)
    assert desk.trust_paths is not None
    checked: list[Any] = []
    verify_vouch = desk.trust_paths._verify
    desk.trust_paths._verify = lambda *a: checked.append(a[0]) or verify_vouch(*a)  # type: ignore[func-returns-value]
    result = desk.verify_presentation(vp, challenge="c", domain="cbp.gov")
    assert not result.verified and result.credentials[0].check("issuer_trust").outcome.value == "error"
    assert len(checked) <= len(vouches), len(checked)


def test_a_goods_bounded_path_does_not_trust_a_credential_naming_no_goods() -> None:
    # the mill is anchored for steel (HS 72, 73) only; a certificate whose goods carry no
    # commodityCode (or name them where goods_codes does not read) escaped the bound
    steel = root(goods=["72", "73"])
    assert trusted(verify(certificate(MILL), policy(steel, anchors=[anchor(REGISTRY, MILL.did)])))
    check = refused(verify(certificate(MILL, goods=()), policy(steel, anchors=[anchor(REGISTRY, MILL.did)])),
                    "SCOPE_TOO_NARROW")
    assert "names no HS code" in check.message
    assert trusted(verify(certificate(MILL, goods=()), policy(anchors=[anchor(REGISTRY, MILL.did)])))  # no bound


def test_a_vouch_is_trusted_only_on_a_path_in_force() -> None:
    # the broker's own anchor ended two minutes ago: within the clock skew the pipeline
    # tolerates, so it still verifies, but the path through it is not in force. A credential of
    # the mill is refused for that; the broker's anchor of the mill was still trusted
    broker = KeyPair.generate("Ed25519")
    ended = anchor(REGISTRY, broker.did, mid="MXBROKER01", valid_until="2026-05-31T23:58:00Z")
    mill_anchor = anchor(broker, MILL.did)
    trust = policy(root(maxDepth=2), anchors=[ended, mill_anchor])
    refused(verify(certificate(MILL), trust), "SCOPE_TOO_NARROW")
    refused(verify(mill_anchor, trust), "SCOPE_TOO_NARROW")
    assert verify(mill_anchor, trust, now=NOW - timedelta(minutes=5)).verified


def test_a_cached_path_is_not_used_for_another_time() -> None:
    # the anchor holds from June 1st to 00:10; a path found at 00:05 is cached, and must not
    # answer a verification as of May (before the anchor) or of 00:11 (after it)
    trust = policy(anchors=[anchor(REGISTRY, MILL.did, valid_from="2026-06-01T00:00:00Z",
                                   valid_until="2026-06-01T00:10:00Z")])
    desk = Verifier.offline(policy=trust, clock=lambda: NOW)
    assert desk.verify_credential(certificate(MILL), now=NOW + timedelta(minutes=5)).verified
    may = desk.verify_credential(certificate(MILL), now=NOW - timedelta(days=1))
    assert "ANCHOR_NOT_YET_VALID" in may.check("issuer_trust").data["codes"]
    after = desk.verify_credential(certificate(MILL), now=NOW + timedelta(minutes=11))
    assert not after.check("issuer_trust").outcome.value == "passed"
    assert desk.verify_credential(certificate(MILL), now=NOW + timedelta(minutes=6)).verified


def test_the_caches_keep_no_vouch_document() -> None:
    # every vouch checked is cached (failed ones too, for cacheSeconds) with the document it
    # came in: 4096 junk vouches of a few hundred kilobytes each, from presentations anyone can
    # write, held that many megabytes for as long as the verifier lived
    junk = anchor(OTHER, MILL.did)
    junk["credentialSubject"]["name"] = "x" * 100_000
    desk = Verifier.offline(policy=policy(anchors=[anchor(REGISTRY, MILL.did)]), clock=lambda: NOW)
    vp = sign_presentation([certificate(MILL), junk], OTHER, challenge="c", domain="cbp.gov",
                           cryptosuite="eddsa-jcs-2022", created=CREATED)
    desk.verify_presentation(vp, challenge="c", domain="cbp.gov")
    assert desk.trust_paths is not None and desk.trust_paths._checked
    assert all(c.candidate.document is None for c in desk.trust_paths._checked.values())
    assert trusted(desk.verify_credential(certificate(MILL)))  # the cached checks still serve


class _LinkedAnchors:
    """DID documents whose one linked presentation serves a padded anchor of their party."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}

    def resolve(self, did: str) -> dict[str, Any]:
        url = f"https://vouches.example/{did[-12:]}"
        self.bodies[url] = json.dumps(anchor(OTHER, did, name="x" * 50_000)).encode()
        return {"id": did, "service": [{"id": f"{did}#v", "type": "LinkedVerifiablePresentation", "serviceEndpoint": url}]}

    def fetch(self, url: str, *, what: str, accept: str) -> Any:
        from tradevc.vc.retrieval.http import Fetched

        return Fetched(url, self.bodies[url], "application/json")


def test_the_cache_of_linked_presentations_is_bounded_in_bytes(monkeypatch) -> None:
    # each party's DID document names its own linked presentation (1 MiB each at most): 4096
    # parties' worth of vouch documents were kept, gigabytes for one attacker with many did:web
    from tradevc.vc.model import parse_credential
    from tradevc.verifier import trust as module

    monkeypatch.setattr(module, "_MAX_LINKED_BYTES", 200_000)
    sites = _LinkedAnchors()
    finder = TrustPaths(policy(), verify=module._offline_verify, resolvers=sites, fetcher=sites)  # type: ignore[arg-type]
    for _ in range(10):
        check = finder.check(parse_credential(certificate(KeyPair.generate("Ed25519"))), now=NOW)
        assert "ISSUER_NOT_TRUSTED" in check.data["codes"]  # each party's anchor was read (from a stranger)
    assert 0 < len(finder._linked) <= 4, len(finder._linked)
    assert 0 < finder._linked_bytes <= 200_000
