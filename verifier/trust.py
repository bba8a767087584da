"""Trust paths: from a credential's issuer, through verified vouching credentials, to a root.

Customs cannot list every mill. A path-aware trust policy names *roots* (registrars,
accreditation bodies, licensing authorities; rights holders through their recorded marks)
and what each may vouch for; the verifier then looks, for each credential's issuer, for a
path of verified, unrevoked, in-date vouches (identity anchors, accreditations, licences, IP
authorisations: read by :mod:`tradevc.vc.checks.vouches`) up to a root, and the
``issuer_trust`` check shows that path, or why there is none.

Policy file (a superset of today's :class:`~tradevc.vc.checks.policy.TrustPolicy` files,
which keep working unchanged; :func:`load_policy` returns a plain ``TrustPolicy`` for them)::

    {"trustedIssuers": [{"did": ..., "name": ..., "types": [...]}],   # direct trust (path of length 1)
     "roots": [{"did": "did:web:registry.example", "name": "Registro Nacional de Empresas",
                "vouches": ["anchor"],          # kinds it may issue: anchor | accreditation | licence | ip
                "types": ["MillTestReportCredential"],   # the most its vouchees may issue (required)
                "schemes": ["MID"],             # anchors: identifier schemes it registers (optional)
                "goods": ["72", "73"], "territories": ["MX"], "prefixes": ["0614"],  # optional bounds
                "maxDepth": 1}],                # vouch links allowed below it (default 1)
     "recordedMarks": [{"mark": "ACME", "recordation": "TMK 21-00123",
                        "rightsHolder": "did:web:acme.example", "goods": ["8471"], "territories": ["US"]}],
     "anchors": ["anchors/", "mill-anchor.json", {...an inline credential...}],   # the local trust store
     "limits": {"maxPathLength": 4, "maxCandidates": 32, "cacheSeconds": 300}}

Rules. A party is trusted with scope S if it is a root (S = the root's scope: its ``types``
and bounds) or a verified vouch V names it as subject, V's issuer I is trusted with S_I on a
path whose root may issue V's kind, and S = S_I narrowed by V's scope. A licence or IP
authorisation that extends a parent (``extendsCredential``) must be issued by the parent's
subject (the licensee), the parent must itself be on a valid path, and the child's scope must
lie within the parent's; one that extends nothing must come from a root (for ``ip``: the
recorded rights holder, whose scope is its mark and the recordation's goods). Anchors under a
root with ``schemes`` must name identifiers of those schemes only. A path has at most
``maxPathLength`` credentials (the credential itself included: direct trust is 1, an anchored
issuer 2) and at most the root's ``maxDepth`` vouches; each party's candidates are bounded by
``maxCandidates``. A credential is trusted if its issuer has a path whose scope, in force at
the time of verification, allows its types (besides ``VerifiableCredential``) and, where the
scope bounds goods, the HS codes it names (:func:`goods_codes`; naming none is then refused).
A vouching credential is judged as a vouch (a link of a path), and refused if it also claims
other credential types. IP authorisations never make an issuer trusted for credentials; they
answer :meth:`TrustPaths.check_mark`.

A vouch is used only if its whole verification passed (proof, validity, status), done by the
verifier's own pipeline (:class:`~tradevc.verifier.Verifier` wires it in), with its issuer
judged by the path itself. Vouches come with the presentation, from the party's DID document
(a ``LinkedVerifiablePresentation`` service whose endpoint serves a presentation or a credential
holding its vouches, fetched with the verifier's HTTPS fetcher: network guard, limits,
mirrors; one search fetches at most :data:`MAX_LINKED_FETCHES` of them, each source once), or
from the policy's local store (``anchors``).

Report (``issuer_trust``; the code stays ``UNTRUSTED_ISSUER`` on failure, and the outcome is
*error*, could not verify, when no path was found and some vouch could not be checked):
``data["trustPath"]`` on success, ``{"issuer", "length", "steps": [...], "root": {...}}``;
each step (from the issuer upwards) is ``{"party", "name", "identifiers", "kind", "scope",
"vouch": {"id", "type", "issuer", "status", "validUntil", "from", "warnings"?}}`` (``warnings``: those of
the vouch's verification, e.g. a stale status list allowed), and the root is
``{"did", "name", "types", "vouches", "scope", "source"}``. On failure ``data["reasons"]`` is
a list of ``{"code", "party", "message", "vouch"?, "causes"?}`` and ``data["codes"]`` every
code found in them, from :data:`REASONS`.

Paths are cached per issuer until the earliest ``validUntil`` of their vouches, or the time
their status was checked plus ``cacheSeconds`` (a revoked anchor is noticed once its status
list is fetched again).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

from tradevc.vc.checks.policy import CHECK, TrustedIssuer, TrustPolicy, VerificationPolicy
from tradevc.vc.checks.vouches import (
    VOUCH_TYPES, Scope, Vouch, VouchError, hs_code, mark_key, read_vouch, vouch_kind,
)
from tradevc.vc.errors import InvalidDocument, NotUtf8Error
from tradevc.vc.jsontext import DEFAULT_LIMITS, decode_text, escape_hidden, loads
from tradevc.vc.model import Credential, is_url
from tradevc.vc.report import CheckResult, Outcome, VerificationResult
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.retrieval.http import HttpsFetcher
from tradevc.vc.retrieval.recording import active as recording_evidence, note as record_evidence
from tradevc.vc.securing.enveloped import is_enveloped, token_from_envelope
from tradevc.vc.securing.jose import credential_of
from tradevc.vc.securing.jws import document_of_file, is_compact_jws, parse_compact_jws
from tradevc.vc.errors import VcError

__all__ = [
    "KINDS",
    "REASONS",
    "BoundTrust",
    "StoredVouch",
    "MARK_CHECK",
    "MAX_LINKED_FETCHES",
    "PathLimits",
    "RecordedMark",
    "TrustRoot",
    "TrustPathPolicy",
    "TrustPaths",
    "VouchVerifier",
    "describe_path",
    "read_trust_store",
    "goods_codes",
    "load_policy",
    "policy_from_document",
    "vouches_in",
]

KINDS = ("anchor", "accreditation", "licence", "ip")
MARK_CHECK = "mark_authorisation"

REASONS = {
    "NO_ANCHOR": "no vouch names the party (none with the presentation, in its DID document or the trust store)",
    "ANCHOR_REVOKED": "a vouch (anchor, accreditation, licence, authorisation) is revoked",
    "ANCHOR_SUSPENDED": "a vouch is suspended",
    "ANCHOR_EXPIRED": "a vouch is past its validUntil",
    "ANCHOR_NOT_YET_VALID": "a vouch is before its validFrom",
    "ANCHOR_INVALID": "a vouch does not verify (proof, structure...) or cannot be read as one",
    "ANCHOR_UNVERIFIABLE": "a vouch could not be checked (status list or DID document unreachable): could not verify",
    "WRONG_SUBJECT": "a vouch offered for the party names another subject",
    "ISSUER_NOT_TRUSTED": "a vouch's issuer is neither a root nor on a path to one (see its causes)",
    "KIND_NOT_ALLOWED": "the root does not vouch for this kind (or a licence extends another kind)",
    "SCHEME_NOT_ALLOWED": "an anchor names identifiers of schemes the root does not register",
    "SCOPE_TOO_NARROW": "the path's scope does not allow the credential's types or goods, or is not in force",
    "SCOPE_BEYOND_PARENT": "a licence or authorisation goes beyond the scope of the one it extends",
    "NOT_LICENSEE": "a licence or authorisation extends one whose subject is not its issuer",
    "PARENT_INVALID": "the licence or authorisation extended is not found, or not on a valid path",
    "PARENT_MISSING": "a licence or authorisation that extends nothing is not issued by a root",
    "CHAIN_TOO_DEEP": "the path would be longer than maxPathLength or the root's maxDepth",
    "CYCLE": "the vouches go round in a circle without reaching a root",
    "TOO_MANY_CANDIDATES": "more vouches than maxCandidates for one party (the rest were not examined)",
    "SOURCE_UNAVAILABLE": "the party's linked presentation of vouches could not be fetched: could not verify",
    "MARK_NOT_RECORDED": "the mark is not recorded in the policy",
}
"""The refusal codes in ``data["reasons"]`` (stable), and what each means."""

_BASE_TYPES = frozenset({"VerifiableCredential"})
_LVP = "LinkedVerifiablePresentation"
_LVP_ACCEPT = "application/json, application/ld+json, application/vp+jwt, application/vc+jwt, application/jwt"
_MAX_REASONS = 40
MAX_LINKED_FETCHES = 8
"""At most this many linked presentations are fetched for one search (each within the
fetcher's timeout and size limit), and each source at most once: the DID documents of the
parties on the candidate paths are the attacker's to write."""
_MAX_CACHE = 4096
_MAX_LINKED_BYTES = 64 * 1024 * 1024  # the bodies behind the cached linked presentations' vouches
_CREDENTIALS = "verifiableCredential"


# -- the policy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathLimits:
    """Bounds of the search: ``max_path_length`` credentials on a path (the credential itself
    included), ``max_candidates`` vouches examined per party, paths kept ``cache_seconds``."""

    max_path_length: int = 4
    max_candidates: int = 32
    cache_seconds: float = 300.0


@dataclass(frozen=True)
class TrustRoot:
    """A root: ``did`` may issue vouches of the kinds ``vouches``; its vouchees get at most
    ``scope`` (``types`` they may issue, goods, territories, prefixes). ``source`` says where
    it was declared (the policy file's name)."""

    did: str
    vouches: frozenset[str]
    scope: Scope
    name: str | None = None
    schemes: frozenset[str] | None = None
    max_depth: int = 1
    source: str = "the trust policy"
    mark: "RecordedMark | None" = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.did})" if self.name else self.did

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"did": self.did, "name": self.name, "vouches": sorted(self.vouches),
                               "types": sorted(self.scope.types) if self.scope.types is not None else None,
                               "scope": self.scope.describe(), "source": self.source}
        if self.mark is not None:
            out["mark"] = self.mark.mark
            out["recordation"] = self.mark.recordation
        return out


