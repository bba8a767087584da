"""RDF Dataset Canonicalization (RDFC-1.0, W3C Recommendation 21 May 2024), in pure Python.

The entry points are :func:`canonicalize` (N-Quads text in, canonical N-Quads out),
:func:`canonicalize_with_map` (also returns the issued identifiers map) and
:func:`canonicalize_quads` (already-parsed quads in, e.g. from :func:`from_pyld_dataset`).

Terms and quads are immutable named tuples (:class:`Term`, :class:`Quad`). Canonicalization
serializes every term once, works on those strings (an internal quad is the 4-tuple of the
canonical N-Quads forms of its subject, predicate, object and graph name, ``""`` for the
default graph) and relabels the blank nodes of the cached serializations at the end.

Work limit
----------
RDFC-1.0 is exponential in the worst case: a dataset whose blank nodes cannot be told apart by
their neighbourhoods (a "poison graph", e.g. a clique of blank nodes) makes Hash N-Degree Quads
try every permutation of them, recursively. The specification requires implementations to
bound that work. Here every call of Hash N-Degree Quads and every permutation it examines
costs one unit of work; canonicalizing a dataset may spend at most ``max_work`` units
(default :data:`DEFAULT_MAX_WORK`), after which :class:`~tradevc.vc.errors.CanonicalizationError` is
raised. Datasets whose blank nodes all have distinct first-degree hashes (nearly every
credential) spend no work at all.

A caller that must not be held up (the service, verifying on its event loop) can lower the
budget for what runs within :class:`deferring_work` ``(units)``: past that, :class:`WorkDeferred`
is raised (a ``BaseException``, so that no verification step mistakes it for a bad document),
and the caller does the work elsewhere, with the whole budget.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from contextvars import ContextVar
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import IntEnum
from typing import Any, NamedTuple, Protocol

from tradevc.vc.errors import CanonicalizationError, UnsupportedError

__all__ = [
    "BLANK_NODE",
    "DEFAULT_MAX_WORK",
    "IRI",
    "LITERAL",
    "RDF_LANGSTRING",
    "XSD_STRING",
    "Quad",
    "Term",
    "TermKind",
    "WorkDeferred",
    "canonicalize",
    "canonicalize_quads",
    "canonicalize_with_map",
    "deferring_work",
    "work_deferred_here",
    "from_pyld_dataset",
    "parse_nquads",
    "serialize_nquad",
    "serialize_term",
]

DEFAULT_MAX_WORK = 50_000
"""Default work budget: Hash N-Degree Quads calls plus permutations examined, per canonicalization.

