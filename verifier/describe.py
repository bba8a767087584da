"""What ``vc-verify`` shows people: what each credential says, then its checks; for a
presentation, a table of documents and checks and a verdict in plain words.

What a credential says is read from the document itself, which is untrusted: every value is
printed with its hidden characters escaped (:func:`tradevc.vc.jsontext.escape_hidden`: no
terminal escape, bidi override or zero-width character gets through), cut to a bounded length,
and lists to :data:`MAX_ITEMS` entries. A credential that did not verify still shows what it
says, under a heading saying not to rely on it.

The trade fields are those the entry rules read (:mod:`tradevc.verifier.entry.facts`: goods and
origin criteria of a USMCA certification, heats of a mill test report, a SIMA licence's number
and products, a power of attorney's scope) and the supply-path reader's
(:func:`tradevc.vc.checks.supply.read_supply_facts`: a transformation event's inputs and
outputs); a commercial invoice and the vouching types (identity anchors, accreditations,
licences) are read here. A credential of another type shows its type, issuer, subject and
validity only.

The issuer is named as the verifier's trust policy names it (a trusted issuer's or a root's
``name``), else by the name its anchor gives it when it is trusted through one, else by its
DID alone, with "(not in your trust policy)" when the policy neither names nor trusts it.

Colour is decided by :func:`colour_wanted` and drawn with ``rich`` (as ``vc-verify batch``
draws its tables): the outcome words and the failed checks' names only, never anything a
document says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradevc.vc.checks.policy import TrustPolicy
from tradevc.vc.checks.supply import Item, read_supply_facts
from tradevc.vc.compat import PROFILES, Compatibility
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsontext import escape_hidden
from tradevc.vc.report import CheckResult, Outcome, PresentationResult, VerificationResult
from tradevc.vc.securing.enveloped import is_enveloped, open_envelope

from .entry.facts import Certification, Delegation, Document, Facts, MillCertificate, SimaLicence, gather_facts, mass_kg
from .trust import TrustPathPolicy, describe_path

__all__ = [
    "MAX_ITEMS", "COLOR_MODES", "KIND_NAMES", "Shown", "colour_wanted", "credential_text", "documents_table",
    "issuer_label", "presentation_text", "print_report", "shown_credential", "shown_presentation", "table_rows",
    "verdict", "what_it_says", "with_paths",
]

MAX_ITEMS = 20
"""At most this many goods, heats, products or items are listed per credential."""
MAX_VALUE = 120
"""A value longer than this many characters is cut, and ends with ``...``."""
MAX_DESCRIPTION = 70
COLOR_MODES = ("auto", "always", "never")

KIND_NAMES = {
    "USMCACertificationOfOrigin": "USMCA certification of origin",
    "MillTestReportCredential": "mill test report",
    "SIMASteelImportLicenseCredential": "SIMA steel import licence",
    "CommercialInvoiceCredential": "commercial invoice",
    "TransformationEventCredential": "transformation event",
    "IdentityAnchorCredential": "identity anchor",
    "AccreditationCredential": "accreditation",
    "GS1PrefixLicenseCredential": "GS1 prefix licence",
    "GS1CompanyPrefixLicenseCredential": "GS1 company prefix licence",
    "IntellectualPropertyRightsLicenseCredential": "IP rights licence",
    "PowerOfAttorneyCredential": "customs power of attorney",
    "CustomsPowerOfAttorneyCredential": "customs power of attorney",
}
"""What people call the trade credential types (the issuing desk's titles, in words)."""

_VOUCH_TYPES = ("IdentityAnchorCredential", "AccreditationCredential", "GS1PrefixLicenseCredential",
                "GS1CompanyPrefixLicenseCredential", "IntellectualPropertyRightsLicenseCredential")
_ANY_FORM = Compatibility.of(*PROFILES)  # for display only: the report says what was tolerated


# -- values from documents -----------------------------------------------------------------------


def _v(value: Any, limit: int = MAX_VALUE) -> str:
    """A value of an untrusted document as one printable line: cut to ``limit`` characters,
    hidden characters escaped."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, Decimal):
        text = _number(value)
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        return ""
    text = " ".join(text.split()) if text.isprintable() else text
    if len(text) > limit:
        text = text[:limit].rstrip() + "..."
    return escape_hidden(text, keep_newlines=False)


def _number(value: Decimal) -> str:
    """A decimal as people write it (``39211``, not ``3.9211E+4``); scientific past 30 digits,
    so that a document's ``1e999999`` stays one short word."""
    normal = value.normalize()
    return f"{normal:f}" if -12 <= normal.adjusted() <= 30 else str(normal)[:40]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _name(node: Any) -> str | None:
    """The name of a party node (or the node itself, if a string)."""
    if isinstance(node, Mapping):
        return _text(node.get("name")) or _text(node.get("id"))
    return _text(node)


def _kg(value: Decimal | None) -> str | None:
    return f"{_number(value)} kg" if value is not None else None


def _quantity(node: Any) -> str | None:
    """A ``{"value", "unitCode"}`` quantity: in kg if a mass, else as the document states it."""
    if not isinstance(node, Mapping):
        return None
    kg = mass_kg(node)
    if kg is not None:
        return _kg(kg)
    value, unit = node.get("value"), node.get("unitCode")
    shown = _v(value, 30)
    return f"{shown} {_v(unit, 10)}".strip() if shown else None


def _money(node: Any) -> str | None:
    if not isinstance(node, Mapping):
        return None
    amount = node.get("price", node.get("value"))
    currency = node.get("priceCurrency", node.get("currency"))
    shown = _v(amount, 30)
    return f"{shown} {_v(currency, 5)}".strip() if shown else None


def _at(credential: Mapping[str, Any], pointer: str) -> Any:
    """The node at a JSON pointer (``/credentialSubject/goods/0``) of ``credential``, or None."""
    node: Any = credential
    for part in pointer.strip("/").split("/"):
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _code(node: Any) -> str | None:
    """A goods node's own commodity code as the document writes it (``commodityCode``, or
    that of its ``commodity`` or its product's)."""
    if not isinstance(node, Mapping):
        return None
    code = _text(node.get("commodityCode"))
    if code:
        return code
    for inner in ("commodity", "product"):
        found = _code(node.get(inner))
        if found:
            return found
    return None


def _joined(parts: Iterable[str | None]) -> str:
    return ", ".join(p for p in parts if p)


def _bounded(lines: list[str], total: int) -> list[str]:
    if total > MAX_ITEMS:
        lines = lines[:MAX_ITEMS] + [f"  ... and {total - MAX_ITEMS} more"]
    return lines


def _date(value: Any) -> str:
    shown = _v(value, 40)
    return shown or "?"


# -- the issuer's name -----------------------------------------------------------------------------


def _policy_name(did: str, policy: Any) -> tuple[str | None, bool]:
    """(the name the policy gives ``did``, whether the policy mentions ``did`` at all)."""
    flat = policy.flat if isinstance(policy, TrustPathPolicy) else policy if isinstance(policy, TrustPolicy) else None
    entry = flat.issuer(did) if flat is not None else None
    if entry is not None:
        return entry.name, True
    if isinstance(policy, TrustPathPolicy):
        roots = policy.roots_of(did)
        return next((r.name for r in roots if r.name), None), bool(roots)
    return None, False


def _trust_path(report: VerificationResult | None) -> Mapping[str, Any] | None:
    check = next((c for c in report.checks if c.name == "issuer_trust"), None) if report is not None else None
    path = check.data.get("trustPath") if check is not None and check.outcome is Outcome.PASSED else None
    return path if isinstance(path, Mapping) else None


def issuer_label(did: str | None, policy: Any, report: VerificationResult | None = None) -> str:
    """How the issuer ``did`` is named: ``Name (did)`` with the name of the trust policy; for an
    issuer trusted through an anchor, the anchor's name and the root's (``Name (did), as
    anchored by Root``); ``did (not in your trust policy)`` when the policy neither names it
    nor trusts it through a path; else the DID alone."""
    if not did:
        return "(no issuer)"
    name, listed = _policy_name(did, policy)
    if name:
        return f"{_v(name)} ({_v(did)})"
    path = _trust_path(report)
    anchored = _anchored(path)
    if anchored is not None:
        named, by = anchored
        head = f"{_v(named)} ({_v(did)})" if named else _v(did)
        return f"{head}, as anchored by {_v(by)}" if by else head
    if path is not None or listed:
        return _v(did)
    return f"{_v(did)} (not in your trust policy)"


def _anchored(path: Mapping[str, Any] | None) -> tuple[str | None, str | None] | None:
    """(the name the issuer's anchor gives it, the root's name or DID) of a trust path through
    an anchor; None for no path, or direct trust."""
    if path is None:
        return None
    steps, root = path.get("steps"), path.get("root")
    root = root if isinstance(root, Mapping) else {}
    if not isinstance(steps, list) or not steps or not isinstance(steps[0], Mapping) or root.get("direct"):
        return None
    return _text(steps[0].get("name")), _text(root.get("name")) or _text(root.get("did"))


def _issuer_short(did: str | None, policy: Any, report: VerificationResult | None) -> str:
    """The issuer's name alone (for the verdict), else its DID."""
    if not did:
        return "an unnamed issuer"
    name, _ = _policy_name(did, policy)
    if name:
        return _v(name)
    anchored = _anchored(_trust_path(report))
    if anchored is not None and anchored[0]:
        return _v(anchored[0])
    return _v(did)


# -- what a credential says ------------------------------------------------------------------------


@dataclass
class Shown:
    """One credential as the report shows it: its JSON (None if it could not be read: a token
    that is not one), its report, its place in the presentation (1-based; 0 for a credential
    verified on its own) and the facts read from it."""

    report: VerificationResult
    document: Document | None
    facts: Facts | None
    index: int = 0

    @property
    def types(self) -> list[str]:
        return self.document.types if self.document else []

    @property
    def type(self) -> str:
        return self.document.type if self.document else "VerifiableCredential"

    @property
    def kind(self) -> str:
        """The credential's type in words: ``mill test report``; ``AlumniCredential credential``."""
        known = next((KIND_NAMES[t] for t in self.types if t in KIND_NAMES), None)
        if known:
            return known
        return f"{_v(self.type, 60)} credential" if self.type != "VerifiableCredential" else "credential"


def _of(doc: Document, found: Sequence[Any]) -> Any:
    return next((f for f in found if f.doc is doc), None)


def shown_credential(document: Any, report: VerificationResult) -> Shown:
    """A credential verified on its own (as given: JSON, a compact JWS, an envelope) with its report."""
    if document is None:  # not read at all (not JSON, over a limit)
        return Shown(report=report, document=None, facts=None)
    facts = gather_facts({"verifiableCredential": [document]}, PresentationResult(credentials=[report]))
    doc = facts.documents[0] if facts.documents else None
    return Shown(report=report, document=doc, facts=facts)


def shown_presentation(presentation: Any, result: PresentationResult) -> list[Shown]:
    """Each credential of a presentation with its report, in the presentation's order."""
    if is_enveloped(presentation, "EnvelopedVerifiablePresentation"):
        try:  # read the token inside, as it was verified (a draft's envelope form tolerated)
            presentation = open_envelope(presentation, "EnvelopedVerifiablePresentation", _ANY_FORM)[0]
        except InvalidDocument:
            pass
    facts = gather_facts(presentation, result)
    by_index = {d.index: d for d in facts.documents}
    return [Shown(report=report, document=by_index.get(i), facts=facts, index=i + 1)
            for i, report in enumerate(result.credentials)]


def what_it_says(shown: Shown, policy: Any) -> list[str]:
    """The lines of what a credential says (no indentation): a heading (saying not to rely on
    it if it did not verify), its type, issuer, subject and validity, then its trade fields."""
    report = shown.report
    if report.verified:
        head = "What it says:"
    elif report.could_not_verify:
        head = "What it says (COULD NOT VERIFY: do not rely on it yet):"
    else:
        head = "What it says (NOT VERIFIED: do not rely on it):"
    doc = shown.document
    if doc is None:
        return [head, "  (nothing could be read: not a credential this verifier can open)"]
    credential = doc.credential
    lines = [head, f"  type: {shown.kind} ({_v(doc.type, 80)})" + (f" {_v(doc.id)}" if doc.id else "")]
    lines.append(f"  issuer: {issuer_label(doc.issuer, policy, report)}")
    subject = doc.subject
    who = _joined([_v(subject.get("id")), _v(subject.get("name"))]) if subject else ""
    if who:
        lines.append(f"  subject: {who}")
    start, end = credential.get("validFrom"), credential.get("validUntil")
    if start is not None or end is not None:
        lines.append(f"  valid: {_date(start) if start is not None else 'any time'} to "
                     f"{_date(end) if end is not None else 'no end'}")
    lines.extend(f"  {line}" for line in _trade_lines(shown, doc))
    return lines


def _trade_lines(shown: Shown, doc: Document) -> list[str]:
    facts = shown.facts
    if facts is not None:
        found = _of(doc, facts.certifications)
        if found is not None:
            return _certification(found)
        found = _of(doc, facts.mills)
        if found is not None:
            return _mill(found)
        found = _of(doc, facts.licences)
        if found is not None:
            return _licence(found)
        found = _of(doc, facts.delegations)
        if found is not None:
            return _delegation(found)
    if "TransformationEventCredential" in doc.types:
        return _event(doc)
    if "CommercialInvoiceCredential" in doc.types:
        return _invoice(doc)
    if any(t in doc.types for t in _VOUCH_TYPES):
        return _vouch(doc)
    return []


def _certification(found: Certification) -> list[str]:
    subject = found.doc.subject
    kind = {"SingleShipment": "single shipment", "Blanket": "blanket"}.get(str(subject.get("certificationKind")))
    lines: list[str] = [line for line in (
        f"certifier: {_v(found.role)}" if found.role else "",
        f"exporter: {_v(found.exporter)}" if found.exporter else "",
        *(f"producer: {_v(p)}" for p in found.producers[:3]),
        *(f"importer: {_v(i)}" for i in found.importers[:3]),
    ) if line]
    if kind:
        cap = f", {_kg(found.quantity_kg)} in all" if found.quantity_kg is not None else ""
        lines.append(f"certification: {kind}{cap}")
    goods = []
    for good in found.goods[:MAX_ITEMS]:
        node = _at(found.doc.credential, good.pointer)
        code = _code(node) or good.hs6
        quantity = _kg(good.quantity_kg) or (_quantity(node.get("declaredQuantity")) if isinstance(node, Mapping)
                                             else None)
        head = _joined([f"HS {_v(code, 20)}" if code else "no HS code",
                        f"origin criterion {_v(good.origin_criterion, 5)}" if good.origin_criterion
                        else "no origin criterion",
                        f"originating in {_v(good.country, 5)}" if good.country else None, quantity])
        tail = f": {_v(good.description, MAX_DESCRIPTION)}" if good.description else ""
        goods.append(f"  {head}{tail}")
    lines.append(f"goods ({len(found.goods)}):")
    lines.extend(_bounded(goods, len(found.goods)))
    if found.missing:
        lines.append(f"lacks {len(found.missing)} data element(s) of 19 CFR 182.12: "
                     + _v(", ".join(what for _, what in found.missing[:5]), 200))
    return lines


def _mill(found: MillCertificate) -> list[str]:
    subject = found.doc.subject
    lines = []
    head = _joined([f"manufacturer: {_v(found.manufacturer)}" if found.manufacturer else None,
                    f"certificate {_v(subject.get('internalCertificateNo'), 60)}"
                    if _text(subject.get("internalCertificateNo")) else None])
    if head:
        lines.append(head)
    heats = [
        f"  heat {_v(h.number, 40)}: " + _joined([
            f"melted and poured in {_v(h.melt_country, 5)}" if h.melt_country else "no melt and pour country",
            f"manufactured in {_v(h.manufacturing_country, 5)}" if h.manufacturing_country else None,
            _kg(h.weight_kg), f"HS {_v(h.hs, 20)}" if h.hs else None])
        for h in found.heats[:MAX_ITEMS]
    ]
    lines.append(f"heats ({len(found.heats)}):")
    lines.extend(_bounded(heats, len(found.heats)))
    return lines


def _licence(found: SimaLicence) -> list[str]:
    kind = "low value" if found.low_value else "standard"
    lines = [f"licence number: {_v(found.number, 60) if found.number else '(none)'} ({kind})"]
    parties = _joined([f"importer: {_v(found.importer)}" if found.importer else None,
                       f"manufacturer: {_v(found.manufacturer)}" if found.manufacturer else None,
                       f"country of origin: {_v(found.country_of_origin, 5)}" if found.country_of_origin else None])
    if parties:
        lines.append(parties)
    products = []
    for product in found.products[:MAX_ITEMS]:
        node = _at(found.doc.credential, product.pointer)
        code = _code(node) or product.hts
        products.append("  " + _joined([
            f"HTS {_v(code, 20)}" if code else "no HTS code",
            f"melted and poured in {_v(product.melt_country, 5)}" if product.melt_country else None,
            _kg(product.weight_kg)]))
    lines.append(f"products ({len(found.products)}):")
    lines.extend(_bounded(products, len(found.products)))
    return lines


def _delegation(found: Delegation) -> list[str]:
    return [line for line in (
        f"principal (the issuer) grants its agent (the subject): {_v(', '.join(found.scope), 200) or '(no scope)'}",
        _joined([f"importer number {_v(found.importer_number, 20)}" if found.importer_number else None,
                 f"filer code {_v(found.filer_code, 10)}" if found.filer_code else None,
                 f"broker licence {_v(found.licence, 20)}" if found.licence else None]),
        f"ports: {_v(', '.join(found.ports), 200)}" if found.ports else "",
    ) if line]


def _item(item: Item) -> str:
    return "  " + _joined([
        f"lot {_v(item.identifier, 40)}" if item.identifier else None, f"heat {_v(item.heat_number, 40)}" if item.heat_number else None,
        f"melted and poured in {_v(item.melt_country, 5)}" if item.melt_country else None,
        _kg(item.weight_kg), f"HS {_v(item.commodity_code, 20)}" if item.commodity_code else None,
        f"from {_v(item.source_credential, 80)}" if item.source_credential else None]) or "  (an unnamed item)"


def _event(doc: Document) -> list[str]:
    facts = read_supply_facts(doc.credential)
    head = _joined([f"at {_v(facts.event_time, 40)}" if facts.event_time else None,
                    f"by {_v(facts.organization)}" if facts.organization else None,
                    f"in {_v(facts.country, 5)}" if facts.country else None,
                    f"yield tolerance {_number(facts.yield_tolerance)}" if facts.yield_tolerance is not None else None])
    lines = [f"event: {head}"] if head else []
    for label, items in (("in", facts.consumed), ("out", facts.produced)):
        lines.append(f"{label} ({len(items)}):")
        lines.extend(_bounded([_item(i) for i in items[:MAX_ITEMS]], len(items)))
    return lines


def _invoice(doc: Document) -> list[str]:
    subject = doc.subject
    lines = []
    head = _joined([f"invoice {_v(subject.get('invoiceNumber'), 60)}" if _text(subject.get("invoiceNumber")) else None,
                    f"of {_v(subject.get('invoiceDate'), 30)}" if _text(subject.get("invoiceDate")) else None,
                    f"seller: {_v(_name(subject.get('seller')))}" if _name(subject.get("seller")) else None,
                    f"buyer: {_v(_name(subject.get('buyer')))}" if _name(subject.get("buyer")) else None])
    if head:
        lines.append(head)
    raw = subject.get("itemsShipped")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, Mapping) else []
    shown = []
    for item in items[:MAX_ITEMS]:
        if not isinstance(item, Mapping):
            continue
        code = _code(item.get("product")) or _code(item)
        count = item.get("itemCount")
        line = "  item: " + _joined([
            f"HS {_v(code, 20)}" if code else "no HS code", f"{_v(count, 20)} pieces" if _v(count, 20) else None,
            _quantity(item.get("netWeight")), _money(item.get("priceSpecification")),
            f"origin {_v(item.get('countryOfOrigin'), 5)}" if _text(item.get("countryOfOrigin")) else None])
        description = _v(item.get("description"), MAX_DESCRIPTION)
        shown.append(line + (f": {description}" if description else ""))
    lines.append(f"items ({len(items)}):")
    lines.extend(_bounded(shown, len(items)))
    total = _joined([_money(subject.get("totalPaymentDue")), _quantity(subject.get("totalWeight"))])
    if total:
        lines.append(f"total: {total}")
    return lines


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str)]


