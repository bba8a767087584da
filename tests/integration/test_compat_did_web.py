"""A pilot-era issuer over the local HTTPS server: a did:web DID document listing an
Ed25519VerificationKey2018 (publicKeyBase58) and a VC 1.1 credential with an
Ed25519Signature2018 proof. A strict Verifier refuses it; one with the compatibility profile
verifies it and says so."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from support.ed25519_2018 import sign_2018
from tradevc.vc.compat import Compatibility
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_encode
from tradevc.verifier import TrustPolicy, Verifier

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)


def publish_issuer(server, key: KeyPair) -> str:
    did = f"did:web:{server.did_host}:pilots:mill"
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2018/v1"],
        "id": did,
        "verificationMethod": [{"id": f"{did}#key-1", "type": "Ed25519VerificationKey2018", "controller": did,
                                "publicKeyBase58": base58btc_encode(key.public_key_bytes)}],
        "assertionMethod": [f"{did}#key-1"],
    }
    path = server.root / "pilots" / "mill" / "did.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return did


def pilot_credential(did: str, key: KeyPair) -> dict:
    document = {
        "@context": ["https://www.w3.org/2018/credentials/v1"], "id": "urn:uuid:6f1c3e2a-2023-4d5e-8f90-1a2b3c4d5e6f",
        "type": ["VerifiableCredential"], "issuer": did, "issuanceDate": "2023-05-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:importer"},
    }
    return sign_2018(document, key, method=f"{did}#key-1")


def test_a_did_web_issuer_with_a_2018_key(https_server):
    key = KeyPair.generate("Ed25519")
    did = publish_issuer(https_server, key)
    credential = pilot_credential(did, key)
    policy = TrustPolicy({did: ["VerifiableCredential"]})

    strict = Verifier(policy=policy, session=https_server.session(), allow_hosts=https_server.allow_hosts).verify_credential(credential, now=NOW)
    assert not strict.verified and strict.check("proof").code == "UNSUPPORTED_ERROR"

    desk = Verifier(policy=policy, session=https_server.session(), compatibility=Compatibility.profile("pilots-2023"),
                    allow_hosts=https_server.allow_hosts)
    result = desk.verify_credential(credential, now=NOW)
    assert result.verified, result.summary()
    assert result.check("purpose").outcome.value == "passed"
    assert [w.split(":")[1] for w in result.warnings] == ["ed25519-signature-2018"]

    credential["credentialSubject"]["id"] = "did:example:someone-else"
    assert desk.verify_credential(credential, now=NOW).check("proof").code == "PROOF_VERIFICATION_ERROR"


def test_a_2018_key_published_for_another_did_is_refused(https_server):
    key = KeyPair.generate("Ed25519")
    did = publish_issuer(https_server, key)
    stranger = KeyPair.generate("Ed25519")
    credential = pilot_credential(did, stranger)  # claims the mill's key, signed by another
    desk = Verifier(policy=TrustPolicy({did: ["VerifiableCredential"]}), session=https_server.session(),
                    compatibility=Compatibility.profile("pilots-2023"), allow_hosts=https_server.allow_hosts)
    assert desk.verify_credential(credential, now=NOW).check("proof").code == "PROOF_VERIFICATION_ERROR"
