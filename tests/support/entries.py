"""A border world for the entry tests: did:key issuers (a business register anchoring the mill,
the producer's export office, the SIMA licensing office, the importer and its broker), real
signed trade credentials built with issuer/credential_types.py, a presentation signed by the
importer, the trust policy, and an entry declaration that they support."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from support.vouches import anchor, vouch
from tradevc.issuer import sign_credential
from tradevc.issuer.credential_types import build_credential, load_example
from tradevc.vc.checks.supply import related_resource
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.data_integrity import sign_presentation
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.verifier import Verifier
from tradevc.verifier.trust import TrustPathPolicy

REGISTRY, MILL, PRODUCER, LICENSING, IMPORTER, BROKER, OTHER, MELT_SHOP = (
    KeyPair.generate("Ed25519") for _ in range(8))
CHALLENGE, DOMAIN = "c-1234", "cbp.gov"
MID = "MXACEDEL1234SAN"
TYPES = ["USMCACertificationOfOrigin", "MillTestReportCredential"]


def sign(credential: dict[str, Any], key: KeyPair, cryptosuite: str = "eddsa-rdfc-2022") -> dict[str, Any]:
    return sign_credential(credential, key, created=credential["validFrom"], cryptosuite=cryptosuite)


def _iso(day: date, days: int = 0) -> str:
    return (datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(days=days)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def mill_report(*, day: date, heats: list[tuple[str, str, int]] = [("H26-18841", "MX", 100000)],
                key: KeyPair = MILL, id: str = "urn:uuid:mtr-1", manufacturer: str | None = None,
                source: dict[str, Any] | None = None) -> dict[str, Any]:
    """A mill test report with one product per heat: (number, melt and pour country, weight kg);
    with ``source``, a finishing mill's report restating the heats of that (signed) report,
    pinned by its digest."""
    subject = load_example("MillTestReportCredential")
    template = subject["product"][0]
    products = []
    for i, (number, melt, weight) in enumerate(heats):
        product = copy.deepcopy(template)
        product.update(heatNumber=number, originalCountryOfMeltAndPour=melt, identifier=f"LOT-{i}")
        product.update(weight=str(weight), weightUnit="KGM")
        if source is not None:
            product["sourceCredential"] = source["id"]
        products.append(product)
    subject["product"] = products
    if manufacturer:
        subject["manufacturer"]["name"] = manufacturer
    credential = build_credential("MillTestReportCredential", subject, issuer=key.did, credential_id=id,
                                  valid_from=_iso(day, -30), valid_until=_iso(day, 335))
    if source is not None:
        credential["relatedResource"] = [related_resource(source["id"], source)]
    # several heats' alike observations are a hard graph for RDFC (refused): sign those with JCS
    return sign(credential, key, "eddsa-jcs-2022" if len(heats) > 1 else "eddsa-rdfc-2022")


def certification(*, day: date, goods: tuple[str, ...] = ("730419",), key: KeyPair = PRODUCER,
                  id: str = "urn:uuid:coo-1", months: int = 11, start_days: int = -30, criterion: str = "B",
                  importer: str | None = None, edit: Any = None, quantity: int | None = None,
                  after: Any = None) -> dict[str, Any]:
    """A USMCA certification; ``edit`` changes the subject before the issuing checks, ``after``
    the credential after them (without its credentialSchema, so that it still verifies: a
    defective certification made elsewhere)."""
    subject = load_example("USMCACertificationOfOrigin")
    template = subject["goods"][0]
    template.pop("declaredQuantity", None)
    subject["goods"] = [dict(template, commodityCode=code, originCriterion=criterion) for code in goods]
    if quantity is not None:
        for good in subject["goods"]:
            good["declaredQuantity"] = {"type": ["QuantitativeValue"], "value": str(quantity), "unitCode": "KGM"}
    if importer:
        subject["importerDetails"][0]["name"] = importer
    if edit:
        edit(subject)
    credential = build_credential("USMCACertificationOfOrigin", subject, issuer=key.did, credential_id=id,
                                  valid_from=_iso(day, start_days), valid_until=_iso(day, start_days + months * 30))
    if after:
        del credential["credentialSchema"]
        after(credential)
    return sign(credential, key)


def licence(*, day: date, number: str = "SIMA-2026-0418739", hts: str = "7304.19.1020", melt: str = "MX",
            weight: int = 78422, origin: str = "MX", key: KeyPair = LICENSING, id: str = "urn:uuid:sima-1",
            issued_days: int = -10, value: float = 113711.90, kind: str = "Standard", jose: bool = False) -> Any:
    subject = load_example("SIMASteelImportLicenseCredential")
    subject.update(licenseNumber=number, countryOfOrigin=origin, licenseKind=kind)
    spec = subject["productInformation"][0]
    spec["countryOfMeltAndPour"] = melt
    spec["product"]["commodity"]["commodityCode"] = hts
    spec["product"]["weight"]["value"] = weight
    spec["customsValue"]["value"] = value
    credential = build_credential("SIMASteelImportLicenseCredential", subject, issuer=key.did, credential_id=id,
                                  valid_from=_iso(day, issued_days), valid_until=_iso(day, 60))
    if jose:  # as the licensing office issues it: a vc+jwt, carried in the presentation as an envelope
        return sign_credential_jwt(credential, key)
    return sign(credential, key)


def power_of_attorney(*, principal: KeyPair = IMPORTER, agent: KeyPair = BROKER) -> dict[str, Any]:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     {"PowerOfAttorneyCredential": "https://tradevc.example/vocab#PowerOfAttorneyCredential"}],
        "id": "urn:uuid:poa-1",
        "type": ["VerifiableCredential", "PowerOfAttorneyCredential"], "issuer": principal.did,
        "validFrom": "2020-01-01T00:00:00Z",
        "credentialSubject": {"id": agent.did},
    }
    # an inline context: signed over by a JCS proof
    return sign_credential(credential, principal, created="2020-01-01T00:00:00Z", cryptosuite="eddsa-jcs-2022")


def mill_anchor() -> dict[str, Any]:
    """The register anchors the mill's DID to its manufacturer ID (signed in 2020, valid to 2030)."""
    unsigned = dict(anchor(REGISTRY, MILL.did, mid=MID, valid_from="2020-01-01T00:00:00Z",
                           valid_until="2030-01-01T00:00:00Z", id="urn:uuid:mill-anchor"))
    del unsigned["proof"]
    return sign_credential(unsigned, REGISTRY, created="2020-01-01T00:00:00Z")