@dataclass(frozen=True)
class RecordedMark:
    """A trademark (or copyright) recorded with customs: its ``rights_holder`` is the root of
    the IP authorisations for it, within ``goods`` (HS codes) and ``territories``."""

    mark: str
    rights_holder: str
    recordation: str | None = None
    goods: frozenset[str] | None = None
    territories: frozenset[str] | None = None
    name: str | None = None


@dataclass(frozen=True)
class StoredVouch:
    """A vouching credential of the local trust store, as read, and where it came from."""

    document: Any
    origin: str


class TrustPathPolicy:
    """A trust policy with roots and paths (see the module docstring for the file format).

    It is a :class:`~tradevc.vc.checks.policy.VerificationPolicy`. Give it to a
    :class:`~tradevc.verifier.Verifier`, which checks vouches with its own resolvers, status
    lists and caches, reads DID documents' linked presentations, offers a presentation's
    vouches, and judges paths at each verification's ``now``. Used directly (a policy
    argument of :func:`~tradevc.vc.verification.verify_credential`), it judges paths at the
    system clock, whatever ``now`` the verification was given, and verifies vouches offline
    (did:key, did:jwk; a vouch with a status is could-not-verify).

    :raises ValueError: (constructor) no trusted issuer, root or recorded mark.
    """

    warning: str | None = None

    def __init__(
        self,
        *,
        trusted: Iterable[TrustedIssuer] = (),
        roots: Iterable[TrustRoot] = (),
        marks: Iterable[RecordedMark] = (),
        anchors: Iterable[StoredVouch] = (),
        limits: PathLimits = PathLimits(),
        source: str = "the trust policy",
    ) -> None:
        entries = list(trusted)
        self.flat: TrustPolicy | None = TrustPolicy(entries) if entries else None
        self.roots: tuple[TrustRoot, ...] = tuple(roots)
        self.marks: tuple[RecordedMark, ...] = tuple(marks)
        self.anchors: tuple[StoredVouch, ...] = tuple(anchors)
        self.limits = limits
        self.source = source
        self.document: dict[str, Any] | None = None
        """The policy document it was read from, without its ``anchors`` member (read into
        :attr:`anchors`), when it was read from one: what an evidence bundle records."""
        if self.flat is None and not self.roots and not self.marks:
            raise ValueError("a trust policy needs trustedIssuers, roots or recordedMarks; an empty one trusts nobody")
        implicit = [
            TrustRoot(
                did=m.rights_holder, vouches=frozenset({"ip"}),
                scope=Scope(marks=frozenset({mark_key(m.mark)}), goods=m.goods, territories=m.territories),
                name=m.name, max_depth=max(1, limits.max_path_length - 1),
                source=f"recorded mark {m.mark}{f' ({m.recordation})' if m.recordation else ''} in {source}", mark=m,
            )
            for m in self.marks
        ]
        self._roots: dict[str, list[TrustRoot]] = {}
        for root in (*self.roots, *implicit):
            self._roots.setdefault(root.did, []).append(root)
        self._default: TrustPaths | None = None
        self._lock = threading.Lock()

    def roots_of(self, did: str) -> list[TrustRoot]:
        """The root entries (declared, and those of recorded marks) for ``did``."""
        return self._roots.get(did, [])

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base: Path | None = None, source: str = "the trust policy") -> "TrustPathPolicy":
        """From a policy document (see the module docstring). Relative ``anchors`` paths are
        read from ``base`` (the policy file's folder).

        :raises ValueError: a malformed member; the message names it.
        """
        return _parse(data, base=base, source=source)

    @classmethod
    def from_file(cls, path: str | Path) -> "TrustPathPolicy":
        """:raises OSError: unreadable. :raises ValueError: bad JSON or shape."""
        path = Path(path)
        return _parse(_read_json(path), base=path.parent, source=path.name)

    def check(self, credential: Credential) -> CheckResult:
        """``issuer_trust`` at the system clock, vouches verified offline (see the class)."""
        with self._lock:
            if self._default is None:
                self._default = TrustPaths(self, verify=_offline_verify)
        return self._default.check(credential, now=datetime.now(timezone.utc))


def load_policy(path: str | Path) -> TrustPolicy | TrustPathPolicy:
    """The policy of a file: a :class:`~tradevc.vc.checks.policy.TrustPolicy` for a file with
    ``trustedIssuers`` only (today's files, read exactly as before), a
    :class:`TrustPathPolicy` for one with ``roots``, ``recordedMarks``, ``anchors`` or ``limits``.

    :raises OSError: the file cannot be read. :raises ValueError: bad JSON or a malformed
        member (the message names it).
    """
    path = Path(path)
    return policy_from_document(_read_json(path), source=path.name, base=path.parent)


def policy_from_document(
    data: Any, *, source: str = "the trust policy", base: Path | None = None,
    anchors: Sequence[tuple[str, Any]] | None = None,
) -> TrustPolicy | TrustPathPolicy:
    """The policy of a parsed policy document, as :func:`load_policy` reads it: relative
    ``anchors`` entries are read from ``base``, unless ``anchors`` gives the trust store
    already read, as ``(where it came from, credential)`` pairs (what a trust pack holds), in
    which case the document's own ``anchors`` member is not read. ``source`` names the policy
    in reports.

    :raises ValueError: a malformed member (the message names it).
    """
    if isinstance(data, Mapping) and not ({"roots", "recordedMarks", "anchors", "limits"} & set(data)):
        return TrustPolicy.from_dict(data)
    if anchors is None:
        return _parse(data, base=base, source=source)
    if not isinstance(data, Mapping):
        raise ValueError("a trust policy is a JSON object")
    held = [StoredVouch(document, f"trust store {ref}") for ref, item in anchors for document in _credentials_of(item)]
    return _parse({k: v for k, v in data.items() if k != "anchors"}, base=None, source=source, held=held)


def _read_json(path: Path) -> Any:
    try:
        text = decode_text(path.read_bytes())  # UTF-8, with or without a byte order mark
    except NotUtf8Error as e:
        raise ValueError(e.message) from None
    try:
        return loads(text, limits=DEFAULT_LIMITS)  # I-JSON within the limits: no duplicate member, bounded nesting
    except InvalidDocument as e:
        raise ValueError(f"not JSON (I-JSON): {e.message.removeprefix('not JSON: ')}") from None


