"""Sealed evidence bundles of real verifications, for the archive's and the re-verification's tests.

:func:`make_bundle` verifies a credential with an offline ``Verifier`` through
``with_evidence`` (so the bundle holds the contexts and schemas the verification read, and
its report and index are the verification's own), gives the index an entry number and an
importer as an entry's bundle would carry them, and seals it with :data:`SEALER` (or the key
given), as ``vc-verify credential --evidence`` does.
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
from tradevc.verifier.evidence import seal_bundle, with_evidence

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "bench" / "usmca-certification-of-origin.json").read_text("utf-8"))
TYPES = ["USMCACertificationOfOrigin"]
SEALER = KeyPair.generate("Ed25519")
"""The evidence key of the border post whose verifications the tests archive."""


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


def make_bundle(document: dict[str, Any], policy: dict[str, Any], *, at: datetime, entry_number: str | None = None,
                importer: str | None = None, sealer: KeyPair = SEALER) -> dict[str, Any]:
    """The sealed evidence bundle of the verification of ``document`` as of ``at`` under
    ``policy``, made for real with an offline verifier, sealed by ``sealer`` one second later."""
    verifier = Verifier.offline(policy=TrustPolicy.from_dict(policy), clock=lambda: at)
    _, bundle = with_evidence(verifier).verify_credential(document, now=at)
    bundle["index"]["entryNumber"] = entry_number
    bundle["index"]["importer"] = importer
    return seal_bundle(bundle, sealer, sealed_at=at + timedelta(seconds=1))


def to_bytes(bundle: dict[str, Any]) -> bytes:
    return json.dumps(bundle, indent=1, ensure_ascii=False).encode("utf-8")
