"""A border world for the entry tests: did:key issuers (a business register anchoring the mill,
the producer's export office, the SIMA licensing office, the importer and its broker), real
signed trade credentials built with issuer/credential_types.py, a presentation signed by the
importer, the trust policy, and an entry declaration that they support."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
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
ROLLING_MILL = KeyPair.generate("Ed25519")  # the supply world's piercing and rolling mill
IMPORT_RECORDS = KeyPair.generate("Ed25519")  # CBP's importer records: anchors importer numbers (IOR)
IMPORTER_NUMBER = "76-1234567"
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


def importer_anchor(*, number: str = IMPORTER_NUMBER, scheme: str = "IOR", key: KeyPair | None = None,
                    subject: KeyPair | None = None, id: str = "urn:uuid:importer-anchor",
                    valid_until: str = "2030-01-01T00:00:00Z") -> dict[str, Any]:
    """The importer records' identity anchor binding the importer's DID to its importer number."""
    unsigned = dict(vouch(key or IMPORT_RECORDS, (subject or IMPORTER).did, name="Gulf Coast Pipe & Supply LLC", id=id,
                          valid_from="2020-01-01T00:00:00Z", valid_until=valid_until,
                          identifier=[{"type": "PropertyValue", "propertyID": scheme, "value": number}]))
    del unsigned["proof"]  # signed in 2020, as the records were made, so that old entries verify too
    return sign_credential(unsigned, key or IMPORT_RECORDS, created="2020-01-01T00:00:00Z")


IMPORT_RECORDS_ROOT = {"did": IMPORT_RECORDS.did, "name": "CBP importer records (Form 5106)", "vouches": ["anchor"],
                       "types": ["PowerOfAttorneyCredential"], "schemes": ["IOR"]}


def policy(*, anchored_importer: bool = True, **entry_rules: Any) -> dict[str, Any]:
    """The border's policy; with ``anchored_importer`` its trust store holds the importer
    records' anchor of the importer's number (the default rules require one)."""
    return {
        "trustedIssuers": [
            {"did": PRODUCER.did, "name": "Aceros del Norte export office", "types": ["USMCACertificationOfOrigin"]},
            {"did": LICENSING.did, "name": "SIMA licensing", "types": ["SIMASteelImportLicenseCredential"]},
            {"did": MELT_SHOP.did, "name": "a melt shop", "types": ["MillTestReportCredential"]},
        ],
        "roots": [{"did": REGISTRY.did, "name": "Registro Publico de Comercio", "vouches": ["anchor"],
                   "types": TYPES, "schemes": ["MID"]},
                  *([dict(IMPORT_RECORDS_ROOT)] if anchored_importer else [])],
        "anchors": [mill_anchor(), *([importer_anchor()] if anchored_importer else [])],
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

    @classmethod
    def supply(cls, day: date = date(2026, 3, 10), *, melt_country: str = "MX") -> "World":
        """Issue 17's bench entry: 20 lines of seamless pipe backed by 8 presented credentials,
        with a 3-step supply path behind the pipe mill's report (see :func:`supply_credentials`).
        Every line references the pipe mill's report, the certification, the licence and the
        invoice, and the heat its pipe was made from; the quantities fit the licence, the lots
        and the heats, so the entry is accepted (the Section 232 duty is noted on each line).
        With ``melt_country`` other than MX, the heats were melted and poured there while the
        lines still declare MX (a misdeclaration)."""
        world = cls(day=day, policy=supply_policy())
        lines = _supply_lines()
        world.credentials = supply_credentials(day, lines, melt_country=melt_country)
        world.line = lines[0]
        world.entry = {
            "entryNumber": "ABC-7654321-0", "dateOfImport": day.isoformat(),
            "entrySummaryDate": (day + timedelta(days=2)).isoformat(),
            "importerOfRecord": {"identifier": "76-1234567", "did": IMPORTER.did,
                                 "name": "Gulf Coast Pipe & Supply LLC"},
            "lines": lines,
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

    def cli_args(self, folder: Path) -> list[str]:
        """The declaration, presentation and policy written into ``folder``, and the arguments
        that give them to ``vc-verify entry`` (offline, at noon of the verification day)."""
        entry, vp, trust = folder / "entry.json", folder / "vp.json", folder / "border-policy.json"
        entry.write_text(json.dumps(self.declaration()), encoding="utf-8")
        vp.write_text(json.dumps(self.presentation()), encoding="utf-8")
        trust.write_text(json.dumps(self.policy), encoding="utf-8")
        return [str(entry), str(vp), "--trust", str(trust), "--challenge", CHALLENGE, "--domain", DOMAIN,
                "--offline", "--at", _iso(self.day, self.verify_days).replace("T00:", "T12:")]

    def run(self, *, ledger: Any = None, rules: Any = None) -> Any:
        from tradevc.verifier.entry import RuleSet, verify_entry

        rules = rules if rules is not None else RuleSet.from_policy(self.policy, source="border-policy.json")
        return verify_entry(self.declaration(), self.presentation(), verifier=self.verifier(), challenge=CHALLENGE,
                            domain=DOMAIN, rules=rules, ledger=ledger)


# -- issue 17's bench world: 20 lines, 8 credentials, a 3-step supply path -----------------------
#
# A melt shop in Monclova casts four heats of round billets (its mill test report: the heats and
# where they were melted and poured); a piercing and rolling mill turns the billets into hollow
# shells (transformation event 1); the pipe mill finishes the shells into line and standard pipe
# lots (transformation event 2) and restates the heats on its own mill test report. Each step
# pins its inputs by digest. With the producer's USMCA certification, the SIMA licence, the
# commercial invoice and the register's anchor of the rolling mill, the importer presents 8
# credentials; the walk from the pipe mill's report goes 3 steps upstream to the melt shop.

SUPPLY_IDS = {
    "melt": "urn:uuid:supply-mtr-melt", "rolling": "urn:uuid:supply-event-rolling",
    "piping": "urn:uuid:supply-event-pipe", "pipe": "urn:uuid:supply-mtr-pipe",
    "certification": "urn:uuid:supply-coo", "licence": "urn:uuid:supply-sima",
    "invoice": "urn:uuid:supply-invoice", "anchor": "urn:uuid:supply-rolling-anchor",
}
SUPPLY_HEATS = ("H26-20411", "H26-20412", "H26-20413", "H26-20414")
SUPPLY_HTS = (  # seamless pipe, by statistical suffix: line pipe (7304.19), other circular (7304.39)
    "7304.19.1020", "7304.19.1030", "7304.19.1045", "7304.19.1060", "7304.19.1080", "7304.19.5020",
    "7304.19.5050", "7304.19.5080", "7304.39.0002", "7304.39.0004", "7304.39.0006", "7304.39.0008",
    "7304.39.0016", "7304.39.0020", "7304.39.0024", "7304.39.0028", "7304.39.0032", "7304.39.0036",
    "7304.39.0040", "7304.39.0044",
)
SUPPLY_LICENCE = "SIMA-2026-0502117"
ROLLING_MID = "MXLAMGOL0042MON"


def _heat_of(line: int) -> int:
    """Lines 1-8 (line pipe) come from the first two heats, four lines each; lines 9-20 (other
    seamless pipe) from the last two, six each."""
    return (line - 1) // 4 if line <= 8 else 2 + (line - 9) // 6


def _supply_lines() -> list[dict[str, Any]]:
    lines = []
    for n, hts in enumerate(SUPPLY_HTS, start=1):
        quantity = 9000 + 150 * n
        lines.append({
            "line": n, "hts": hts, "description": f"Seamless pipe, API 5L / ASTM A106, size {n}",
            "quantity": quantity, "unit": "KGM", "value": round(quantity * 1.45, 2), "countryOfOrigin": "MX",
            "countryOfMeltAndPour": "MX", "manufacturerId": MID, "simaLicenseNumber": SUPPLY_LICENCE,
            "preference": "USMCA", "heats": [SUPPLY_HEATS[_heat_of(n)]],
            "credentials": [SUPPLY_IDS[k] for k in ("pipe", "certification", "licence", "invoice")],
        })
    return lines


def _heat_product(template: dict[str, Any], i: int, heat: str, identifier: str, weight: int,
                  melt: str = "MX", source: str | None = None) -> dict[str, Any]:
    """One heat's product with its own chemistry (each heat has its own analysis; alike
    observations would also make a graph RDFC refuses)."""
    product = copy.deepcopy(template)
    product.update(heatNumber=heat, identifier=identifier, originalCountryOfMeltAndPour=melt,
                   weight=str(weight), weightUnit="KGM")
    for j, observation in enumerate(product["inspection"]["chemicalObservation"]):
        value = Decimal(observation["measurement"]["value"])
        observation["measurement"]["value"] = str(value + Decimal(i * (j + 1)) / 1000)
    if source is not None:
        product["sourceCredential"] = source
    return product


def _supply_party(name: str, street: str, town: str) -> dict[str, Any]:
    return {"type": ["Organization"], "name": name, "location": {"type": ["Place"], "address": {
        "type": ["PostalAddress"], "streetAddress": street, "addressLocality": town, "addressCountry": "MX"}}}


def _supply_event(day: date, key: KeyPair, credential_id: str, organization: dict[str, Any],
                  consumed: list[dict[str, Any]], produced: list[dict[str, Any]], source: dict[str, Any],
                  days: int) -> dict[str, Any]:
    subject = {
        "type": ["TransformationEvent"], "place": copy.deepcopy(organization["location"]),
        "organization": organization, "eventTime": _iso(day, days), "yieldTolerance": "0.005",
        "consumedProducts": [{"type": ["SteelProduct"], "weightUnit": "KGM", "sourceCredential": source["id"], **c}
                             for c in consumed],
        "newProducts": [{"type": ["SteelProduct"], "weightUnit": "KGM", **p} for p in produced],
    }
    credential = build_credential("TransformationEventCredential", subject, issuer=key.did,
                                  credential_id=credential_id, valid_from=_iso(day, days))
    credential["relatedResource"] = [related_resource(source["id"], source)]
    return sign(credential, key)


def supply_credentials(day: date, lines: list[dict[str, Any]], *, melt_country: str = "MX") -> list[Any]:
    """The 8 credentials behind ``lines``, all eddsa-rdfc-2022: melt shop report -> rolling
    event -> pipe event -> pipe mill report, certification, licence, invoice, rolling mill anchor.
    ``melt_country`` is where the melt shop melted and poured the heats (the pipe mill's report
    restates it)."""
    ids = SUPPLY_IDS
    # each heat's pipe lot carries what its lines ship plus some left at the mill; the shells
    # and billets weigh more (yield loss at each step)
    lots = [sum(int(ln["quantity"]) for ln in lines if ln["heats"] == [h]) + 1500 for h in SUPPLY_HEATS]
    shells = [lot * 103 // 100 for lot in lots]
    billets = [shell * 104 // 100 for shell in shells]

    subject = load_example("MillTestReportCredential")
    template = subject["product"][0]
    subject["manufacturer"] = _supply_party("Aceria de Monclova S.A. de C.V.", "Km 4 Carretera 57", "Monclova")
    subject["product"] = [_heat_product(template, i, h, f"BLT-{h}", billets[i], melt_country) for i, h in enumerate(SUPPLY_HEATS)]
    credential = build_credential("MillTestReportCredential", subject, issuer=MELT_SHOP.did, credential_id=ids["melt"],
                                  valid_from=_iso(day, -60), valid_until=_iso(day, 305))
    melt = sign(credential, MELT_SHOP)

    rolling_mill = _supply_party("Laminadora del Golfo S.A. de C.V.", "Parque Industrial 7", "Apodaca")
    rolling = _supply_event(
        day, ROLLING_MILL, ids["rolling"], rolling_mill,
        [{"identifier": f"BLT-{h}", "heatNumber": h, "weight": str(billets[i])} for i, h in enumerate(SUPPLY_HEATS)],
        [{"identifier": f"SHL-{h}", "heatNumber": h, "weight": str(shells[i]),
          "commodity": {"type": ["Commodity"], "commodityCode": "730490", "commodityCodeType": "HS"}}
         for i, h in enumerate(SUPPLY_HEATS)],
        melt, -45)

    pipe_mill = load_example("TransformationEventCredential")["organization"]  # Aceros del Norte, Santa Catarina
    piping = _supply_event(
        day, MILL, ids["piping"], pipe_mill,
        [{"identifier": f"SHL-{h}", "heatNumber": h, "weight": str(shells[i])} for i, h in enumerate(SUPPLY_HEATS)],
        [{"identifier": f"PIPE-{h}", "heatNumber": h, "weight": str(lots[i]),
          "commodity": {"type": ["Commodity"], "commodityCode": "730419" if i < 2 else "730439",
                        "commodityCodeType": "HS"}}
         for i, h in enumerate(SUPPLY_HEATS)],
        rolling, -30)

    subject = load_example("MillTestReportCredential")
    template = subject["product"][0]
    subject["product"] = [_heat_product(template, i, h, f"PIPE-{h}", lots[i], melt_country,
                                        source=ids["piping"])
                          for i, h in enumerate(SUPPLY_HEATS)]
    credential = build_credential("MillTestReportCredential", subject, issuer=MILL.did, credential_id=ids["pipe"],
                                  valid_from=_iso(day, -20), valid_until=_iso(day, 345))
    credential["relatedResource"] = [related_resource(ids["piping"], piping)]
    pipe = sign(credential, MILL)

    coo = certification(day=day, goods=("730419", "730439"), id=ids["certification"])

    subject = load_example("SIMASteelImportLicenseCredential")
    spec = subject["productInformation"][0]
    subject.update(licenseNumber=SUPPLY_LICENCE, countryOfOrigin="MX", licenseKind="Standard")
    subject["productInformation"] = []
    for ln in lines:
        product = copy.deepcopy(spec)
        product["productCategory"] = "Line Pipe" if ln["hts"].startswith("7304.19") else "Standard Pipe"
        product["product"]["commodity"]["commodityCode"] = ln["hts"]
        product["product"]["description"] = ln["description"]
        product["product"]["weight"]["value"] = ln["quantity"]
        product["customsValue"]["value"] = ln["value"]
        subject["productInformation"].append(product)
    credential = build_credential("SIMASteelImportLicenseCredential", subject, issuer=LICENSING.did,
                                  credential_id=ids["licence"], valid_from=_iso(day, -10), valid_until=_iso(day, 60))
    sima = sign(credential, LICENSING)

    subject = load_example("CommercialInvoiceCredential")
    item = subject["itemsShipped"][0]
    subject["itemsShipped"] = []
    for ln in lines:
        entry = copy.deepcopy(item)
        entry.update(description=f"{ln['description']}, heat {ln['heats'][0]}", itemCount=40)
        entry["product"]["commodity"]["commodityCode"] = ln["hts"].replace(".", "")[:6]
        entry["netWeight"]["value"] = ln["quantity"]
        entry["priceSpecification"]["price"] = ln["value"]
        subject["itemsShipped"].append(entry)
    total = round(sum(ln["value"] for ln in lines), 2)
    subject["totalWeight"]["value"] = sum(ln["quantity"] for ln in lines)
    subject["totalPaymentDue"]["price"] = total
    credential = build_credential("CommercialInvoiceCredential", subject, issuer=PRODUCER.did,
                                  credential_id=ids["invoice"], valid_from=_iso(day, -12), valid_until=_iso(day, 353))
    invoice = sign(credential, PRODUCER)

    unsigned = dict(anchor(REGISTRY, ROLLING_MILL.did, mid=ROLLING_MID, name="Laminadora del Golfo",
                           valid_from="2020-01-01T00:00:00Z", valid_until="2030-01-01T00:00:00Z", id=ids["anchor"]))
    del unsigned["proof"]
    rolling_anchor = sign_credential(unsigned, REGISTRY, created="2020-01-01T00:00:00Z")
    return [melt, rolling, piping, pipe, coo, sima, invoice, rolling_anchor]


def supply_policy(**entry_rules: Any) -> dict[str, Any]:
    """:func:`policy`, with the register's anchored parties trusted for transformation events
    too (the pipe mill, and the rolling mill whose anchor the importer presents), and the
    producer's export office for commercial invoices."""
    document = policy(**entry_rules)
    document["trustedIssuers"][0]["types"] = ["USMCACertificationOfOrigin", "CommercialInvoiceCredential"]
    document["roots"][0]["types"] = [*TYPES, "TransformationEventCredential"]
    return document


def finding(report: Any, rule: str, line: int | None = 1) -> Any:
    """The one finding of ``rule`` (on ``line``, or entry-level for None)."""
    found = report.findings if line is None else report.line(line).findings
    hits = [f for f in found if f.rule == rule]
    assert len(hits) == 1, (rule, [(f.rule, f.message) for f in found])
    return hits[0]


def rules_hit(report: Any, line: int | None = 1) -> set[str]:
    found = report.findings if line is None else report.line(line).findings
    return {f.rule for f in found}


__all__ = ["SUPPLY_HTS", "SUPPLY_IDS", "World", "finding", "rules_hit", "supply_policy", "vouch"]
