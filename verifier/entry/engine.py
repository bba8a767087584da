"""Deciding an entry: :func:`verify_entry`.

1. The presentation is verified by the :class:`~tradevc.verifier.Verifier` (the whole
   pipeline and the trust paths); nothing is decided on a document that did not verify: a
   line's unverified credentials are reported and otherwise ignored.
2. The credentials are read into facts (:mod:`~tradevc.verifier.entry.facts`), the heats of
   each line followed back through its supply path to where the steel was first melted and
   poured (:mod:`tradevc.verifier.supply`, when the line's credentials form one).
3. The rules in force on the entry's date of import (:class:`~tradevc.verifier.entry.rules.RuleSet`:
   the default table configured by the policy) run per line and for the entry.
4. Quantities drawn from certifications, heats and licences are checked against each other
   and, with a ``ledger``, against earlier entries; the ledger records the draws of an entry
   that is not rejected.
5. The :class:`~tradevc.verifier.entry.report.EntryReport` has a decision per line and for the
   entry (the worst of them), each finding with its rule, source and evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from tradevc.vc.checks.common import ExpectedDomain
from tradevc.vc.report import PresentationResult, VerificationResult

from ..ledger import Draw, Overdraw
from ..supply import Finding as SupplyFinding, walk_supply_path
from .checks import ENTRY_CHECKS, LINE_CHECKS, EntryContext, LineContext, MarkChecker, PlannedDraw
from .facts import Document, Evidence, Facts, HeatFact, gather_facts
from .model import Entry
from .parties import importer_anchor
from .report import Decision, EntryReport, Finding, LineReport
from .rules import Rule, RuleError, RuleSet, cel_value

__all__ = ["EntryVerifier", "LedgerLike", "verify_entry"]


class EntryVerifier(MarkChecker, Protocol):
    """What :func:`verify_entry` needs of the verifier (a :class:`tradevc.verifier.Verifier`)."""

    policy: Any

    def clock(self) -> datetime: ...

    def verify_presentation(self, document: Any, *, challenge: str, domain: ExpectedDomain,
                            now: datetime | None = None) -> PresentationResult: ...

    def verify_credential(self, document: Any, *, now: datetime | None = None) -> VerificationResult: ...

    def anchor_paths(self, party: str, *, presentation: Any = None,
                     now: datetime | None = None) -> list[dict[str, Any]]: ...


class LedgerLike(Protocol):
    """The quantity ledger (:class:`tradevc.verifier.ledger.Ledger`)."""

    def check(self, entry_number: str, draws: Sequence[Any]) -> Sequence[Any]: ...

    def record(self, entry_number: str, draws: Sequence[Any], *, decision: str, when: datetime,
               refuse_overdraw: bool = ...) -> Any: ...


def verify_entry(
    entry: Entry | Mapping[str, Any],
    presentation: Any,
    *,
    verifier: EntryVerifier,
    challenge: str,
    domain: ExpectedDomain,
    rules: RuleSet | None = None,
    ledger: LedgerLike | None = None,
    now: datetime | None = None,
) -> EntryReport:
    """Decide ``entry`` on the credentials of ``presentation`` (bound to ``challenge`` and
    ``domain``), verified by ``verifier`` at ``now`` (default: the verifier's clock), under
    ``rules`` (default :meth:`RuleSet.default`), drawing quantities from ``ledger`` if given.

    :raises EntryError: ``entry`` is a mapping that is not a declaration.
    :raises RuleError: a rule names a check that does not exist.
    """
    if not isinstance(entry, Entry):
        entry = Entry.from_json(entry)
    rules = rules if rules is not None else RuleSet.default()
    _require_checks(rules)
    now = now or verifier.clock()
    result = verifier.verify_presentation(presentation, challenge=challenge, domain=domain, now=now)
    facts = gather_facts(presentation, result)
    marks = frozenset(str(m.mark).casefold() for m in getattr(verifier.policy, "marks", ()) or ())
    anchor = _importer_anchor(entry, presentation, verifier, now)
    ectx = EntryContext(entry, facts, presentation, now, verifier, marks, rules.listed, anchor)
    day = entry.date_of_import

    values = _Activations(entry, facts)
    entry_findings: list[Finding] = []
    for rule in rules.in_force(day, "entry"):
        if rule.check:
            entry_findings.extend(ENTRY_CHECKS[rule.check](ectx, rule))
        elif rule.expression is not None:
            entry_findings.extend(_expression(rule, values.for_entry()))

    line_rules = rules.in_force(day, "line")
    reports: list[LineReport] = []
    planned: list[PlannedDraw] = []
    supply_paths: dict[str, Any] = {}
    walked: dict[tuple[int, ...], Any] = {}  # lines backed by the same documents share one walk
    for index, line in enumerate(entry.lines):
        docs = [d for d in facts.documents if d.id in set(line.credentials)]
        present = {d.id for d in docs}
        absent = [cid for cid in line.credentials if cid not in present]
        key = tuple(id(d) for d in docs)
        if key not in walked:
            walked[key] = _supply(docs, facts, verifier, now)
        heats, parties, supply_findings, described = walked[key]
        heats, supply_findings = list(heats), list(supply_findings)
        if described:
            supply_paths[str(line.line)] = described
        ctx = LineContext(ectx, line, docs, absent, heats, parties, supply_findings)
        findings: list[Finding] = []
        activation: dict[str, Any] | None = None
        for rule in line_rules:
            if not rule.applies_to(line):
                continue
            if rule.check:
                findings.extend(LINE_CHECKS[rule.check](ctx, rule))
            elif rule.expression is not None:
                if activation is None:
                    activation = values.for_line(index, line, docs, heats)
                findings.extend(_expression(rule, activation))
        planned.extend(ctx.draws)
        reports.append(LineReport(
            line=line.line, hts=_dotted(line.hts), description=line.description,
            quantity=f"{line.quantity:f} {line.unit}", origin=line.country_of_origin,
            melt_and_pour=line.country_of_melt_and_pour, preference=line.preference,
            findings=[_on_line(f, line.line) for f in findings],
        ))

    by_line = {r.line: r for r in reports}
    if ledger is None:
        for finding in _within_entry(planned):
            by_line[finding.line or 0].findings.append(finding)
    else:
        for finding in _ledger_findings(ledger, entry.entry_number, planned):
            by_line[finding.line or 0].findings.append(finding)

    report = EntryReport(
        entry_number=entry.entry_number, date_of_import=day.isoformat(),
        importer=entry.importer_of_record.identifier,
        importer_anchored=anchor is not None, importer_anchor=anchor, lines=reports, findings=entry_findings,
        documents=list(facts.documents), supply_paths=supply_paths,
        rules_applied=[r.id for r in rules.in_force(day, "entry")] + [r.id for r in line_rules],
    )
    # a line whose preference is denied enters at the general rate: it draws nothing from the
    # certification of origin that failed it (its goods still draw from heats and licences)
    denied = {r.line for r in reports if r.preference_decision is Decision.REJECT}
    drawn = [p for p in planned if not (p.rule.target == "preference" and p.line in denied)]
    if ledger is not None and drawn and report.decision is not Decision.REJECT:
        ledger.record(entry.entry_number, _ledger_draws(drawn), decision=report.decision.value, when=now,
                      refuse_overdraw=False)
        report.recorded = True
    return report


def _on_line(finding: Finding, line: int) -> Finding:
    return finding if finding.line == line else replace(finding, line=line)


def _require_checks(rules: RuleSet) -> None:
    for rule in rules.rules:
        table = ENTRY_CHECKS if rule.level == "entry" else LINE_CHECKS
        if rule.check is not None and rule.check not in table:
            raise RuleError(f"rule {rule.id}: no {rule.level} check called {rule.check!r} "
                            f"(known: {', '.join(sorted(table))})")


def _dotted(hts: str) -> str:
    return f"{hts[:4]}.{hts[4:6]}.{hts[6:]}" if len(hts) > 6 else hts


def _docs(documents: Sequence[Document]) -> list[dict[str, Any]]:
    return [{"id": d.id or "", "type": d.type, "issuer": d.issuer or "", "verified": d.verified} for d in documents]


class _Activations:
    """What policy expressions see, as CEL values: the entry (its JSON converted once per
    entry, however many lines and expressions), and per line the line, its documents and
    heats (converted once per line, however many expressions)."""

    def __init__(self, entry: Entry, facts: Facts) -> None:
        self._entry, self._facts = entry, facts
        self._json: dict[str, Any] | None = None
        self._cel: Any = None
        self._shared: dict[tuple[str, tuple[int, ...]], Any] = {}  # lines on the same documents and heats

    def _entry_json(self) -> dict[str, Any]:
        if self._json is None:
            self._json = self._entry.to_json()
            self._cel = cel_value(self._json)
        return self._json

    def for_entry(self) -> dict[str, Any]:
        self._entry_json()
        return {"entry": self._cel, "documents": cel_value(_docs(self._facts.documents))}

    def for_line(self, index: int, line: Any, docs: Sequence[Document], heats: Sequence[HeatFact]) -> dict[str, Any]:
        line_json = _line_json(self._entry_json()["lines"][index], line)
        docs_key, heats_key = ("documents", tuple(id(d) for d in docs)), ("heats", tuple(id(h) for h in heats))
        if docs_key not in self._shared:
            self._shared[docs_key] = cel_value(_docs(docs))
        if heats_key not in self._shared:
            self._shared[heats_key] = cel_value([
                {"number": h.number, "meltCountry": h.melt_country or "",
                 "weightKg": h.weight_kg if h.weight_kg is not None else Decimal(0)} for h in heats])
        return {"entry": self._cel, "line": cel_value(line_json), "documents": self._shared[docs_key],
                "heats": self._shared[heats_key]}


def _line_json(declared: Mapping[str, Any], line: Any) -> dict[str, Any]:
    """The line as the declaration gives it (``declared``, not changed), with the members
    expressions compare filled in."""
    out: dict[str, Any] = dict(declared)
    qty = line.quantity_kg()
    out.update(quantity=line.quantity, value=line.value, hs6=line.hs6, chapter=line.chapter,
               quantityKg=qty if qty is not None else Decimal(-1))
    for member in ("countryOfMeltAndPour", "manufacturerId", "simaLicenseNumber", "preference"):
        out.setdefault(member, "")
    return out


def _expression(rule: Rule, activation: Mapping[str, Any]) -> list[Finding]:
    """``activation``: CEL values (:class:`_Activations`)."""
    assert rule.expression is not None
    try:
        hit = rule.expression.evaluate_converted(activation)
    except RuleError as e:
        return [Finding(rule.id, Decision.REVIEW, f"policy expression could not be evaluated: {e}", rule.source,
                        applies_to=rule.target)]
    if not hit:
        return []
    return [Finding(rule.id, rule.decision, rule.message or rule.description or f"policy expression {rule.id} holds",
                    rule.source, (Evidence(None, "policy expression", rule.expression.text),), applies_to=rule.target)]


def _importer_anchor(entry: Entry, presentation: Any, verifier: EntryVerifier, now: datetime,
                     ) -> dict[str, Any] | None:
    """The identity anchor of the importer of record's DID that names its importer number
    (:mod:`~tradevc.verifier.entry.parties`), or None."""
    importer = entry.importer_of_record
    if importer.did is None:
        return None
    return importer_anchor(importer.identifier, verifier.anchor_paths(importer.did, presentation=presentation, now=now))


def _heats_of(docs: Sequence[Document], facts: Facts) -> list[HeatFact]:
    ids = {id(d) for d in docs if d.verified}
    return [h for m in facts.mills if id(m.doc) in ids for h in m.heats]


def _supply(docs: Sequence[Document], facts: Facts, verifier: EntryVerifier, now: datetime,
            ) -> tuple[list[HeatFact], frozenset[str], list[SupplyFinding], dict[str, Any] | None]:
    """The line's heats where first melted and poured (through its supply path, or its own
    mill certificates when the path reaches none), the parties on the path, what the walk
    found, and the path as JSON. Credentials of the presentation are not verified again."""
    start = [d for d in docs if d.verified]
    if not start:
        return [], frozenset(), [], None
    reports = {id(d.raw): d.report for d in facts.documents if d.report is not None}

    def verify(document: Any) -> VerificationResult:
        known = reports.get(id(document))
        return known if known is not None else verifier.verify_credential(document, now=now)

    path = walk_supply_path([d.raw for d in start], [d.raw for d in facts.documents], verify)
    by_id = {d.id: d for d in facts.documents}
    heats: list[HeatFact] = []
    seen: set[str] = set()
    findings: list[SupplyFinding] = []
    for doc in start:
        if doc.id is None:
            continue
        for heat in path.heats_for(doc.id):
            if heat.key in seen:
                continue
            seen.add(heat.key)
            heats.append(HeatFact(
                number=heat.number, melt_country=heat.melt_country, manufacturing_country=None,
                weight_kg=heat.weight_kg, hs=None, credential_id=heat.credential_id, issuer=heat.issuer,
                pointer=_heat_pointer(by_id.get(heat.credential_id), heat.number),
            ))
        findings.extend(f for f in path.findings_for(doc.id) if f not in findings)
    if not heats:
        heats = _heats_of(docs, facts)
    upstream = {up for d in start if d.id is not None for up in path.upstream_of(d.id)}
    parties = frozenset(n.issuer for cid, n in path.nodes.items() if n.trusted and cid in upstream)
    return heats, parties, findings, path.to_dict() if len(path.nodes) > len(start) or path.findings else None


def _heat_pointer(doc: Document | None, number: str) -> str:
    products = doc.subject.get("product") if doc is not None else None
    for i, product in enumerate(products if isinstance(products, list) else []):
        if isinstance(product, Mapping) and product.get("heatNumber") == number:
            return f"/credentialSubject/product/{i}"
    return "/credentialSubject"


def _within_entry(planned: Sequence[PlannedDraw]) -> list[Finding]:
    """Without a ledger: the draws of this entry alone must stay within each cap."""
    out = []
    used: dict[tuple[str, str], Decimal] = {}
    for draw in planned:
        key = (draw.resource_kind, draw.resource_id)
        used[key] = used.get(key, Decimal(0)) + draw.quantity_kg
        if draw.cap_kg is not None and used[key] > draw.cap_kg:
            out.append(Finding(
                draw.rule.id, draw.rule.decision,
                f"{draw.resource_kind} {draw.resource_id}: this entry draws {used[key]:f} kg, more than its "
                f"{draw.cap_kg:f} kg", draw.rule.source, draw.evidence, draw.line, draw.rule.target))
    return out


def _ledger_draws(planned: Sequence[PlannedDraw]) -> list[Any]:
    return [Draw(p.resource_kind, p.resource_id, p.line, p.quantity_kg, p.cap_kg, p.single_entry) for p in planned]


def _ledger_findings(ledger: LedgerLike, entry_number: str, planned: Sequence[PlannedDraw]) -> list[Finding]:
    draws = _ledger_draws(planned)
    out = []
    overdraw: Overdraw
    for overdraw in ledger.check(entry_number, draws):
        p = next(p for p, d in zip(planned, draws) if d == overdraw.draw)
        out.append(Finding(p.rule.id, p.rule.decision, overdraw.message, p.rule.source,
                           (*p.evidence, *(Evidence(None, "ledger: earlier entry", e)
                                           for e in overdraw.earlier_entries)), p.line, p.rule.target))
    return out