def _vouch(doc: Document) -> list[str]:
    subject = doc.subject
    identifiers = []
    raw = subject.get("identifier")
    for node in (raw if isinstance(raw, list) else [raw])[:MAX_ITEMS]:
        if isinstance(node, Mapping):
            identifiers.append(_joined([_v(node.get("propertyID"), 40), _v(node.get("value"), 60)]).replace(", ", " "))
    return [line for line in (
        f"identifiers: {', '.join(identifiers)}" if identifiers else "",
        f"may issue: {_v(', '.join(_strings(subject.get('authorizedCredentialType'))), 300)}"
        if _strings(subject.get("authorizedCredentialType")) else "",
        f"licence: {_v(', '.join(_strings(subject.get('licenseValue'))), 200)}" if _strings(subject.get("licenseValue")) else "",
        f"marks: {_v(', '.join(_strings(subject.get('mark'))), 200)}" if _strings(subject.get("mark")) else "",
        f"HS scope: {_v(', '.join(_strings(subject.get('hsScope'))), 200)}" if _strings(subject.get("hsScope")) else "",
        f"territory: {_v(', '.join(_strings(subject.get('territory'))), 200)}" if _strings(subject.get("territory")) else "",
    ) if line]


# -- checks ----------------------------------------------------------------------------------------


