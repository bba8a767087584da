"""Sealed evidence bundles and their replay, over real HTTPS: a did:web mill (read through a
mirror onto the local HTTPS server) with status lists and their history. A verification made
with evidence records the DID document, status lists, contexts and schemas it used; sealed
with the verifier's key, the bundle replays offline to the same decision after the mill's site
is gone, its key rotated or removed, or the certificate revoked; any byte changed is caught."""

from __future__ import annotations

import base64
import copy
import json
import shutil
import threading
from datetime import datetime, timedelta, timezone

import pytest

from tradevc import sign_presentation
from tradevc.issuer import Issuer, sign_credential
from tradevc.issuer.credential_types import load_example
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.verifier.evidence import (
    EvidenceError, check_seal, read_bundle, replay, seal_bundle, with_evidence,
)

PASS = b"issuer passphrase"
MILL = "mill.example"
T = datetime.now(timezone.utc).replace(microsecond=0)
CUSTOMS = KeyPair.generate("Ed25519")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(n: float) -> datetime:
    return T - timedelta(days=n)


@pytest.fixture
def mill(tmp_path, https_server):
    issuer = Issuer.init(tmp_path / "mill", PASS, name="Aceros del Norte", did_web_domain=MILL,
                         status_base_url=f"https://{MILL}/status/")
    yield issuer
    issuer.close()


def certificate(issuer, signed_days_ago=60):
    issued = issuer.issue(
        load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
        valid_from=stamp(days_ago(90)), valid_until=stamp(T + timedelta(days=200)),
    )
    key, method = issuer.home.signing_key(PASS)
    return sign_credential({k: v for k, v in issued.items() if k != "proof"}, key, verification_method=method,
                           created=stamp(days_ago(signed_days_ago)))


def verifier_for(https_server, issuer, **kw):
    return Verifier(policy=TrustPolicy({issuer.did: ["USMCACertificationOfOrigin"]}),
                    session=https_server.session(), mirror=https_server.mirror(MILL), **kw)


def published(mill, https_server, now=None):
    signed = certificate(mill)
    mill.publish(https_server.site(MILL), now=now)
    return signed


def sealed_credential(https_server, mill, signed, now=None, verifier=None):
    verifier = verifier or verifier_for(https_server, mill)
    result, bundle = with_evidence(verifier).verify_credential(signed, now=now)
    return result, seal_bundle(bundle, CUSTOMS)


def test_a_bundle_records_what_the_decision_used_and_replays_after_the_site_is_gone(mill, https_server):
    signed = published(mill, https_server)
    result, bundle = sealed_credential(https_server, mill, signed)
    assert result.verified, result.summary()
    assert any(e["kind"] == "did" and e["url"] == f"https://{MILL}/.well-known/did.json" and e["mediaType"]
               for e in bundle["retrieved"])
    assert any(e["kind"] == "status-list" and e["url"] == signed["credentialStatus"][0]["statusListCredential"]
               for e in bundle["retrieved"])
    assert any(e["kind"] == "context" and e["url"] == "https://www.w3.org/ns/credentials/v2" for e in bundle["retrieved"])
    assert any(e["kind"] == "schema" for e in bundle["retrieved"])
    assert bundle["index"]["issuers"] == [mill.did] and bundle["index"]["credentialIds"] == [signed["id"]]
    assert bundle["index"]["verified"] is True and bundle["index"]["outcome"] == "verified"
    assert bundle["trust"]["policy"]["document"]["trustedIssuers"][0]["did"] == mill.did
    assert check_seal(bundle, [CUSTOMS.did]) == CUSTOMS.verification_method

    shutil.rmtree(https_server.site(MILL))  # the mill's site is gone
    live = verifier_for(https_server, mill).verify_credential(signed)
    assert live.could_not_verify, live.summary()
    https_server.requested.clear()
    again = replay(json.dumps(bundle).encode(), trusted=[CUSTOMS.did])
    assert again.same, again.differences
    assert https_server.requested == []  # nothing was fetched
    assert again.report["outcome"] == "verified"


def test_a_cached_did_document_and_status_list_are_still_recorded(mill, https_server):
    signed = published(mill, https_server)
    verifier = verifier_for(https_server, mill)
    assert verifier.verify_credential(signed).verified  # warms the caches
    _, bundle = sealed_credential(https_server, mill, signed, verifier=verifier)
    kinds = [e["kind"] for e in bundle["retrieved"]]
    assert "did" in kinds and "status-list" in kinds, kinds
    assert replay(bundle).same


