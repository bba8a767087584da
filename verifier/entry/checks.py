"""The entry rules implemented in code, by the name the rule table gives them (``check``).

A line rule is ``fn(ctx: LineContext, rule: Rule) -> list[Finding]``, an entry rule
``fn(ctx: EntryContext, rule: Rule) -> list[Finding]``. They read only verified facts
(:mod:`tradevc.verifier.entry.facts`): a line's unverified credentials are reported by
``documents.line-credentials-verified`` and otherwise ignored. Quantity rules do not decide
alone: they plan draws (:class:`PlannedDraw`) that the engine checks against each other and
against the ledger of earlier entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from tradevc.vc.report import CheckResult, Outcome

from .facts import (
    NORTH_AMERICA, Certification, Delegation, Document, Evidence, Facts, HeatFact, MillCertificate, SimaLicence, same_name,
)
from .model import Entry, Line
from .parties import anchored_identifiers, same_number
from .report import Decision, Finding
from .rules import ListedEntity, Rule

__all__ = ["ENTRY_CHECKS", "LINE_CHECKS", "EntryContext", "LineContext", "MarkChecker", "PlannedDraw"]


class MarkChecker(Protocol):
    """What the IP rule needs of the verifier (:meth:`tradevc.verifier.Verifier.check_mark`)."""

    def check_mark(self, mark: str, party: str, hs_code: str, country: str, *, vouches: Iterable[Any] = (),
                   presentation: Any = None, now: datetime | None = None) -> CheckResult: ...


@dataclass(frozen=True)
class PlannedDraw:
    """A quantity a line takes from a capped resource (a certification, a heat, a licence)."""

    rule: Rule
    resource_kind: str
    resource_id: str
    line: int
    quantity_kg: Decimal
    cap_kg: Decimal | None
    single_entry: bool
    evidence: tuple[Evidence, ...] = ()


@dataclass
class EntryContext:
    entry: Entry
    facts: Facts
    presentation: Any
    now: datetime
    verifier: MarkChecker | None = None
    recorded_marks: frozenset[str] = frozenset()
    listed: Sequence[ListedEntity] = ()
    importer_anchor: Mapping[str, Any] | None = None  # the identity anchor of the importer's number, if any


@dataclass
class LineContext:
    entry: EntryContext
    line: Line
    documents: list[Document]  # the line's credentials that are in the presentation
    absent: list[str]  # ids the line references that the presentation lacks
    heats: list[HeatFact]  # where the steel was first melted and poured (through the supply path)
    supply_parties: frozenset[str] = frozenset()  # issuers upstream on the line's verified supply path
    supply_findings: Sequence[Any] = ()  # breaks in it (tradevc.verifier.supply.Finding)
    draws: list[PlannedDraw] = field(default_factory=list)
    # the line's verified documents and their facts, read once per line (every rule asks)
    _memo: dict[str, list[Any]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def day(self) -> date:
        return self.entry.entry.date_of_import

    def verified(self) -> list[Document]:
        if "verified" not in self._memo:
            self._memo["verified"] = [d for d in self.documents if d.verified]
        return list(self._memo["verified"])

    def _of_verified(self, name: str, facts: Sequence[Any]) -> list[Any]:
        if name not in self._memo:
            ids = {id(d) for d in self.verified()}
            self._memo[name] = [f for f in facts if id(f.doc) in ids]
        return list(self._memo[name])

    def certifications(self) -> list[Certification]:
        return self._of_verified("certifications", self.entry.facts.certifications)

    def mills(self) -> list[MillCertificate]:
        return self._of_verified("mills", self.entry.facts.mills)

    def licences(self) -> list[SimaLicence]:
        return self._of_verified("licences", self.entry.facts.licences)

    def claims(self, preference: str) -> bool:
        return claimed_preference(self.line.preference) == preference

    def declared(self, member: str, value: Any) -> Evidence:
        return Evidence(None, f"/lines/{_position(self.entry.entry.lines, self.line)}/{member}", value)

    def line_heats(self) -> list[HeatFact]:
        """The heats the line references (all of its certificates' heats when it names none)."""
        if not self.line.heats:
            return list(self.heats)
        wanted = set(self.line.heats)
        return [h for h in self.heats if h.number in wanted]


# CBP's special programme indicators (CBP Form 7501 block 33) for the preferences the rules know
# by name: S for USMCA, S+ for USMCA goods also under a Section 232 or 301 exclusion.
_PROGRAMME_INDICATORS = {"S": "USMCA", "S+": "USMCA"}


def claimed_preference(declared: str | None) -> str | None:
    """The preference a line claims, by name (``USMCA`` for ``usmca`` or its indicator ``S``)."""
    if declared is None or not declared.strip():
        return None
    name = declared.strip().upper()
    return _PROGRAMME_INDICATORS.get(name, name)


def _finding(rule: Rule, message: str, *evidence: Evidence, line: int | None = None,
             decision: Decision | None = None) -> Finding:
    return Finding(rule.id, decision or rule.decision, message, rule.source, tuple(evidence), line, rule.target)


def _hts(code: str) -> str:
    return f"{code[:4]}.{code[4:6]}" + (f".{code[6:]}" if len(code) > 6 else "")


# -- documents and parties ----------------------------------------------------------------------


def presentation_verified(ctx: EntryContext, rule: Rule) -> list[Finding]:
    facts = ctx.facts
    if facts.presentation_verified:
        return []
    return [_finding(rule, f"the presentation did not verify: {facts.presentation_reason}")]


def line_credentials_verified(ctx: LineContext, rule: Rule) -> list[Finding]:
    out = []
    if not ctx.line.credentials:
        out.append(_finding(rule, "the line references no credentials", decision=Decision.REVIEW))
    for cid in ctx.absent:
        out.append(_finding(rule, f"credential {cid} is not in the presentation", ctx.declared("credentials", cid),
                            decision=Decision.REVIEW))
    for doc in ctx.documents:
        if doc.verified:
            continue
        decision = Decision.REVIEW if doc.outcome == "could not verify" else rule.decision
        out.append(_finding(rule, f"{doc.label} {doc.outcome}: {doc.reason}; it is not used for this line",
                            doc.evidence("/id", doc.id), decision=decision))
    return out


# Checks of a power of attorney's own report that do not decide whether it stands: the
# importer is not a trusted issuer (it vouches for nobody but its broker), and its validity is
# judged on the date of import, not on the day customs verifies.
_DELEGATION_IGNORED = frozenset({"issuer_trust", "validity_period"})


def _delegation_problems(ctx: EntryContext, rule: Rule, delegation: Delegation) -> list[str]:
    """Why ``delegation`` does not let its agent make this entry (empty: it does)."""
    entry = ctx.entry
    importer = entry.importer_of_record
    label = delegation.doc.label
    problems: list[str] = []
    report = delegation.doc.report
    bad = [c for c in (report.checks if report is not None else []) if c.name not in _DELEGATION_IGNORED
           and c.outcome in (Outcome.FAILED, Outcome.ERROR)]
    if report is None or not any(c.outcome is Outcome.PASSED for c in report.checks):
        problems.append(f"{label} was not verified")
    elif any(c.outcome is Outcome.FAILED for c in bad):
        problems.append(f"{label} did not verify ("
                        + "; ".join(f"{c.name}: {c.message}" for c in bad if c.outcome is Outcome.FAILED) + ")")
    elif bad:
        problems.append(f"{label} could not be verified (" + "; ".join(f"{c.name}: {c.message}" for c in bad) + ")")
    day = entry.date_of_import
    start, end = delegation.valid_from, delegation.valid_until
    if end is None or (start is not None and day < start.date()) or day > end.date():
        problems.append(f"{label} is not valid on the date of import {day} (valid "
                        f"{start.date() if start else '?'} to {end.date() if end else 'no end date'})")
    if delegation.principal != importer.did:
        problems.append(f"{label} is issued by {delegation.principal}, not the importer of record {importer.did}")
    if delegation.importer_number is not None and not same_number(delegation.importer_number, importer.identifier):
        problems.append(f"{label} is granted for importer number {delegation.importer_number}, the entry's importer "
                        f"of record is {importer.identifier}")
    port = entry.port_of_entry
    if delegation.ports and port is not None and port not in delegation.ports:
        problems.append(f"{label} is limited to the ports {', '.join(delegation.ports)}; the entry is made at port {port}")
    covering = [str(s) for s in rule.param("entryScopes")]
    if not set(delegation.scope) & set(covering):
        problems.append(f"{label} grants {', '.join(delegation.scope) or 'no scope'}: it does not cover making entry "
                        f"({' or '.join(covering)})")
    return problems


def _filer_problems(ctx: EntryContext, delegation: Delegation) -> list[str]:
    """The entry's filer, if declared, is the broker the power names (its DID and filer code)."""
    filer = ctx.entry.filer
    if filer is None:
        return []
    problems = []
    if filer.did is not None and filer.did != delegation.agent:
        problems.append(f"the entry's filer is {filer.did}, not the broker {delegation.agent} that presents it")
    if delegation.filer_code is not None and filer.identifier != delegation.filer_code:
        problems.append(f"the entry's filer code {filer.identifier} is not the broker's ({delegation.filer_code}, "
                        f"in {delegation.doc.label})")
    return problems


def holder_is_importer_or_broker(ctx: EntryContext, rule: Rule) -> list[Finding]:
    """The importer of record signed the presentation, or a broker holding a power of attorney
    that stands on the date of import: verified (proof, status), issued by the importer of
    record (for its importer number), naming the signer as agent, covering entry; and the
    entry's filer, if declared, is that broker."""
    importer = ctx.entry.importer_of_record
    signers = set(ctx.facts.signers)
    if not signers:
        return []  # the presentation rule says why
    if importer.did and ctx.importer_anchor is None and rule.params.get("requireAnchoredImporter", False):
        # the DID is the declaration's word: whoever files may name its own
        return [_finding(rule, f"the importer of record's DID {importer.did} is not anchored to its importer number "
                               f"{importer.identifier} (no verified identity anchor under an IOR or EIN scheme): "
                               "who may sign or grant powers for it cannot be told",
                         Evidence(None, "/importerOfRecord", {"identifier": importer.identifier, "did": importer.did}))]
    if importer.did and importer.did in signers:
        return []
    who = ", ".join(sorted(signers))
    if importer.did is None:
        return [_finding(rule, f"the entry gives no DID for the importer of record {importer.identifier}: "
                               f"cannot tell whether {who} may present for it",
                         Evidence(None, "/importerOfRecord/did", None))]
    held = [d for d in ctx.facts.delegations if d.agent in signers]
    others = [d for d in ctx.facts.delegations if d.agent not in signers]
    reasons: list[str] = []
    filer_finding: Finding | None = None  # a power that stands, but for another filer: said unless another fits
    for delegation in held:
        problems = _delegation_problems(ctx, rule, delegation)
        if not problems:
            filer = _filer_problems(ctx, delegation)
            if not filer:
                return []
            declared = ctx.entry.filer
            filer_finding = filer_finding or _finding(
                rule, "; ".join(filer),
                Evidence(None, "/filer", declared.model_dump(mode="json", by_alias=True, exclude_none=True)
                         if declared is not None else None),
                delegation.doc.evidence("/credentialSubject/id", delegation.agent))
            continue
        reasons.extend(problems)
    if filer_finding is not None:
        return [filer_finding]
    for delegation in others:
        reasons.append(f"{delegation.doc.label} names {delegation.agent} as agent, not the signer {who}")
    evidence = [Evidence(None, "/importerOfRecord/did", importer.did),
                *(d.doc.evidence("/id", d.doc.id) for d in ctx.facts.delegations)]
    return [_finding(rule, f"the presentation was signed by {who}, neither the importer of record ({importer.did}) "
                           "nor a broker holding its power of attorney"
                           + (f": {'; '.join(reasons)}" if reasons else " (no delegation credential in the presentation)"),
                     *evidence)]


def _anchored_mids(ctx: LineContext) -> list[tuple[str, str, dict[str, Any], Document]]:
    """(MID, role, anchor, document) for each MID anchored for the issuer of one of the line's
    mill certificates, certifications, or documents from parties upstream on its supply path:
    the identity anchor that ends the issuer's trust path names it under the scheme MID."""
    roles: list[tuple[str, Document]] = [("mill", m.doc) for m in ctx.mills()]
    # a certification's issuer is the producer only when it certifies as the producer (not as
    # the exporter or importer, whose MID would not be the manufacturer's)
    roles += [("producer", c.doc) for c in ctx.certifications() if (c.role or "").strip().casefold() == "producer"]
    roles += [("supplier", d) for d in ctx.verified() if d.issuer in ctx.supply_parties]
    out: list[tuple[str, str, dict[str, Any], Document]] = []
    seen: set[tuple[str, str | None]] = set()
    for role, doc in roles:
        if doc.trust_path is None:
            continue
        for value, anchor in anchored_identifiers([doc.trust_path], "MID"):
            if (value, doc.issuer) not in seen:
                seen.add((value, doc.issuer))
                out.append((value, role, anchor, doc))
    return out


def parties_manufacturer(ctx: LineContext, rule: Rule) -> list[Finding]:
    """The line's manufacturer ID is a MID anchored for its mill or producer (compared under
    the scheme MID only); the certification's producer and the mill certificate's manufacturer
    are the same party, or linked by a verified supply path."""
    out = []
    mills, certs = ctx.mills(), ctx.certifications()
    mid = ctx.line.manufacturer_id
    anchored = _anchored_mids(ctx) if mid and (mills or certs) else []
    if mid and anchored and not any(value == mid for value, _, _, _ in anchored):
        named = "; ".join(
            f"MID {value} for the {role} {doc.issuer} (identity anchor {anchor['credential']} by {anchor['issuerName']})"
            for value, role, anchor, doc in anchored)
        out.append(_finding(
            rule, f"manufacturer ID {mid} is not the anchored MID: {named}",
            ctx.declared("manufacturerId", mid),
            *(Evidence(anchor["credential"], "/credentialSubject/identifier", f"MID {value}")
              for value, _, anchor, _ in anchored)))
    elif mid and mills and not anchored:
        others = sorted({i for m in mills for i in m.doc.identifiers})
        issuers = ", ".join(sorted({str(m.doc.issuer) for m in mills}))
        out.append(_finding(
            rule, f"manufacturer ID {mid} is not anchored to the mill ({issuers}), which has no MID anchored"
                  f"{' (anchored as ' + ', '.join(others) + ')' if others else ''}",
            ctx.declared("manufacturerId", mid),
            *(m.doc.evidence("/issuer", m.doc.issuer) for m in mills)))
    for cert in certs:
        for mill in mills:
            linked = (same_name(mill.manufacturer, p) for p in cert.producers)
            shared = set(cert.doc.identifiers) & set(mill.doc.identifiers)
            on_path = mill.doc.issuer in ctx.supply_parties or cert.doc.issuer in ctx.supply_parties
            if any(linked) or shared or on_path or cert.doc.issuer == mill.doc.issuer:
                continue
            out.append(_finding(
                rule, f"the certification's producer ({', '.join(cert.producers) or 'none named'}) and the mill "
                      f"certificate's manufacturer ({mill.manufacturer}) are not the same anchored party nor linked "
                      "by a verified supply path",
                cert.doc.evidence("/credentialSubject/producerDetails", cert.producers),
                mill.doc.evidence("/credentialSubject/manufacturer/name", mill.manufacturer)))
    return out


def ip_recorded_mark(ctx: LineContext, rule: Rule) -> list[Finding]:
    out = []
    for i, mark in enumerate(ctx.line.marks):
        if mark.casefold() not in ctx.entry.recorded_marks:
            continue  # not recorded with customs: nothing to enforce
        party = next((m.doc.issuer for m in ctx.mills() if m.doc.issuer), None) or next(
            (c.doc.issuer for c in ctx.certifications() if c.doc.issuer), None)
        evidence = Evidence(None, f"/lines/{_position(ctx.entry.entry.lines, ctx.line)}/marks/{i}", mark)
        if party is None or ctx.entry.verifier is None:
            out.append(_finding(rule, f"goods bearing the recorded mark {mark}: no verified manufacturer to "
                                      "check an authorisation for", evidence))
            continue
        check = ctx.entry.verifier.check_mark(mark, party, ctx.line.hs6, "US", presentation=ctx.entry.presentation,
                                              now=ctx.entry.now)
        if check.outcome is not Outcome.PASSED:
            out.append(_finding(rule, f"goods bearing the recorded mark {mark} from {party}: no authorisation chain "
                                      f"from the rights holder ({check.message})", evidence))
    return out


def listed_entity(ctx: LineContext, rule: Rule) -> list[Finding]:
    listed = ctx.entry.listed
    if not listed:
        return []
    entry = ctx.entry.entry
    # (what, name, identifiers, did, evidence)
    nodes: list[tuple[str, str | None, set[str], str | None, Evidence]] = [
        ("importer of record", entry.importer_of_record.name, {entry.importer_of_record.identifier},
         entry.importer_of_record.did, Evidence(None, "/importerOfRecord", entry.importer_of_record.identifier)),
    ]
    if entry.filer is not None:
        nodes.append(("filer", entry.filer.name, {entry.filer.identifier}, entry.filer.did,
                      Evidence(None, "/filer", entry.filer.identifier)))
    if ctx.line.manufacturer_id:
        nodes.append(("manufacturer", None, {ctx.line.manufacturer_id}, None,
                      ctx.declared("manufacturerId", ctx.line.manufacturer_id)))
    for doc in ctx.documents:
        nodes.append((f"issuer of {doc.label}", None, set(doc.identifiers), doc.issuer, doc.evidence("/issuer", doc.issuer)))
    for cert in ctx.certifications():
        for name in [cert.exporter, *cert.producers]:
            nodes.append((f"party of {cert.doc.label}", name, set(), None,
                          cert.doc.evidence("/credentialSubject", name)))
    for mill in ctx.mills():
        nodes.append((f"manufacturer of {mill.doc.label}", mill.manufacturer, set(), None,
                      mill.doc.evidence("/credentialSubject/manufacturer/name", mill.manufacturer)))
    for heat in ctx.heats:
        nodes.append((f"mill of heat {heat.number}", None, set(), heat.issuer,
                      Evidence(heat.credential_id, heat.pointer, heat.number)))
    for party in sorted(ctx.supply_parties):
        nodes.append(("party on the supply path", None, set(), party, Evidence(None, "supply path", party)))
    out = []
    for item in listed:
        item_ids = item.identifiers | {i.split(" ", 1)[-1] for i in item.identifiers}
        hits = []
        for what, node_name, ids, node_did, evidence in nodes:
            bare = {i.split(" ", 1)[-1] for i in ids} | ids
            if (node_did is not None and node_did in item.dids) or bool(bare & item_ids) or (
                    item.name is not None and same_name(node_name, item.name)):
                hits.append((f"{what} ({node_name or node_did or ', '.join(sorted(ids))})", evidence))
        if hits:
            out.append(_finding(rule, f"{'; '.join(h for h, _ in hits)} matches {item.label()}",
                                *(e for _, e in hits)))
    return out


def supply_path(ctx: LineContext, rule: Rule) -> list[Finding]:
    """Breaks in the line's supply path: each is the rule's decision, or REJECT for the codes
    in ``rejectCodes`` (a digest that does not match, an origin restated differently)."""
    reject = set(rule.param("rejectCodes"))
    return [
        _finding(rule, f"supply path: {f.code}: {f.message}", Evidence(f.credential_id, f.pointer or "", f.code),
                 decision=Decision.REJECT if f.code in reject else None)
        for f in ctx.supply_findings
    ]


# -- USMCA ---------------------------------------------------------------------------------------


def preference_claim_verified(ctx: LineContext, rule: Rule) -> list[Finding]:
    """A claimed preference is one the rule set verifies (``verified``): any other claim was
    checked by nothing, so it is not accepted."""
    claimed = claimed_preference(ctx.line.preference)
    verified = [str(p) for p in rule.param("verified")]
    if claimed is None or claimed in verified:
        return []
    return [_finding(rule, f"preference {ctx.line.preference} is not one the rules verify ({', '.join(verified)}): "
                           "the claim was not checked", ctx.declared("preference", ctx.line.preference))]


def usmca_present(ctx: LineContext, rule: Rule) -> list[Finding]:
    if not ctx.claims("USMCA") or ctx.certifications():
        return []
    return [_finding(rule, "USMCA preference claimed, but no verified certification of origin supports the line",
                     ctx.declared("preference", ctx.line.preference))]


def usmca_elements(ctx: LineContext, rule: Rule) -> list[Finding]:
    if not ctx.claims("USMCA"):
        return []
    out = []
    for cert in ctx.certifications():
        if cert.missing:
            names = ", ".join(element for _, element in cert.missing)
            out.append(_finding(rule, f"the certification lacks minimum data elements ({names}): correctable",
                                *(cert.doc.evidence(p, None) for p, _ in cert.missing)))
    return out


def usmca_certifier(ctx: LineContext, rule: Rule) -> list[Finding]:
    if not ctx.claims("USMCA"):
        return []
    return [
        _finding(rule, f"the certification is made by {cert.role!r}, not the importer, exporter or producer",
                 cert.doc.evidence("/credentialSubject/certifier/role", cert.role))
        for cert in ctx.certifications()
        if cert.role is not None and cert.role not in ("importer", "exporter", "producer")
    ]


def _covering(ctx: LineContext) -> list[Certification]:
    return [c for c in ctx.certifications() if any(g.hs6 == ctx.line.hs6 for g in c.goods)]


def usmca_covers_line(ctx: LineContext, rule: Rule) -> list[Finding]:
    certs = ctx.certifications()
    if not ctx.claims("USMCA") or not certs or _covering(ctx):
        return []
    codes = sorted({g.hs6 for c in certs for g in c.goods})
    return [_finding(rule, f"the certification's goods ({', '.join(codes) or 'none'}) do not include the line's "
                           f"subheading {ctx.line.hs6}: the preference is not supported",
                     ctx.declared("hts", ctx.line.hts),
                     *(c.doc.evidence(g.pointer + "/commodityCode", g.hs6) for c in certs for g in c.goods))]


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return date(year, month, min(day.day, last[month - 1]))


def usmca_period(ctx: LineContext, rule: Rule) -> list[Finding]:
    if not ctx.claims("USMCA"):
        return []
    out = []
    months = int(rule.param("maxMonths"))
    for cert in _covering(ctx):
        start, end = cert.period_start, cert.period_end
        evidence = (cert.doc.evidence("/validFrom", cert.doc.credential.get("validFrom")),
                    cert.doc.evidence("/validUntil", cert.doc.credential.get("validUntil")))
        if start is not None and end is not None and end.date() > _add_months(start.date(), months):
            out.append(_finding(rule, f"the blanket period {start.date()} to {end.date()} is longer than {months} months",
                                *evidence))
        elif (start is not None and ctx.day < start.date()) or (end is not None and ctx.day > end.date()):
            out.append(_finding(rule, f"the blanket period {start.date() if start else '?'} to "
                                      f"{end.date() if end else '?'} does not cover the date of import {ctx.day}",
                                *evidence, Evidence(None, "/dateOfImport", ctx.day.isoformat())))
    return out


def usmca_importer(ctx: LineContext, rule: Rule) -> list[Finding]:
    if not ctx.claims("USMCA"):
        return []
    importer = ctx.entry.entry.importer_of_record
    out = []
    for cert in _covering(ctx):
        if not cert.importers and not cert.importer_ids:
            continue
        if (importer.did and importer.did in cert.importer_ids) or any(same_name(importer.name, n) for n in cert.importers):
            continue
        out.append(_finding(rule, f"the certification names another importer ({', '.join(cert.importers or cert.importer_ids)}),"
                                  f" not {importer.name or importer.identifier}",
                            cert.doc.evidence("/credentialSubject/importerDetails", cert.importers or cert.importer_ids),
                            Evidence(None, "/importerOfRecord", importer.name or importer.identifier)))
    return out


def usmca_originating_steel(ctx: LineContext, rule: Rule) -> list[Finding]:
    if not ctx.claims("USMCA"):
        return []
    criteria = set(rule.param("originCriteria"))
    scope = tuple(str(p).replace(".", "") for p in rule.param("requireOriginatingSteelFor"))
    needs = ctx.line.hts.startswith(scope) if scope else False
    needs = needs or any(g.origin_criterion in criteria for c in _covering(ctx) for g in c.goods if g.hs6 == ctx.line.hs6)
    if not needs:
        return []
    foreign = [h for h in ctx.line_heats() if h.melt_country and h.melt_country not in NORTH_AMERICA]
    if not foreign:
        return []
    listed = ", ".join(f"heat {h.number} melted and poured in {h.melt_country}" for h in foreign)
    return [_finding(rule, f"the supply path shows non-originating steel ({listed}) in goods whose origin rule needs "
                           "originating steel", *(Evidence(h.credential_id, h.pointer + "/originalCountryOfMeltAndPour",
                                                           h.melt_country) for h in foreign))]


# -- steel -----------------------------------------------------------------------------------------


def mill_certificate_present(ctx: LineContext, rule: Rule) -> list[Finding]:
    if not ctx.mills() and not ctx.heats:
        return [_finding(rule, "steel line without a verified mill test report", ctx.declared("hts", ctx.line.hts))]
    known = {h.number for h in ctx.heats}
    return [_finding(rule, f"heat {number} is not on any verified mill certificate of the line",
                     ctx.declared("heats", number)) for number in ctx.line.heats if number not in known]


def melt_pour_declared(ctx: LineContext, rule: Rule) -> list[Finding]:
    if ctx.line.country_of_melt_and_pour:
        return []
    since = min((r.start for r in rule.in_force if r.start), default="always")
    return [_finding(rule, rule.message or f"the country of melt and pour is not declared (required from {since})",
                     ctx.declared("countryOfMeltAndPour", None))]


def melt_pour_matches(ctx: LineContext, rule: Rule) -> list[Finding]:
    declared = ctx.line.country_of_melt_and_pour
    if not declared:
        return []
    wrong = [h for h in ctx.line_heats() if h.melt_country and h.melt_country != declared]
    if not wrong:
        return []
    return [_finding(rule, f"melted and poured in {_where_melted(ctx, wrong)}: country of melt and pour declared "
                           f"{declared}, misdeclared",
                     ctx.declared("countryOfMeltAndPour", declared),
                     *(Evidence(h.credential_id, h.pointer + "/originalCountryOfMeltAndPour", h.melt_country)
                       for h in wrong))]


def _where_melted(ctx: LineContext, heats: Sequence[HeatFact]) -> str:
    """``CN (mill test report urn:..., heats H1, H2, upstream of the line's documents)``, per
    country and report: where each contradicting heat was first made liquid and cast."""
    referenced = set(ctx.line.credentials)
    groups: dict[tuple[str, str | None], list[HeatFact]] = {}
    for heat in heats:
        groups.setdefault((heat.melt_country or "", heat.credential_id), []).append(heat)
    parts = []
    for (country, cid), group in groups.items():
        numbers = ", ".join(h.number for h in group)
        where = "" if cid in referenced else ", upstream of the line's documents"
        parts.append(f"{country} (mill test report {cid or 'without an id'}, heat{'s' if len(group) > 1 else ''} "
                     f"{numbers}{where})")
    return "; ".join(parts)


def _melt_countries(ctx: LineContext) -> set[str]:
    found = {h.melt_country for h in ctx.line_heats() if h.melt_country}
    if ctx.line.country_of_melt_and_pour:
        found.add(ctx.line.country_of_melt_and_pour)
    return found


def s232_mexico_melt(ctx: LineContext, rule: Rule) -> list[Finding]:
    outside = sorted(_melt_countries(ctx) - NORTH_AMERICA)
    if not outside:
        return []
    return [_finding(rule, f"product of Mexico melted and poured in {', '.join(outside)}, outside North America: "
                           "not exempt, the 25% Section 232 steel duty applies",
                     ctx.declared("countryOfMeltAndPour", ctx.line.country_of_melt_and_pour))]


def s232_all_countries(ctx: LineContext, rule: Rule) -> list[Finding]:
    """Information: the Section 232 duty rate in force on the date of import (``ratePercent``,
    or ``exceptRatePercent`` for the ``exceptCountries``)."""
    origin = ctx.line.country_of_origin
    excepted = origin in set(rule.param("exceptCountries"))
    rate = rule.param("exceptRatePercent") if excepted else rule.param("ratePercent")
    return [_finding(rule, f"Section 232 steel duty of {rate:g}% applies to products of {origin} "
                           f"({'its own rate' if excepted else 'no country exemptions'})",
                     ctx.declared("countryOfOrigin", origin))]


def _licences_for(ctx: LineContext) -> list[SimaLicence]:
    number = ctx.line.sima_license_number
    return [s for s in ctx.licences() if number and s.number == number]


def sima_present(ctx: LineContext, rule: Rule) -> list[Finding]:
    number = ctx.line.sima_license_number
    if number is None:
        return [_finding(rule, "steel line without a SIMA import licence number", ctx.declared("simaLicenseNumber", None))]
    if _licences_for(ctx):
        return []
    return [_finding(rule, f"no verified SIMA licence {number} supports the line",
                     ctx.declared("simaLicenseNumber", number), decision=Decision.REVIEW)]


def sima_matches(ctx: LineContext, rule: Rule) -> list[Finding]:
    line = ctx.line
    tolerance = Decimal(str(rule.param("tolerance")))
    out = []
    for lic in _licences_for(ctx):
        ev = lic.doc.evidence
        products = [p for p in lic.products if p.hts == line.hts]
        if not products:
            out.append(_finding(rule, f"licence {lic.number} covers HTS {', '.join(_hts(p.hts) for p in lic.products if p.hts)}, "
                                      f"not {_hts(line.hts)}", ctx.declared("hts", line.hts),
                                *(ev(p.pointer + "/product/commodity/commodityCode", p.hts) for p in lic.products)))
        if lic.country_of_origin != line.country_of_origin:
            out.append(_finding(rule, f"licence {lic.number} is for goods of {lic.country_of_origin}, the line declares "
                                      f"{line.country_of_origin}", ctx.declared("countryOfOrigin", line.country_of_origin),
                                ev("/credentialSubject/countryOfOrigin", lic.country_of_origin)))
        for p in products:
            if line.country_of_melt_and_pour and p.melt_country != line.country_of_melt_and_pour:
                out.append(_finding(rule, f"licence {lic.number} says melt and pour {p.melt_country}, the line declares "
                                          f"{line.country_of_melt_and_pour}",
                                    ctx.declared("countryOfMeltAndPour", line.country_of_melt_and_pour),
                                    ev(p.pointer + "/countryOfMeltAndPour", p.melt_country)))
        heats = [h for h in ctx.line_heats() if h.melt_country]
        for p in products or lic.products:
            wrong = [h for h in heats if p.melt_country and h.melt_country != p.melt_country]
            if wrong:
                listed = ", ".join(f"heat {h.number} in {h.melt_country}" for h in wrong)
                out.append(_finding(rule, f"licence {lic.number} says melt and pour {p.melt_country}, but the mill "
                                          f"certificates show {listed}",
                                    ev(p.pointer + "/countryOfMeltAndPour", p.melt_country),
                                    *(Evidence(h.credential_id, h.pointer + "/originalCountryOfMeltAndPour",
                                               h.melt_country) for h in wrong)))
        licensed = sum((p.weight_kg for p in products if p.weight_kg is not None), Decimal(0))
        qty = line.quantity_kg()
        if products and qty is not None and licensed and abs(qty - licensed) > tolerance * licensed:
            out.append(_finding(rule, f"the line's {qty:f} kg differs from the licence's {licensed:f} kg by more than "
                                      f"{tolerance * 100:f}%", ctx.declared("quantity", str(line.quantity)),
                                *(ev(p.pointer + "/product/weight", str(p.weight_kg)) for p in products)))
        if lic.issued is not None and lic.issued.date() > ctx.entry.entry.entry_summary_date:
            out.append(_finding(rule, f"licence {lic.number} was issued {lic.issued.date()}, after the entry summary "
                                      f"date {ctx.entry.entry.entry_summary_date}",
                                ev("/validFrom", lic.doc.credential.get("validFrom")),
                                Evidence(None, "/entrySummaryDate", ctx.entry.entry.entry_summary_date.isoformat())))
    return out


def sima_single_use(ctx: LineContext, rule: Rule) -> list[Finding]:
    qty = ctx.line.quantity_kg()
    for lic in _licences_for(ctx)[:1]:
        ctx.draws.append(PlannedDraw(
            rule, "licence", f"sima:{lic.number}", ctx.line.line, qty if qty is not None else Decimal(0), None,
            single_entry=not lic.low_value, evidence=(lic.doc.evidence("/credentialSubject/licenseNumber", lic.number),)))
    return []


# -- quantities --------------------------------------------------------------------------------------


def quantity_certification(ctx: LineContext, rule: Rule) -> list[Finding]:
    qty = ctx.line.quantity_kg()
    if not ctx.claims("USMCA") or qty is None:
        return []
    for cert in _covering(ctx)[:1]:
        goods = [g for g in cert.goods if g.hs6 == ctx.line.hs6]
        stated = [g.quantity_kg for g in goods if g.quantity_kg is not None]
        cap = sum(stated, Decimal(0)) if stated else cert.quantity_kg
        evidence = tuple(cert.doc.evidence(g.pointer, str(g.quantity_kg)) for g in goods if g.quantity_kg is not None)
        ctx.draws.append(PlannedDraw(rule, "certificate", f"{cert.doc.id}#{ctx.line.hs6}", ctx.line.line, qty,
                                     cap, single_entry=False, evidence=evidence))
    return []


def quantity_heat(ctx: LineContext, rule: Rule) -> list[Finding]:
    qty = ctx.line.quantity_kg()
    heats = [h for h in ctx.line_heats() if h.weight_kg]
    if qty is None or not heats:
        return []
    total = sum((h.weight_kg for h in heats if h.weight_kg is not None), Decimal(0))
    for h in heats:
        assert h.weight_kg is not None
        share = qty if len(heats) == 1 else (qty * h.weight_kg / total).quantize(Decimal("0.001"))
        ctx.draws.append(PlannedDraw(rule, "heat", f"heat:{h.issuer}:{h.number}", ctx.line.line, share, h.weight_kg,
                                     single_entry=False,
                                     evidence=(Evidence(h.credential_id, h.pointer + "/heatNumber", h.number),)))
    return []


LineCheck = Callable[[LineContext, Rule], list[Finding]]
EntryCheck = Callable[[EntryContext, Rule], list[Finding]]

LINE_CHECKS: Mapping[str, LineCheck] = {
    "line_credentials_verified": line_credentials_verified, "preference_claim_verified": preference_claim_verified,
    "usmca_present": usmca_present, "usmca_elements": usmca_elements, "usmca_certifier": usmca_certifier,
    "usmca_covers_line": usmca_covers_line, "usmca_period": usmca_period, "usmca_importer": usmca_importer,
    "usmca_originating_steel": usmca_originating_steel,
    "mill_certificate_present": mill_certificate_present, "melt_pour_declared": melt_pour_declared,
    "melt_pour_matches": melt_pour_matches, "s232_mexico_melt": s232_mexico_melt,
    "s232_all_countries": s232_all_countries,
    "sima_present": sima_present, "sima_matches": sima_matches, "sima_single_use": sima_single_use,
    "parties_manufacturer": parties_manufacturer, "ip_recorded_mark": ip_recorded_mark,
    "listed_entity": listed_entity, "supply_path": supply_path, "quantity_certification": quantity_certification, "quantity_heat": quantity_heat,
}
ENTRY_CHECKS: Mapping[str, EntryCheck] = {
    "presentation_verified": presentation_verified,
    "holder_is_importer_or_broker": holder_is_importer_or_broker,
}


def _position(lines: Sequence[Any], line: Any) -> int:
    """Where ``line`` stands in ``lines``, by identity: ``list.index`` compares pydantic models
    field by field (slow, and two identical lines would both get the first one's place)."""
    return next(i for i, candidate in enumerate(lines) if candidate is line)
