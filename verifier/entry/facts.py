"""Facts the entry rules read, taken from the credentials of a verified presentation, each
value with its evidence: the credential's id, the JSON pointer of the value in it, and the
value (:class:`Evidence`).

- documents: every credential of the presentation with its type, issuer, whether it
  verified (and why not), and the identifiers its issuer is anchored to (``MID ...``, from
  the ``issuer_trust`` check's trust path);
- USMCA certifications of origin: certifier role, exporter, producers, importers, goods
  (HS subheading, origin criterion, country, quantity if stated), the blanket period
  (``validFrom`` .. ``validUntil``) and the 19 CFR 182.12 data elements it lacks;
- mill test reports: the manufacturer and each heat (number, country of melt and pour,
  country of manufacture, weight if stated);
- SIMA licences: number, importer, countries, products (HTS, melt and pour, weight), issue
  date, standard or low-value;
- delegations: powers of attorney from an importer to a customs broker.

Nothing here decides anything; the rules do (:mod:`tradevc.verifier.entry.checks`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any

from tradevc.vc.checks.supply import MASS_UNITS
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.report import Outcome, PresentationResult, VerificationResult
from tradevc.vc.securing.jose import credential_of
from tradevc.vc.securing.jws import is_compact_jws, parse_compact_jws

__all__ = [
    "CERTIFICATION", "DELEGATION_TYPES", "MILL_CERTIFICATE", "NORTH_AMERICA", "SIMA_LICENCE",
    "CertifiedGood", "Certification", "Delegation", "Document", "Evidence", "Facts", "HeatFact",
    "MillCertificate", "SimaLicence", "SimaProduct", "credentials_in", "gather_facts", "mass_kg", "same_name",
]

CERTIFICATION = "USMCACertificationOfOrigin"
MILL_CERTIFICATE = "MillTestReportCredential"
SIMA_LICENCE = "SIMASteelImportLicenseCredential"
DELEGATION_TYPES = ("PowerOfAttorneyCredential", "CustomsPowerOfAttorneyCredential")
NORTH_AMERICA = frozenset({"US", "MX", "CA"})
_KG = {**MASS_UNITS, "GRM": Decimal("0.001")}


@dataclass(frozen=True)
class Evidence:
    """A value a rule used: where it is (credential id and JSON pointer) and what it is. A
    value of the entry declaration has ``credential_id`` None and a pointer into the entry."""

    credential_id: str | None
    pointer: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        value = str(self.value) if isinstance(self.value, Decimal) else self.value
        return {"credential": self.credential_id, "pointer": self.pointer, "value": value}


@dataclass
class Document:
    """One credential of the presentation and how it verified."""

    id: str | None
    types: list[str]
    issuer: str | None
    verified: bool
    outcome: str  # "verified" | "not verified" | "could not verify"
    reason: str
    credential: Mapping[str, Any]
    identifiers: list[str] = field(default_factory=list)  # anchored, e.g. "MID MXACEDEL1234SAN"
    trust_path: Mapping[str, Any] | None = None
    index: int = 0
    authentic: bool = False  # every check passed but, perhaps, issuer_trust (a principal's own delegation)
    raw: Any = None  # as the presentation holds it (a JSON object, an envelope, a token)
    report: VerificationResult | None = None

    @property
    def type(self) -> str:
        return next((t for t in self.types if t != "VerifiableCredential"), "VerifiableCredential")

    @property
    def subject(self) -> Mapping[str, Any]:
        subject = self.credential.get("credentialSubject")
        if isinstance(subject, list):
            subject = subject[0] if subject else {}
        return subject if isinstance(subject, Mapping) else {}

    @property
    def label(self) -> str:
        return f"{self.type} {self.id}"

    def evidence(self, pointer: str, value: Any) -> Evidence:
        return Evidence(self.id, pointer, value)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, "issuer": self.issuer, "verified": self.verified,
                               "outcome": self.outcome}
        if self.reason:
            out["reason"] = self.reason
        if self.identifiers:
            out["identifiers"] = list(self.identifiers)
        return out


@dataclass(frozen=True)
class CertifiedGood:
    hs6: str
    description: str | None
    origin_criterion: str | None
    country: str | None
    quantity_kg: Decimal | None
    pointer: str


@dataclass
class Certification:
    """A USMCA certification of origin."""

    doc: Document
    role: str | None
    exporter: str | None
    producers: list[str]
    importers: list[str]
    importer_ids: list[str]
    goods: list[CertifiedGood]
    period_start: datetime | None
    period_end: datetime | None
    single_shipment: bool
    quantity_kg: Decimal | None  # a cap the certification states for all its goods
    missing: list[tuple[str, str]]  # (pointer, data element) it lacks


@dataclass(frozen=True)
class HeatFact:
    number: str
    melt_country: str | None
    manufacturing_country: str | None
    weight_kg: Decimal | None
    hs: str | None
    credential_id: str | None
    issuer: str | None
    pointer: str


@dataclass
class MillCertificate:
    doc: Document
    manufacturer: str | None
    heats: list[HeatFact]


@dataclass(frozen=True)
class SimaProduct:
    hts: str | None
    melt_country: str | None
    weight_kg: Decimal | None
    pointer: str


@dataclass
class SimaLicence:
    doc: Document
    number: str | None
    importer: str | None
    manufacturer: str | None
    country_of_origin: str | None
    products: list[SimaProduct]
    issued: datetime | None
    low_value: bool


@dataclass
class Delegation:
    """A customs power of attorney (issuer/credential_types.py): the principal grants the
    agent the powers of ``scope`` (optionally at ``ports``) from ``valid_from`` to ``valid_until``."""

    doc: Document
    principal: str | None  # the importer that grants the power (the issuer)
    agent: str | None  # the broker (the subject)
    scope: list[str]
    importer_number: str | None = None  # the principal's, as the power states it
    filer_code: str | None = None  # the broker's
    licence: str | None = None  # the broker's licence number
    ports: list[str] = field(default_factory=list)
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass
class Facts:
    """What the presentation says, credential by credential."""

    documents: list[Document]
    presentation_verified: bool
    presentation_reason: str
    signers: list[str]
    holder: str | None
    certifications: list[Certification] = field(default_factory=list)
    mills: list[MillCertificate] = field(default_factory=list)
    licences: list[SimaLicence] = field(default_factory=list)
    delegations: list[Delegation] = field(default_factory=list)

    def document(self, credential_id: str) -> Document | None:
        return next((d for d in self.documents if d.id == credential_id), None)

    def of(self, ids: Iterable[str]) -> list[Document]:
        wanted = set(ids)
        return [d for d in self.documents if d.id in wanted]


# -- reading ------------------------------------------------------------------------------------


def credentials_in(presentation: Any) -> list[Any]:
    """The credentials of a presentation as they appear (objects, envelopes, tokens), unverified."""
    document = presentation
    if isinstance(document, str) and is_compact_jws(document):
        try:
            payload = parse_compact_jws(document).payload
        except InvalidDocument:
            return []
        vp = payload.get("vp")
        document = vp if isinstance(vp, Mapping) else payload
    if not isinstance(document, Mapping):
        return []
    items = document.get("verifiableCredential")
    if items is None:
        return []
    return list(items) if isinstance(items, list) else [items]


def _as_json(item: Any) -> Mapping[str, Any] | None:
    if isinstance(item, Mapping) and item.get("type") != "EnvelopedVerifiableCredential":
        return item
    try:
        return credential_of(item)
    except (InvalidDocument, TypeError, ValueError):
        return None


def _types(credential: Mapping[str, Any]) -> list[str]:
    value = credential.get("type")
    if isinstance(value, str):
        return [value]
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def _issuer(credential: Mapping[str, Any]) -> str | None:
    value = credential.get("issuer")
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) else None


def _outcome(result: VerificationResult | None) -> tuple[bool, str, str]:
    if result is None:
        return False, "not verified", "no report for this credential"
    if result.verified:
        return True, "verified", ""
    if result.could_not_verify:
        bad = result.errors
        return False, "could not verify", "; ".join(f"{c.name}: {c.message}" for c in bad[:3])
    bad = result.failures
    return False, "not verified", "; ".join(f"{c.name}{f' [{c.code}]' if c.code else ''}: {c.message}" for c in bad[:3])


def _trust(result: VerificationResult | None) -> tuple[list[str], Mapping[str, Any] | None]:
    if result is None:
        return [], None
    check = next((c for c in result.checks if c.name == "issuer_trust" and c.outcome is Outcome.PASSED), None)
    if check is None:
        return [], None
    path = check.data.get("trustPath")
    if not isinstance(path, Mapping):
        return [], None
    identifiers: list[str] = []
    steps = path.get("steps") or []
    if steps and isinstance(steps[0], Mapping):  # the first step vouches for the issuer itself
        identifiers = [str(i) for i in steps[0].get("identifiers") or []]
    return identifiers, path


def gather_facts(presentation: Any, result: PresentationResult) -> Facts:
    """The facts of ``presentation``, whose verification report is ``result`` (its
    credentials' reports are in the presentation's order)."""
    items = credentials_in(presentation)
    reports: Sequence[VerificationResult | None] = result.credentials
    documents: list[Document] = []
    for i, item in enumerate(items):
        credential = _as_json(item)
        if credential is None:
            continue
        report = reports[i] if i < len(reports) else None
        verified, outcome, reason = _outcome(report)
        identifiers, path = _trust(report)
        authentic = report is not None and any(c.outcome is Outcome.PASSED for c in report.checks) and all(
            c.outcome in (Outcome.PASSED, Outcome.SKIPPED) for c in report.checks if c.name != "issuer_trust")
        cid = credential.get("id")
        documents.append(Document(
            id=cid if isinstance(cid, str) else None, types=_types(credential), issuer=_issuer(credential),
            verified=verified, outcome=outcome, reason=reason, credential=credential, identifiers=identifiers,
            trust_path=path, index=i, authentic=authentic, raw=item, report=report,
        ))
    proof_ok = bool(result.signers) and not any(
        c.outcome in (Outcome.FAILED, Outcome.ERROR) for c in result.checks if c.name != "credentials"
    )
    reason = "" if proof_ok else "; ".join(
        f"{c.name}{f' [{c.code}]' if c.code else ''}: {c.message}"
        for c in result.checks if c.name != "credentials" and c.outcome in (Outcome.FAILED, Outcome.ERROR)
    ) or "no proof of the presentation verified"
    holder = presentation.get("holder") if isinstance(presentation, Mapping) else None
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    facts = Facts(documents=documents, presentation_verified=proof_ok, presentation_reason=reason,
                  signers=list(result.signers), holder=holder if isinstance(holder, str) else None)
    for doc in documents:
        if CERTIFICATION in doc.types:
            facts.certifications.append(_certification(doc))
        if MILL_CERTIFICATE in doc.types:
            facts.mills.append(_mill(doc))
        if SIMA_LICENCE in doc.types:
            facts.licences.append(_licence(doc))
        if any(t in doc.types for t in DELEGATION_TYPES):
            facts.delegations.append(_delegation(doc))
    return facts


# -- helpers --------------------------------------------------------------------------------------


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def mass_kg(value: Any) -> Decimal | None:
    """A ``{"value", "unitCode"}`` quantity (or a bare number of kg) in kilograms, if a mass."""
    unit: str = "KGM"
    if isinstance(value, Mapping):
        code = value.get("unitCode")
        unit = code if isinstance(code, str) else "KGM"
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)) or unit not in _KG:
        return None
    try:
        amount = Decimal(str(value))
        return amount * _KG[unit] if amount.is_finite() and amount >= 0 else None
    except ArithmeticError:  # not a number, or beyond the context's exponent range ("1e999999" tonnes)
        return None


def _quantity(node: Mapping[str, Any]) -> Decimal | None:
    """A node's mass: ``declaredQuantity`` (a QuantitativeValue), or ``weight`` with
    ``weightUnit`` (a mill test report's heat), or ``weight`` as a QuantitativeValue."""
    if "declaredQuantity" in node:
        return mass_kg(node["declaredQuantity"])
    weight = node.get("weight")
    if weight is None:
        return None
    if isinstance(weight, Mapping):
        return mass_kg(weight)
    unit = node.get("weightUnit", "KGM")
    return mass_kg({"value": weight, "unitCode": unit})


def same_name(a: str | None, b: str | None) -> bool:
    """Two party names are the same, ignoring case, punctuation and spacing."""
    if not a or not b:
        return False
    return _name_key(a) == _name_key(b)


def _name_key(name: str) -> str:
    """A name as :func:`same_name` compares it. The rules compare the same few names on every
    line, so names of a usual length are normalised once (a bounded cache: at most 4096 names
    of up to 256 characters are kept, whatever the documents hold)."""
    return _cached_name_key(name) if len(name) <= 256 else _normalised(name)


def _normalised(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


_cached_name_key = lru_cache(maxsize=4096)(_normalised)


def _party_missing(party: Any, pointer: str, element: str) -> list[tuple[str, str]]:
    """USMCA parties: name, address, telephone, email (19 CFR 182.12(a), Annex 5-A); a
    producer may be 'Various' or 'Available upon request' (a name is enough then)."""
    if not isinstance(party, Mapping):
        return [(pointer, f"{element}")]
    missing = []
    name = _str(party.get("name"))
    if name is None:
        missing.append((f"{pointer}/name", f"{element} name"))
    if name and name.casefold() in ("various", "available upon request", "available to customs upon request"):
        return missing
    location = party.get("location")
    address = location.get("address") if isinstance(location, Mapping) else None
    if not isinstance(address, Mapping) or not _str(address.get("streetAddress")) or not _str(address.get("addressCountry")):
        missing.append((f"{pointer}/location/address", f"{element} address"))
    for member, what in (("phoneNumber", "telephone number"), ("email", "email address")):
        if _str(party.get(member)) is None:
            missing.append((f"{pointer}/{member}", f"{element} {what}"))
    return missing


def _certification(doc: Document) -> Certification:
    subject = doc.subject
    base = "/credentialSubject"
    missing: list[tuple[str, str]] = []
    certifier = subject.get("certifier")
    role = certifier.get("role") if isinstance(certifier, Mapping) else None
    if not isinstance(role, str):
        missing.append((f"{base}/certifier/role", "certifier (importer, exporter or producer)"))
    details = certifier.get("certifierDetails") if isinstance(certifier, Mapping) else None
    if not isinstance(details, Mapping):
        missing.append((f"{base}/certifier/certifierDetails", "certifier name, title, address, telephone, email"))
    else:
        for member, what in (("name", "name"), ("jobTitle", "title"), ("phoneNumber", "telephone number"),
                             ("email", "email address")):
            if _str(details.get(member)) is None:
                missing.append((f"{base}/certifier/certifierDetails/{member}", f"certifier {what}"))
    exporter = subject.get("exporterDetails")
    if exporter is not None:  # "the exporter, if different from the certifier" (Annex 5-A 3)
        missing.extend(_party_missing(exporter, f"{base}/exporterDetails", "exporter"))
    producers = _list(subject.get("producerDetails"))
    if not producers:
        missing.append((f"{base}/producerDetails", "producer"))
    for i, p in enumerate(producers):
        missing.extend(_party_missing(p, f"{base}/producerDetails/{i}" if isinstance(subject.get("producerDetails"), list)
                                      else f"{base}/producerDetails", "producer"))
    importers = _list(subject.get("importerDetails"))
    goods: list[CertifiedGood] = []
    raw_goods = subject.get("goods")
    if not isinstance(raw_goods, list) or not raw_goods:
        missing.append((f"{base}/goods", "description and HS classification of the goods"))
    for i, good in enumerate(raw_goods if isinstance(raw_goods, list) else []):
        pointer = f"{base}/goods/{i}"
        if not isinstance(good, Mapping):
            continue
        code = _str(good.get("commodityCode"))
        hs6 = code.replace(".", "")[:6] if code else ""
        if len(hs6) < 6 or not hs6.isdigit():
            missing.append((f"{pointer}/commodityCode", "HS classification to six digits"))
        if _str(good.get("description")) is None:
            missing.append((f"{pointer}/description", "description of the good"))
        criterion = _str(good.get("originCriterion"))
        if criterion not in ("A", "B", "C", "D"):
            missing.append((f"{pointer}/originCriterion", "origin criterion"))
        goods.append(CertifiedGood(hs6, _str(good.get("description")), criterion, _str(good.get("countryOfOrigin")),
                                   _quantity(good), pointer))
    start, end = _date(doc.credential.get("validFrom")), _date(doc.credential.get("validUntil"))
    if end is None:
        missing.append(("/validUntil", "blanket period (to)"))
    names = [n for n in (_str(p.get("name")) for p in importers if isinstance(p, Mapping)) if n]
    ids = [n for n in (_str(p.get("id")) for p in importers if isinstance(p, Mapping)) if n]
    single = subject.get("certificationKind") == "SingleShipment"
    return Certification(
        doc=doc, role=role.lower() if isinstance(role, str) else None,
        exporter=_str(exporter.get("name")) if isinstance(exporter, Mapping) else None,
        producers=[n for n in (_str(p.get("name")) for p in producers if isinstance(p, Mapping)) if n],
        importers=names, importer_ids=ids, goods=goods, period_start=start, period_end=end,
        single_shipment=single, quantity_kg=_quantity(subject), missing=missing,
    )


def _mill(doc: Document) -> MillCertificate:
    subject = doc.subject
    manufacturer = subject.get("manufacturer")
    heats = []
    for i, product in enumerate(_list(subject.get("product"))):
        if not isinstance(product, Mapping):
            continue
        number = _str(product.get("heatNumber"))
        if number is None:
            continue
        commodity = product.get("commodity")
        hs = _str(commodity.get("commodityCode")) if isinstance(commodity, Mapping) else None
        heats.append(HeatFact(
            number=number, melt_country=_str(product.get("originalCountryOfMeltAndPour")),
            manufacturing_country=_str(product.get("manufacturingCountry")),
            weight_kg=_quantity(product), hs=hs.replace(".", "") if hs else None, credential_id=doc.id,
            issuer=doc.issuer, pointer=f"/credentialSubject/product/{i}",
        ))
    return MillCertificate(doc=doc, manufacturer=_str(manufacturer.get("name")) if isinstance(manufacturer, Mapping) else None,
                           heats=heats)


def _licence(doc: Document) -> SimaLicence:
    subject = doc.subject
    products = []
    info = subject.get("productInformation")
    many = isinstance(info, list)
    total_value = Decimal(0)
    for i, spec in enumerate(_list(info)):
        if not isinstance(spec, Mapping):
            continue
        pointer = f"/credentialSubject/productInformation/{i}" if many else "/credentialSubject/productInformation"
        found = spec.get("product")
        product: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        found = product.get("commodity")
        commodity: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        hts = _str(commodity.get("commodityCode"))
        products.append(SimaProduct(hts.replace(".", "") if hts else None, _str(spec.get("countryOfMeltAndPour")),
                                    _quantity(product), pointer))
        value = spec.get("customsValue")
        amount = mass_kg(value.get("value")) if isinstance(value, Mapping) else None  # a plain number
        total_value += amount or Decimal(0)
    kind = _str(subject.get("licenseKind"))  # Standard | LowValue; without it, by value (under USD 2,500)
    low_value = kind == "LowValue" if kind else total_value < Decimal(2500)
    importer, manufacturer = subject.get("importer"), subject.get("manufacturer")
    return SimaLicence(
        doc=doc, number=_str(subject.get("licenseNumber")),
        importer=_str(importer.get("name")) if isinstance(importer, Mapping) else None,
        manufacturer=_str(manufacturer.get("name")) if isinstance(manufacturer, Mapping) else None,
        country_of_origin=_str(subject.get("countryOfOrigin")), products=products,
        issued=_date(doc.credential.get("validFrom")), low_value=low_value,
    )


def _delegation(doc: Document) -> Delegation:
    subject = doc.subject
    scope = [s for s in _list(subject.get("scope")) if isinstance(s, str)]
    principal = subject.get("principal")
    number = _str(principal.get("importerNumber")) if isinstance(principal, Mapping) else None
    return Delegation(
        doc=doc, principal=doc.issuer, agent=_str(subject.get("id")), scope=scope, importer_number=number,
        filer_code=_str(subject.get("filerCode")), licence=_str(subject.get("brokerLicenseNumber")),
        ports=[p for p in _list(subject.get("portOfEntry")) if isinstance(p, str)],
        valid_from=_date(doc.credential.get("validFrom")), valid_until=_date(doc.credential.get("validUntil")),
    )