_PATH_CHECKS = ("issuer_trust", "mark_authorisation")


def with_paths(result: VerificationResult) -> list[str]:
    """The lines of ``result.summary()`` (of this report only, not the credentials inside a
    presentation), with the trust path of each ``issuer_trust`` check that has one
    (``data["trustPath"]``, see :func:`tradevc.verifier.trust.describe_path`) under its line."""
    lines = VerificationResult.summary(result).split("\n")
    for check in result.checks:
        path = check.data.get("trustPath") if check.name in _PATH_CHECKS else None
        if not path:
            continue
        at = next((i for i, line in enumerate(lines) if line.startswith(f"  OK   {check.name}")), len(lines) - 1)
        lines[at + 1:at + 1] = [f"    {line}" for line in describe_path(path)]
    return lines


def credential_text(shown: Shown, policy: Any, *, brief: bool = False) -> str:
    """The report on one credential: its outcome line (as :meth:`VerificationResult.summary`
    starts), what it says (unless ``brief``), then its checks with trust paths."""
    lines = with_paths(shown.report)
    if not brief:
        lines[1:1] = [f"  {line}" for line in what_it_says(shown, policy)] + ["  Checks:"]
    return "\n".join(lines)


# -- a presentation: the table and the verdict ----------------------------------------------------

