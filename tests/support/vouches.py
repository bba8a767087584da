"""Signed vouching credentials for the trust path tests (identity anchors, accreditations,
licences, IP authorisations) and a trade credential to be trusted through them, made with the
library's own signer: members as tradevc.vc.checks.vouches reads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair

TRUST_CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://tradevc.example/contexts/trust/v1"]
REFERENCE = Path(__file__).resolve().parents[2] / "bench" / "usmca-certification-of-origin.json"


def _sign(credential: dict[str, Any], key: KeyPair, did: str | None) -> dict[str, Any]:
    method = f"{did}#key-1" if did and not did.startswith("did:key:") else None
    return sign_credential(credential, key, created="2026-01-01T00:00:00Z", verification_method=method)


def vouch(
    key: KeyPair, subject: str, *, type: str = "IdentityAnchorCredential", subject_type: str = "RegisteredParty",
    id: str | None = None, issuer: str | None = None, valid_from: str = "2026-01-01T00:00:00Z",
    valid_until: str | None = "2027-01-01T00:00:00Z", status: Any = None, **members: Any,
) -> dict[str, Any]:
    """A vouch of ``type`` by ``key`` (or the did:web ``issuer`` whose key it is) for ``subject``."""
    credential: dict[str, Any] = {
        "@context": list(TRUST_CONTEXTS), "id": id or f"urn:uuid:{uuid4()}",
        "type": ["VerifiableCredential", type], "issuer": issuer or key.did, "validFrom": valid_from,
        "credentialSubject": {"id": subject, "type": subject_type, **members},
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    if status is not None:
        credential["credentialStatus"] = status
    return _sign(credential, key, issuer)


def anchor(key: KeyPair, subject: str, *, mid: str | None = "MXACEDEL1234MON", name: str = "Aceros del Norte",
           **kw: Any) -> dict[str, Any]:
    ids = [{"type": "PropertyValue", "propertyID": "MID", "value": mid}] if mid else []
    return vouch(key, subject, name=name, identifier=ids, **kw) if ids else vouch(key, subject, name=name, **kw)


def licence(key: KeyPair, subject: str, *, prefixes: list[str], parent: str | None = None, **kw: Any) -> dict[str, Any]:
    extra = {"extendsCredential": parent} if parent else {}
    return vouch(key, subject, type="GS1CompanyPrefixLicenseCredential", subject_type="Licensee",
                 licenseValue=prefixes, **extra, **kw)


def authorisation(key: KeyPair, subject: str, *, marks: list[str], goods: list[str], territories: list[str],
                  parent: str | None = None, **kw: Any) -> dict[str, Any]:
    extra = {"extendsCredential": parent} if parent else {}
    return vouch(key, subject, type="IntellectualPropertyRightsLicenseCredential", subject_type="Licensee",
                 mark=marks, hsScope=goods, territory=territories, **extra, **kw)


def certificate(key: KeyPair, *, issuer: str | None = None, goods: tuple[str, ...] = ("730419", "720851"),
                status: Any = None) -> dict[str, Any]:
    """The reference USMCA certification of origin, issued by ``key`` (or ``issuer``), naming
    the HS codes ``goods``."""
    credential = json.loads(REFERENCE.read_text(encoding="utf-8"))
    credential["issuer"]["id"] = issuer or key.did
    del credential["credentialStatus"]
    if status is not None:
        credential["credentialStatus"] = status
    items = credential["credentialSubject"]["goods"]
    credential["credentialSubject"]["goods"] = [dict(items[i % len(items)], commodityCode=code)
                                                for i, code in enumerate(goods)]
    return _sign(credential, key, issuer)
