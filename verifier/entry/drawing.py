"""Drawings of an entry line's supply path, from where the steel was melted and poured to the
entry line: as text for the terminal (:func:`draw_text`) and as inline SVG for the HTML report
(:func:`draw_svg`).

Both draw the same boxes (:func:`layout`), read from the path as JSON
(:meth:`tradevc.verifier.supply.SupplyPath.to_dict`, as the entry report holds it):

* one box per credential of the path, most upstream first (the melt shop's mill test report,
  whose heats say where the steel was first made liquid and cast), then each transformation
  (facility, date, inputs -> outputs with their weights), then the credentials the line
  references, and last the entry line itself with what it declares;
* an arrow from each credential to each one derived from it (the path's edges reversed);
* breaks where they happen: a link that is missing, unpinned, too deep or whose digest does not
  match is drawn on its arrow (a credential not held as a box of its own, marked NOT HELD); a
  node that did not verify, a mass imbalance or an origin conflict in its box;
* the node a line finding holds against the declaration (a REVIEW or REJECT finding whose
  evidence is in that credential, such as a heat melted and poured in CN on a line that
  declares MX) marked, on the heat's own row when the evidence points into it.

Every value that comes from a document or a declaration goes through
:func:`tradevc.vc.jsontext.escape_hidden` (a terminal escape or a bidirectional override is
shown as ``\\uXXXX``), and in SVG also through :func:`html.escape`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from tradevc.vc.jsontext import escape_hidden

__all__ = ["LINE_KEY", "Box", "LineLike", "columns", "draw_svg", "draw_text", "layout"]

WIDTH = 100
"""Columns of the text drawing."""

_LINK_CODES = frozenset({"MISSING_LINK", "UNPINNED_LINK", "DIGEST_MISMATCH", "TOO_DEEP"})
_SUPPLY_CODES = frozenset({*_LINK_CODES, "UNVERIFIABLE_NODE", "MALFORMED_NODE", "MASS_IMBALANCE", "ORIGIN_CONFLICT",
                           "CYCLE", "TOO_LARGE"})
_MAX_ITEMS = 8
"""At most this many heats, inputs, outputs, breaks or flags in a box, and boxes of credentials
not held linked from one credential; the rest are counted (the report's findings list them all)."""
_MAX_VALUE = 300
"""At most this many characters of one text in a box (a name, an id, a finding's message)."""
_KINDS = frozenset({"mill-test-report", "transformation-event", "other"})
LINE_KEY = "#line"


class LineLike(Protocol):
    """What the drawing needs of a line (:class:`tradevc.verifier.entry.report.LineReport`)."""

    @property
    def line(self) -> int: ...
    @property
    def hts(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def quantity(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def melt_and_pour(self) -> str | None: ...
    @property
    def decision(self) -> Any: ...
    @property
    def findings(self) -> Sequence[Any]: ...


@dataclass
class Box:
    """One box of the drawing: a credential, a credential not held, or the entry line."""

    key: str
    """The credential id (or :data:`LINE_KEY` for the entry line)."""
    layer: int
    title: str
    status: str
    kind: str = "other"
    """``melt`` (a melt shop's report), ``mill-test-report``, ``transformation-event``,
    ``other``, ``missing`` or ``line``."""
    rows: list[tuple[str, str]] = field(default_factory=list)
    """(label, text): who made it, where and when; its heats, inputs and outputs."""
    breaks: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    """Line findings held against the declaration with evidence in this credential."""
    contradicts: bool = False
    """A flag compares the declaration with a value of this credential."""
    targets: list[tuple[str, str | None]] = field(default_factory=list)
    """(key of a box derived from this one, the break on that arrow or None)."""
    number: int = 0
    ok: bool = True
    """Verified, and the credential its links pinned (always, for the entry line)."""

    @property
    def label(self) -> str:
        return f"LINE {self.title}" if self.key == LINE_KEY else f"[{self.number}]"

    @property
    def broken(self) -> bool:
        return bool(self.breaks) or self.kind == "missing" or not self.ok


def _clean(value: Any) -> str:
    """A value from a document or declaration, hidden characters escaped."""
    return escape_hidden("" if value is None else str(value), keep_newlines=False)


def _clip(text: str) -> str:
    """``text`` up to :data:`_MAX_VALUE` characters, saying how many more there are."""
    if len(text) <= _MAX_VALUE:
        return text
    return f"{text[:_MAX_VALUE]}… ({len(text) - _MAX_VALUE} more characters)"


def _capped(texts: Sequence[str]) -> list[str]:
    """At most :data:`_MAX_ITEMS` of ``texts``, each clipped, and how many more there are."""
    out = [_clip(t) for t in texts[:_MAX_ITEMS]]
    if len(texts) > _MAX_ITEMS:
        out.append(f"... and {len(texts) - _MAX_ITEMS} more")
    return out


def _bound(box: Box) -> Box:
    """``box`` with each text clipped and its breaks and flags capped (:func:`_capped`)."""
    box.title, box.status = _clip(box.title), _clip(box.status)
    box.rows = [(label, _clip(text)) for label, text in box.rows]
    box.breaks, box.flags = _capped(box.breaks), _capped(box.flags)
    box.targets = [(key, None if broken is None else _clip(broken)) for key, broken in box.targets]
    return box


def _kg(value: Any) -> str:
    if value is None:
        return "weight ?"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return _clean(value) + " kg"
    text = f"{number:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} kg"


def _date(value: Any) -> str:
    """An ISO 8601 date-time as its date when at midnight UTC, else with a space for the ``T``."""
    text = _clean(value)
    if re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00(?:\.0+)?(?:Z|\+00:00)", text):
        return text[:10]
    return text.replace("T", " ", 1) if re.match(r"\d{4}-\d\d-\d\dT", text) else text


def _type_name(node: Mapping[str, Any]) -> str:
    types = [t for t in node.get("types") or [] if t != "VerifiableCredential"]
    return _clean(types[0] if types else "credential")


_REF = "\x00"


def _from(item: Mapping[str, Any]) -> str:
    """`` from [n]`` for an item's source credential (numbered once every box is placed)."""
    source = item.get("sourceCredential")
    return f" from {_REF}{_clean(source)}{_REF}" if source else ""


def _number_refs(text: str, numbers: Mapping[str, str]) -> str:
    """Replace the source references of :func:`_from` (a document cannot write ``\x00``:
    :func:`_clean` escapes it) by box numbers, or the id when it has no box."""
    if _REF not in text:
        return text
    parts = text.split(_REF)
    return "".join(numbers.get(p, p) if i % 2 else p for i, p in enumerate(parts))


def _layers(path: Mapping[str, Any], ids: list[str]) -> dict[str, int]:
    """Longest distance from a start credential, downstream to upstream (bounded, for cycles)."""
    layer = dict.fromkeys(ids, 0)
    edges = [(e["from"], e["to"]) for e in path.get("edges") or [] if e["from"] in layer and e["to"] in layer]
    for _ in range(len(ids)):
        changed = False
        for down, up in edges:
            if layer[down] + 1 > layer[up] and layer[down] + 1 <= len(ids):
                layer[up] = layer[down] + 1
                changed = True
        if not changed:
            break
    return layer


def _items(box: Box, label: str, items: Sequence[Mapping[str, Any]], say: Any) -> None:
    for item in items[:_MAX_ITEMS]:
        box.rows.append((label, say(item)))
    if len(items) > _MAX_ITEMS:
        box.rows.append(("", f"... and {len(items) - _MAX_ITEMS} more"))


def _product(p: Mapping[str, Any], *, origin: str | None, trusted: bool, mark: str) -> str:
    """A mill test report's product: a heat it is the origin of (``origin``: its melt
    country as the walk took it), or one it restates (or claims, when it is not trusted)."""
    heat = _clean(p.get("heatNumber") or "-")
    lot = f" · lot {_clean(p['identifier'])}" if p.get("identifier") else ""
    if origin is not None:
        return f"{heat} · melted and poured in {_clean(origin)} · {_kg(p.get('weightKg'))}{lot}{mark}"
    said = f"melted and poured in {_clean(p['meltCountry'])}" if p.get("meltCountry") else "no melt country"
    restated = f"restated as {said}" if trusted else f"says {said}, not taken"
    return f"{heat} · {restated} · {_kg(p.get('weightKg'))}{lot}{_from(p)}{mark}"


def _piece(p: Mapping[str, Any], *, mark: str) -> str:
    """An event's input or output: a heat or lot, its weight, its HS code, where it comes from."""
    what = f"heat {_clean(p['heatNumber'])}" if p.get("heatNumber") else f"lot {_clean(p.get('identifier') or '-')}"
    if p.get("heatNumber") and p.get("identifier"):
        what += f" (lot {_clean(p['identifier'])})"
    code = f" · HS {_clean(p['commodityCode'])}" if p.get("commodityCode") else ""
    return f"{what} · {_kg(p.get('weightKg'))}{code}{_from(p)}{mark}"


def _node_box(cid: str, node: Mapping[str, Any], *, layer: int, root: bool, origins: Mapping[tuple[str, str], str],
              marks: Mapping[str, str]) -> Box:
    """The box of one credential of the path: what it is, who made it where and when, and
    its heats, inputs and outputs."""
    facts = node.get("facts") or {}
    kind = str(node.get("kind")) if node.get("kind") in _KINDS else "other"  # a JSON report's path: ours only
    trusted = bool(node.get("verified")) and bool(node.get("linked", True))
    melts = any((cid, p.get("heatNumber")) in origins for p in facts.get("products") or [])
    if kind == "mill-test-report":
        title = "MELT AND POUR · mill test report" if melts else "mill test report"
    elif kind == "transformation-event":
        title = "TRANSFORMATION · transformation event"
    else:
        title = _type_name(node)
    status = "verified" if node.get("verified") else "NOT VERIFIED"
    if not node.get("linked", True):
        status += ", NOT THE CREDENTIAL LINKED (digest)"
    if root:
        status += " · referenced by the line"
    box = Box(cid, layer, title, status, "melt" if melts else kind, ok=trusted)
    box.rows.append(("id", _clean(cid)))
    who = {"mill-test-report": "mill", "transformation-event": "facility"}.get(kind, "issuer")
    named = " · ".join(_clean(node[k]) for k in ("name", "country") if node.get(k))
    if named:
        box.rows += [(who, named), ("", _clean(node.get("issuer")))]
    else:
        box.rows.append((who, _clean(node.get("issuer"))))
    if node.get("issued"):
        box.rows.append(("date", _date(node["issued"])))
    if kind == "mill-test-report":
        _items(box, "heat", facts.get("products") or [], lambda p: _product(
            p, origin=origins.get((cid, p.get("heatNumber"))), trusted=trusted,
            mark=marks.get(str(p.get("pointer")), "")))
    elif kind == "transformation-event":
        for label, member in (("in", "consumed"), ("out", "produced")):
            _items(box, label, facts.get(member) or [], lambda p: _piece(p, mark=marks.get(str(p.get("pointer")), "")))
        if facts.get("yieldTolerance") is not None:
            box.rows.append(("yield", f"tolerance {_clean(facts['yieldTolerance'])}"))
    return box


def _place_findings(findings: Sequence[Mapping[str, Any]], boxes: dict[str, Box]) -> tuple[list[Box], list[str]]:
    """Put each break of the walk where it happens: a link's on its arrow (from a box of its
    own for a credential not held or not followed), a node's in its box. Returns those
    extra boxes and the breaks about no credential of the path."""
    top: list[str] = []
    missing: dict[str, Box] = {}
    drawn: dict[str, int] = {}  # credential -> boxes of credentials not held drawn for its links
    left: dict[str, int] = {}  # credential -> links to credentials not held beyond those
    for f in findings:
        code, cid, related = f.get("code"), f.get("credentialId"), f.get("related")
        text = f"{_clean(code)}: {_clean(f.get('message'))}"
        if code in _LINK_CODES and related is not None and cid in boxes:
            up = boxes.get(related) or missing.get(related)
            if up is None and drawn.get(cid, 0) >= _MAX_ITEMS:
                left[cid] = left.get(cid, 0) + 1
                continue
            if up is None:
                drawn[cid] = drawn.get(cid, 0) + 1
                held = "NOT FOLLOWED (depth limit)" if code == "TOO_DEEP" else "NOT HELD by the verifier"
                up = missing[related] = Box(related, boxes[cid].layer + 1, "credential derived from", held, "missing",
                                            rows=[("id", _clean(related))], ok=False)
            up.targets = [(k, b) for k, b in up.targets if k != cid] + [(cid, text)]
        elif cid in boxes:
            boxes[cid].breaks.append(text)
        else:
            top.append(text)
    for cid, count in left.items():
        boxes[cid].breaks.append(f"and {count} more links to credentials not held or not followed, not drawn "
                                 "(the report's findings list them)")
    return list(missing.values()), top


def layout(path: Mapping[str, Any], line: LineLike) -> list[Box]:
    """The boxes of ``line``'s supply path (``path`` as :meth:`SupplyPath.to_dict` gives it),
    numbered and ordered from the most upstream to the entry line, which is last."""
    nodes = {n["id"]: n for n in path.get("nodes") or []}
    roots = [r for r in path.get("roots") or [] if r in nodes]
    layer = _layers(path, list(nodes))
    origins = {(h["credentialId"], h["number"]): h["meltCountry"] for h in path.get("heats") or []}
    marks = _marks(line)
    boxes = {cid: _node_box(cid, node, layer=layer[cid], root=cid in roots, origins=origins,
                            marks=marks.get(cid, {})) for cid, node in nodes.items()}
    for edge in path.get("edges") or []:
        down, up = edge["from"], edge["to"]
        if down in boxes and up in boxes and (down, None) not in boxes[up].targets:
            boxes[up].targets.append((down, None))
    missing, top = _place_findings(path.get("findings") or [], boxes)
    for root in roots:
        boxes[root].targets.append((LINE_KEY, None))
    _flag(boxes, line)
    melt = _clean(line.melt_and_pour) if line.melt_and_pour else "not declared"
    goods = _clean(line.description)
    line_box = Box(LINE_KEY, -1, str(line.line), _clean(line.decision.value), "line", rows=[
        ("goods", goods if len(goods) <= 70 else goods[:69] + "…"),
        ("HTSUS", f"{_clean(line.hts)} · {_clean(line.quantity)}"),
        ("declared", f"origin {_clean(line.origin)} · melt and pour {melt}"),
    ], breaks=top)
    ordered = sorted([*boxes.values(), *missing], key=lambda b: -b.layer)  # stable: the walk's order within a row
    for number, box in enumerate(ordered, 1):
        box.number = number
    numbers = {_clean(b.key): b.label for b in ordered}
    for box in ordered:
        box.rows = [(label, _number_refs(text, numbers)) for label, text in box.rows]
    return [_bound(box) for box in (*ordered, line_box)]


def _flag(boxes: Mapping[str, Box], line: LineLike) -> None:
    """Mark the credentials a REVIEW or REJECT line finding took evidence from (not the supply
    path's own breaks, drawn where they are)."""
    for finding in line.findings:
        decision = str(getattr(finding.decision, "value", finding.decision))
        if decision == "ACCEPT":
            continue
        declared = [e for e in finding.evidence if e.credential_id is None and e.pointer.startswith("/lines/")]
        for e in finding.evidence:
            box = boxes.get(e.credential_id) if e.credential_id is not None else None
            if box is None or (isinstance(e.value, str) and e.value in _SUPPLY_CODES):
                continue
            note = f"{decision} [{_clean(finding.rule)}] {_clean(finding.message)}"
            if note not in box.flags:
                box.flags.append(note)
            box.contradicts = box.contradicts or bool(declared)


def _marks(line: LineLike) -> dict[str, dict[str, str]]:
    """Credential id -> item pointer -> `` << REJECT: declared MX``, where a REVIEW or REJECT
    line finding took evidence from that item (or a value in it)."""
    out: dict[str, dict[str, str]] = {}
    for finding in line.findings:
        decision = str(getattr(finding.decision, "value", finding.decision))
        if decision == "ACCEPT":
            continue
        declared = ", ".join(f"declared {_clean(e.value)}" for e in finding.evidence
                             if e.credential_id is None and e.pointer.startswith("/lines/"))
        for e in finding.evidence:
            if e.credential_id is None or (isinstance(e.value, str) and e.value in _SUPPLY_CODES):
                continue
            parts = e.pointer.split("/")
            for n in range(len(parts), 2, -1):
                out.setdefault(e.credential_id, {}).setdefault(
                    "/".join(parts[:n]), f"  << {decision}" + (f": {declared}" if declared else ""))
    return out


# -- text ------------------------------------------------------------------------------------------


_NARROW_OR_NOT = re.compile("[\u0300-\U0010ffff]")
"""From the combining marks up, a character may take no column or two; below, one."""


def _width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 0 if unicodedata.combining(char) else 1


def columns(text: str) -> int:
    """The columns ``text`` takes on a terminal: two for a wide (East Asian) character, none
    for a combining mark, one for any other."""
    return len(text) if not _NARROW_OR_NOT.search(text) else sum(_width(c) for c in text)


def _wrap(text: str, width: int, indent: str) -> list[str]:
    """``text`` in lines of at most ``width`` columns (:func:`columns`), broken at spaces
    (runs of spaces inside a line are kept: they align labels), a word longer than a line
    split; lines after the first start with ``indent``."""
    width = max(width, 20)
    if columns(text) <= width:
        return [text.rstrip()]
    out: list[str] = []
    line, used, lead = "", 0, columns(indent)
    for chunk in re.findall(r"\s+|\S+", text):
        size = columns(chunk)
        if used + size <= width:
            line, used = line + chunk, used + size
            continue
        if chunk.isspace():
            out.append(line.rstrip())
            line, used = indent, lead
            continue
        if line.strip() and lead + size <= width:  # fits on a line of its own
            out.append(line.rstrip())
            line, used = indent, lead
        while used + size > width:  # split a word longer than a line
            take, room = 0, width - used
            while take < len(chunk) and _width(chunk[take]) <= room:
                room -= _width(chunk[take])
                take += 1
            take = max(take, 1)
            out.append(line + chunk[:take])
            line, used, chunk = indent, lead, chunk[take:]
            size = columns(chunk)
        line, used = line + chunk, used + size
    if line.strip() or not out:
        out.append(line.rstrip())
    return out


def draw_text(path: Mapping[str, Any], line: LineLike, *, width: int = WIDTH, indent: str = "  ") -> list[str]:
    """``line``'s supply path as text lines of at most ``width`` columns (box-drawing
    characters; every document value escaped): boxes from the melt shop down to the entry line,
    each ending in an arrow to the boxes derived from it."""
    boxes = layout(path, line)
    by_key = {b.key: b for b in boxes}
    out = [f"{indent}supply path of line {line.line}, from melt and pour to the entry ({len(boxes) - 1} credentials):"]
    inner = width - len(indent) - 3  # after "│  "
    for i, box in enumerate(boxes):
        head = f"{box.label} {box.title}" if box.key != LINE_KEY else f"LINE {box.title}"
        head += f" · {box.status}" if box.status else ""
        mark = "  << CONTRADICTS THE DECLARATION" if box.contradicts else "  << FLAGGED" if box.flags else ""
        corner = "╔═ " if box.key == LINE_KEY else "┌─ "
        bar = "║  " if box.key == LINE_KEY else "│  "
        if len(head + mark) <= inner:
            head, mark = head + mark, ""
        out += [indent + (corner if j == 0 else bar) + part for j, part in enumerate(_wrap(head, inner, "   "))]
        if mark:
            out.append(indent + bar + mark.strip())
        for label, text in box.rows:
            lead = f"{label:<9}" if label else " " * 9
            out += [indent + bar + part for part in _wrap(lead + text, inner, " " * 11)]
        for text in box.breaks:
            out += [indent + bar + part for part in _wrap("!! BREAK " + text, inner, "   ")]
        for text in box.flags:
            out += [indent + bar + part for part in _wrap("<< " + text, inner, "   ")]
        if box.key == LINE_KEY:
            out.append(indent + "╚═")
            break
        following = boxes[i + 1].key if i + 1 < len(boxes) else None
        names = ", ".join(by_key[k].label for k, _ in box.targets if k in by_key) or "nothing on the path"
        arrow = "└─┬─▶ " if any(k == following for k, _ in box.targets) else "└───▶ "
        out.append(indent + arrow + "to " + names)
        for k, broken in box.targets:
            if broken is not None and k in by_key:
                out += [indent + "  " + part for part in _wrap(f"!! BREAK on the arrow to {by_key[k].label}: {broken}",
                                                               width - len(indent) - 2, "   ")]
        if arrow.startswith("└─┬"):
            out.append(indent + "  ▼")
    return out


# -- SVG -------------------------------------------------------------------------------------------

_BOX_W, _CHARS, _LINE_H, _PAD, _GAP_X, _GAP_Y, _FONT = 500, 66, 15, 8, 36, 52, 12
_CHAR_W = 7.23  # a monospace advance at 12px (0.6 em and a little)
_STYLE = {
    "melt": ("#eef4ff", "#2456a6", 1.5), "mill-test-report": ("#f6f6f6", "#666", 1.2),
    "transformation-event": ("#f3f0ff", "#6a4bc4", 1.2), "other": ("#fafafa", "#999", 1),
    "missing": ("#ffffff", "#c00", 1.5), "line": ("#fffbe6", "#222", 2),
}


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _columns(text: str) -> list[tuple[int, str]]:
    """A line of monospace text as (column, words) runs split at two or more spaces: SVG
    collapses spaces, so each run is placed at its column."""
    out: list[tuple[int, str]] = []
    for match in re.finditer(r"\S+(?: \S+)*", text):
        out.append((columns(text[:match.start()]), match.group()))
    return out


def _svg_lines(box: Box) -> list[tuple[str, str]]:
    """(css class, text) lines of a box, wrapped to its width."""
    head = f"{box.label} {box.title}" if box.key != LINE_KEY else f"LINE {box.title}"
    lines: list[tuple[str, str]] = [("h", part) for part in _wrap(head, _CHARS, "   ")]
    status = box.status + ("  — CONTRADICTS THE DECLARATION" if box.contradicts else "  — FLAGGED" if box.flags else "")
    lines += [("s" if not box.broken and not box.flags else "x", part) for part in _wrap(status, _CHARS, "   ")]
    for label, text in box.rows:
        lines += [("r", part) for part in _wrap((f"{label:<9}" if label else " " * 9) + text, _CHARS, " " * 11)]
    for text in box.breaks:
        lines += [("x", part) for part in _wrap("BREAK " + text, _CHARS, "   ")]
    for text in box.flags:
        lines += [("x", part) for part in _wrap("◀ " + text, _CHARS, "   ")]
    return lines


def draw_svg(path: Mapping[str, Any], line: LineLike, *, ident: str = "p") -> str:
    """``line``'s supply path as an inline SVG (no script, no external reference; every value
    escaped): rows of boxes from the melt shop at the top to the entry line at the bottom,
    arrows from each credential to those derived from it, breaks in red on their box or arrow,
    and the box that contradicts the declaration outlined in red. ``ident`` makes the marker
    ids unique on a page holding several drawings."""
    boxes = layout(path, line)
    rows: dict[int, list[Box]] = {}
    for box in boxes:
        rows.setdefault(box.layer, []).append(box)
    order = sorted(rows, reverse=True)
    order = [r for r in order if r != -1] + [-1]
    texts = {b.key: _svg_lines(b) for b in boxes}
    place: dict[str, tuple[float, float, float]] = {}  # key -> x, y, height
    y = 10.0
    widest = 0.0
    for r in order:
        height = max(len(texts[b.key]) * _LINE_H + 2 * _PAD for b in rows[r])
        for i, box in enumerate(rows[r]):
            x = 10.0 + i * (_BOX_W + _GAP_X)
            place[box.key] = (x, y, len(texts[box.key]) * _LINE_H + 2 * _PAD)
            widest = max(widest, x + _BOX_W + 10)
        y += height + _GAP_Y
    total_h = y - _GAP_Y + 10
    wide = {LINE_KEY: max(float(_BOX_W), widest - 20)}  # the line spans the drawing: each arrow comes straight down
    ok, bad = f"{_e(ident)}-ok", f"{_e(ident)}-bad"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="supply-path-drawing" role="img" width="{widest:.0f}" '
        f'height="{total_h:.0f}" viewBox="0 0 {widest:.0f} {total_h:.0f}" font-family="ui-monospace,Menlo,Consolas,'
        f'monospace" font-size="{_FONT}"><title>Supply path of line {line.line}, from melt and pour to the entry'
        "</title><defs>",
        f'<marker id="{ok}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker>',
        f'<marker id="{bad}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#c00"/></marker></defs>',
    ]
    labels: list[str] = []
    for box in boxes:
        x1, y1, h1 = place[box.key]
        for i, (key, broken) in enumerate(box.targets):
            if key not in place:
                continue
            x2, y2, _ = place[key]
            sx, sy = x1 + _BOX_W / 2 + (i - (len(box.targets) - 1) / 2) * 14, y1 + h1
            tx, ty = (sx if key in wide else x2 + _BOX_W / 2), y2
            bend = max(20.0, (ty - sy) / 2)
            colour, marker, dash = ("#c00", bad, ' stroke-dasharray="6 4"') if broken else ("#444", ok, "")
            parts.append(f'<path class="edge{" broken" if broken else ""}" d="M{sx:.1f},{sy:.1f} C{sx:.1f},'
                         f'{sy + bend:.1f} {tx:.1f},{ty - bend:.1f} {tx:.1f},{ty - 2:.1f}" fill="none" '
                         f'stroke="{colour}" stroke-width="1.6"{dash} marker-end="url(#{marker})">'
                         f"{'<title>' + _e(broken) + '</title>' if broken else ''}</path>")
            if broken:
                code = broken.split(":", 1)[0]
                labels.append(f'<text class="edge-break" x="{(sx + tx) / 2 + 8:.1f}" y="{(sy + ty) / 2 + 4:.1f}" '
                              f'fill="#c00" font-weight="bold">BREAK {_e(code)}<title>{_e(broken)}</title></text>')
    for box in boxes:
        x, y0, h = place[box.key]
        fill, stroke, stroke_w = _STYLE.get(box.kind, _STYLE["other"])
        if box.contradicts or box.flags:
            fill, stroke, stroke_w = "#fde2e1", "#c00", 3
        elif box.broken:
            stroke, stroke_w = "#c00", 2
        dash = ' stroke-dasharray="6 4"' if box.kind == "missing" else ""
        css = "box" + (" contradicts" if box.contradicts else "") + (" broken" if box.broken else "") + \
            f" {box.kind}"
        parts.append(f'<g class="{css}" data-key="{_e(box.key)}"><rect x="{x:.1f}" y="{y0:.1f}" '
                     f'width="{wide.get(box.key, _BOX_W):.0f}" '
                     f'height="{h:.1f}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_w}"{dash}/>')
        for j, (cls, text) in enumerate(texts[box.key]):
            weight = ' font-weight="bold"' if cls in ("h", "x") else ""
            colour = "#c00" if cls == "x" else "#222"
            spans = "".join(f'<tspan x="{x + _PAD + column * _CHAR_W:.1f}">{_e(words)} </tspan>'
                            for column, words in _columns(text))
            parts.append(f'<text y="{y0 + _PAD + (j + 1) * _LINE_H - 4:.1f}" fill="{colour}"{weight}>{spans}</text>')
        parts.append("</g>")
    parts += labels
    parts.append("</svg>")
    return "".join(parts)