_COLUMNS: tuple[tuple[str, frozenset[str]], ...] = (
    ("signed", frozenset({"structure", "context", "data_loss", "proof", "purpose", "proof_expiry", "issuer_binding",
                          "jose_header", "trust_pack"})),
    ("dates", frozenset({"validity_period"})),
    ("status", frozenset({"revocation", "suspension", "status"})),
    ("issuer", frozenset({"issuer_trust"})),
    ("schema", frozenset({"schema", "related_resource"})),
)
_MARKS = {Outcome.FAILED: "FAIL", Outcome.ERROR: "ERROR", Outcome.PASSED: "ok", Outcome.SKIPPED: "-"}


def _cell(checks: Sequence[CheckResult]) -> str:
    if not checks:
        return "n/a"
    outcomes = {c.outcome for c in checks}
    worst = next(o for o in (Outcome.FAILED, Outcome.ERROR, Outcome.PASSED, Outcome.SKIPPED) if o in outcomes)
    return _MARKS[worst]


def _head(report: VerificationResult) -> str:
    return "VERIFIED" if report.verified else "COULD NOT VERIFY" if report.could_not_verify else "NOT VERIFIED"


def table_rows(shown: Sequence[Shown]) -> tuple[list[str], list[list[str]]]:
    """The table's header and rows: one row per credential (number, type in words, a cell per
    group of checks: ``ok``, ``FAIL``, ``ERROR``, ``-`` skipped, ``n/a`` none ran; its outcome).
    Checks of no group make an ``other`` column, shown only when some credential has one."""
    known = frozenset().union(*(names for _, names in _COLUMNS))
    other = any(c.name not in known for s in shown for c in s.report.checks)
    header = ["#", "document", *(name for name, _ in _COLUMNS), *(["other"] if other else []), "outcome"]
    rows = []
    for s in shown:
        cells = [_cell([c for c in s.report.checks if c.name in names]) for _, names in _COLUMNS]
        if other:
            cells.append(_cell([c for c in s.report.checks if c.name not in known]))
        rows.append([str(s.index), s.kind[:34], *cells, _head(s.report)])
    return header, rows


