"""The supply path (chain of custody) behind an entry's documents, walked upstream and checked.

A credential may point to the credentials it derives from: a pipe mill's mill test report or
a transformation event lists its inputs in ``relatedResource`` (each with its id and a
``digestSRI`` or ``digestMultibase``), and a transformation event's ``consumedProducts`` name
the credential each heat or lot comes from (``sourceCredential``). :func:`walk_supply_path`
starts from the credentials an entry line relies on and follows those links upstream through
the credentials the verifier holds (the presentation's, a local store), bounded in depth and
size. It fetches nothing.

For every node it:

* verifies the credential with the caller's ``verify`` (``Verifier.verify_credential``: proof,
  status, validity, schema, issuer trust); a node that is not verified is
  ``UNVERIFIABLE_NODE``;
* checks the digest the downstream credential gives for it: over the credential's RFC 8785
  (JCS) form, a ``vc+jwt``'s token, or the exact bytes held (see
  :mod:`tradevc.vc.checks.supply`); a mismatch is ``DIGEST_MISMATCH`` and the walk does not
  go beyond it. Of several credentials held under one id, the one whose digest matches is
  taken (a substitute under the same id does not hide the original);
* checks the mass balance of each transformation event: the outputs weigh no more than the
  inputs times ``1 + yieldTolerance`` (the tolerance the event declares, at most
  ``max_yield_tolerance``), after conversion to kilograms
  (:func:`tradevc.vc.checks.supply.to_kg`, exact), and no heat or lot is consumed (or
  restated) beyond the weight its own credential gives for it, summed over the whole path;
* takes origin facts from where they were created: the melt country of a heat is the
  ``originalCountryOfMeltAndPour`` of the most upstream mill test report that names the heat
  (the melt shop's), never a later finishing step's. A report's product that names its
  ``sourceCredential``, or whose heat a credential upstream names, restates the heat: it is
  never taken as the heat's origin, and restating it with another country is
  ``ORIGIN_CONFLICT``. (A finishing mill's report that names neither, and whose links are
  all missing, cannot be told from a melt shop's: the entry rules should also check that the
  origin's issuer is trusted to issue mill test reports for melting.)

Breaks are :class:`Finding` objects, never exceptions:

=================  ===========================================================================
``MISSING_LINK``   a credential (or a heat or lot in it) that a node derives from is not held
``UNPINNED_LINK``  a link without a digest (``sourceCredential`` not listed in relatedResource)
``DIGEST_MISMATCH`` the held credential does not have the digest the link gives
``UNVERIFIABLE_NODE`` ``verify`` did not verify it (or it could not be read)
``MALFORMED_NODE`` a weight, unit or digest in it that cannot be read
``MASS_IMBALANCE`` outputs beyond inputs, a heat or lot used beyond its weight, or a declared
                   tolerance beyond the verifier's limit
``ORIGIN_CONFLICT`` a heat restated with another melt country than its melt shop's
``CYCLE``          a credential that derives, through others, from itself
``TOO_DEEP``       a link beyond ``max_depth`` (not followed)
``TOO_LARGE``      more than ``max_nodes`` credentials (the walk stops)
=================  ===========================================================================

Heats are keyed ``"<melt shop DID> <heat number>"`` (:func:`heat_key`; a DID has no space, so
the key splits at its first space). :meth:`SupplyPath.heats_for` gives the heats upstream of
one credential, following the heat numbers each step names (an event that consumed heats H1
and H2 of a report that lists H1, H2 and H3 leads to H1 and H2 only). Heats are only taken
from credentials that were verified and whose every link matched its digest.

Note: :func:`tradevc.vc.checks.supply.to_kg` is the supply path's unit conversion (a credential's
four weight codes only); the ledger's ``to_kg`` also reads the words people write. Both, and the
entry declaration, take their factors from one table,
:data:`tradevc.vc.checks.supply.KG_PER_UNIT`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradevc.vc.checks.supply import (
    Item,
    Reference,
    SupplyFacts,
    digest_matches,
    read_supply_facts,
    upstream_references,
)
from tradevc.vc.errors import VcError
from tradevc.vc.jsontext import loads
from tradevc.vc.report import VerificationResult
from tradevc.vc.securing.jws import parse_compact_jws

__all__ = [
    "FINDING_CODES",
    "Heat",
    "Node",
    "Finding",
    "SupplyPath",
    "heat_key",
    "walk_supply_path",
]

MISSING_LINK = "MISSING_LINK"
UNPINNED_LINK = "UNPINNED_LINK"
DIGEST_MISMATCH = "DIGEST_MISMATCH"
UNVERIFIABLE_NODE = "UNVERIFIABLE_NODE"
MALFORMED_NODE = "MALFORMED_NODE"
MASS_IMBALANCE = "MASS_IMBALANCE"
ORIGIN_CONFLICT = "ORIGIN_CONFLICT"
CYCLE = "CYCLE"
TOO_DEEP = "TOO_DEEP"
TOO_LARGE = "TOO_LARGE"
FINDING_CODES = (
    MISSING_LINK, UNPINNED_LINK, DIGEST_MISMATCH, UNVERIFIABLE_NODE, MALFORMED_NODE, MASS_IMBALANCE,
    ORIGIN_CONFLICT, CYCLE, TOO_DEEP, TOO_LARGE,
)
"""Every finding code, in the order of the module docstring's table."""

