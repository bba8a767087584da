"""The entry report: a decision per line and for the entry (ACCEPT, REVIEW, REJECT), each
finding with its rule, severity, message and evidence; as a text table (:meth:`EntryReport.summary`)
or JSON (:meth:`EntryReport.to_dict`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

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
    a duty that applies), ``source`` the legal or policy source of the rule."""

    rule: str
    decision: Decision
    message: str
    source: str = ""
    evidence: tuple[Evidence, ...] = ()
    line: int | None = None

    @property
    def severity(self) -> str:
        return self.decision.severity

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "decision": self.decision.value, "severity": self.severity,
                               "message": self.message, "source": self.source,
                               "evidence": [e.to_dict() for e in self.evidence]}
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
    def decision(self) -> Decision:
        return worst(f.decision for f in self.findings)

    @property
    def reason(self) -> str:
        """The message of the worst finding (empty when all is well)."""
        decision = self.decision
        if decision is Decision.ACCEPT:
            return ""
        return next(f.message for f in self.findings if f.decision is decision)

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "hts": self.hts, "description": self.description, "quantity": self.quantity,
                "countryOfOrigin": self.origin, "countryOfMeltAndPour": self.melt_and_pour,
                "preference": self.preference, "decision": self.decision.value,
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
            "importerAnchored": self.importer_anchored, "decision": self.decision.value,
            "findings": [f.to_dict() for f in self.findings], "lines": [line.to_dict() for line in self.lines],
            "documents": [d.to_dict() for d in self.documents], "supplyPaths": self.supply_paths,
            "rulesApplied": list(self.rules_applied), "recordedInLedger": self.recorded,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def summary(self) -> str:
        """The text table: the entry's head line, a row per line, then every finding that is
        not plain information, with its evidence."""
        anchored = "anchored" if self.importer_anchored else "not anchored"
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
        for r in rows:
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
        for line in self.lines:
            for f in line.findings:
                out.append(f"  line {line.line} {f.decision.value:<6} [{f.rule}] {f.message}"
                           + (f" ({f.source})" if f.source else ""))
                for e in f.evidence[:4]:
                    where = e.credential_id or "entry"
                    out.append(f"      evidence {where}#{e.pointer} = {_show(e.value)}")
        if self.recorded:
            out.append("  quantities recorded in the ledger")
        return "\n".join(out)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _show(value: Any) -> str:
    if isinstance(value, (Mapping, list)):
        return _cut(json.dumps(value, ensure_ascii=False, default=str), 80)
    return _cut(str(value), 80)