def documents_table(shown: Sequence[Shown]) -> str:
    """The table of :func:`table_rows` as plain text (fits 100 columns)."""
    return _plain(table_rows(shown))


_FAILED_WORDS = {
    "revocation": "is revoked", "suspension": "is suspended", "status": "has a status that is not valid",
    "validity_period": "is not within its validity period", "issuer_trust": "is not from an issuer you trust for it",
    "schema": "does not conform to its schema", "related_resource": "does not match a document it is pinned to",
    "proof": "is not genuine: its signature does not verify", "issuer_binding": "is not signed by its issuer",
    "structure": "is not a well-formed credential", "context": "uses contexts this verifier does not hold",
    "data_loss": "has terms no context defines", "purpose": "is signed with a key its issuer did not list for it",
    "proof_expiry": "has an expired proof",
}


def _why(check: CheckResult) -> str:
    return f"({check.name}: {_v(check.message, 160)})"


def _named(s: Shown, policy: Any) -> str:
    doc = s.document
    ident = f" {_v(doc.id, 80)}" if doc and doc.id else ""
    return f"the {s.kind}{ident} from {_issuer_short(doc.issuer if doc else None, policy, s.report)}" if doc \
        else f"credential {s.index}"


def _and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``; with semicolons when an item has a comma of its own
    (an issuer's name often does)."""
    comma = "; " if any("," in item for item in items) else ", "
    return items[0] if len(items) == 1 else comma.join(items[:-1]) + " and " + items[-1]


def verdict(result: PresentationResult, shown: Sequence[Shown], policy: Any) -> str:
    """The presentation's verdict in plain words: verified; or which document failed and why,
    which could not be checked (and what to try), and which are fine."""
    if result.verified:
        return "PRESENTATION VERIFIED: every document is genuine, current, unrevoked and from a trusted issuer."
    failed = [s for s in shown if s.report.failures]
    unchecked = [s for s in shown if not s.report.failures and s.report.errors]
    fine = [s for s in shown if s.report.verified]
    own = [c for c in result.checks if c.name != "credentials" and c.outcome in (Outcome.FAILED, Outcome.ERROR)]
    parts = []
    for check in own:
        if check.outcome is Outcome.FAILED:
            parts.append(f"the presentation itself failed {check.name} {_why(check)}")
        else:
            parts.append(f"the presentation's {check.name} could not be checked {_why(check)}")
    for s in failed:
        check = s.report.failures[0]
        words = _FAILED_WORDS.get(check.name, f"failed {check.name}")
        parts.append(f"{_named(s, policy)} {words} {_why(check)}")
    for s in unchecked:
        parts.append(f"{_named(s, policy)} could not be checked {_why(s.report.errors[0])}")
    if not shown and not own:
        parts.append("no credential was checked")
    head = "PRESENTATION COULD NOT BE VERIFIED" if result.could_not_verify else "PRESENTATION NOT VERIFIED"
    text = f"{head}: " + "; ".join(parts) + "."
    if unchecked or any(c.outcome is Outcome.ERROR for c in own):
        text += (" Try again when the issuers' sites can be reached, or verify from a snapshot of them (--snapshot) "
                 "or a trust pack (--pack); --stale-status-if-error accepts a recently cached status list.")
    if fine:
        sentence = _and([_named(s, policy) for s in fine]) + (" is fine." if len(fine) == 1 else " are fine.")
        text += " " + sentence[0].upper() + sentence[1:]
    return text


def presentation_text(result: PresentationResult, shown: Sequence[Shown], policy: Any, *,
                      brief: bool = False) -> tuple[str, str]:
    """The report on a presentation: (its checks, then each credential's part; the verdict).
    The table goes between the two (:func:`documents_table`, or drawn by :func:`print_report`)."""
    lines = with_paths(result)
    reports = {id(s.report): s for s in shown}
    for i, credential in enumerate(result.credentials, 1):
        s = reports.get(id(credential))
        if s is None:
            s = Shown(report=credential, document=None, facts=None, index=i)
        inner = credential_text(s, policy, brief=brief).replace("\n", "\n    ")
        lines.append(f"  credential {i}: {inner}")
    return "\n".join(lines), verdict(result, shown, policy)


# -- printing --------------------------------------------------------------------------------------


def colour_wanted(mode: str, *, is_terminal: bool, environ: Mapping[str, str]) -> bool:
    """Whether to colour: ``always`` yes (a command-line choice overrides ``NO_COLOR``, as
    no-color.org asks), ``never`` no; ``auto`` only on a terminal, and not when ``NO_COLOR``
    is set to a non-empty value or ``TERM`` is ``dumb``."""
    if mode == "always":
        return True
    if mode == "never" or not is_terminal:
        return False
    return not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"


_STYLES = {"VERIFIED": "bold green", "NOT VERIFIED": "bold red", "COULD NOT VERIFY": "bold yellow",
           "PRESENTATION VERIFIED": "bold green", "PRESENTATION NOT VERIFIED": "bold red",
           "PRESENTATION COULD NOT BE VERIFIED": "bold yellow", "FAIL": "red", "ERR": "yellow", "ERROR": "yellow"}


def _styled(line: str) -> Text:
    """One line of the report, with our own words coloured: the outcome at its start (after a
    ``credential N:`` prefix), and a failed or erred check's mark and name."""
    text = Text(line)
    body = line.lstrip(" ")
    start = len(line) - len(body)
    prefixed = body.startswith("credential ") and ": " in body and body.split(":")[0][11:].isdigit()
    if prefixed:
        skip = body.index(": ") + 2
        start, body = start + skip, body[skip:]
    if start == 0 or prefixed:  # an outcome line: the report's first, a credential's, the verdict
        for word in ("PRESENTATION COULD NOT BE VERIFIED", "PRESENTATION NOT VERIFIED", "PRESENTATION VERIFIED",
                     "COULD NOT VERIFY", "NOT VERIFIED", "VERIFIED"):
            if body.startswith(word) and (len(body) == len(word) or body[len(word)] == ":"):
                text.stylize(_STYLES[word], start, start + len(word))
                return text
    for mark in ("FAIL ", "ERR  "):  # a check's line; no line starts with a document's value
        if body.startswith(mark):
            name_end = start + len(mark) + len(body[len(mark):].split(":")[0].split(" ")[0])
            text.stylize(_STYLES[mark.strip()], start, name_end)
    return text


def _rich_table(header: list[str], rows: list[list[str]]) -> Table:
    table = Table(title="documents", title_justify="left")
    for name in header:
        table.add_column(name, no_wrap=True)
    for row in rows:
        cells = [Text(cell, style=_STYLES.get(cell, "")) for cell in row[:-1]]
        cells.append(Text(row[-1], style=_STYLES.get(row[-1], "")))
        table.add_row(*cells)
    return table


def print_report(body: str, *, table: tuple[list[str], list[list[str]]] | None = None, end: str | None = None,
                 colour: bool, terminal: bool, echo: Callable[[str], None]) -> None:
    """Print a report: plain text with ``echo`` when neither coloured nor on a terminal;
    otherwise with ``rich``, colouring our own words (:func:`_styled`) if ``colour``, the
    table drawn as a table. ``body``, the table's cells and ``end`` are already escaped."""
    if not colour and not terminal:
        parts = [body]
        if table is not None:
            parts += ["", _plain(table)]
        if end is not None:
            parts += ["", end]
        echo("\n".join(parts))
        return
    console = Console(force_terminal=True, color_system=("auto" if terminal else "standard") if colour else None,
                      highlight=False, emoji=False, markup=False, width=None if terminal else 100)
    for line in body.split("\n"):
        console.print(_styled(line) if colour else Text(line), soft_wrap=True)
    if table is not None:
        console.print()
        console.print(_rich_table(*table))
    if end is not None:
        console.print()
        console.print(_styled(end) if colour else Text(end), soft_wrap=True)


def _plain(table: tuple[list[str], list[list[str]]]) -> str:
    header, rows = table
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
                     for row in [header, *rows])