DEFAULT_MAX_YIELD_TOLERANCE = Decimal("0.05")


def heat_key(issuer: str, number: str) -> str:
    """The key of a heat in :attr:`SupplyPath.heats`: the melt shop's DID, a space, the heat number."""
    return f"{issuer} {number}"


@dataclass(frozen=True)
class Heat:
    """A heat as its melt shop's mill test report gives it."""

    number: str
    melt_country: str
    """Where the steel was first made liquid and cast (from the ORIGINAL mill test report)."""
    weight_kg: Decimal | None
    credential_id: str
    """The mill test report it comes from."""
    issuer: str
    """The melt shop's DID."""

    @property
    def key(self) -> str:
        return heat_key(self.issuer, self.number)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "number": self.number, "meltCountry": self.melt_country,
            "weightKg": None if self.weight_kg is None else str(self.weight_kg),
            "credentialId": self.credential_id, "issuer": self.issuer,
        }


@dataclass(frozen=True)
class Node:
    """One credential of the path."""

    credential_id: str
    types: tuple[str, ...]
    issuer: str
    verified: bool
    """``verify`` verified it."""
    country: str | None
    """For an event, the facility's country; for a mill test report, the manufacturer's."""
    depth: int = 0
    """Links from the nearest start credential (0 for a start)."""
    kind: str = "other"
    """``mill-test-report``, ``transformation-event`` or ``other``."""
    linked: bool = True
    """Every link to it that gives a digest matched it."""
    name: str | None = None
    """The mill's (a report's ``manufacturer``) or the facility operator's (an event's
    ``organization``) name, as the credential gives it: for drawing the path, not for trust."""
    issued: str | None = None
    """An event's ``eventTime``, else the credential's ``validFrom`` (or ``issuanceDate``)."""

    @property
    def trusted(self) -> bool:
        """Verified, and the credential its downstream links pinned: its facts are taken."""
        return self.verified and self.linked

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.credential_id, "types": list(self.types), "issuer": self.issuer, "verified": self.verified,
            "linked": self.linked, "country": self.country, "depth": self.depth, "kind": self.kind,
            "name": self.name, "issued": self.issued,
        }