About 15 times what the heaviest positive W3C tests need (the "poison - evil" graphs
test044-046 spend 3 348 units each: 468 calls and 2 880 permutations; the deep test047/048
spend 10), and enough for rings of about 120 or lists of about 90 indistinguishable blank
nodes (work grows with the square of their number there), while bounding the time spent on a
hostile dataset to roughly a tenth of a second: the 10-node blank node clique of test074, which
would need billions of units, is refused after 50 000.
"""

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


class _Digest(Protocol):
    """What the hash functions below return (a :mod:`hashlib` object)."""

    def hexdigest(self) -> str: ...


_HASH_ALGORITHMS: dict[str, Callable[[bytes], _Digest]] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
}


class TermKind(IntEnum):
    """The kind of an RDF term."""

    IRI = 0
    BLANK_NODE = 1
    LITERAL = 2


IRI = TermKind.IRI
BLANK_NODE = TermKind.BLANK_NODE
LITERAL = TermKind.LITERAL


class Term(NamedTuple):
    """An RDF term.

    ``value`` is the IRI, the blank node label (without ``_:``) or the literal's lexical form.
    A literal always has a ``datatype``: ``xsd:string`` for a simple literal and
    ``rdf:langString`` when it has a ``language`` tag; IRIs and blank nodes have neither.
    """

    kind: TermKind
    value: str
    datatype: str = ""
    language: str = ""


class Quad(NamedTuple):
    """An RDF quad; ``graph`` is ``None`` for the default graph."""

    subject: Term
    predicate: Term
    object: Term
    graph: Term | None = None


# --------------------------------------------------------------------------------------------
# Canonical N-Quads serialization
# --------------------------------------------------------------------------------------------

_LITERAL_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f]')
_LITERAL_ESCAPES = {code: f"\\u{code:04X}" for code in (*range(0x20), 0x7F)} | {
    ord("\b"): "\\b",
    ord("\t"): "\\t",
    ord("\n"): "\\n",
    ord("\f"): "\\f",
    ord("\r"): "\\r",
    ord('"'): '\\"',
    ord("\\"): "\\\\",
}


def _quote_literal(lexical: str) -> str:
    """``lexical`` between double quotes, escaped as canonical N-Quads require: ``\\b \\t \\n
    \\f \\r \\" \\\\`` as ECHAR, the other characters U+0000-U+001F and U+007F as ``\\u00XX``
    (uppercase hex), everything else verbatim."""
    if _LITERAL_NEEDS_ESCAPE.search(lexical):
        lexical = lexical.translate(_LITERAL_ESCAPES)
    return f'"{lexical}"'


def serialize_term(term: Term) -> str:
    """The canonical N-Quads form of ``term``: ``<iri>``, ``_:label`` or a quoted literal."""
    kind = term.kind
    if kind is IRI:
        return f"<{term.value}>"
    if kind is BLANK_NODE:
        return f"_:{term.value}"
    if term.language:
        return f"{_quote_literal(term.value)}@{term.language}"
    if term.datatype == XSD_STRING:
        return _quote_literal(term.value)
    return f"{_quote_literal(term.value)}^^<{term.datatype}>"


def serialize_nquad(quad: Quad) -> str:
    """The canonical N-Quads line for ``quad``, terminated by ``"\\n"``.

    IRIs are written verbatim (never escaped), literals as described in :func:`_quote_literal`,
    ``xsd:string`` datatypes are omitted, and terms are separated by single spaces.
    """
    return _line(_components(quad))


def _components(quad: Quad) -> tuple[str, str, str, str]:
    """``quad`` as the serialized forms of its four terms (``""`` for the default graph)."""
    subject, predicate, object_, graph = quad
    return (
        serialize_term(subject),
        serialize_term(predicate),
        serialize_term(object_),
        "" if graph is None else serialize_term(graph),
    )


def _line(components: Sequence[str]) -> str:
    """One N-Quads statement from the four serialized components (graph ``""``: default graph)."""
    subject, predicate, object_, graph = components
    if graph:
        return f"{subject} {predicate} {object_} {graph} .\n"
    return f"{subject} {predicate} {object_} .\n"


# --------------------------------------------------------------------------------------------
# N-Quads parsing (RDF 1.1 N-Quads)
# --------------------------------------------------------------------------------------------

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_:"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"

_TERM = re.compile(
    rf"""
    <(?P<iri>(?:[^\x00-\x20<>"{{}}|^`\\]|{_UCHAR})*)>
    | _:(?P<bnode>[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)
    | "(?P<lexical>(?:[^"\\\n\r]|\\[tbnrf"'\\]|{_UCHAR})*)"
      (?:[ \t]*\^\^[ \t]*<(?P<datatype>(?:[^\x00-\x20<>"{{}}|^`\\]|{_UCHAR})*)>
       | [ \t]*@(?P<language>[a-zA-Z]+(?:-[a-zA-Z0-9]+)*))?
    """,
    re.VERBOSE,
)
_WHITESPACE = re.compile(r"[ \t]*")
_DOT = re.compile(r"[ \t]*\.")
_TRAILER = re.compile(r"[ \t]*(?:#.*)?")
_ESCAPE = re.compile(rf"{_UCHAR}|\\[tbnrf\"'\\]")
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_IRI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]+(?:-[a-zA-Z0-9]+)*")
_LINE_BREAK = re.compile(r"\r\n?|\n")


def _after_whitespace(line: str, position: int = 0) -> int:
    """Where the spaces and tabs at ``position`` end (``position`` itself if there are none)."""
    match = _WHITESPACE.match(line, position)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _unescape_match(match: re.Match[str]) -> str:
    """The character an ECHAR or UCHAR escape stands for."""
    escape = match.group()
    if escape[1] in "uU":
        code = int(escape[2:], 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"escape {escape} is not a Unicode scalar value")
        return chr(code)
    return _ECHARS[escape[1]]


def _unescape(text: str) -> str:
    """``text`` with its ECHAR and UCHAR escapes decoded."""
    return _ESCAPE.sub(_unescape_match, text) if "\\" in text else text


def _checked_iri(iri: str) -> str:
    """``iri``, if it is absolute and has no character that canonical N-Quads could not
    write verbatim; otherwise :class:`ValueError`."""
    if _IRI_FORBIDDEN.search(iri):
        raise ValueError(f"IRI <{iri}> contains a character not allowed in an IRI")
    if not _IRI_SCHEME.match(iri):
        raise ValueError(f"IRI <{iri}> is not absolute")
    return iri


def _term_at(line: str, position: int) -> tuple[Term | None, int, int]:
    """The term starting at ``position`` or after whitespace there, with where it starts and
    ends; ``(None, start, start)`` if no term starts there."""
    start = _after_whitespace(line, position)
    match = _TERM.match(line, start)
    if match is None:
        return None, start, start
    groups = match.groupdict()
    if groups["iri"] is not None:
        term = Term(IRI, _checked_iri(_unescape(groups["iri"])))
    elif groups["bnode"] is not None:
        term = Term(BLANK_NODE, groups["bnode"])
    elif groups["language"] is not None:
        term = Term(LITERAL, _unescape(groups["lexical"]), RDF_LANGSTRING, groups["language"])
    elif groups["datatype"] is not None:
        term = Term(LITERAL, _unescape(groups["lexical"]), _checked_iri(_unescape(groups["datatype"])))
    else:
        term = Term(LITERAL, _unescape(groups["lexical"]), XSD_STRING)
    return term, start, match.end()


def _parse_statement(line: str) -> Quad | None:
    """The quad on ``line``, or ``None`` for a blank or comment-only line.

    :raises ValueError: the line is not a valid N-Quads statement.
    """
    first = _after_whitespace(line)
    if first == len(line) or line[first] == "#":
        return None
    subject, start, end = _term_at(line, first)
    if subject is None or subject.kind is LITERAL:
        raise ValueError(f"expected an IRI or blank node as subject at column {start + 1}")
    predicate, start, end = _term_at(line, end)
    if predicate is None or predicate.kind is not IRI:
        raise ValueError(f"expected an IRI as predicate at column {start + 1}")
    object_, start, end = _term_at(line, end)
    if object_ is None:
        raise ValueError(f"expected an IRI, blank node or literal as object at column {start + 1}")
    graph, start, after_graph = _term_at(line, end)
    if graph is not None:
        if graph.kind is LITERAL:
            raise ValueError(f"expected an IRI or blank node as graph name at column {start + 1}")
        end = after_graph
    dot = _DOT.match(line, end)
    if dot is None:
        column = _after_whitespace(line, end) + 1
        raise ValueError(f"expected '.' ending the statement at column {column}")
    if _TRAILER.fullmatch(line, dot.end()) is None:
        column = _after_whitespace(line, dot.end()) + 1
        raise ValueError(f"unexpected text after the end of the statement at column {column}")
    return Quad(subject, predicate, object_, graph)


def parse_nquads(text: str) -> list[Quad]:
    """Parse RDF 1.1 N-Quads (comments, blank lines and escapes included) into quads.

    Escapes are decoded, so terms hold the characters they denote. IRIs must be absolute and,
    once decoded, free of characters an IRIREF forbids (so that their canonical, unescaped
    form is unambiguous).

    :raises CanonicalizationError: malformed input; the message names the line number.
    """
    quads: list[Quad] = []
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        try:
            quad = _parse_statement(line)
        except ValueError as error:
            raise CanonicalizationError(f"invalid N-Quads on line {number}: {error}") from None
        if quad is not None:
            quads.append(quad)
    return quads


# --------------------------------------------------------------------------------------------
# pyld datasets
# --------------------------------------------------------------------------------------------


def _term_from_pyld(node: Mapping[str, Any]) -> Term:
    """A :class:`Term` from one of pyld's ``{"type", "value", ...}`` dicts."""
    if not isinstance(node, Mapping):  # pyld leaves None for a list item it could not convert
        raise ValueError(f"a term is missing ({node!r}): pyld could not convert it to RDF")
    kind = node["type"]
    value = node["value"]
    if kind == "IRI":
        return Term(IRI, _checked_iri(value))
    if kind == "blank node":
        return Term(BLANK_NODE, value[2:] if value.startswith("_:") else value)
    if kind != "literal":
        raise ValueError(f"unknown RDF term type {kind!r}")
    language = node.get("language")
    if language:
        if not _LANGUAGE_TAG.fullmatch(language):
            raise ValueError(f"invalid language tag {language!r}")
        return Term(LITERAL, value, RDF_LANGSTRING, language)
    return Term(LITERAL, value, _checked_iri(node.get("datatype") or XSD_STRING))


def from_pyld_dataset(dataset: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[Quad]:
    """Convert the dataset of pyld's ``jsonld.to_rdf(document, options)`` into quads.

    ``dataset`` maps a graph name (an IRI, ``_:label``, or ``"@default"`` for the default
    graph) to triples ``{"subject": ..., "predicate": ..., "object": ...}`` whose terms are
    dicts with ``type`` (``"IRI"``, ``"blank node"`` or ``"literal"``), ``value`` and, for
    literals, ``datatype`` and possibly ``language``.

    :raises CanonicalizationError: a term that is not valid RDF (a blank node predicate of
        generalized RDF, an IRI with forbidden characters, a bad language tag...).
    """
    quads: list[Quad] = []
    for graph_name, triples in dataset.items():
        try:
            if graph_name == "@default":
                graph = None
            elif graph_name.startswith("_:"):
                graph = Term(BLANK_NODE, graph_name[2:])
            else:
                graph = Term(IRI, _checked_iri(graph_name))
            for triple in triples:
                predicate = triple["predicate"]
                if predicate["type"] != "IRI":
                    raise ValueError(f"predicate {predicate['value']!r} is not an IRI")
                quads.append(
                    Quad(
                        _term_from_pyld(triple["subject"]),
                        Term(IRI, _checked_iri(predicate["value"])),
                        _term_from_pyld(triple["object"]),
                        graph,
                    )
                )
        except ValueError as error:
            raise CanonicalizationError(f"invalid RDF in graph {graph_name!r}: {error}") from None
    return quads


# --------------------------------------------------------------------------------------------
# RDFC-1.0
# --------------------------------------------------------------------------------------------

# An internal quad: the serialized subject, predicate, object and graph name ("" = default graph).
_Components = tuple[str, str, str, str]


class _IdentifierIssuer:
    """Issues ``prefix0``, ``prefix1``... to blank node identifiers, remembering the order."""

    __slots__ = ("prefix", "issued")

    def __init__(self, prefix: str, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = {} if issued is None else issued

    def issue(self, existing: str) -> str:
        """The identifier issued for ``existing``, issuing a new one if there is none yet."""
        issued = self.issued.get(existing)
        if issued is None:
            issued = self.issued[existing] = f"{self.prefix}{len(self.issued)}"
        return issued

    def copy(self) -> _IdentifierIssuer:
        """An independent issuer that has issued the same identifiers."""
        return _IdentifierIssuer(self.prefix, self.issued.copy())


def _is_blank(component: str) -> bool:
    """Whether a serialized component is a blank node (``_:label``)."""
    return component[:2] == "_:"


_DEFERRING: ContextVar[int | None] = ContextVar("tradevc_rdfc_deferring", default=None)


class WorkDeferred(BaseException):
    """A canonicalization within :class:`deferring_work` needed more work than allowed there:
    do it again outside (with the whole budget), where it may take longer."""


class deferring_work:  # noqa: N801 - used as a function, ``with deferring_work(64):``
    """Within the block, a canonicalization that would spend more than ``units`` units of work
    (less than its own budget) raises :class:`WorkDeferred` instead of going on."""

    __slots__ = ("_token", "_units")

    def __init__(self, units: int) -> None:
        if units < 0:
            raise ValueError("units must not be negative")
        self._units = units

    def __enter__(self) -> None:
        self._token = _DEFERRING.set(self._units)

    def __exit__(self, *exc: object) -> None:
        _DEFERRING.reset(self._token)


def work_deferred_here() -> bool:
    """Whether a :class:`deferring_work` block is in force: a caller about to do slow work
    of another kind (the general JSON-LD path) raises :class:`WorkDeferred` too."""
    return _DEFERRING.get() is not None


class _Canonicalizer:
    """The state of one run of the RDFC-1.0 canonicalization algorithm.

    Blank nodes are identified by their serialized form ``_:label`` throughout.
    """

    def __init__(self, quads: Iterable[_Components], hash_algorithm: str, max_work: int | None) -> None:
        key = hash_algorithm.lower().replace("-", "")
        if key not in _HASH_ALGORITHMS:
            raise UnsupportedError(f"unsupported RDFC-1.0 hash algorithm {hash_algorithm!r}; use sha256 or sha384")
        if max_work is not None and max_work < 0:
            raise ValueError("max_work must not be negative")
        self._hash_function = _HASH_ALGORITHMS[key]
        self._work_left = DEFAULT_MAX_WORK if max_work is None else max_work
        deferring = _DEFERRING.get()
        self._deferring = deferring is not None and deferring < self._work_left
        if self._deferring:
            self._work_left = deferring  # type: ignore[assignment]  # not None: checked above
        # The dataset is a set: duplicate statements are dropped (input order kept).
        self.quads: list[_Components] = list(dict.fromkeys(quads))
        self.quads_of: dict[str, list[_Components]] = {}
        for quad in self.quads:
            subject, _, object_, graph = quad
            for component in (subject, object_, graph):
                if _is_blank(component):
                    related = self.quads_of.setdefault(component, [])
                    if not related or related[-1] is not quad:
                        related.append(quad)
        self.canonical_issuer = _IdentifierIssuer("c14n")
        self._first_degree_hashes: dict[str, str] = {}
        self._relations: dict[str, list[tuple[str, str]]] = {}
        self._hashes: dict[str, str] = {}

    def _hash(self, data: str) -> str:
        """The hex digest of ``data`` (UTF-8) with the chosen hash algorithm."""
        return self._hash_function(data.encode("utf-8")).hexdigest()

    def _spend_work(self) -> None:
        """Count one unit of work; refuse the dataset when the budget is exhausted."""
        self._work_left -= 1
        if self._work_left < 0:
            if self._deferring:
                raise WorkDeferred("more RDFC-1.0 work than allowed here")
            raise CanonicalizationError(
                "the RDFC-1.0 canonicalization work limit was exceeded: the dataset may be a "
                "poison graph (blank nodes that cannot be told apart without an exponential search)"
            )

    def run(self) -> tuple[str, dict[str, str]]:
        """Canonical N-Quads and the issued identifiers map (``_:label`` -> ``c14nN``)."""
        canonical_issuer = self.canonical_issuer
        bnodes_by_hash: dict[str, list[str]] = {}
        for bnode in self.quads_of:
            bnodes_by_hash.setdefault(self._hash_first_degree_quads(bnode), []).append(bnode)

        shared_hashes: list[str] = []
        for first_degree_hash in sorted(bnodes_by_hash):
            bnodes = bnodes_by_hash[first_degree_hash]
            if len(bnodes) == 1:
                canonical_issuer.issue(bnodes[0])
            else:
                shared_hashes.append(first_degree_hash)

        for first_degree_hash in shared_hashes:
            results: list[tuple[str, _IdentifierIssuer]] = []
            for bnode in bnodes_by_hash[first_degree_hash]:
                if bnode in canonical_issuer.issued:
                    continue
                temporary_issuer = _IdentifierIssuer("b")
                temporary_issuer.issue(bnode)
                results.append(self._hash_n_degree_quads(bnode, temporary_issuer))
            results.sort(key=lambda result: result[0])
            for _, issuer in results:
                for existing in issuer.issued:
                    canonical_issuer.issue(existing)

        issued = canonical_issuer.issued
        lines = sorted(
            _line([f"_:{issued[c]}" if _is_blank(c) else c for c in quad])
            for quad in self.quads
        )
        return "".join(lines), issued

    def _hash_first_degree_quads(self, bnode: str) -> str:
        """Hash First Degree Quads: the hash of the quads mentioning ``bnode``, with it
        written ``_:a`` and every other blank node ``_:z``."""
        first_degree_hash = self._first_degree_hashes.get(bnode)
        if first_degree_hash is None:
            lines = sorted(
                _line([("_:a" if c == bnode else "_:z") if _is_blank(c) else c for c in quad])
                for quad in self.quads_of[bnode]
            )
            first_degree_hash = self._first_degree_hashes[bnode] = self._hash("".join(lines))
        return first_degree_hash

    def _relations_of(self, identifier: str) -> list[tuple[str, str]]:
        """The blank nodes related to ``identifier`` by its quads, each with its position
        prefix: ``s<predicate>`` or ``o<predicate>`` (subject or object) or ``g`` (graph name)."""
        relations = self._relations.get(identifier)
        if relations is None:
            relations = self._relations[identifier] = [
                (f"{position}{predicate}" if position != "g" else "g", component)
                for subject, predicate, object_, graph in self.quads_of[identifier]
                for position, component in (("s", subject), ("o", object_), ("g", graph))
                if component != identifier and _is_blank(component)
            ]
        return relations

    def _hash_related_blank_node(self, related: str, prefix: str, issuer: _IdentifierIssuer) -> str:
        """Hash Related Blank Node: the hash of ``prefix`` (position and predicate) followed by
        ``related``'s canonical or issued identifier, or else its first-degree hash."""
        identifier = self.canonical_issuer.issued.get(related) or issuer.issued.get(related)
        reference = f"_:{identifier}" if identifier else self._hash_first_degree_quads(related)
        data = f"{prefix}{reference}"
        related_hash = self._hashes.get(data)
        if related_hash is None:
            related_hash = self._hashes[data] = self._hash(data)
        return related_hash

    def _hash_n_degree_quads(
        self, identifier: str, issuer: _IdentifierIssuer
    ) -> tuple[str, _IdentifierIssuer]:
        """Hash N-Degree Quads: a hash of ``identifier``'s neighbourhood that tells apart blank
        nodes with equal first-degree hashes, and the issuer that produced it."""
        self._spend_work()
        canonical_issued = self.canonical_issuer.issued
        related_by_hash: dict[str, list[str]] = {}
        for prefix, related in self._relations_of(identifier):
            related_hash = self._hash_related_blank_node(related, prefix, issuer)
            related_by_hash.setdefault(related_hash, []).append(related)

        data_to_hash: list[str] = []
        for related_hash in sorted(related_by_hash):
            data_to_hash.append(related_hash)
            chosen_path = ""
            chosen_issuer = issuer
            for permutation in itertools.permutations(related_by_hash[related_hash]):
                self._spend_work()
                issuer_copy = issuer.copy()
                path = ""
                recursion_list: list[str] = []
                for related in permutation:
                    canonical = canonical_issued.get(related)
                    if canonical is not None:
                        path += f"_:{canonical}"
                    else:
                        if related not in issuer_copy.issued:
                            recursion_list.append(related)
                        path += f"_:{issuer_copy.issue(related)}"
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        break
                else:
                    for related in recursion_list:
                        result_hash, result_issuer = self._hash_n_degree_quads(related, issuer_copy)
                        path += f"_:{issuer_copy.issue(related)}<{result_hash}>"
                        issuer_copy = result_issuer
                        if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                            break
                    else:
                        if not chosen_path or path < chosen_path:
                            chosen_path, chosen_issuer = path, issuer_copy
            data_to_hash.append(chosen_path)
            issuer = chosen_issuer
        return self._hash("".join(data_to_hash)), issuer


def _canonicalize_components(
    quads: Iterable[_Components], hash_algorithm: str, max_work: int | None
) -> tuple[str, dict[str, str]]:
    """Run RDFC-1.0 over internal quads; the map's keys are labels without ``_:``."""
    canonicalizer = _Canonicalizer(quads, hash_algorithm, max_work)
    try:
        nquads, issued = canonicalizer.run()
    except RecursionError:
        if canonicalizer._deferring:  # outside, it is refused with the whole budget's wording
            raise WorkDeferred("blank nodes nested too deeply to canonicalize here") from None
        raise CanonicalizationError(
            "the RDFC-1.0 canonicalization work limit was exceeded: blank nodes are nested too "
            "deeply (the dataset may be a poison graph)"
        ) from None
    return nquads, {bnode[2:]: label for bnode, label in issued.items()}


def canonicalize_quads(
    quads: Iterable[Quad], *, hash_algorithm: str = "sha256", max_work: int | None = None
) -> str:
    """Canonicalize a dataset given as quads (duplicates allowed) with RDFC-1.0.

    :param hash_algorithm: ``"sha256"`` (the default) or ``"sha384"``; case and hyphens are
        ignored (``"SHA-384"`` works).
    :param max_work: the work budget (see the module documentation); ``None`` for
        :data:`DEFAULT_MAX_WORK`.
    :returns: the canonical N-Quads, each line ending in ``"\\n"``, sorted in code point order.
    :raises UnsupportedError: another hash algorithm.
    :raises CanonicalizationError: the work limit was exceeded (a likely poison graph).
    """
    return _canonicalize_components(map(_components, quads), hash_algorithm, max_work)[0]


def canonicalize_with_map(
    nquads: str, *, hash_algorithm: str = "sha256", max_work: int | None = None
) -> tuple[str, dict[str, str]]:
    """Like :func:`canonicalize`, and also return the issued identifiers map: each input
    blank node label (without ``_:``) to its canonical label (``c14n0``, ``c14n1``...)."""
    return _canonicalize_components(map(_components, parse_nquads(nquads)), hash_algorithm, max_work)


def canonicalize(nquads: str, *, hash_algorithm: str = "sha256", max_work: int | None = None) -> str:
    """Parse N-Quads and return their RDFC-1.0 canonical form.

    :raises CanonicalizationError: malformed N-Quads, or the work limit was exceeded.
    :raises UnsupportedError: a hash algorithm other than sha256 or sha384.
    """
    return canonicalize_with_map(nquads, hash_algorithm=hash_algorithm, max_work=max_work)[0]