def test_key_rotated_then_removed_after_the_fact_replays_as_recorded(mill, https_server):
    signed = published(mill, https_server)
    _, bundle = sealed_credential(https_server, mill, signed)
    old = mill.home.profile.current_key.id
    mill.home.rotate_key(PASS)
    mill.publish(https_server.site(MILL))
    assert verifier_for(https_server, mill).verify_credential(signed).verified  # rotated: the old key still listed
    mill.home.remove_key(old)
    mill.publish(https_server.site(MILL))
    live = verifier_for(https_server, mill).verify_credential(signed)
    assert not live.verified  # removed: a fresh verification now differs
    again = replay(bundle)
    assert again.same and again.report["outcome"] == "verified", again.differences


def test_revoked_after_the_verification_replays_as_not_revoked(mill, https_server):
    signed = published(mill, https_server)
    _, bundle = sealed_credential(https_server, mill, signed)
    mill.revoke(signed["id"])
    mill.publish(https_server.site(MILL))
    assert verifier_for(https_server, mill).verify_credential(signed).check("revocation").code == "REVOKED"
    again = replay(bundle)
    assert again.same, again.differences
    revocation = [c for c in again.report["checks"] if c["name"] == "revocation"]
    assert revocation and revocation[0]["outcome"] == "passed"


def test_status_as_of_a_past_moment_replays_from_the_recorded_version(mill, https_server):
    signed = certificate(mill)
    mill.publish(https_server.site(MILL), now=days_ago(40))
    mill.revoke(signed["id"])
    mill.publish(https_server.site(MILL), now=days_ago(20))
    result, bundle = sealed_credential(https_server, mill, signed, now=days_ago(30))
    assert result.verified and "historical list version 1" in result.check("revocation").message
    assert bundle["verifiedAt"].startswith(stamp(days_ago(30))[:19])
    assert any("1.history" in e["url"] for e in bundle["retrieved"])
    shutil.rmtree(https_server.site(MILL))
    again = replay(bundle)
    assert again.same, again.differences
    assert any("historical list version 1" in c["message"] for c in again.report["checks"])


def test_a_not_verified_decision_replays_as_not_verified(mill, https_server):
    signed = published(mill, https_server)
    mill.revoke(signed["id"])
    mill.publish(https_server.site(MILL))
    result, bundle = sealed_credential(https_server, mill, signed)
    assert result.check("revocation").code == "REVOKED"
    assert bundle["index"]["verified"] is False and bundle["index"]["outcome"] == "not-verified"
    again = replay(bundle)
    assert again.same and again.report["outcome"] == "not_verified", again.differences


def test_a_different_decision_is_shown_check_by_check(mill, https_server):
    """A bundle whose recorded report says otherwise than its bytes (sealed so by a verifier
    key: the seal holds) replays to its real decision, and the difference is named."""
    signed = published(mill, https_server)
    _, bundle = sealed_credential(https_server, mill, signed)
    forged = copy.deepcopy(bundle)
    for check in forged["report"]["checks"]:
        if check["name"] == "revocation":
            check.update(outcome="failed", code="REVOKED")
    forged["report"]["outcome"] = "not_verified"
    again = replay(seal_bundle(forged, CUSTOMS))
    assert not again.same
    where = {d.where for d in again.differences}
    assert "outcome" in where and any(w.startswith("revocation") for w in where), where


def _flip(text: str) -> str:
    return text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]


def _tamper_input(b):
    b["input"]["documents"][0]["credentialSubject"]["id"] = "did:example:someone-else"


def _tamper_bytes(b):
    entry = next(e for e in b["retrieved"] if e["kind"] == "did")
    data = bytearray(base64.b64decode(entry["bytes"]))
    data[10] ^= 1
    entry["bytes"] = base64.b64encode(bytes(data)).decode()


def _tamper_sha(b):
    entry = next(e for e in b["retrieved"] if e["kind"] == "status-list")
    entry["sha256"] = ("0" if entry["sha256"][0] != "0" else "1") + entry["sha256"][1:]


def _tamper_report(b):
    b["report"]["checks"][0]["message"] += "."


def _tamper_verified_at(b):
    b["verifiedAt"] = b["verifiedAt"].replace(b["verifiedAt"][:4], str(int(b["verifiedAt"][:4]) - 1), 1)


def _tamper_proof(b):
    b["proof"]["jws"] = _flip(b["proof"]["jws"])


def _tamper_resealed_by_another_key(b):
    b.update(seal_bundle(b, KeyPair.generate("Ed25519")))