@dataclass(frozen=True)
class Finding:
    """A break in the path. ``code`` is one of :data:`FINDING_CODES`; ``credential_id`` the
    credential it is about (the downstream one for a link); ``pointer`` a JSON Pointer into it."""

    code: str
    message: str
    credential_id: str | None
    pointer: str | None = None
    related: str | None = None
    """For a link (``MISSING_LINK``, ``UNPINNED_LINK``, ``DIGEST_MISMATCH``, ``TOO_DEEP``):
    the upstream credential it links to; the break is on the edge ``credential_id`` ->
    ``related``."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "credentialId": self.credential_id}
        if self.pointer is not None:
            out["pointer"] = self.pointer
        if self.related is not None:
            out["related"] = self.related
        return out


@dataclass
class SupplyPath:
    """The walked path: its nodes by credential id, its edges ``(downstream id, upstream
    id)``, every heat reached (by :func:`heat_key`) and the findings. No findings means every
    node was verified, every link held and matched, and every balance and origin fact held."""

    root_ids: list[str]
    nodes: dict[str, Node]
    edges: list[tuple[str, str]]
    heats: dict[str, Heat]
    findings: list[Finding]
    facts: dict[str, SupplyFacts] = field(default_factory=dict, repr=False)
    """What each node says (read by :func:`tradevc.vc.checks.supply.read_supply_facts`)."""
    origins: dict[str, list[str]] = field(default_factory=dict, repr=False)
    """The heat keys each mill test report is the origin of."""
    unread: list[str] = field(default_factory=list)
    """The ``available`` items that could not be read (``available[3]: not UTF-8 text``):
    not findings, since nothing on the path may need them (if something does, its link is
    ``MISSING_LINK``)."""

    @property
    def ok(self) -> bool:
        """No findings."""
        return not self.findings

    def upstream(self, credential_id: str) -> list[str]:
        """The ids of the credentials ``credential_id`` links to directly."""
        return [up for down, up in self.edges if down == credential_id]

    def upstream_of(self, credential_id: str) -> list[str]:
        """Every credential upstream of ``credential_id`` (not itself), nearest first."""
        seen: dict[str, None] = {}
        queue = deque(self.upstream(credential_id))
        while queue:
            current = queue.popleft()
            if current in seen or current == credential_id:
                continue
            seen[current] = None
            queue.extend(self.upstream(current))
        return list(seen)

    def findings_for(self, credential_id: str) -> list[Finding]:
        """The findings about ``credential_id`` and every credential upstream of it (an entry
        line's breaks), plus those about no credential in particular."""
        ids = {credential_id, *self.upstream_of(credential_id)}
        return [f for f in self.findings if f.credential_id is None or f.credential_id in ids]

    def heats_for(self, credential_id: str) -> list[Heat]:
        """The heats upstream of ``credential_id`` (its own, for a melt shop's report),
        following the heat numbers each step names; sorted by key."""
        keys = self._lineage(credential_id, None, frozenset())
        return [self.heats[k] for k in sorted(keys)]

    def _named_heats(self, credential_id: str) -> frozenset[str]:
        facts = self.facts.get(credential_id)
        if facts is None:
            return frozenset()
        items = facts.products + facts.consumed
        return frozenset(i.heat_number for i in items if i.heat_number)

    def _lineage(self, credential_id: str, want: frozenset[str] | None, stack: frozenset[str]) -> set[str]:
        if credential_id in stack:
            return set()
        found = {k for k in self.origins.get(credential_id, []) if want is None or self.heats[k].number in want}
        named = self._named_heats(credential_id)
        wanted = want if not named else (named if want is None else named & want)
        if wanted is not None and not wanted:
            return found
        node = self.nodes.get(credential_id)
        if node is None or not node.trusted:
            return found
        for up in self.upstream(credential_id):
            found |= self._lineage(up, wanted, stack | {credential_id})
        return found

    def to_dict(self) -> dict[str, Any]:
        """For JSON reports and drawing: roots, nodes (each with what it says: ``facts``),
        edges, heats and findings."""
        return {
            "roots": list(self.root_ids),
            "nodes": [dict(n.to_dict(), facts=_facts_dict(self.facts.get(n.credential_id)))
                      for n in self.nodes.values()],
            "edges": [{"from": down, "to": up} for down, up in self.edges],
            "heats": [h.to_dict() for _, h in sorted(self.heats.items())],
            "findings": [f.to_dict() for f in self.findings],
            "unread": list(self.unread),
        }


def _item_dict(item: Item) -> dict[str, Any]:
    return {
        "pointer": item.pointer, "identifier": item.identifier, "heatNumber": item.heat_number,
        "meltCountry": item.melt_country, "weightKg": None if item.weight_kg is None else str(item.weight_kg),
        "sourceCredential": item.source_credential, "commodityCode": item.commodity_code,
    }


def _facts_dict(facts: SupplyFacts | None) -> dict[str, Any]:
    """What a node says about the path: a report's products, an event's inputs and outputs."""
    if facts is None:
        return {"kind": "other"}
    out: dict[str, Any] = {"kind": facts.kind}
    if facts.kind == "mill-test-report":
        out["products"] = [_item_dict(i) for i in facts.products]
    elif facts.kind == "transformation-event":
        out.update(consumed=[_item_dict(i) for i in facts.consumed], produced=[_item_dict(i) for i in facts.produced],
                   organization=facts.organization, eventTime=facts.event_time,
                   yieldTolerance=None if facts.yield_tolerance is None else str(facts.yield_tolerance))
    return out


# -- reading what the verifier holds -------------------------------------------------------------


@dataclass
class _Held:
    """A credential as held: ``raw`` is what ``verify`` gets (the JSON object or the token as
    given), ``document`` its JSON (a token's payload), ``digest_form`` what its digest is
    computed over, ``exact`` the exact bytes given, if it came as text."""

    raw: Any
    document: dict[str, Any]
    digest_form: Mapping[str, Any] | str
    exact: bytes | None
    credential_id: str | None


class _Unreadable(Exception):
    pass


_ENVELOPE_PREFIX = "data:application/vc+jwt,"


def _open(item: Any) -> _Held:
    exact: bytes | None = None
    if isinstance(item, (bytes, bytearray)):
        exact = bytes(item)
        try:
            item = exact.decode("utf-8")
        except UnicodeDecodeError:
            raise _Unreadable("not UTF-8 text") from None
    if isinstance(item, str):
        text = item.strip()
        if exact is None:
            exact = item.encode("utf-8")
        if text.startswith("{"):
            try:
                document = loads(text)
            except VcError as e:
                raise _Unreadable(e.message) from None
            if not isinstance(document, dict):
                raise _Unreadable("not a JSON object")
            return _Held(document, document, document, exact, _id_of(document))
        token = text.removeprefix(_ENVELOPE_PREFIX)
        return _token(token, raw=item.strip(), exact=exact)
    if isinstance(item, Mapping):
        document = dict(item)
        envelope = document.get("id")
        types = document.get("type")
        if isinstance(envelope, str) and envelope.startswith(_ENVELOPE_PREFIX) and (
            types == "EnvelopedVerifiableCredential"
            or isinstance(types, list) and "EnvelopedVerifiableCredential" in types
        ):
            return _token(envelope.removeprefix(_ENVELOPE_PREFIX), raw=item, exact=None)
        return _Held(item, document, document, None, _id_of(document))
    raise _Unreadable(f"a {type(item).__name__} is not a credential (JSON, a JSON object or a vc+jwt)")


def _token(token: str, *, raw: Any, exact: bytes | None) -> _Held:
    try:
        payload = parse_compact_jws(token).payload
    except VcError as e:
        raise _Unreadable(e.message) from None
    document = payload
    if "@context" not in payload and isinstance(payload.get("vc"), dict):  # VC-JWT 1.1
        document = dict(payload["vc"])
        if "id" not in document and isinstance(payload.get("jti"), str):
            document["id"] = payload["jti"]
        if "issuer" not in document and isinstance(payload.get("iss"), str):
            document["issuer"] = payload["iss"]
    return _Held(raw, document, token, exact if exact is not None and exact.strip() == token.encode() else None,
                 _id_of(document))


def _id_of(document: Mapping[str, Any]) -> str | None:
    value = document.get("id")
    return value if isinstance(value, str) and value else None


def _issuer_of(document: Mapping[str, Any]) -> str:
    issuer = document.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else ""


def _name_of(document: Mapping[str, Any], facts: SupplyFacts) -> str | None:
    """A report's manufacturer's or an event's organization's ``name``."""
    member = {"mill-test-report": "manufacturer", "transformation-event": "organization"}.get(facts.kind)
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    party = subject.get(member) if member and isinstance(subject, Mapping) else None
    name = party.get("name") if isinstance(party, Mapping) else None
    return name if isinstance(name, str) and name.strip() else None


def _issued_of(document: Mapping[str, Any]) -> str | None:
    for member in ("validFrom", "issuanceDate"):
        value = document.get(member)
        if isinstance(value, str) and value:
            return value
    return None


def _types_of(document: Mapping[str, Any]) -> tuple[str, ...]:
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    return tuple(t for t in types if isinstance(t, str))


def _why_not(result: VerificationResult) -> str:
    bad = result.failures or result.errors
    if not bad:
        return "no check passed"
    return "; ".join(f"{c.name}: {c.code or c.outcome.value}: {c.message}" for c in bad[:3])


# -- the walk -----------------------------------------------------------------------------------


@dataclass
class _Visit:
    held: _Held
    depth: int
    verified: bool = False
    facts: SupplyFacts = field(default_factory=lambda: SupplyFacts("other"))


def walk_supply_path(
    start: Sequence[Any],
    available: Sequence[Any],
    verify: Callable[[Any], VerificationResult],
    *,
    max_depth: int = 8,
    max_nodes: int = 200,
    max_yield_tolerance: Decimal = DEFAULT_MAX_YIELD_TOLERANCE,
) -> SupplyPath:
    """Walk upstream from ``start`` (the credentials an entry line relies on) through
    ``available`` (every other credential the verifier holds), verifying each node with
    ``verify`` (the caller's ``Verifier.verify_credential``) and checking digests, mass
    balances and origin facts (see the module docstring). Each credential may be given as a
    JSON object, JSON text or bytes (whose exact bytes then also count for digests), a
    ``vc+jwt`` compact token, or an ``EnvelopedVerifiableCredential``. A start credential
    without an id is named ``_:start<i>``.

    Bad input never raises: it is a finding. ``verify`` is called once per node; a
    :class:`~tradevc.vc.errors.VcError` it raises counts as not verified.

    :raises ValueError: ``max_depth`` below 0, ``max_nodes`` below 1 or a negative
        ``max_yield_tolerance`` (API misuse).
    """
    if max_depth < 0 or max_nodes < 1 or max_yield_tolerance < 0:
        raise ValueError("max_depth must be >= 0, max_nodes >= 1 and max_yield_tolerance >= 0")
    path = SupplyPath(root_ids=[], nodes={}, edges=[], heats={}, findings=[])
    findings = path.findings
    index: dict[str, list[_Held]] = {}
    for i, item in enumerate(available):
        try:
            held = _open(item)
        except _Unreadable as e:
            path.unread.append(f"available[{i}]: {e}")
            continue
        if held.credential_id is not None:
            index.setdefault(held.credential_id, []).append(held)

    visits: dict[str, _Visit] = {}
    queue: deque[tuple[str, _Held, int]] = deque()
    for i, item in enumerate(start):
        try:
            held = _open(item)
        except _Unreadable as e:
            findings.append(Finding(UNVERIFIABLE_NODE, f"start[{i}] cannot be read: {e}", None))
            continue
        cid = held.credential_id or f"_:start{i}"
        if cid not in path.root_ids:
            path.root_ids.append(cid)
            queue.append((cid, held, 0))
            index.setdefault(cid, []).insert(0, held)

    mismatched: set[str] = set()
    edges: dict[tuple[str, str], None] = {}
    while queue:
        cid, held, depth = queue.popleft()
        if cid in visits:
            continue
        if len(visits) >= max_nodes:
            findings.append(Finding(
                TOO_LARGE, f"the supply path has more than {max_nodes} credentials; the walk stopped before {cid}",
                None,  # about the whole path: every line's findings include it
            ))
            break
        visit = visits[cid] = _Visit(held, depth)
        visit.verified = _verify(cid, held, verify, findings)
        visit.facts = read_supply_facts(held.document)
        for problem in visit.facts.problems:
            pointer, _, message = problem.partition(": ")
            findings.append(Finding(MALFORMED_NODE, message, cid, pointer))
        if cid in mismatched:  # not the credential its downstream link meant: listed, not walked beyond
            continue
        references, problems = upstream_references(held.document, facts=visit.facts)
        for problem in problems:
            pointer, _, message = problem.partition(": ")
            findings.append(Finding(MALFORMED_NODE, message, cid, pointer))
        for ref in references:
            chosen = _follow(cid, ref, index, findings, mismatched, depth=depth, max_depth=max_depth)
            if chosen is None:
                continue
            edges[(cid, ref.credential_id)] = None
            if ref.credential_id not in visits:
                queue.append((ref.credential_id, chosen, depth + 1))

    path.edges = list(edges)
    for cid, visit in visits.items():
        document = visit.held.document
        path.nodes[cid] = Node(
            credential_id=cid, types=_types_of(document), issuer=_issuer_of(document), verified=visit.verified,
            country=visit.facts.country, depth=visit.depth, kind=visit.facts.kind, linked=cid not in mismatched,
            name=_name_of(document, visit.facts), issued=visit.facts.event_time or _issued_of(document),
        )
        path.facts[cid] = visit.facts
    path.edges = [(d, u) for d, u in path.edges if u in path.nodes]
    _find_cycles(path)
    _check_mass_balance(path, max_yield_tolerance)
    _take_heats(path)
    return path


def _verify(cid: str, held: _Held, verify: Callable[[Any], VerificationResult], findings: list[Finding]) -> bool:
    try:
        result = verify(held.raw)
    except VcError as e:
        findings.append(Finding(UNVERIFIABLE_NODE, f"{cid} could not be verified: {e.code}: {e.message}", cid))
        return False
    if result.verified:
        return True
    findings.append(Finding(UNVERIFIABLE_NODE, f"{cid} is not verified: {_why_not(result)}", cid))
    return False


def _follow(
    cid: str, ref: Reference, index: Mapping[str, list[_Held]], findings: list[Finding], mismatched: set[str],
    *, depth: int, max_depth: int,
) -> _Held | None:
    """The held credential ``ref`` links to (the one whose digest matches, if several), with
    the findings of the link; None if it is not followed."""
    if depth + 1 > max_depth:
        if ref.declared or ref.credential_id in index:  # (not an image or a document)
            findings.append(Finding(
                TOO_DEEP, f"{cid} links to {ref.credential_id} beyond the depth limit ({max_depth}); not followed",
                cid, ref.pointer, ref.credential_id,
            ))
        return None
    candidates = index.get(ref.credential_id, [])
    if not candidates and not ref.declared:
        return None  # a related resource that may not be a credential (an image...): the pipeline's
    if not candidates:
        findings.append(Finding(
            MISSING_LINK, f"{cid} derives from {ref.credential_id}, which the verifier does not hold", cid, ref.pointer,
            ref.credential_id,
        ))
        return None
    if not ref.digests:
        findings.append(Finding(
            UNPINNED_LINK,
            f"{cid} names {ref.credential_id} without a digest (list it in relatedResource with digestSRI or "
            "digestMultibase): any credential with that id would do",
            cid, ref.pointer, ref.credential_id,
        ))
        return candidates[0]
    for held in candidates:
        if digest_matches(ref.digests, held.digest_form, exact=held.exact):
            return held
    findings.append(Finding(
        DIGEST_MISMATCH,
        f"{ref.credential_id} as held does not have the digest {cid} gives for it "
        f"({', '.join(d.written for d in ref.digests)}): it is not the credential {cid} derives from",
        cid, ref.pointer, ref.credential_id,
    ))
    mismatched.add(ref.credential_id)
    return candidates[0]


def _find_cycles(path: SupplyPath) -> None:
    graph: dict[str, list[str]] = {}
    for down, up in path.edges:
        graph.setdefault(down, []).append(up)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    reported: set[tuple[str, str]] = set()
    for root in list(path.nodes):
        if state.get(root):
            continue
        stack: list[tuple[str, Iterable[str]]] = [(root, iter(graph.get(root, [])))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(iter(children), None)
            if child is None:
                state[node] = 2
                stack.pop()
                continue
            if state.get(child) == 1:
                if (node, child) not in reported:
                    reported.add((node, child))
                    path.findings.append(Finding(
                        CYCLE, f"{node} derives from {child}, which derives (through others) from {node}", node,
                    ))
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(graph.get(child, []))))