_ROOT_MEMBERS = {"did", "name", "vouches", "types", "schemes", "goods", "territories", "prefixes", "maxDepth"}
_MARK_MEMBERS = {"mark", "recordation", "rightsHolder", "goods", "territories", "name"}
_LIMIT_MEMBERS = {"maxPathLength": (2, 16), "maxCandidates": (1, 1024), "cacheSeconds": (0, 86_400)}


def _parse(data: Any, *, base: Path | None, source: str, held: Sequence[StoredVouch] = ()) -> TrustPathPolicy:
    if not isinstance(data, Mapping):
        raise ValueError("a trust policy is a JSON object")
    trusted: list[TrustedIssuer] = []
    if data.get("trustedIssuers") not in (None, [], {}):
        flat = TrustPolicy.from_dict({"trustedIssuers": data["trustedIssuers"]})
        trusted = [e for e in (flat.issuer(d) for d in _flat_dids(data["trustedIssuers"])) if e is not None]
    limits = _limits(data.get("limits"))
    roots = [_root(item, i, limits, source) for i, item in enumerate(_list(data, "roots"))]
    marks = [_mark(item, i) for i, item in enumerate(_list(data, "recordedMarks"))]
    anchors: list[StoredVouch] = list(held)
    for i, item in enumerate(_list(data, "anchors")):
        anchors.extend(_stored(item, f"anchors[{i}]", base))
    policy = TrustPathPolicy(trusted=trusted, roots=roots, marks=marks, anchors=anchors, limits=limits, source=source)
    policy.document = {k: v for k, v in data.items() if k != "anchors"}
    return policy


def _flat_dids(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [str(d) for d in value]
    return [str(item.get("did")) for item in value if isinstance(item, Mapping)]


def _list(data: Mapping[str, Any], member: str) -> list[Any]:
    value = data.get(member, [])
    if not isinstance(value, list):
        raise ValueError(f"{member}: must be a list")
    return value


def _limits(value: Any) -> PathLimits:
    if value is None:
        return PathLimits()
    if not isinstance(value, Mapping):
        raise ValueError("limits: must be an object with maxPathLength, maxCandidates, cacheSeconds")
    unknown = sorted(set(value) - set(_LIMIT_MEMBERS))
    if unknown:
        raise ValueError(f"limits.{unknown[0]}: unknown member (known: {', '.join(_LIMIT_MEMBERS)})")
    numbers: dict[str, float] = {}
    for name, (low, high) in _LIMIT_MEMBERS.items():
        if name not in value:
            continue
        number = value[name]
        integer = name != "cacheSeconds"
        if isinstance(number, bool) or not isinstance(number, int if integer else (int, float)) or not low <= number <= high:
            raise ValueError(f"limits.{name}: must be {'an integer' if integer else 'a number'} from {low} to {high}")
        numbers[name] = number
    default = PathLimits()
    return PathLimits(
        max_path_length=int(numbers.get("maxPathLength", default.max_path_length)),
        max_candidates=int(numbers.get("maxCandidates", default.max_candidates)),
        cache_seconds=float(numbers.get("cacheSeconds", default.cache_seconds)),
    )


def _strings(item: Mapping[str, Any], member: str, where: str, *, pattern: Callable[[str], bool] | None = None,
             required: bool = False) -> frozenset[str] | None:
    if member not in item:
        if required:
            raise ValueError(f"{where}.{member}: required (a non-empty list of strings)")
        return None
    value = item[member]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}.{member}: must be a non-empty list of non-empty strings")
    if pattern is not None:
        bad = [v for v in value if not pattern(v)]
        if bad:
            raise ValueError(f"{where}.{member}: {bad[0]!r} is not a valid value")
    return frozenset(value)


def _is_hs(value: str) -> bool:
    code = hs_code(value)
    return 2 <= len(code) <= 10 and code.isdigit()


def _is_country(value: str) -> bool:
    return len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()


def _is_prefix(value: str) -> bool:
    return value.isdigit() and len(value) <= 13


def _did(item: Mapping[str, Any], member: str, where: str) -> str:
    value = item.get(member)
    if not isinstance(value, str) or not value.startswith("did:") or not is_url(value):
        raise ValueError(f"{where}.{member}: must be a DID")
    return value


def _root(item: Any, i: int, limits: PathLimits, source: str) -> TrustRoot:
    where = f"roots[{i}]"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: must be an object with did, vouches and types")
    unknown = sorted(set(item) - _ROOT_MEMBERS)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown member")
    did = _did(item, "did", where)
    kinds = _strings(item, "vouches", where, required=True)
    assert kinds is not None
    bad = sorted(kinds - set(KINDS))
    if bad:
        raise ValueError(f"{where}.vouches: unknown kind {bad[0]!r} (kinds: {', '.join(KINDS)})")
    types = _strings(item, "types", where, required=True)
    name = item.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"{where}.name: must be a string")
    depth = item.get("maxDepth", 1)
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth < limits.max_path_length:
        raise ValueError(f"{where}.maxDepth: must be an integer from 1 to {limits.max_path_length - 1} (maxPathLength - 1)")
    scope = Scope(
        types=types, goods=_strings(item, "goods", where, pattern=_is_hs),
        territories=_strings(item, "territories", where, pattern=_is_country),
        prefixes=_strings(item, "prefixes", where, pattern=_is_prefix),
    )
    return TrustRoot(did=did, vouches=kinds, scope=scope, name=name, schemes=_strings(item, "schemes", where),
                     max_depth=depth, source=source)


def _mark(item: Any, i: int) -> RecordedMark:
    where = f"recordedMarks[{i}]"
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: must be an object with mark and rightsHolder")
    unknown = sorted(set(item) - _MARK_MEMBERS)
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown member")
    mark = item.get("mark")
    if not isinstance(mark, str) or not mark.strip():
        raise ValueError(f"{where}.mark: must be a non-empty string")
    for member in ("recordation", "name"):
        if item.get(member) is not None and not isinstance(item.get(member), str):
            raise ValueError(f"{where}.{member}: must be a string")
    return RecordedMark(
        mark=mark, rights_holder=_did(item, "rightsHolder", where), recordation=item.get("recordation"),
        goods=_strings(item, "goods", where, pattern=_is_hs),
        territories=_strings(item, "territories", where, pattern=_is_country), name=item.get("name"),
    )


def read_trust_store(data: Mapping[str, Any], base: Path | None) -> list[tuple[str, Any]]:
    """The policy document's ``anchors`` (its local trust store) read, files and folders
    relative to ``base``: ``(where it came from, credential)`` pairs, as
    :func:`policy_from_document` takes them (a trust pack carries them so).

    :raises ValueError: ``anchors`` is not a list, or an entry cannot be read (the message
        names it)."""
    items = data.get("anchors", [])
    if not isinstance(items, list):
        raise ValueError("anchors: must be a list of files, folders or credentials")
    return [
        (v.origin.removeprefix("trust store ").strip(), v.document)
        for i, item in enumerate(items) for v in _stored(item, f"anchors[{i}]", base)
    ]


def _stored(item: Any, where: str, base: Path | None) -> list[StoredVouch]:
    """The trust store entry ``item``: an inline credential (an object, or a compact JWS
    string), or a file or folder (``*.json``, ``*.jwt``) relative to ``base``; a file may hold
    a credential, a token, a presentation or a list of credentials."""
    if isinstance(item, Mapping):
        return [StoredVouch(d, f"trust store ({where}, inline)") for d in _credentials_of(item)]
    if not isinstance(item, str) or not item:
        raise ValueError(f"{where}: must be a file or folder name, or an inline credential")
    if is_compact_jws(item):
        return [StoredVouch(item, f"trust store ({where}, inline)")]
    path = Path(item)
    if not path.is_absolute():
        if base is None:
            raise ValueError(f"{where}: {item!r} is relative, but the policy was not read from a file")
        path = base / path
    files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".jwt") and p.is_file()) if path.is_dir() else [path]
    found: list[StoredVouch] = []
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as e:
            raise ValueError(f"{where}: cannot read {item if file == path else file.name}: {e.strerror}") from None
        try:
            document = document_of_file(data, limits=DEFAULT_LIMITS)
        except InvalidDocument as e:
            raise ValueError(f"{where}: {file.name}: {e.message}") from None
        name = f"trust store {item}" if file == path else f"trust store {item.rstrip('/')}/{file.name}"
        found.extend(StoredVouch(d, name) for d in _credentials_of(document))
    return found