@pytest.mark.parametrize("tamper, says", [
    (_tamper_input, "does not match its seal"),
    (_tamper_bytes, "does not match its sha256"),
    (_tamper_sha, "does not match its sha256"),
    (_tamper_report, "does not match its seal"),
    (_tamper_verified_at, "does not match its seal"),
    (_tamper_proof, "signature does not verify"),
    (_tamper_resealed_by_another_key, "not one of the trusted sealing keys"),
])
def test_a_tampered_bundle_is_detected(mill, https_server, tamper, says):
    signed = published(mill, https_server)
    _, bundle = sealed_credential(https_server, mill, signed)
    tampered = copy.deepcopy(bundle)
    tamper(tampered)
    with pytest.raises(EvidenceError) as caught:
        check_seal(read_bundle(json.dumps(tampered).encode()), [CUSTOMS.did])
    assert says in caught.value.message, caught.value.message
    with pytest.raises(EvidenceError):
        replay(tampered, trusted=[CUSTOMS.did])


def test_a_presentation_replays_without_the_challenge_store(mill, https_server, tmp_path):
    from tradevc.verifier.challenges import SqliteChallengeStore

    signed = published(mill, https_server)
    verifier = verifier_for(https_server, mill, challenges=SqliteChallengeStore(tmp_path / "challenges.db"))
    challenge = verifier.new_challenge().token
    holder = KeyPair.generate("Ed25519")
    presentation = sign_presentation([signed], holder, challenge=challenge, domain="customs.example")
    result, bundle = with_evidence(verifier).verify_presentation(presentation, challenge=challenge,
                                                                 domain="customs.example")
    assert result.verified, result.summary()
    assert bundle["kind"] == "presentation" and bundle["input"]["options"]["challenge"] == challenge
    assert bundle["index"]["issuers"] == [mill.did]
    sealed = seal_bundle(bundle, CUSTOMS)
    shutil.rmtree(https_server.site(MILL))
    again = replay(sealed, trusted=[CUSTOMS.did])
    assert again.same, again.differences
    assert any("challenge store was not consulted" in n for n in again.notes)