def _source_item(facts: SupplyFacts | None, item: Item) -> Item | None:
    """The item of the source credential that ``item`` (consumed or restated) refers to: the
    report's product of the same heat (and identifier, if both give one), or the event's
    output of the same identifier (or heat)."""
    if facts is None:
        return None
    pool = facts.products if facts.kind == "mill-test-report" else facts.produced
    for candidate in pool:
        if item.heat_number and candidate.heat_number == item.heat_number:
            if not (item.identifier and candidate.identifier and facts.kind == "transformation-event"
                    and candidate.identifier != item.identifier):
                return candidate
        if item.identifier and candidate.identifier == item.identifier and (
            not item.heat_number or not candidate.heat_number or candidate.heat_number == item.heat_number
        ):
            return candidate
    return None


def _check_mass_balance(path: SupplyPath, limit: Decimal) -> None:
    use: dict[tuple[str, str], tuple[Item, Decimal, list[str], Decimal]] = {}
    for cid, facts in path.facts.items():
        tolerance = Decimal(0)
        if facts.kind == "transformation-event":
            tolerance = facts.yield_tolerance or Decimal(0)
            if tolerance > limit:
                path.findings.append(Finding(
                    MASS_IMBALANCE,
                    f"{cid} declares a yield tolerance of {tolerance}, beyond the verifier's limit {limit}; "
                    f"checked with {limit}",
                    cid, "/credentialSubject/yieldTolerance",
                ))
                tolerance = limit
            weights_in = [i.weight_kg for i in facts.consumed if i.weight_kg is not None]
            weights_out = [i.weight_kg for i in facts.produced if i.weight_kg is not None]
            if len(weights_in) < len(facts.consumed) or len(weights_out) < len(facts.produced) or not weights_in:
                path.findings.append(Finding(
                    MASS_IMBALANCE, f"{cid}: the mass balance cannot be checked: an input or output has no weight", cid,
                ))
            else:
                inputs = sum(weights_in, Decimal(0))
                outputs = sum(weights_out, Decimal(0))
                if outputs > inputs * (1 + tolerance):
                    path.findings.append(Finding(
                        MASS_IMBALANCE,
                        f"{cid}: the outputs weigh {outputs} kg, more than the {inputs} kg of inputs "
                        f"(yield tolerance {tolerance}): outputs cannot exceed inputs",
                        cid, "/credentialSubject/newProducts",
                    ))
        # what each step takes from its sources: an event's inputs, a report's restated products
        for item in facts.consumed + facts.products:
            source = item.source_credential
            if source is None or source not in path.nodes or (cid, source) not in path.edges:
                continue
            found = _source_item(path.facts.get(source), item)
            if found is None:
                what = f"heat {item.heat_number}" if item.heat_number else f"lot {item.identifier}"
                path.findings.append(Finding(
                    MISSING_LINK, f"{cid} takes {what} from {source}, which names no such heat or lot", cid, item.pointer,
                    source,
                ))
                continue
            if item.weight_kg is None or found.weight_kg is None:
                continue
            key = (source, found.pointer)
            taken, users, tol = (use[key][1], use[key][2], use[key][3]) if key in use else (Decimal(0), [], Decimal(0))
            use[key] = (found, taken + item.weight_kg, users + [cid], max(tol, tolerance))
    for (source, pointer), (found, taken, users, tolerance) in use.items():
        if found.weight_kg is not None and taken > found.weight_kg * (1 + tolerance):
            what = f"heat {found.heat_number}" if found.heat_number else f"lot {found.identifier}"
            path.findings.append(Finding(
                MASS_IMBALANCE,
                f"{what} of {source} weighs {found.weight_kg} kg, but {taken} kg of it is used by "
                f"{', '.join(sorted(set(users)))}",
                source, pointer,
            ))


