"""The entry report: a decision per line and for the entry (ACCEPT, REVIEW, REJECT), each
finding with its rule, severity, message and evidence; as a text table (:meth:`EntryReport.summary`),
JSON (:meth:`EntryReport.to_dict`) or a self-contained HTML page (:meth:`EntryReport.to_html`:
no script, no external resource, every value escaped). The text and the page draw each line's
supply path from melt and pour to the line (:mod:`.drawing`)."""

from __future__ import annotations

import html
import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from tradevc.vc.jsontext import escape_hidden

from .drawing import Box, draw_svg, draw_text, layout
from .facts import Document, Evidence

__all__ = ["Decision", "EntryReport", "Finding", "LineReport", "worst"]


class Decision(str, Enum):
    ACCEPT = "ACCEPT"
    REVIEW = "REVIEW"
    REJECT = "REJECT"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def severity(self) -> str:
        return {"ACCEPT": "info", "REVIEW": "warning", "REJECT": "error"}[self.value]

    def __str__(self) -> str:
        return self.value


_RANK = {Decision.ACCEPT: 0, Decision.REVIEW: 1, Decision.REJECT: 2}


def worst(decisions: Iterable[Decision]) -> Decision:
    """REJECT over REVIEW over ACCEPT; ACCEPT for none."""
    return max(decisions, key=lambda d: d.rank, default=Decision.ACCEPT)


@dataclass(frozen=True)
class Finding:
    """What one rule found: ``decision`` is what it asks for (ACCEPT for information, such as
    a duty that applies), ``source`` the legal or policy source of the rule, ``applies_to``
    what it decides on: ``"line"`` (the goods) or ``"preference"`` (the line's preference claim
    only; see :attr:`LineReport.decision`)."""

    rule: str
    decision: Decision
    message: str
    source: str = ""
    evidence: tuple[Evidence, ...] = ()
    line: int | None = None
    applies_to: str = "line"

    @property
    def severity(self) -> str:
        return self.decision.severity

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "decision": self.decision.value, "severity": self.severity,
                               "message": self.message, "source": self.source,
                               "evidence": [e.to_dict() for e in self.evidence], "appliesTo": self.applies_to}
        return out


@dataclass
class LineReport:
    line: int
    hts: str
    description: str
    quantity: str
    origin: str
    melt_and_pour: str | None
    preference: str | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def preference_decision(self) -> Decision | None:
        """The decision on the line's preference claim (None when it claims none): the worst of
        the findings that target the preference."""
        findings = [f for f in self.findings if f.applies_to == "preference"]
        if not self.preference and not findings:
            return None
        return worst(f.decision for f in findings)

    @property
    def decision(self) -> Decision:
        """The worst finding on the goods; a preference claim that is denied or doubtful makes
        the line at least REVIEW and never more. A denied claim (19 CFR 182.16, 182.75) leaves
        the goods admissible and dutiable at the general rate: the entry summary as filed
        deposits too little duty and an officer has to act on it (the claim corrected, the duty
        collected, a false claim weighed under 19 U.S.C. 1592), so it is neither ACCEPT nor a
        refusal of the goods."""
        goods = worst(f.decision for f in self.findings if f.applies_to != "preference")
        claim = self.preference_decision
        return worst([goods, Decision.REVIEW if claim not in (None, Decision.ACCEPT) else Decision.ACCEPT])

    @property
    def reason(self) -> str:
        """The message of the worst finding on the goods, or what became of the preference
        (empty when all is well)."""
        decision = self.decision
        if decision is Decision.ACCEPT:
            return ""
        goods = [f for f in self.findings if f.applies_to != "preference" and f.decision is decision]
        if goods:
            return goods[0].message
        claim = self.preference_decision
        first = next(f.message for f in self.findings if f.applies_to == "preference" and f.decision is claim)
        if claim is Decision.REJECT:
            return f"preference {self.preference or ''} denied: duty at the general rate ({first})"
        return f"preference {self.preference or ''} to review: {first}"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "hts": self.hts, "description": self.description, "quantity": self.quantity,
                "countryOfOrigin": self.origin, "countryOfMeltAndPour": self.melt_and_pour,
                "preference": self.preference, "decision": self.decision.value,
                "preferenceDecision": _value(self.preference_decision),
                "findings": [f.to_dict() for f in self.findings]}


