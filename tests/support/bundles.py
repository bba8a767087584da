"""Evidence-bundle-shaped JSON made from real verifications, for the archive's tests.

The bundle module (sealing, ``read_bundle``) is built apart; these bundles have its shape
(``type``, ``version``, ``kind``, ``verifiedAt``, ``sealedAt``, ``tool``, ``input``, ``retrieved``,
``trust``, ``report``, ``index``) and a placeholder ``proof``: the index facts and the report
are those of a real verification of the credential with an offline ``Verifier``.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "bench" / "usmca-certification-of-origin.json").read_text("utf-8"))
TYPES = ["USMCACertificationOfOrigin"]


def credential(key: KeyPair, number: int, *, issued: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    """A USMCA certification of origin signed by ``key`` (did:key) at ``issued``, valid from
    then, with no status entry."""
    document = copy.deepcopy(REFERENCE)
    document["id"] = f"urn:uuid:00000000-0000-0000-0000-{number:012d}"
    document["issuer"]["id"] = key.did
    document["validFrom"] = issued
    document.pop("validUntil", None)
    document.pop("credentialStatus", None)
    return sign_credential(document, key, cryptosuite="eddsa-rdfc-2022", created=issued)


def policy_document(*keys: KeyPair) -> dict[str, Any]:
    """A trust policy document trusting ``keys``' DIDs for the certification of origin."""
    return {"trustedIssuers": {key.did: TYPES for key in keys}}


def rfc3339(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


_OUTCOMES = {"verified": "verified", "not_verified": "not-verified", "could_not_verify": "could-not-verify"}


def make_bundle(document: dict[str, Any], policy: dict[str, Any], *, at: datetime, entry_number: str | None = None,
                importer: str | None = None) -> dict[str, Any]:
    """A bundle-shaped dict of the verification of ``document`` as of ``at`` under ``policy``
    (verified now, for real, with an offline verifier)."""
    verifier = Verifier.offline(policy=TrustPolicy.from_dict(policy), clock=lambda: at)
    report = verifier.verify_credential(document, now=at)
    issuer = document["issuer"]["id"] if isinstance(document["issuer"], dict) else document["issuer"]
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    return {
        "type": "tradevc-evidence-bundle",
        "version": 1,
        "kind": "credential",
        "verifiedAt": rfc3339(at),
        "sealedAt": rfc3339(at + timedelta(seconds=1)),
        "tool": {"name": "tradevc", "version": "0.1.0"},
        "input": {"documents": [document], "options": {}},
        "retrieved": [],
        "trust": {"policy": policy, "pack": None, "paths": []},
        "report": report.to_dict(),
        "index": {
            "entryNumber": entry_number,
            "importer": importer,
            "issuers": [issuer],
            "credentialIds": [document["id"]],
            "verificationMethods": [p["verificationMethod"] for p in proofs],
            "verified": report.verified,
            "outcome": _OUTCOMES[report.outcome],
        },
        "proof": {"type": "JsonWebSignature", "jws": "placeholder", "verificationMethod": "did:example:verifier#0"},
    }


def to_bytes(bundle: dict[str, Any]) -> bytes:
    return json.dumps(bundle, indent=1, ensure_ascii=False).encode("utf-8")