def _take_heats(path: SupplyPath) -> None:
    """The origin of each heat is the most upstream report naming it; restatements are checked."""
    named_upstream: dict[str, frozenset[str]] = {}

    def upstream_names(cid: str) -> frozenset[str]:
        if cid not in named_upstream:
            names: set[str] = set()
            for up in path.upstream_of(cid):
                names |= path._named_heats(up)
            named_upstream[cid] = frozenset(names)
        return named_upstream[cid]

    restated: list[tuple[str, Item]] = []
    for cid, facts in path.facts.items():
        if facts.kind != "mill-test-report":
            continue
        node = path.nodes[cid]
        for item in facts.products:
            if not item.heat_number:
                continue
            if item.source_credential or item.heat_number in upstream_names(cid):
                restated.append((cid, item))  # from another report or event: not where the heat was made
                continue
            if not node.trusted:
                continue
            if not item.melt_country:
                path.findings.append(Finding(
                    MALFORMED_NODE, f"heat {item.heat_number} has no originalCountryOfMeltAndPour", cid, item.pointer,
                ))
                continue
            heat = Heat(item.heat_number, item.melt_country, item.weight_kg, cid, node.issuer)
            known = path.heats.get(heat.key)
            if known is None:
                path.heats[heat.key] = heat
                path.origins.setdefault(cid, []).append(heat.key)
            elif known.melt_country != heat.melt_country:
                path.findings.append(Finding(
                    ORIGIN_CONFLICT,
                    f"heat {heat.number} of {heat.issuer} is melted and poured in {known.melt_country} according to "
                    f"{known.credential_id} but in {heat.melt_country} according to {cid}",
                    cid, item.pointer,
                ))
    for cid, item in restated:
        if not item.heat_number:
            continue
        origins = sorted(path._lineage(cid, frozenset({item.heat_number}), frozenset()))
        if not origins and path.nodes[cid].trusted and not path.findings_for(cid):
            path.findings.append(Finding(
                MISSING_LINK,
                f"{cid} restates heat {item.heat_number}, but no mill test report upstream of it says where the heat "
                "was made",
                cid, item.pointer,
            ))
        if not item.melt_country:
            continue
        for key in origins:
            origin = path.heats[key]
            if origin.melt_country != item.melt_country:
                path.findings.append(Finding(
                    ORIGIN_CONFLICT,
                    f"{cid} restates heat {item.heat_number} as melted and poured in {item.melt_country}, but its "
                    f"melt shop's report {origin.credential_id} says {origin.melt_country}: the country of melt and "
                    "pour is the melt shop's",
                    cid, item.pointer,
                ))