def test_threads_record_apart_on_one_verifier(mill, https_server):
    first = published(mill, https_server)
    second = certificate(mill)
    mill.publish(https_server.site(MILL))
    verifier = verifier_for(https_server, mill)
    bundles = {}

    def run(name, document):
        bundles[name] = with_evidence(verifier).verify_credential(document)[1]

    threads = [threading.Thread(target=run, args=(n, d)) for n, d in (("a", first), ("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bundles["a"]["index"]["credentialIds"] == [first["id"]]
    assert bundles["b"]["index"]["credentialIds"] == [second["id"]]
    for bundle in bundles.values():
        assert any(e["kind"] == "did" for e in bundle["retrieved"]) and replay(seal_bundle(bundle, CUSTOMS)).same


def test_a_trust_path_from_a_linked_presentation_is_recorded_and_replays(https_server):
    """A did:web mill anchored by a did:web registry (a root) through an anchor the mill's DID
    document links to: the linked presentation is recorded as a vouch, with both DID documents
    and the registry's status list, even when the trust paths were cached before."""
    from support.dids import did_document
    from support.vouches import anchor, certificate as reference_certificate
    from tradevc.verifier.trust import TrustPathPolicy
    from tradevc.wallet import sign_presentation as sign_vp

    registry, mill_key = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    registry_did, mill_did = "did:web:registry.example", "did:web:mill.example"
    linked_url = "https://mill.example/anchors.json"
    service = [{"id": f"{mill_did}#anchors", "type": "LinkedVerifiablePresentation", "serviceEndpoint": linked_url}]
    for host, did, key, extra in (("registry.example", registry_did, registry, {}),
                                  ("mill.example", mill_did, mill_key, {"service": service})):
        path = https_server.site(host) / ".well-known" / "did.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(did_document(did, key, **extra)))
    vouch = anchor(registry, mill_did, issuer=registry_did, id="urn:uuid:anchor-1")
    linked = sign_vp([vouch], mill_key, challenge="linked", domain="mill.example", holder=mill_did,
                     verification_method=f"{mill_did}#key-1", cryptosuite="eddsa-jcs-2022",
                     created="2026-01-02T00:00:00Z")
    (https_server.site("mill.example") / "anchors.json").write_text(json.dumps(linked))
    trust = TrustPathPolicy.from_dict({"roots": [{"did": registry_did, "name": "Registro", "vouches": ["anchor"],
                                                  "types": ["USMCACertificationOfOrigin"], "schemes": ["MID"]}]},
                                      source="border-policy.json")
    verifier = Verifier(policy=trust, session=https_server.session(),
                        mirror=https_server.mirror("registry.example", "mill.example"))
    document = reference_certificate(mill_key, issuer=mill_did)
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert verifier.verify_credential(document, now=now).verified  # paths now cached
    result, bundle = with_evidence(verifier).verify_credential(document, now=now)
    assert result.verified, result.summary()
    urls = {(e["kind"], e["url"]) for e in bundle["retrieved"]}
    assert ("vouch", linked_url) in urls
    assert ("did", "https://registry.example/.well-known/did.json") in urls
    assert ("did", "https://mill.example/.well-known/did.json") in urls
    assert bundle["trust"]["policy"]["kind"] == "trustPaths" and bundle["trust"]["paths"]
    # the registry's key that signed the linked anchor is a key the decision relied on; the key
    # of the linked presentation's own proof is not a vouch's
    sealed = read_bundle(json.dumps(seal_bundle(bundle, CUSTOMS)).encode())
    assert sealed.vouch_methods() == [vouch["proof"]["verificationMethod"]]
    assert vouch["proof"]["verificationMethod"].startswith(registry_did + "#")
    shutil.rmtree(https_server.site("mill.example"))
    again = replay(seal_bundle(bundle, CUSTOMS))
    assert again.same, again.differences


def test_a_trust_pack_verification_replays_without_the_pack(https_server, tmp_path):
    from tradevc.verifier.pack import build_pack, load_pack, write_pack

    mill = Issuer.init(tmp_path / "mill", PASS, name="Aceros del Norte", did_web_domain=f"{https_server.host}/mill",
                       status_base_url=https_server.url("mill/status/"))
    try:
        signed = certificate(mill)
        mill.publish(https_server.root)
        (tmp_path / "coo.json").write_text(json.dumps(signed))
        (tmp_path / "policy.json").write_text(json.dumps(
            {"trustedIssuers": [{"did": mill.did, "types": ["USMCACertificationOfOrigin"]}]}))
        pack_key = KeyPair.generate("Ed25519")
        built = build_pack(tmp_path / "policy.json", pack_key, name="port-of-laredo", credentials=[tmp_path / "coo.json"],
                           session=https_server.session(), allow_hosts=https_server.allow_hosts, now=T)
        write_pack(tmp_path / "laredo.pack", built.data)
        https_server.reset()  # the site is gone: the pack holds what the border post needs
        verifier = load_pack(tmp_path / "laredo.pack", trusted_signers=[pack_key.did]).verifier()
        result, bundle = with_evidence(verifier).verify_credential(signed)
        assert result.verified and result.checks[0].name == "trust_pack", result.summary()
        assert bundle["trust"]["pack"]["name"] == "port-of-laredo" and bundle["trust"]["pack"]["version"] == 1
        assert {"did", "status-list"} <= {e["kind"] for e in bundle["retrieved"]}
        again = replay(seal_bundle(bundle, CUSTOMS))
        assert again.same, again.differences
        assert any("trust pack" in n for n in again.notes)
    finally:
        mill.close()


def test_an_outage_at_the_time_replays_as_the_same_outage(mill, https_server):
    """The history index did not answer (HTTP 503) when the entry was checked: could not
    verify. The bundle records it as unreachable, and the replay fails the same way rather
    than taking it for an issuer without history."""
    from support.https_server import body

    signed = certificate(mill)
    mill.publish(https_server.site(MILL), now=days_ago(40))
    mill.revoke(signed["id"])
    mill.publish(https_server.site(MILL), now=days_ago(20))
    https_server.special[f"/{MILL}/status/revocation/1.history/index.json"] = body(b"busy", status=503)
    result, bundle = sealed_credential(https_server, mill, signed, now=days_ago(30))
    assert result.could_not_verify and result.check("revocation").code == "STATUS_RETRIEVAL_ERROR", result.summary()
    assert [(u["status"], u["url"].endswith("1.history/index.json")) for u in bundle["unreachable"]] == [(503, True)]
    again = replay(bundle)
    assert again.same, again.differences
    assert again.report["outcome"] == "could_not_verify"
    forgetful = replay(seal_bundle({**bundle, "unreachable": []}, CUSTOMS))  # taken for a 404: no history
    assert not forgetful.same and any(d.where.startswith("revocation") for d in forgetful.differences)
