"""Trust paths over real HTTPS: did:web parties (registry.example, mill.example) whose DID
documents, status lists and linked presentations a local HTTPS server publishes, read through a
public mirror; anchors revoked and noticed after the cache's time, anchors from the issuer's DID
document, what is fetched and cached, could-not-verify, and vc-verify printing the path."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from click.testing import CliRunner

from support.dids import did_document
from support.vouches import anchor, authorisation, certificate, licence
from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.vc.status import BitstringStatusList
from tradevc.verifier import Verifier
from tradevc.verifier.cli import cli as verify_cli
from tradevc.verifier.trust import TrustPathPolicy, load_policy
from tradevc.wallet import sign_presentation

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
HOSTS = ("registry.example", "mill.example")
REGISTRY_DID, MILL_DID = "did:web:registry.example", "did:web:mill.example"
REGISTRY, MILL = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
LIST_URL = "https://registry.example/status/1"
TYPES = ["MillTestReportCredential", "USMCACertificationOfOrigin"]


def publish_did(server: Any, host: str, did: str, key: KeyPair, **extra: Any) -> None:
    path = server.site(host) / ".well-known" / "did.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(did_document(did, key, **extra)))


def publish_list(server: Any, *revoked: int, number: int = 1, purpose: str = "revocation") -> None:
    url = f"https://registry.example/status/{number}"
    bits = BitstringStatusList(131_072)
    for index in revoked:
        bits.set(index, 1)
    status = sign_credential({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": REGISTRY_DID,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": bits.encode()},
    }, REGISTRY, created="2026-01-01T00:00:00Z", verification_method=f"{REGISTRY_DID}#key-1")
    path = server.site("registry.example") / "status" / str(number)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(status))


def entry(index: int, url: str = LIST_URL, purpose: str = "revocation") -> dict[str, Any]:
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
            "statusListIndex": str(index), "statusListCredential": url}


def registry_anchor(subject: str = MILL_DID, index: int = 5, **kw: Any) -> dict[str, Any]:
    return anchor(REGISTRY, subject, issuer=REGISTRY_DID, status=entry(index), id=f"urn:uuid:anchor-{index}", **kw)


def policy(anchors: list[Any] = (), **root: Any) -> TrustPathPolicy:  # type: ignore[assignment]
    return TrustPathPolicy.from_dict({
        "roots": [{"did": REGISTRY_DID, "name": "Registro Nacional de Empresas", "vouches": ["anchor"],
                   "types": TYPES, "schemes": ["MID"]} | root],
        "anchors": list(anchors),
    }, source="border-policy.json")


@pytest.fixture
def parties(https_server):
    publish_did(https_server, "registry.example", REGISTRY_DID, REGISTRY)
    publish_did(https_server, "mill.example", MILL_DID, MILL)
    publish_list(https_server)
    return https_server


def desk(server: Any, trust: TrustPathPolicy) -> Verifier:
    return Verifier(policy=trust, session=server.session(), mirror=server.mirror(*HOSTS))


def mill_certificate(**kw: Any) -> dict[str, Any]:
    return certificate(MILL, issuer=MILL_DID, **kw)


def test_an_anchored_did_web_issuer_with_a_status_list(parties):
    result = desk(parties, policy([registry_anchor()])).verify_credential(mill_certificate(), now=NOW)
    assert result.verified, result.summary()
    path = result.check("issuer_trust").data["trustPath"]
    step = path["steps"][0]
    assert step["party"] == MILL_DID and step["vouch"]["issuer"] == REGISTRY_DID and step["vouch"]["status"] == "valid"
    assert path["root"]["did"] == REGISTRY_DID and path["length"] == 2


STRANGER_DID = "did:web:stranger.example"
STRANGER = KeyPair.generate("Ed25519")


@pytest.mark.parametrize("case, code", [
    ("expired", "ANCHOR_EXPIRED"),
    ("not yet valid", "ANCHOR_NOT_YET_VALID"),
    ("issued by a non-root", "ISSUER_NOT_TRUSTED"),
    ("root may not anchor", "KIND_NOT_ALLOWED"),
    ("types beyond the root's", "SCOPE_TOO_NARROW"),
    ("goods out of scope", "SCOPE_TOO_NARROW"),
    ("identifier scheme", "SCHEME_NOT_ALLOWED"),
    ("cycle", "CYCLE"),
    ("too many candidates", "TOO_MANY_CANDIDATES"),
])
def test_every_broken_link_over_did_web(parties, case, code):
    publish_did(parties, "stranger.example", STRANGER_DID, STRANGER)
    anchors, root, limits = [registry_anchor()], {}, None
    if case == "expired":
        anchors = [registry_anchor(valid_from="2025-01-01T00:00:00Z", valid_until="2026-03-01T00:00:00Z")]
    elif case == "not yet valid":
        anchors = [registry_anchor(valid_from="2026-07-01T00:00:00Z")]
    elif case == "issued by a non-root":
        anchors = [anchor(STRANGER, MILL_DID, issuer=STRANGER_DID)]
    elif case == "root may not anchor":
        root = {"vouches": ["accreditation"]}
    elif case == "types beyond the root's":
        root = {"types": ["MillTestReportCredential"]}
    elif case == "goods out of scope":
        root = {"goods": ["8471"]}
    elif case == "identifier scheme":
        root = {"schemes": ["EORI"]}
    elif case == "cycle":
        anchors = [anchor(STRANGER, MILL_DID, issuer=STRANGER_DID), anchor(MILL, STRANGER_DID, issuer=MILL_DID)]
    elif case == "too many candidates":
        anchors = [registry_anchor(index=i, valid_until="2026-02-01T00:00:00Z") for i in (10, 11)] + anchors
        limits = {"maxCandidates": 2}
    trust = policy(anchors, **root)
    if limits:
        trust = TrustPathPolicy.from_dict({"roots": [{"did": REGISTRY_DID, "vouches": ["anchor"], "types": TYPES}],
                                           "anchors": anchors, "limits": limits})
    with_multiple = [*HOSTS, "stranger.example"]
    verifier = Verifier(policy=trust, session=parties.session(), mirror=parties.mirror(*with_multiple))
    result = verifier.verify_credential(mill_certificate(), now=NOW)
    check = result.check("issuer_trust")
    assert not result.verified and check.outcome.value == "failed" and code in check.data["codes"], check


def test_a_flat_policy_still_works_over_did_web(parties, tmp_path):
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"trustedIssuers": [{"did": MILL_DID, "name": "Aceros", "types": TYPES}]}))
    verifier = Verifier(policy=load_policy(flat), session=parties.session(), mirror=parties.mirror(*HOSTS))
    result = verifier.verify_credential(mill_certificate(), now=NOW)
    assert result.verified and result.check("issuer_trust").data == {}, result.summary()


def test_a_revoked_anchor_is_noticed_once_its_status_list_is_fetched_again(parties):
    verifier = desk(parties, policy([registry_anchor()]))
    assert verifier.verify_credential(mill_certificate(), now=NOW).verified
    publish_list(parties, 5)  # the registry revokes the mill's anchor
    lists = parties.requested.count("/registry.example/status/1")
    assert verifier.verify_credential(mill_certificate(), now=NOW + timedelta(minutes=1)).verified  # cached path
    assert parties.requested.count("/registry.example/status/1") == lists  # nothing fetched
    later = verifier.verify_credential(mill_certificate(), now=NOW + timedelta(minutes=6))
    check = later.check("issuer_trust")
    assert not later.verified and check.code == "UNTRUSTED_ISSUER" and "ANCHOR_REVOKED" in check.data["codes"], check
    assert parties.requested.count("/registry.example/status/1") == lists + 1


def test_a_suspended_anchor(parties):
    publish_list(parties, 4, number=2, purpose="suspension")
    suspended = anchor(REGISTRY, MILL_DID, issuer=REGISTRY_DID,
                       status=[entry(4), entry(4, "https://registry.example/status/2", "suspension")])
    check = desk(parties, policy([suspended])).verify_credential(mill_certificate(), now=NOW).check("issuer_trust")
    assert check.outcome.value == "failed" and "ANCHOR_SUSPENDED" in check.data["codes"], check
    publish_list(parties, number=2, purpose="suspension")  # reinstated
    assert desk(parties, policy([suspended])).verify_credential(mill_certificate(), now=NOW).verified


def test_an_anchor_whose_status_cannot_be_checked_is_could_not_verify(parties):
    gone = anchor(REGISTRY, MILL_DID, issuer=REGISTRY_DID, status=entry(3, "https://registry.example/status/404"))
    result = desk(parties, policy([gone])).verify_credential(mill_certificate(), now=NOW)
    check = result.check("issuer_trust")
    assert check.outcome.value == "error" and check.code == "UNTRUSTED_ISSUER" and result.could_not_verify, check
    assert "ANCHOR_UNVERIFIABLE" in check.data["codes"]


def test_anchors_from_the_issuers_did_document(parties):
    url = "https://mill.example/anchors.json"
    service = [{"id": f"{MILL_DID}#anchors", "type": "LinkedVerifiablePresentation", "serviceEndpoint": url}]
    publish_did(parties, "mill.example", MILL_DID, MILL, service=service)
    linked = sign_presentation([registry_anchor()], MILL, challenge="linked", domain="mill.example",
                               holder=MILL_DID, verification_method=f"{MILL_DID}#key-1",
                               cryptosuite="eddsa-jcs-2022", created="2026-01-02T00:00:00Z")
    (parties.site("mill.example") / "anchors.json").write_text(json.dumps(linked))
    verifier = desk(parties, policy())
    result = verifier.verify_credential(mill_certificate(), now=NOW)
    assert result.verified, result.summary()
    step = result.check("issuer_trust").data["trustPath"]["steps"][0]
    assert step["vouch"]["from"] == f"DID document service {url}"
    assert parties.requested.count("/mill.example/anchors.json") == 1
    assert verifier.verify_credential(mill_certificate(), now=NOW + timedelta(seconds=30)).verified
    assert parties.requested.count("/mill.example/anchors.json") == 1  # cached: no new fetch
    assert verifier.trust_paths is not None and verifier.trust_paths.fetches == 1
    # the mill's service offering another party's anchor is no anchor of the mill
    (parties.site("mill.example") / "anchors.json").write_text(json.dumps(registry_anchor("did:web:other.example", 6)))
    fresh = desk(parties, policy())
    check = fresh.verify_credential(mill_certificate(), now=NOW).check("issuer_trust")
    assert "WRONG_SUBJECT" in check.data["codes"], check


def test_a_linked_presentation_that_cannot_be_fetched_is_could_not_verify(parties):
    service = [{"id": f"{MILL_DID}#anchors", "type": "LinkedVerifiablePresentation",
                "serviceEndpoint": "https://mill.example/missing.json"}]
    publish_did(parties, "mill.example", MILL_DID, MILL, service=service)
    result = desk(parties, policy()).verify_credential(mill_certificate(), now=NOW)
    check = result.check("issuer_trust")
    assert check.outcome.value == "error" and "SOURCE_UNAVAILABLE" in check.data["codes"] and result.could_not_verify


def test_a_licence_whose_parent_is_revoked(parties):
    holder, sub = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    parent = licence(REGISTRY, holder.did, prefixes=["0614"], issuer=REGISTRY_DID, status=entry(7), id="urn:uuid:p")
    child = licence(holder, sub.did, prefixes=["061414"], parent="urn:uuid:p")
    trust = TrustPathPolicy.from_dict({"roots": [{"did": REGISTRY_DID, "vouches": ["licence"], "types": TYPES,
                                                  "prefixes": ["0614"], "maxDepth": 2}], "anchors": [parent, child]})
    assert desk(parties, trust).verify_credential(certificate(sub), now=NOW).verified
    publish_list(parties, 7)
    check = desk(parties, trust).verify_credential(certificate(sub), now=NOW).check("issuer_trust")
    assert {"PARENT_INVALID", "ANCHOR_REVOKED"} <= set(check.data["codes"]), check


def test_an_ip_authorisation_revoked_by_the_rights_holder(parties):
    shop = KeyPair.generate("Ed25519")
    marks = [{"mark": "ACME", "recordation": "TMK 21-00123", "rightsHolder": REGISTRY_DID, "goods": ["8471"]}]
    grant = authorisation(REGISTRY, shop.did, marks=["ACME"], goods=["8471"], territories=["US"], issuer=REGISTRY_DID,
                          status=entry(9))
    trust = TrustPathPolicy.from_dict({"recordedMarks": marks, "anchors": [grant]})
    assert desk(parties, trust).check_mark("ACME", shop.did, "8471.30", "US", now=NOW).outcome.value == "passed"
    publish_list(parties, 9)
    check = desk(parties, trust).check_mark("ACME", shop.did, "8471.30", "US", now=NOW)
    assert check.outcome.value == "failed" and "ANCHOR_REVOKED" in check.data["codes"]


# -- vc-verify -----------------------------------------------------------------------------------


def files(tmp_path, parties, anchors: list[Any]) -> tuple[list[str], Any]:
    (tmp_path / "anchors").mkdir()
    for i, document in enumerate(anchors):
        (tmp_path / "anchors" / f"{i}.json").write_text(json.dumps(document))
    policy_file = tmp_path / "border-policy.json"
    policy_file.write_text(json.dumps({
        "trustedIssuers": [],
        "roots": [{"did": REGISTRY_DID, "name": "registry", "vouches": ["anchor"], "types": TYPES}],
        "anchors": ["anchors/"],
    }))
    credential = tmp_path / "mtr.json"
    credential.write_text(json.dumps(mill_certificate()))
    mirrors = [a for host in HOSTS for a in ("--mirror", f"{host}={parties.url(host + '/')}")]
    return ["credential", str(credential), "--trust", str(policy_file), "--ca-bundle", str(parties.ca_path),
            *mirrors], policy_file


def test_vc_verify_prints_the_path(tmp_path, parties):
    args, _ = files(tmp_path, parties, [registry_anchor()])
    run = CliRunner().invoke(verify_cli, args)
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    at = lines.index(f"    issuer {MILL_DID}")
    assert lines[at - 1].startswith("  OK   issuer_trust: ")
    assert lines[at + 1].startswith("      anchored by MID MXACEDEL1234MON  (IdentityAnchorCredential urn:uuid:anchor-5,"
                                    f" issued by {REGISTRY_DID}, valid")
    assert lines[at + 2] == ("      registry trusted for: MillTestReportCredential, USMCACertificationOfOrigin "
                             "(root in border-policy.json)")
    report = json.loads(CliRunner().invoke(verify_cli, [*args, "--json"]).output)
    trust = next(c for c in report["checks"] if c["name"] == "issuer_trust")
    assert trust["data"]["trustPath"]["steps"][0]["identifiers"] == ["MID MXACEDEL1234MON"]


def test_vc_verify_says_why_there_is_no_path(tmp_path, parties):
    args, _ = files(tmp_path, parties, [registry_anchor(valid_until="2026-03-01T00:00:00Z")])
    run = CliRunner().invoke(verify_cli, args)
    assert run.exit_code == 1 and "ANCHOR_EXPIRED" in run.output, run.output


@pytest.mark.parametrize("document, member", [
    ({"roots": [{"did": REGISTRY_DID, "vouches": ["stamp"], "types": TYPES}]}, "roots[0].vouches"),
    ({"roots": [{"did": REGISTRY_DID, "vouches": ["anchor"]}]}, "roots[0].types"),
    ({"roots": [{"did": REGISTRY_DID, "vouches": ["anchor"], "types": TYPES}], "limits": {"maxCandidates": 0}},
     "limits.maxCandidates"),
    ("{not json", "not JSON"),
    ("[" * 100_000 + "]" * 100_000, "not JSON"),  # was a RecursionError traceback
    (json.dumps({"trustedIssuers": {MILL_DID: 7}}), "trustedIssuers"),  # was a TypeError traceback
])
def test_vc_verify_a_malformed_policy_is_one_line(tmp_path, document: Any, member: str):
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(document if isinstance(document, str) else json.dumps(document))
    credential = tmp_path / "c.json"
    credential.write_text(json.dumps(certificate(MILL)))
    run = CliRunner().invoke(verify_cli, ["credential", str(credential), "--trust", str(policy_file), "--offline"])
    assert run.exit_code == 2 and "Traceback" not in run.output and member in run.output, run.output
    assert len([line for line in run.output.splitlines() if line.startswith("error: ")]) == 1


def test_vc_verify_mark(tmp_path):
    holder, maker = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({"recordedMarks": [
        {"mark": "ACME", "recordation": "TMK 21-00123", "rightsHolder": holder.did, "goods": ["8471"]}]}))
    grant = authorisation(holder, maker.did, marks=["ACME"], goods=["8471"], territories=["US"],
                          valid_from="2020-01-01T00:00:00Z", valid_until="2099-01-01T00:00:00Z")
    vp = tmp_path / "vp.json"
    vp.write_text(json.dumps(sign_presentation([grant], maker, challenge="c", domain="cbp.gov",
                                               cryptosuite="eddsa-jcs-2022")))
    base = ["mark", "--mark", "ACME", "--party", maker.did, "--trust", str(policy_file), "--offline"]
    run = CliRunner().invoke(verify_cli, [*base, "--hs", "8471.30", "--with", str(vp)])
    assert run.exit_code == 0 and run.output.startswith("AUTHORISED: ACME goods 8471.30 into US"), run.output
    assert f"    issuer {maker.did}" in run.output and "authorised under" in run.output
    assert "holds the recorded mark ACME" in run.output
    run = CliRunner().invoke(verify_cli, [*base, "--hs", "8528.72", "--with", str(vp)])
    assert run.exit_code == 1 and run.output.startswith("NOT AUTHORISED") and "SCOPE_TOO_NARROW" in run.output
    run = CliRunner().invoke(verify_cli, [*base, "--hs", "8471.30"])  # no authorisation offered
    assert run.exit_code == 1 and "NO_ANCHOR" in run.output, run.output
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"trustedIssuers": {holder.did: ["X"]}}))
    run = CliRunner().invoke(verify_cli, ["mark", "--mark", "ACME", "--party", maker.did, "--hs", "8471",
                                          "--trust", str(flat), "--offline"])
    assert run.exit_code == 2 and "recordedMarks" in run.output and "Traceback" not in run.output


def test_load_policy_reads_the_store_of_a_policy_file(tmp_path, parties):
    _, policy_file = files(tmp_path, parties, [registry_anchor()])
    loaded = load_policy(policy_file)
    assert isinstance(loaded, TrustPathPolicy) and len(loaded.anchors) == 1


def test_vc_verify_prints_the_path_of_each_credential_of_a_presentation(tmp_path):
    registry, mill, importer = (KeyPair.generate("Ed25519") for _ in range(3))
    mill_anchor = anchor(registry, mill.did, valid_from="2020-01-01T00:00:00Z", valid_until="2099-01-01T00:00:00Z")
    signed = certificate(mill)  # made open-ended: this test runs at the system clock
    coo = sign_credential({k: v for k, v in signed.items() if k not in ("proof", "validUntil")}, mill,
                          created="2026-01-01T00:00:00Z")
    vp = tmp_path / "vp.json"
    vp.write_text(json.dumps(sign_presentation([coo, mill_anchor], importer, challenge="c", domain="cbp.gov",
                                               cryptosuite="eddsa-jcs-2022")))
    policy_file = tmp_path / "border-policy.json"
    policy_file.write_text(json.dumps({"roots": [{"did": registry.did, "name": "registry", "vouches": ["anchor"],
                                                  "types": TYPES}]}))
    run = CliRunner().invoke(verify_cli, ["presentation", str(vp), "--challenge", "c", "--domain", "cbp.gov",
                                          "--trust", str(policy_file), "--offline"])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    at = lines.index(f"        issuer {mill.did}")
    assert lines[at + 1].startswith("          anchored by MID MXACEDEL1234MON  (IdentityAnchorCredential")
    assert lines[at + 1].endswith("from presentation)")
    assert lines[at + 2].endswith("registry trusted for: MillTestReportCredential, USMCACertificationOfOrigin "
                                  "(root in border-policy.json)")


def test_vc_wallet_reads_a_policy_with_roots(tmp_path):
    from tradevc.wallet.cli import cli as wallet_cli

    registry, mill, stranger = (KeyPair.generate("Ed25519") for _ in range(3))
    (tmp_path / "anchors").mkdir()
    (tmp_path / "anchors" / "mill.json").write_text(json.dumps(
        anchor(registry, mill.did, valid_from="2020-01-01T00:00:00Z", valid_until="2099-01-01T00:00:00Z")))
    policy_file = tmp_path / "border-policy.json"
    policy_file.write_text(json.dumps({"roots": [{"did": registry.did, "vouches": ["anchor"], "types": TYPES}],
                                       "anchors": ["anchors/"]}))

    def open_ended(key: KeyPair) -> str:
        signed = certificate(key)
        path = tmp_path / f"{key.did[-6:]}.json"
        path.write_text(json.dumps(sign_credential({k: v for k, v in signed.items() if k not in ("proof", "validUntil")},
                                                   key, created="2026-01-01T00:00:00Z")))
        return str(path)

    env = {"TRADEVC_WALLET_HOME": str(tmp_path / "wallet"), "TRADEVC_WALLET_PASSPHRASE": "importer passphrase"}
    run = CliRunner().invoke(wallet_cli, ["init"], env=env)
    assert run.exit_code == 0, run.output
    run = CliRunner().invoke(wallet_cli, ["add", open_ended(mill), "--offline", "--trust", str(policy_file)], env=env)
    assert run.exit_code == 0 and "added " in run.output, run.output
    run = CliRunner().invoke(wallet_cli, ["add", open_ended(stranger), "--offline", "--trust", str(policy_file)], env=env)
    assert run.exit_code == 1 and "issuer_trust" in run.output, run.output
    policy_file.write_text(json.dumps({"roots": [{"did": registry.did, "vouches": ["anchor"]}]}))
    run = CliRunner().invoke(wallet_cli, ["add", open_ended(mill), "--offline", "--trust", str(policy_file)], env=env)
    assert run.exit_code == 2 and "roots[0].types" in run.output and "Traceback" not in run.output, run.output


def test_an_anchor_whose_status_came_from_a_stale_list_says_so_in_the_path(parties):
    # the operator allows a stale status list when its issuer is unreachable: the anchor's
    # report warned, but the path said "valid" and the trade credential's report had no word of it
    verifier = Verifier(policy=policy([registry_anchor()]), session=parties.session(), mirror=parties.mirror(*HOSTS),
                        stale_status_if_error=timedelta(hours=1))
    assert verifier.verify_credential(mill_certificate(), now=NOW).verified
    (parties.site("registry.example") / "status" / "1").unlink()  # the registry is unreachable
    later = verifier.verify_credential(mill_certificate(), now=NOW + timedelta(minutes=20))
    check = later.check("issuer_trust")
    assert later.verified, later.summary()
    step = check.data["trustPath"]["steps"][0]
    assert step["vouch"]["status"] == "valid" and "stale_if_error" in step["vouch"]["warnings"][0], step
    assert "stale_if_error" in check.message
    from tradevc.verifier.trust import describe_path

    assert "WARNING: status list https://registry.example/status/1 could not be fetched" in describe_path(
        check.data["trustPath"])[1]