def _credentials_of(document: Any) -> list[Any]:
    """The credentials a document holds, unverified: itself, a presentation's
    ``verifiableCredential`` (JSON, a ``vp+jwt`` or an enveloped one), or a list."""
    if isinstance(document, list):
        return [d for item in document for d in _credentials_of(item)]
    if isinstance(document, str) or is_enveloped(document, "EnvelopedVerifiablePresentation"):
        try:
            token = document if isinstance(document, str) else token_from_envelope(document, "EnvelopedVerifiablePresentation")
            payload = parse_compact_jws(token).payload
        except (InvalidDocument, TypeError):
            return [document] if isinstance(document, str) else []
        vp = payload.get("vp")
        inner: Mapping[str, Any] = vp if isinstance(vp, Mapping) else payload
        if _has_type(inner, "VerifiablePresentation"):
            return _as_list(inner.get(_CREDENTIALS))
        return [document]
    if isinstance(document, Mapping) and _has_type(document, "VerifiablePresentation"):
        return _as_list(document.get(_CREDENTIALS))
    return [document] if isinstance(document, Mapping) else []


def _has_type(document: Any, name: str) -> bool:
    if not isinstance(document, Mapping):
        return False
    types = document.get("type")
    return types == name or (isinstance(types, list) and name in types)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def vouches_in(presentation: Any) -> list[Any]:
    """The credentials of a presentation (JSON, ``vp+jwt``, enveloped) that are of a vouch
    type, unverified: what the verifier offers the path finder (each is verified before use)."""
    return [d for d in _credentials_of(presentation) if _peek(d) is not None and not _has_type(d, "VerifiablePresentation")]


# -- reading a candidate without verifying it --------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    document: Any
    origin: str
    subject: str
    id: str | None
    digest: str


def _peek(document: Any) -> Mapping[str, Any] | None:
    """The credential JSON of ``document`` if it is of a vouch type (unverified), else None."""
    try:
        credential: Any = document if isinstance(document, Mapping) and not is_enveloped(
            document, "EnvelopedVerifiableCredential") else credential_of(document)
    except (InvalidDocument, TypeError, VcError):
        return None
    if not isinstance(credential, Mapping):
        return None
    types = credential.get("type")
    if vouch_kind(types if isinstance(types, list) else [types] if isinstance(types, str) else []) is None:
        return None
    return credential


def _digest(document: Any) -> str:
    data = document.encode("utf-8") if isinstance(document, str) else orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()


def _candidate(document: Any, origin: str) -> _Candidate | None:
    credential = _peek(document)
    if credential is None:
        return None
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if not isinstance(subject, Mapping):
        return None
    party = subject.get("id")
    if not isinstance(party, str):
        identity = subject.get("identity")
        party = identity.get("id") if isinstance(identity, Mapping) else None
    if not isinstance(party, str):
        return None
    cid = credential.get("id")
    try:
        digest = _digest(document)
    except (TypeError, ValueError):  # beyond 64 bits, nested too deep, a lone surrogate: not I-JSON, cannot verify
        return None
    return _Candidate(document, origin, party, cid if isinstance(cid, str) else None, digest)


# -- goods ---------------------------------------------------------------------------------------


def goods_codes(subject: Any) -> list[str]:
    """The HS/HTS codes a trade credential's ``credentialSubject`` names: a USMCA
    certification's ``goods[].commodityCode``, a mill test report's
    ``product[].commodity.commodityCode``, a SIMA licence's
    ``productInformation[].product.commodity.commodityCode``, an invoice's
    ``itemsShipped[].product.commodity.commodityCode``, a transformation event's
    ``consumedProducts[].commodity.commodityCode`` and ``newProducts[].commodity.commodityCode``."""
    codes: list[str] = []
    for entry in _as_list(subject):
        if not isinstance(entry, Mapping):
            continue
        for goods in _as_list(entry.get("goods")):
            _code(goods, codes)
        for holder in ("product", "consumedProducts", "newProducts"):
            for product in _as_list(entry.get(holder)):
                _commodity(product, codes)
        for holder in ("productInformation", "itemsShipped"):
            for item in _as_list(entry.get(holder)):
                if isinstance(item, Mapping):
                    for product in _as_list(item.get("product")):
                        _commodity(product, codes)
    return codes


def _commodity(product: Any, codes: list[str]) -> None:
    if isinstance(product, Mapping):
        for commodity in _as_list(product.get("commodity")):
            _code(commodity, codes)


def _code(node: Any, codes: list[str]) -> None:
    if isinstance(node, Mapping) and isinstance(node.get("commodityCode"), str):
        codes.append(node["commodityCode"])


# -- verifying vouches ---------------------------------------------------------------------------


VouchVerifier = Callable[[Any, VerificationPolicy, datetime], VerificationResult]
"""``(document, policy, now) -> report``: the verifier's pipeline (its loader, resolvers,
status checker, limits) for one vouching credential, under the policy given (which the path
finder supplies: it passes ``issuer_trust`` and keeps the credential read)."""


def _offline_verify(document: Any, policy: VerificationPolicy, now: datetime) -> VerificationResult:
    from tradevc.vc.verification import verify_credential

    return verify_credential(document, policy=policy, now=now)


class _Keep:
    """The policy a vouch is verified under: its issuer is judged by the path; the credential
    as parsed is kept for reading."""

    warning: str | None = None

    def __init__(self) -> None:
        self.credential: Credential | None = None

    def check(self, credential: Credential) -> CheckResult:
        self.credential = credential
        return CheckResult.passed(CHECK, "judged by the trust path")


@dataclass(frozen=True)
class _Checked:
    """A candidate verified: ``vouch`` if usable, else ``code`` and ``message``."""

    candidate: _Candidate
    vouch: Vouch | None
    code: str | None
    message: str
    error: bool
    status: str
    checked_at: datetime
    expires: datetime
    warnings: tuple[str, ...] = ()
    """The warnings of the vouch's verification (a stale status list allowed, a tolerated
    pre-Recommendation form): a path through it carries them."""


@dataclass(frozen=True)
class _Link:
    vouch: Vouch
    checked: _Checked


@dataclass(frozen=True)
class _Path:
    root: TrustRoot
    links: tuple[_Link, ...]  # from the root down: links[0] is issued by the root, links[-1] names the party
    scope: Scope

    @property
    def kinds(self) -> set[str]:
        return {link.vouch.kind for link in self.links}


@dataclass
class _Reason:
    code: str
    party: str
    message: str
    vouch: str | None = None
    error: bool = False
    causes: list["_Reason"] = field(default_factory=list)

    def to_dict(self, depth: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "party": self.party, "message": self.message}
        if self.vouch:
            out["vouch"] = self.vouch
        if self.causes and depth < 6:
            out["causes"] = [c.to_dict(depth + 1) for c in self.causes[:_MAX_REASONS]]
        return out

    def codes(self) -> set[str]:
        found = {self.code}
        for cause in self.causes:
            found |= cause.codes()
        return found

    def any_error(self) -> bool:
        return self.error or any(c.any_error() for c in self.causes)


@dataclass
class _Trust:
    """What was found for one party: its paths, or the reasons there are none."""

    paths: list[_Path]
    reasons: list[_Reason]
    computed_at: datetime
    expires: datetime
    data: dict[int, dict[str, Any]] = field(default_factory=dict)


# -- the path finder -----------------------------------------------------------------------------


