"""Parties for the entry tests: a customs power of attorney from the importer to its broker,
built with issuer/credential_types.py and signed by the importer, with a revocation status
entry whose signed status list is served from a snapshot directory (as a border post with no
network reads it); an identity anchor of the importer; and a :class:`World` whose verifier
reads that snapshot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from support.entries import BROKER, IMPORTER, REGISTRY, World, _iso, sign
from support.vouches import vouch
from tradevc.issuer import sign_credential
from tradevc.issuer.credential_types import build_credential, load_example
from tradevc.vc.keys import KeyPair
from tradevc.vc.retrieval.mirror import Mirror
from tradevc.vc.status import BitstringStatusList
from tradevc.verifier import Verifier
from tradevc.verifier.trust import TrustPathPolicy

STATUS_HOST = "status.gulfcoastpipe.example"
STATUS_URL = f"https://{STATUS_HOST}/lists/revocation-1"
IMPORTER_NUMBER = "76-1234567"
FILER_CODE = "ABC"


def power_of_attorney(*, day: date, principal: KeyPair = IMPORTER, agent: KeyPair = BROKER,
                      scope: tuple[str, ...] = ("customs-entry",), from_days: int = -30, until_days: int = 335,
                      importer_number: str = IMPORTER_NUMBER, filer_code: str = FILER_CODE, index: int | None = 7,
                      id: str = "urn:uuid:poa-1", agent_did: str | None = None) -> dict[str, Any]:
    """The importer's power of attorney for ``agent``, valid ``from_days`` .. ``until_days``
    around ``day``, with a revocation entry at ``index`` of :data:`STATUS_URL` (None: none)."""
    subject = load_example("PowerOfAttorneyCredential")
    subject.update(id=agent_did or agent.did, filerCode=filer_code, scope=list(scope))
    subject["principal"]["importerNumber"] = importer_number
    credential = build_credential("PowerOfAttorneyCredential", subject, issuer=principal.did, credential_id=id,
                                  valid_from=_iso(day, from_days), valid_until=_iso(day, until_days))
    if index is not None:
        credential["credentialStatus"] = [{
            "id": f"{STATUS_URL}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(index), "statusListCredential": STATUS_URL,
        }]
    return sign(credential, principal)


def status_snapshot(folder: Path, *, day: date, revoked: tuple[int, ...] = (), key: KeyPair = IMPORTER) -> Path:
    """A snapshot directory serving the importer's signed revocation list (``revoked`` set),
    valid for a year around ``day``: ``folder/<host>/<path>``."""
    bits = BitstringStatusList()
    for index in revoked:
        bits.set(index, 1)
    issued = _iso(day, -60)
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": STATUS_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": key.did,
        "validFrom": issued, "validUntil": _iso(day, 300),
        "credentialSubject": {"id": f"{STATUS_URL}#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation", "encodedList": bits.encode()},
    }
    signed = sign_credential(credential, key, created=issued)
    target = folder / STATUS_HOST / "lists" / "revocation-1"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(signed), encoding="utf-8")
    return folder


def importer_anchor(*, number: str = IMPORTER_NUMBER, scheme: str = "IOR", key: KeyPair = REGISTRY,
                    subject: KeyPair = IMPORTER, id: str = "urn:uuid:importer-anchor",
                    valid_until: str = "2030-01-01T00:00:00Z") -> dict[str, Any]:
    """A register's identity anchor binding the importer's DID to its importer number."""
    return vouch(key, subject.did, name="Gulf Coast Pipe & Supply LLC", id=id, valid_from="2020-01-01T00:00:00Z",
                 valid_until=valid_until,
                 identifier=[{"type": "PropertyValue", "propertyID": scheme, "value": number}])


@dataclass
class PartiesWorld(World):
    """A :class:`World` whose verifier also reads the status lists of ``snapshot``."""

    snapshot: Path | None = None

    @classmethod
    def steel(cls, day: date = date(2026, 3, 10), *, heats: list[tuple[str, str, int]] | None = None,
              ) -> "PartiesWorld":
        base = World.steel(day, heats=heats)
        return cls(day=base.day, credentials=base.credentials, line=base.line, entry=base.entry)

    def verifier(self) -> Verifier:
        now = datetime(self.day.year, self.day.month, self.day.day, 12, tzinfo=timezone.utc) + timedelta(
            days=self.verify_days)
        mirror = Mirror(snapshots=[str(self.snapshot)]) if self.snapshot is not None else None
        return Verifier.offline(policy=TrustPathPolicy.from_dict(self.policy, source="border-policy.json"),
                                clock=lambda: now, mirror=mirror)


__all__ = ["FILER_CODE", "IMPORTER_NUMBER", "PartiesWorld", "importer_anchor", "power_of_attorney",
           "status_snapshot"]