@dataclass
class EntryReport:
    """The decision on one entry. ``decision`` is the worst of the lines' and the entry-level
    findings' decisions."""

    entry_number: str
    date_of_import: str
    importer: str
    importer_anchored: bool
    lines: list[LineReport]
    findings: list[Finding] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    supply_paths: dict[str, Any] = field(default_factory=dict)
    rules_applied: list[str] = field(default_factory=list)
    recorded: bool = False
    importer_anchor: dict[str, Any] | None = None
    """The identity anchor that anchors the importer (:func:`tradevc.verifier.entry.parties.importer_anchor`)."""

    @property
    def anchored_text(self) -> str:
        """``anchored by <issuer>`` or ``not anchored``."""
        if self.importer_anchor is None:
            return "not anchored"
        return f"anchored by {self.importer_anchor.get('issuerName') or self.importer_anchor.get('issuer')}"

    @property
    def decision(self) -> Decision:
        return worst([*(f.decision for f in self.findings), *(line.decision for line in self.lines)])

    def line(self, number: int) -> LineReport:
        """:raises KeyError: no such line."""
        for line in self.lines:
            if line.line == number:
                return line
        raise KeyError(number)

    def all_findings(self) -> list[Finding]:
        return [*self.findings, *(f for line in self.lines for f in line.findings)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "entryNumber": self.entry_number, "dateOfImport": self.date_of_import, "importer": self.importer,
            "importerAnchored": self.importer_anchored, "importerAnchor": self.importer_anchor,
            "decision": self.decision.value,
            "findings": [f.to_dict() for f in self.findings], "lines": [line.to_dict() for line in self.lines],
            "documents": [d.to_dict() for d in self.documents], "supplyPaths": self.supply_paths,
            "rulesApplied": list(self.rules_applied), "recordedInLedger": self.recorded,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def _drawn(self) -> list[tuple[LineReport, Any, int | None]]:
        """(line, its supply path, the earlier line whose drawing is the same or None) for the
        lines that have a supply path. Two lines' drawings are the same when their paths are
        and their findings mark the same credentials of it (not when, say, one line declares
        the melt country the path shows and the other contradicts it)."""
        out: list[tuple[LineReport, Any, int | None]] = []
        drawn: list[tuple[int, Any, list[Box]]] = []
        for line in self.lines:
            path = self.supply_paths.get(str(line.line))
            if not path:
                continue
            boxes = layout(path, line)[:-1]  # without the line's own box
            same = next((number for number, earlier, shown in drawn if earlier == path and shown == boxes), None)
            if same is None:
                drawn.append((line.line, path, boxes))
            out.append((line, path, same))
        return out

    def to_html(self) -> str:
        """The report as one HTML page: the entry's decision, a row per line, the findings of
        the entry and of each line with their evidence, each line's supply path drawn (inline
        SVG, from melt and pour to the entry line), and the documents."""
        anchored = _e(self.anchored_text)
        if self.importer_anchor is not None:
            anchor = self.importer_anchor
            anchored += (f": <code>{_e(anchor.get('identifier'))}</code>, credential <code>{_e(anchor.get('credential'))}"
                         f"</code> issued by <code>{_e(anchor.get('issuer'))}</code>")
        parts = [
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
            f"<title>Entry {_e(self.entry_number)}: {self.decision.value}</title><style>{_CSS}</style></head><body>",
            f'<h1 class="{self.decision.value}">Entry {_e(self.entry_number)}: {self.decision.value}</h1>',
            f"<p>Importer {_e(self.importer)} ({anchored}); date of import {_e(self.date_of_import)}</p>",
            _findings_html(self.findings),
            "<table><tr><th>line</th><th>HTSUS</th><th>description</th><th>quantity</th><th>origin</th>"
            "<th>melt and pour</th><th>preference</th><th>decision</th><th>reason</th></tr>",
        ]
        for line in self.lines:
            parts.append(f'<tr class="{line.decision.value}"><td>{line.line}</td><td>{_e(line.hts)}</td>'
                         f"<td>{_e(line.description)}</td><td>{_e(line.quantity)}</td><td>{_e(line.origin)}</td>"
                         f"<td>{_e(line.melt_and_pour or '-')}</td><td>{_e(_claim(line) or '-')}</td>"
                         f"<td>{line.decision.value}</td><td>{_e(line.reason)}</td></tr>")
        parts.append("</table>")
        drawn = {line.line: (path, same) for line, path, same in self._drawn()}
        for line in self.lines:
            if line.findings or line.line in drawn:
                parts.append(f"<h2>Line {line.line}</h2>{_findings_html(line.findings)}")
            if line.line in drawn:
                path, same = drawn[line.line]
                if same is not None:
                    parts.append(f'<p class="supply-path-ref">Supply path: the same as line {same}\'s, drawn above.</p>')
                else:
                    parts.append(f'<h3>Supply path of line {line.line}, from melt and pour to the entry</h3>'
                                 f'<div class="supply-path">{draw_svg(path, line, ident=f"line{line.line}")}</div>')
        parts.append("<h2>Documents</h2><table><tr><th>id</th><th>type</th><th>issuer</th><th>verified</th>"
                     "<th>anchored as</th></tr>")
        for d in self.documents:
            parts.append(f"<tr><td><code>{_e(d.id)}</code></td><td>{_e(d.type)}</td><td><code>{_e(d.issuer)}</code>"
                         f"</td><td>{_e(d.outcome)}{': ' + _e(d.reason) if d.reason else ''}</td>"
                         f"<td>{_e(', '.join(d.identifiers))}</td></tr>")
        parts.append("</table></body></html>\n")
        return "".join(parts)

    def summary(self, *, supply_paths: bool = True) -> str:
        """The text table: the entry's head line, a row per line, then each line's findings that
        are not plain information, with their evidence, each followed by a drawing of the line's
        supply path from melt and pour to the entry line (a line with the same path as an earlier
        one refers to it); ``supply_paths=False`` leaves the drawings out."""
        anchored = self.anchored_text
        out = [f"ENTRY {self.entry_number} importer {self.importer} ({anchored}) "
               f"date of import {self.date_of_import} decision: {self.decision.value}"]
        for f in self.findings:
            out.append(f"  entry {f.decision.value:<6} [{f.rule}] {f.message}")
        head = ("LINE", "HTSUS", "DESCRIPTION", "QUANTITY", "ORIGIN", "MELT/POUR", "DECISION", "REASON")
        rows = [head] + [
            (str(line.line), line.hts, _cut(line.description, 28), line.quantity, line.origin,
             line.melt_and_pour or "-", line.decision.value, _cut(line.reason, 70))
            for line in self.lines
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
        drawn = {line.line: (path, same) for line, path, same in self._drawn()}
        for r in rows:
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
        for line in self.lines:
            if line.preference_decision is not None:
                out.append(f"  line {line.line} {_claim(line)}")
            for f in line.findings:
                out.append(f"  line {line.line} {_on(f)}{f.decision.value:<6} [{f.rule}] {f.message}"
                           + (f" ({f.source})" if f.source else ""))
                for e in f.evidence[:4]:
                    out.append(f"      evidence {_where(e)} = {_show(e.value)}")
            if supply_paths and line.line in drawn:
                path, same = drawn[line.line]
                if same is not None:
                    out.append(f"  supply path of line {line.line}: the same as line {same}'s, drawn above")
                else:
                    out.extend(draw_text(path, line))
        if self.recorded:
            out.append("  quantities recorded in the ledger")
        return "\n".join(_safe(line) for line in out)


_CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.ACCEPT{background:#e6f4ea}.REVIEW{background:#fff4d6}.REJECT{background:#fde2e1}code{font-size:12px}
.supply-path{overflow-x:auto;max-width:100%;border:1px solid #ddd;padding:4px;background:#fff}"""


def _on(finding: Finding) -> str:
    """``preference `` before the decision of a finding that decides only on the claim."""
    return "preference " if finding.applies_to == "preference" else ""


def _value(decision: Decision | None) -> str | None:
    return decision.value if decision is not None else None


def _claim(line: LineReport) -> str | None:
    """``preference USMCA: REJECTED`` (None when the line claims none)."""
    claim = line.preference_decision
    if claim is None:
        return None
    word = {Decision.ACCEPT: "ACCEPTED", Decision.REVIEW: "REVIEW",
            Decision.REJECT: "REJECTED (duty at the general rate)"}[claim]
    return f"preference {line.preference or '(none claimed)'}: {word}"


def _e(value: Any) -> str:
    """A value for the page: hidden characters (controls, bidirectional overrides, line
    separators) as ``\\uXXXX``, as in the text report and the drawing, then HTML-escaped."""
    return html.escape(escape_hidden("" if value is None else str(value), keep_newlines=False), quote=True)


def _findings_html(findings: Iterable[Finding]) -> str:
    rows = []
    for f in findings:
        evidence = "<br>".join(f"<code>{_e(_where(e))}</code> = {_e(_show(e.value))}"
                               for e in f.evidence)
        rows.append(f'<tr class="{f.decision.value}"><td>{_on(f)}{f.decision.value}</td><td><code>{_e(f.rule)}</code></td>'
                    f"<td>{_e(f.message)}</td><td>{_e(f.source)}</td><td>{evidence}</td></tr>")
    if not rows:
        return ""
    return ("<table><tr><th>decision</th><th>rule</th><th>finding</th><th>source</th><th>evidence</th></tr>"
            + "".join(rows) + "</table>")


def _where(e: Evidence) -> str:
    """``credential#/pointer``, ``entry#/pointer`` for the declaration, or a plain source
    (``ledger``, ``supply path``, ``policy expression``)."""
    if e.credential_id is not None:
        return f"{e.credential_id}#{e.pointer}"
    return f"entry#{e.pointer}" if e.pointer.startswith("/") else e.pointer


def _safe(text: str) -> str:
    """Control and format characters (a terminal escape, a bidirectional override, a line
    break inside a value) as ``\\uXXXX``: values come from declarations and credentials."""
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _show(value: Any) -> str:
    if isinstance(value, (Mapping, list)):
        return _cut(json.dumps(value, ensure_ascii=False, default=str), 80)
    return _cut(str(value), 80)