class TrustPaths:
    """Finds and caches trust paths for one verifier: ``verify`` checks a vouching credential
    (the verifier's pipeline), ``resolvers`` read DID documents and ``fetcher`` their linked
    presentations (without them, only the presentation's vouches and the trust store are used).
    Thread-safe; caches are bounded."""

    def __init__(
        self,
        policy: TrustPathPolicy,
        *,
        verify: VouchVerifier,
        resolvers: DidResolvers | None = None,
        fetcher: HttpsFetcher | None = None,
    ) -> None:
        self.policy = policy
        self.limits = policy.limits
        self._verify = verify
        self._resolvers = resolvers
        self._fetcher = fetcher
        self._ttl = timedelta(seconds=policy.limits.cache_seconds)
        self._store: dict[str, list[_Candidate]] = {}
        self._by_id: dict[str, _Candidate] = {}
        for stored in policy.anchors:
            candidate = _candidate(stored.document, stored.origin)
            if candidate is not None:
                self._store.setdefault(candidate.subject, []).append(candidate)
                if candidate.id:
                    self._by_id.setdefault(candidate.id, candidate)
        self._checked: dict[str, _Checked] = {}
        self._trust: dict[tuple[str, tuple[str, ...]], _Trust] = {}
        self._linked: dict[str, tuple[datetime, list[_Candidate], list[_Reason], int]] = {}
        self._linked_bytes = 0  # the size of the bodies they were read from
        self._lock = threading.Lock()
        self.fetches = 0
        """Linked presentations fetched so far (for tests and monitoring)."""

    def clear_cache(self) -> None:
        with self._lock:
            self._checked.clear()
            self._trust.clear()
            self._linked.clear()
            self._linked_bytes = 0

    def bound(self, now: datetime, offered: Sequence[Any] = ()) -> "BoundTrust":
        """The policy for one verification at ``now``, with the vouches ``offered`` (those of
        the presentation being verified)."""
        return BoundTrust(self, now, self._offered(offered))

    def _offered(self, documents: Sequence[Any]) -> tuple[_Candidate, ...]:
        found: list[_Candidate] = []
        for document in documents:
            candidate = _candidate(document, "presentation")
            if candidate is not None:
                found.append(candidate)
        return tuple(found)

    # -- the checks ------------------------------------------------------------------------

    def check(self, credential: Credential, *, now: datetime, offered: Sequence[Any] = ()) -> CheckResult:
        """``issuer_trust`` for ``credential`` at ``now``."""
        return self._check(credential, now, self._offered(offered))

    def _check(self, credential: Credential, now: datetime, offered: tuple[_Candidate, ...],
               checked: dict[str, "_Checked"] | None = None) -> CheckResult:
        """``checked``: the vouches checked so far in this verification (see :class:`BoundTrust`)."""
        issuer = credential.issuer_id
        types = set(credential.types) - _BASE_TYPES
        flat = self.policy.flat.issuer(issuer) if self.policy.flat is not None else None
        if flat is not None and types <= flat.types:
            return CheckResult.passed(
                CHECK, f"{flat.label} is trusted for {', '.join(sorted(types)) or 'VerifiableCredential'} "
                f"(trustedIssuers in {self.policy.source})",
                data={"trustPath": {"issuer": issuer, "length": 1, "steps": [], "root": {
                    "did": issuer, "name": flat.name, "types": sorted(flat.types), "vouches": [], "scope": None,
                    "source": self.policy.source, "direct": True}}},
            )
        if vouch_kind(types) is not None:
            others = types - VOUCH_TYPES
            if others:  # judged as a vouch only, its other types would pass unchecked
                return self._refused(issuer, [_Reason(
                    "ANCHOR_INVALID", issuer, f"a vouching credential that is also a {', '.join(sorted(others))}: "
                    "a vouch gives no right to issue other credentials (issue them separately)")],
                    f"issuer {issuer} is not trusted for it")
            return self._check_vouch(credential, now, offered, checked)
        trust = self._trust_of(issuer, now, offered, checked)
        goods = goods_codes(credential.credentialSubject)
        refusals: list[_Reason] = []
        for index, path in enumerate(trust.paths):
            if path.root.mark is not None or "ip" in path.kinds:  # marks authorise goods, not credentials
                continue
            scope = path.scope
            if not scope.in_force(now):
                refusals.append(_Reason("SCOPE_TOO_NARROW", issuer, f"the path through {path.root.label} is not in "
                                        f"force at {_iso(now)} ({_period(scope)})"))
            elif not scope.allows_types(types):
                extra = sorted(types - (scope.types or frozenset()))
                refusals.append(_Reason("SCOPE_TOO_NARROW", issuer, f"the path through {path.root.label} allows "
                                        f"{_names(scope.types)}, not {', '.join(extra)}"))
            elif scope.goods is not None and not goods:  # a bound on goods is no bound on what names none
                refusals.append(_Reason("SCOPE_TOO_NARROW", issuer, f"the path through {path.root.label} allows "
                                        f"goods {_names(scope.goods)} only, and the credential names no HS code "
                                        "(commodityCode) where goods_codes reads them"))
            elif goods and not scope.allows_goods(goods):
                outside = sorted({g for g in goods if not scope.allows_goods([g])})
                refusals.append(_Reason("SCOPE_TOO_NARROW", issuer, f"the path through {path.root.label} allows "
                                        f"goods {_names(scope.goods)}, not {', '.join(outside)}"))
            else:
                data = trust.data.get(index)
                if data is None:
                    data = trust.data[index] = _path_data(issuer, path)
                return CheckResult.passed(CHECK, _path_message(issuer, path), data={"trustPath": data})
        return self._refused(issuer, refusals + trust.reasons, f"issuer {issuer} has no trust path")

    def _refused(self, party: str, reasons: list[_Reason], head: str, *, name: str = CHECK,
                 code: str = "UNTRUSTED_ISSUER") -> CheckResult:
        if not reasons:
            reasons = [_Reason("NO_ANCHOR", party, f"{party} is not a root and no vouch names it")]
        codes: set[str] = set()
        for reason in reasons:
            codes |= reason.codes()
        data = {"reasons": [r.to_dict() for r in reasons[:_MAX_REASONS]], "codes": sorted(codes)}
        message = _shown(f"{head}: " + "; ".join(_explain(r) for r in reasons[:4]) + ("; ..." if len(reasons) > 4 else ""))
        if any(r.any_error() for r in reasons):
            return CheckResult.error(name, code, message, data=data)
        return CheckResult.failed(name, code, message, data=data)

    def _check_vouch(self, credential: Credential, now: datetime, offered: tuple[_Candidate, ...],
                     checked_so_far: dict[str, "_Checked"] | None = None) -> CheckResult:
        """A vouching credential verified as a credential (in a presentation): its issuer must
        be allowed to issue it, i.e. it must be a link of a path to a root."""
        document = credential.model_dump(by_alias=True, exclude_none=True)
        candidate = _candidate(document, "presentation")
        try:
            vouch = read_vouch(document)
        except VouchError as e:
            return CheckResult.failed(CHECK, "UNTRUSTED_ISSUER", f"not a readable vouch: {e}",
                                      data={"reasons": [], "codes": ["ANCHOR_INVALID"]})
        if candidate is None or vouch is None:
            return CheckResult.failed(CHECK, "UNTRUSTED_ISSUER", "not a readable vouch", data={"codes": ["ANCHOR_INVALID"]})
        checked = _Checked(candidate, vouch, None, "verified", False, "verified with this presentation", now,
                           now + self._ttl)
        search = _Search(self, now, offered, checked_so_far)
        found, reasons = search.link(checked, 0, frozenset({vouch.subject}))
        paths = [p for p in found if p.scope.in_force(now)]  # as for any credential: every link in force now
        reasons += [_Reason("SCOPE_TOO_NARROW", vouch.subject, f"the path through {p.root.label} is not in force "
                            f"at {_iso(now)} ({_period(p.scope)})") for p in found if p not in paths]
        if paths:
            path = paths[0]
            return CheckResult.passed(
                CHECK, _shown(f"{'an' if vouch.kind[0] in 'aeiou' else 'a'} {vouch.kind} by {vouch.issuer} on a path to "
                              f"{path.root.label} (root in {path.root.source})"),
                data={"trustPath": _path_data(vouch.subject, path)},
            )
        return self._refused(vouch.issuer, reasons, f"{vouch.issuer} may not vouch for {vouch.subject} ({vouch.kind})")

    def check_mark(
        self, mark: str, party: str, hs: str, country: str, *, now: datetime, offered: Sequence[Any] = (),
    ) -> CheckResult:
        """``mark_authorisation``: goods bearing ``mark`` (HS code ``hs``, imported into
        ``country``) from ``party`` come with an authorisation chain from the recorded rights
        holder: passed with the chain in ``data["trustPath"]``, or failed
        (``UNAUTHORISED_MARK``) with the reasons."""
        key = mark_key(mark)
        recorded = [m for m in self.policy.marks if mark_key(m.mark) == key]
        if not recorded:
            return CheckResult.failed(MARK_CHECK, "UNAUTHORISED_MARK", f"the mark {mark!r} is not recorded in "
                                      f"{self.policy.source}", data={"reasons": [], "codes": ["MARK_NOT_RECORDED"]})
        holders = {m.rights_holder for m in recorded}
        if party in holders:
            return CheckResult.passed(MARK_CHECK, f"{party} is the recorded rights holder of {mark}",
                                      data={"trustPath": {"issuer": party, "length": 1, "steps": [], "root": next(
                                          r.to_dict() for r in self.policy.roots_of(party) if r.mark in recorded)}})
        trust = self._trust_of(party, now, self._offered(offered))
        refusals: list[_Reason] = []
        for path in trust.paths:
            if path.root.mark not in recorded or path.kinds != {"ip"}:
                continue
            scope = path.scope
            problems = []
            if not scope.allows_marks([mark]):
                problems.append(f"marks {_names(scope.marks)}")
            if not scope.allows_goods([hs]):
                problems.append(f"goods {_names(scope.goods)}, not {hs}")
            if not scope.allows_territory(country):
                problems.append(f"territories {_names(scope.territories)}, not {country}")
            if not scope.in_force(now):
                problems.append(f"not in force at {_iso(now)} ({_period(scope)})")
            if problems:
                refusals.append(_Reason("SCOPE_TOO_NARROW", party, f"the authorisation from {path.root.label} "
                                        f"allows {'; '.join(problems)}"))
                continue
            return CheckResult.passed(MARK_CHECK, f"{party} may import {mark} goods ({hs}) into {country}: "
                                      + _path_message(party, path), data={"trustPath": _path_data(party, path)})
        return self._refused(party, refusals + trust.reasons,
                             f"no authorisation of {party} for {mark} from {', '.join(sorted(holders))}",
                             name=MARK_CHECK, code="UNAUTHORISED_MARK")

    def anchor_paths(self, party: str, *, now: datetime, offered: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The trust paths of ``party`` that end in an identity anchor naming it (verified,
        in force at ``now``, its issuer on a path to a root that may anchor its identifiers'
        schemes), as ``issuer_trust`` reports them (``steps[0]`` is that anchor, with its
        ``identifiers``); none if ``party`` has none. ``offered``: vouches besides the trust
        store and the party's DID document (a presentation's)."""
        trust = self._trust_of(party, now, self._offered(offered))
        return [_path_data(party, path) for path in trust.paths
                if path.links and path.links[-1].vouch.kind == "anchor" and path.scope.in_force(now)]

    # -- finding and caching ---------------------------------------------------------------

    def _trust_of(self, party: str, now: datetime, offered: tuple[_Candidate, ...],
                  checked: dict[str, "_Checked"] | None = None) -> _Trust:
        key = (party, tuple(sorted(c.digest for c in offered)))
        # a verification recorded for evidence finds its paths afresh, so that every vouch and
        # DID document they rest on is recorded (the DID resolvers record their cached copies)
        cached = None if recording_evidence() else self._trust.get(key)
        if cached is not None and cached.computed_at <= now < cached.expires:
            return cached
        search = _Search(self, now, offered, checked)
        paths, reasons = search.paths(party, 0, frozenset())
        expires = min([now + self._ttl, *search.expiries])
        trust = _Trust(paths, reasons, now, expires)
        if not any(r.any_error() for r in reasons) or paths:
            with self._lock:
                if len(self._trust) >= _MAX_CACHE:
                    self._trust.clear()
                self._trust[key] = trust
        return trust

    def _candidates(self, party: str, offered: tuple[_Candidate, ...]) -> list[_Candidate]:
        seen: set[str] = set()
        found: list[_Candidate] = []
        for candidate in (*[c for c in offered if c.subject == party], *self._store.get(party, ())):
            if candidate.digest not in seen:
                seen.add(candidate.digest)
                found.append(candidate)
        return found

    def _find_id(self, credential_id: str, offered: tuple[_Candidate, ...]) -> _Candidate | None:
        for candidate in offered:
            if candidate.id == credential_id:
                return candidate
        hit = self._by_id.get(credential_id)
        if hit is not None:
            return hit
        with self._lock:
            linked = list(self._linked.values())
        for _, candidates, _, _ in linked:
            for candidate in candidates:
                if candidate.id == credential_id:
                    return candidate
        return None

    def _linked_of(self, party: str, now: datetime, budget: list[int]) -> tuple[list[_Candidate], list[_Reason]]:
        """The vouches of ``party``'s DID document's LinkedVerifiablePresentation services,
        fetching at most ``budget[0]`` of them (and counting them off)."""
        if self._resolvers is None or self._fetcher is None:
            return [], []
        with self._lock:
            hit = None if recording_evidence() else self._linked.get(party)
        if hit is not None and hit[0] <= now < hit[0] + self._ttl:
            return hit[1], hit[2]
        candidates: list[_Candidate] = []
        reasons: list[_Reason] = []
        size = 0
        try:
            document = self._resolvers.resolve(party)
        except VcError as e:
            return [], [_Reason("SOURCE_UNAVAILABLE", party, f"its DID document could not be read: {e.message}",
                                error=True)]
        complete = True
        for url in _linked_urls(document):
            if budget[0] <= 0:
                reasons.append(_Reason("TOO_MANY_CANDIDATES", party, f"{url}: not fetched: the search already "
                                       f"fetched {MAX_LINKED_FETCHES} linked presentations, as many as it may"))
                complete = False
                break
            budget[0] -= 1
            try:
                fetched = self._fetcher.fetch(url, what="linked presentation", accept=_LVP_ACCEPT)
                record_evidence("vouch", url, fetched.body, fetched.media_type)
                self.fetches += 1
                from tradevc.vc.verification.pipeline import read_fetched

                body = read_fetched(fetched, what="linked presentation")
                size += len(fetched.body)
            except VcError as e:
                reasons.append(_Reason("SOURCE_UNAVAILABLE", party, f"{url}: {e.message}", error=True))
                continue
            for item in _credentials_of(body):
                candidate = _candidate(item, f"DID document service {url}")
                if candidate is None:
                    continue
                if candidate.subject != party:
                    reasons.append(_Reason("WRONG_SUBJECT", party, f"{url} serves a vouch for {candidate.subject}, "
                                           f"not for {party}", vouch=candidate.id))
                    continue
                candidates.append(candidate)
        if complete and not any(r.error for r in reasons):
            with self._lock:
                if len(self._linked) >= _MAX_CACHE or self._linked_bytes + size > _MAX_LINKED_BYTES:
                    self._linked.clear()  # bounded in entries and in the bytes they hold, like the others
                    self._linked_bytes = 0
                previous = self._linked.get(party)
                self._linked_bytes += size - (previous[3] if previous is not None else 0)
                self._linked[party] = (now, candidates, reasons, size)
        return candidates, reasons

    def _check_candidate(self, candidate: _Candidate, now: datetime) -> _Checked:
        cached = None if recording_evidence() else self._checked.get(candidate.digest)
        if cached is not None and cached.checked_at <= now < cached.expires:
            return cached if cached.candidate.origin == candidate.origin else _Checked(
                candidate, cached.vouch, cached.code, cached.message, cached.error, cached.status,
                cached.checked_at, cached.expires, cached.warnings)
        keep = _Keep()
        report = self._verify(candidate.document, keep, now)
        checked = _judge(candidate, report, keep.credential, now, self._ttl)
        if not checked.error:
            with self._lock:
                if len(self._checked) >= _MAX_CACHE:
                    self._checked.clear()
                # kept without the document: it is not needed once checked, and anyone can send big ones
                self._checked[candidate.digest] = replace(checked, candidate=replace(candidate, document=None))
        return checked


def _linked_urls(document: Any) -> list[str]:
    urls: list[str] = []
    if not isinstance(document, Mapping):
        return urls
    for service in _as_list(document.get("service")):
        if not isinstance(service, Mapping):
            continue
        kinds = _as_list(service.get("type"))
        if _LVP not in kinds:
            continue
        for endpoint in _as_list(service.get("serviceEndpoint")):
            if isinstance(endpoint, str) and endpoint.startswith("https://"):
                urls.append(endpoint)
    return urls[:4]


def _judge(candidate: _Candidate, report: VerificationResult, credential: Credential | None, now: datetime,
           ttl: timedelta) -> _Checked:
    """A vouch's verification report, as a usable link or a refusal with its code."""
    label = candidate.id or "a vouch"
    expires = now + ttl

    def refused(code: str, message: str, *, error: bool = False, status: str = "invalid") -> _Checked:
        return _Checked(candidate, None, code, f"{label} (from {candidate.origin}): {message}", error, status,
                        now, expires)

    failed = next((c for c in report.checks if c.outcome is Outcome.FAILED), None)
    if failed is not None:
        if failed.name == "revocation" or failed.code == "REVOKED":
            return refused("ANCHOR_REVOKED", f"revoked: {failed.message}", status="revoked")
        if failed.name == "suspension" or failed.code == "SUSPENDED":
            return refused("ANCHOR_SUSPENDED", f"suspended: {failed.message}", status="suspended")
        if failed.name == "validity_period":
            code = "ANCHOR_EXPIRED" if "expired" in failed.message else "ANCHOR_NOT_YET_VALID"
            if code == "ANCHOR_NOT_YET_VALID" and credential is not None:
                start = _date(credential.validFrom or credential.issuanceDate)
                if start is not None and start > now:
                    expires = min(expires, start)
            return refused(code, failed.message, status="not yet valid" if code == "ANCHOR_NOT_YET_VALID" else "expired")
        return refused("ANCHOR_INVALID", f"{failed.name}: {failed.message}")
    errored = next((c for c in report.checks if c.outcome is Outcome.ERROR), None)
    if errored is not None:
        return refused("ANCHOR_UNVERIFIABLE", f"could not be checked: {errored.name}: {errored.message}",
                       error=True, status="unknown")
    if not report.verified or credential is None:
        return refused("ANCHOR_INVALID", "did not verify")
    try:
        vouch = read_vouch(credential.model_dump(by_alias=True, exclude_none=True))
    except VouchError as e:
        return refused("ANCHOR_INVALID", f"not a readable vouch: {e}")
    if vouch is None:
        return refused("ANCHOR_INVALID", "not of a vouch type")
    if vouch.subject != candidate.subject:
        return refused("WRONG_SUBJECT", f"names {vouch.subject}, not {candidate.subject}")
    statuses = [c for c in report.checks if c.name in ("revocation", "suspension", "status")]
    status = "valid" if any(c.outcome is Outcome.PASSED for c in statuses) else "valid (no status list)"
    if vouch.scope.valid_until is not None:
        expires = min(expires, vouch.scope.valid_until)
    return _Checked(candidate, vouch, None, "verified", False, status, now, expires, tuple(report.warnings))