def policy(**entry_rules: Any) -> dict[str, Any]:
    return {
        "trustedIssuers": [
            {"did": PRODUCER.did, "name": "Aceros del Norte export office", "types": ["USMCACertificationOfOrigin"]},
            {"did": LICENSING.did, "name": "SIMA licensing", "types": ["SIMASteelImportLicenseCredential"]},
            {"did": MELT_SHOP.did, "name": "a melt shop", "types": ["MillTestReportCredential"]},
        ],
        "roots": [{"did": REGISTRY.did, "name": "Registro Publico de Comercio", "vouches": ["anchor"],
                   "types": TYPES, "schemes": ["MID"]}],
        "anchors": [mill_anchor()],
        **({"entryRules": entry_rules} if entry_rules else {}),
    }


@dataclass
class World:
    """One entry and the credentials behind it; change any part, then :meth:`run`."""

    day: date = date(2026, 3, 10)
    credentials: list[Any] = field(default_factory=list)
    line: dict[str, Any] = field(default_factory=dict)
    entry: dict[str, Any] = field(default_factory=dict)
    holder: KeyPair = IMPORTER
    policy: dict[str, Any] = field(default_factory=policy)
    challenge: str = CHALLENGE
    verify_days: int = 0  # verified this many days after the date of import

    @classmethod
    def steel(cls, day: date = date(2026, 3, 10), *, heats: list[tuple[str, str, int]] | None = None) -> "World":
        world = cls(day=day)
        world.credentials = [mill_report(day=day, **({"heats": heats} if heats else {})),
                             certification(day=day), licence(day=day)]
        world.line = {
            "line": 1, "hts": "7304.19.1020", "description": "Seamless line pipe, API 5L X52",
            "quantity": 78422, "unit": "KGM", "value": 113711.90, "countryOfOrigin": "MX",
            "countryOfMeltAndPour": "MX", "manufacturerId": MID, "simaLicenseNumber": "SIMA-2026-0418739",
            "preference": "USMCA", "heats": ["H26-18841"],
            "credentials": ["urn:uuid:mtr-1", "urn:uuid:coo-1", "urn:uuid:sima-1"],
        }
        world.entry = {
            "entryNumber": "ABC-1234567-8", "dateOfImport": day.isoformat(),
            "entrySummaryDate": (day + timedelta(days=2)).isoformat(),
            "importerOfRecord": {"identifier": "76-1234567", "did": IMPORTER.did,
                                 "name": "Gulf Coast Pipe & Supply LLC"},
        }
        return world

    def replace(self, credential_id: str, credential: Any) -> None:
        self.credentials = [credential if isinstance(c, dict) and c.get("id") == credential_id else c
                            for c in self.credentials]

    def drop(self, credential_id: str) -> None:
        self.credentials = [c for c in self.credentials if not isinstance(c, dict) or c.get("id") != credential_id]

    def declaration(self) -> dict[str, Any]:
        return copy.deepcopy({**self.entry, "lines": self.entry.get("lines", [self.line])})

    def presentation(self) -> dict[str, Any]:
        return sign_presentation(self.credentials, self.holder, challenge=self.challenge, domain=DOMAIN,
                                 cryptosuite="eddsa-jcs-2022",
                                 created=_iso(self.day, self.verify_days))

    def verifier(self) -> Verifier:
        now = datetime(self.day.year, self.day.month, self.day.day, 12, tzinfo=timezone.utc) + timedelta(
            days=self.verify_days)
        return Verifier.offline(policy=TrustPathPolicy.from_dict(self.policy, source="border-policy.json"),
                                clock=lambda: now)

    def run(self, *, ledger: Any = None, rules: Any = None) -> Any:
        from tradevc.verifier.entry import RuleSet, verify_entry

        rules = rules if rules is not None else RuleSet.from_policy(self.policy, source="border-policy.json")
        return verify_entry(self.declaration(), self.presentation(), verifier=self.verifier(), challenge=CHALLENGE,
                            domain=DOMAIN, rules=rules, ledger=ledger)


def finding(report: Any, rule: str, line: int | None = 1) -> Any:
    """The one finding of ``rule`` (on ``line``, or entry-level for None)."""
    found = report.findings if line is None else report.line(line).findings
    hits = [f for f in found if f.rule == rule]
    assert len(hits) == 1, (rule, [(f.rule, f.message) for f in found])
    return hits[0]


def rules_hit(report: Any, line: int | None = 1) -> set[str]:
    found = report.findings if line is None else report.line(line).findings
    return {f.rule for f in found}


__all__ = ["World", "finding", "rules_hit", "vouch"]