def _date(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


class _Search:
    """One search for paths, at ``now``, with the vouches ``offered``."""

    def __init__(self, finder: TrustPaths, now: datetime, offered: tuple[_Candidate, ...],
                 checked: dict[str, _Checked] | None = None) -> None:
        self.finder = finder
        self.now = now
        self.offered = offered
        self.limits = finder.limits
        self.budget = finder.limits.max_candidates * finder.limits.max_path_length * 2
        self.memo: dict[tuple[str, int, frozenset[str]], tuple[list[_Path], list[_Reason]]] = {}
        self.expiries: list[datetime] = []
        self.linked: dict[str, tuple[list[_Candidate], list[_Reason]]] = {}
        self.fetch_budget = [MAX_LINKED_FETCHES]
        self.checked: dict[str, _Checked] = {} if checked is None else checked
        """Each vouch checked once per search (and per verification, given its dict): one that
        could not be checked is not cached across verifications, but is not checked again here."""

    def paths(self, party: str, below: int, visiting: frozenset[str]) -> tuple[list[_Path], list[_Reason]]:
        """The paths of ``party`` (``below`` links already under it on the chain), or why none."""
        key = (party, below, visiting)
        if key in self.memo:
            return self.memo[key]
        roots = self.finder.policy.roots_of(party)
        if roots:
            found: tuple[list[_Path], list[_Reason]] = ([_Path(root, (), root.scope) for root in roots], [])
            self.memo[key] = found
            return found
        paths: list[_Path] = []
        reasons: list[_Reason] = []
        local = self.finder._candidates(party, self.offered)
        self._examine(party, local, below, visiting, paths, reasons)
        if not paths:
            if party not in self.linked:  # once per search, failed or not
                self.linked[party] = self.finder._linked_of(party, self.now, self.fetch_budget)
            linked, why = self.linked[party]
            reasons.extend(why)
            seen = {c.digest for c in local}
            self._examine(party, [c for c in linked if c.digest not in seen], below, visiting, paths, reasons)
            local += linked
        if not local and not any(r.code == "WRONG_SUBJECT" or r.error for r in reasons):
            reasons.append(_Reason("NO_ANCHOR", party, f"{party} is not a root, and no vouch names it (with the "
                                   "presentation, in its DID document or in the trust store)"))
        self.memo[key] = (paths, reasons)
        return paths, reasons

    def _examine(self, party: str, candidates: list[_Candidate], below: int, visiting: frozenset[str],
                 paths: list[_Path], reasons: list[_Reason]) -> None:
        if not candidates:
            return
        room = self.limits.max_path_length - 1 - below
        if room <= 0:
            reasons.append(_Reason("CHAIN_TOO_DEEP", party, f"{party} is not a root, and a path through it would "
                                   f"hold more than {self.limits.max_path_length} credentials (maxPathLength)"))
            return
        if len(candidates) > self.limits.max_candidates:
            reasons.append(_Reason("TOO_MANY_CANDIDATES", party, f"{len(candidates)} vouches name {party}; only the "
                                   f"first {self.limits.max_candidates} were examined (maxCandidates)"))
            candidates = candidates[: self.limits.max_candidates]
        for candidate in candidates:
            if self.budget <= 0:
                reasons.append(_Reason("TOO_MANY_CANDIDATES", party, "the search examined as many vouches as its "
                                       "limits allow (maxCandidates x maxPathLength x 2)"))
                return
            self.budget -= 1
            checked = self._check_once(candidate)
            self.expiries.append(checked.expires)
            if checked.vouch is None:
                reasons.append(_Reason(checked.code or "ANCHOR_INVALID", party, checked.message, vouch=candidate.id,
                                       error=checked.error))
                continue
            found, why = self.link(checked, below, visiting | {party})
            paths.extend(found)
            reasons.extend(why)

    def _check_once(self, candidate: _Candidate) -> _Checked:
        hit = self.checked.get(candidate.digest)
        if hit is None:
            hit = self.checked[candidate.digest] = self.finder._check_candidate(candidate, self.now)
        elif hit.candidate.origin != candidate.origin:
            hit = replace(hit, candidate=candidate)
        return hit

    def link(self, checked: _Checked, below: int, visiting: frozenset[str]) -> tuple[list[_Path], list[_Reason]]:
        """The paths through the verified vouch ``checked`` (naming a party with ``below``
        links under it), or why it cannot be used."""
        vouch = checked.vouch
        assert vouch is not None
        party, issuer, label = vouch.subject, vouch.issuer, vouch.label

        def reason(code: str, message: str, causes: list[_Reason] | None = None) -> _Reason:
            return _Reason(code, party, f"{label}: {message}", vouch=vouch.credential_id, causes=causes or [])

        if issuer in visiting:
            return [], [reason("CYCLE", f"issued by {issuer}, which is already on this chain (a cycle)")]
        licence = vouch.kind in ("licence", "ip")
        if licence and vouch.parent is not None:
            parent = self.finder._find_id(vouch.parent, self.offered)
            if parent is None:
                return [], [reason("PARENT_INVALID", f"the {vouch.kind} it extends, {vouch.parent}, was not found")]
            if parent.subject != issuer:
                return [], [reason("NOT_LICENSEE", f"it extends {vouch.parent}, whose licensee is "
                                   f"{parent.subject}, but it is issued by {issuer}")]
        if licence and vouch.parent is None and not self.finder.policy.roots_of(issuer):
            return [], [reason("PARENT_MISSING", f"a {vouch.kind} that extends no other must be issued by a root "
                               f"for {vouch.kind}; {issuer} is not one")]
        issuer_paths, issuer_reasons = self.paths(issuer, below + 1, visiting)
        if not issuer_paths:
            if licence and vouch.parent is not None:
                causes = [r for r in issuer_reasons if r.vouch == vouch.parent] or issuer_reasons
                return [], [reason("PARENT_INVALID", f"the {vouch.kind} it extends, {vouch.parent}, is not on a "
                                   "valid path", causes)]
            return [], [reason("ISSUER_NOT_TRUSTED", f"its issuer {issuer} has no trust path", issuer_reasons)]
        if licence:
            eligible = [p for p in issuer_paths if p.kinds <= {vouch.kind}]
            if vouch.parent is None:
                eligible = [p for p in eligible if not p.links]
                if not eligible:
                    return [], [reason("PARENT_MISSING", f"a {vouch.kind} that extends no other must be issued by a "
                                       f"root for {vouch.kind}; {issuer} is not one")]
            else:
                through = [p for p in eligible if p.links and p.links[-1].vouch.credential_id == vouch.parent]
                if not through:
                    causes = [r for r in issuer_reasons if r.vouch == vouch.parent] or issuer_reasons
                    return [], [reason("PARENT_INVALID", f"the {vouch.kind} it extends, {vouch.parent}, is not on a "
                                       "valid path", causes)]
                parent_vouch = through[0].links[-1].vouch
                if parent_vouch.kind != vouch.kind:
                    return [], [reason("KIND_NOT_ALLOWED", f"a {vouch.kind} cannot extend a {parent_vouch.kind}")]
                problems = vouch.scope.within(parent_vouch.scope)
                if problems:
                    return [], [reason("SCOPE_BEYOND_PARENT", "goes beyond the one it extends: " + "; ".join(problems))]
                eligible = through
        else:
            eligible = [p for p in issuer_paths if "ip" not in p.kinds]
        found: list[_Path] = []
        refusals: list[_Reason] = []
        for path in eligible:
            root = path.root
            depth = len(path.links) + 1 + below
            if vouch.kind not in root.vouches:
                refusals.append(reason("KIND_NOT_ALLOWED", f"{root.label} (root in {root.source}) vouches for "
                                       f"{', '.join(sorted(root.vouches))}, not {vouch.kind}"))
            elif depth > root.max_depth:
                refusals.append(reason("CHAIN_TOO_DEEP", f"{depth} vouches below {root.label}, which allows "
                                       f"{root.max_depth} (maxDepth)"))
            elif vouch.kind == "anchor" and root.schemes is not None and (
                not vouch.identifiers or any(i.scheme not in root.schemes for i in vouch.identifiers)
            ):
                schemes = ", ".join(sorted({i.scheme for i in vouch.identifiers})) or "none"
                refusals.append(reason("SCHEME_NOT_ALLOWED", f"names identifiers of {schemes}; {root.label} "
                                       f"registers {', '.join(sorted(root.schemes))}"))
            else:
                found.append(_Path(root, (*path.links, _Link(vouch, checked)), path.scope.narrowed(vouch.scope)))
        return found, ([] if found else refusals)


class BoundTrust:
    """The path policy for one verification: ``now`` and the presentation's vouches. A
    :class:`~tradevc.vc.checks.policy.VerificationPolicy`."""

    warning: str | None = None

    def __init__(self, finder: TrustPaths, now: datetime, offered: tuple[_Candidate, ...]) -> None:
        self.finder, self.now, self.offered = finder, now, offered
        self.checked: dict[str, _Checked] = {}  # the vouches checked in this verification, failed ones too

    def check(self, credential: Credential) -> CheckResult:
        return self.finder._check(credential, self.now, self.offered, self.checked)


# -- reports -------------------------------------------------------------------------------------


_VERBS = {"anchor": "anchored by", "accreditation": "accredited by", "licence": "licensed under",
          "ip": "authorised under"}


def _path_data(party: str, path: _Path) -> dict[str, Any]:
    steps = []
    for link in reversed(path.links):
        vouch, checked = link.vouch, link.checked
        steps.append({
            "party": vouch.subject, "name": vouch.name, "identifiers": [str(i) for i in vouch.identifiers],
            "kind": vouch.kind, "scope": vouch.scope.describe(),
            "vouch": {
                "id": vouch.credential_id, "type": next((t for t in vouch.types if t in VOUCH_TYPES), None),
                "issuer": vouch.issuer, "status": checked.status,
                "validUntil": _iso(vouch.scope.valid_until) if vouch.scope.valid_until else None,
                "from": checked.candidate.origin,
                **({"warnings": list(checked.warnings)} if checked.warnings else {}),
            },
        })
    return {"issuer": party, "length": len(path.links) + 1, "steps": steps, "root": path.root.to_dict(),
            "scope": path.scope.describe()}


def describe_path(data: Mapping[str, Any]) -> list[str]:
    """The lines a report shows for ``data["trustPath"]`` of an ``issuer_trust`` (or
    ``mark_authorisation``) check::

        issuer did:web:aceros-del-norte.example
          anchored by MID MXACEDEL1234MON  (IdentityAnchorCredential urn:uuid:..., issued by did:web:registry.example, valid)
          Registro Nacional trusted for: MillTestReportCredential (root in border-policy.json)
    """
    lines = [f"issuer {data.get('issuer')}"]
    for step in data.get("steps") or []:
        vouch = step.get("vouch") or {}
        who = ", ".join(step.get("identifiers") or []) or step.get("name") or step.get("party")
        until = f", until {vouch['validUntil']}" if vouch.get("validUntil") else ""
        warned = "".join(f"; WARNING: {w}" for w in vouch.get("warnings") or [])
        lines.append(f"  {_VERBS.get(step.get('kind', ''), 'vouched for by')} {who}  ({vouch.get('type')} "
                     f"{vouch.get('id')}, issued by {vouch.get('issuer')}, {vouch.get('status')}{until}; "
                     f"from {vouch.get('from')}{warned})")
    root = data.get("root") or {}
    name = root.get("name") or root.get("did")
    if root.get("direct"):
        lines.append(f"  {name} trusted directly for: {', '.join(root.get('types') or [])} "
                     f"(trustedIssuers in {root.get('source')})")
    elif root.get("mark"):
        lines.append(f"  {name} holds the recorded mark {root['mark']} ({root.get('scope')}; root in {root.get('source')})")
    else:
        lines.append(f"  {name} trusted for: {', '.join(root.get('types') or [])} (root in {root.get('source')})")
    return [_shown(line) for line in lines]


def _path_message(party: str, path: _Path) -> str:
    parts = []
    for link in reversed(path.links):
        vouch = link.vouch
        who = ", ".join(str(i) for i in vouch.identifiers) or vouch.name or vouch.subject
        warned = "".join(f"; WARNING: {w}" for w in link.checked.warnings)
        parts.append(f"{_VERBS[vouch.kind]} {who} ({vouch.label}, issued by {vouch.issuer}, {link.checked.status}{warned})")
    root = path.root
    return _shown(f"{party} is trusted through a path of {len(path.links) + 1}: " + "; ".join(parts)
                  + f"; {root.label} is a root in {root.source} for {root.scope.describe()}")


def _shown(text: str) -> str:
    """``text`` (holding what vouches say: names, identifiers, ids) as one printable line, each
    hidden character (see escape_hidden) written as its JSON escape ``\\uXXXX``."""
    return escape_hidden(text, keep_newlines=False)


def _explain(reason: _Reason) -> str:
    deepest = reason
    while deepest.causes:
        deepest = deepest.causes[0]
    tail = f" (because {deepest.code}: {deepest.message})" if deepest is not reason else ""
    return f"{reason.code}: {reason.message}{tail}"


def _names(values: frozenset[str] | None) -> str:
    return "anything" if values is None else (", ".join(sorted(values)) or "nothing")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _period(scope: Scope) -> str:
    start = _iso(scope.valid_from) if scope.valid_from else "any time"
    end = _iso(scope.valid_until) if scope.valid_until else "no end"
    return f"{start} to {end}"


