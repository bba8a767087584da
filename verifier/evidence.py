"""Sealed evidence of a verification, and its replay.

An evidence bundle is one JSON object that holds what one verification (a credential, a
presentation or an entry) decided and everything it decided on: the documents verified and
the options, the exact bytes of every DID document, status list (and past version), linked
presentation, JSON-LD context and JSON Schema it used, the trust policy (and trust pack), the
times, the tool's version and the report; and (``unreachable``) what it asked for and did
not get, so that an outage then is an outage on replay. The verifier seals it with its own key: a compact
JWS (EdDSA with an Ed25519 key) whose payload is the SHA-256 of the JCS (RFC 8785) form of the
bundle without its ``proof``. Changing any byte of a sealed bundle breaks the seal.

* :func:`with_evidence` wraps a :class:`~tradevc.verifier.service.Verifier`: its
  ``verify_credential``, ``verify_presentation`` and ``verify_entry`` return the report and
  an unsealed bundle. The bytes are recorded where they pass (the HTTPS fetcher, and the
  cached copies of the DID resolvers and the status checker, see
  :mod:`tradevc.vc.retrieval.recording`), for that verification only; the verifier's own
  methods record nothing and cost nothing more.
* :func:`seal_bundle` seals a bundle; :func:`read_bundle` reads one back (shape only);
  :func:`check_seal` checks the seal and each recorded body's SHA-256.
* :func:`replay` decides again from the bundle alone: a verifier with no network and no
  cache, whose clock is the recorded one, reading only the recorded bytes, under the
  recorded policy. It returns the new report and every difference from the recorded one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib.metadata import PackageNotFoundError, version as _package_version
from typing import TYPE_CHECKING, Any, Callable

import rfc8785

from tradevc.vc.checks.policy import TrustPolicy, VerificationPolicy
from tradevc.vc.checks.schemas import SchemaStore, SchemaStoreError
from tradevc.vc.compat import Compatibility
from tradevc.vc.errors import VcError
from tradevc.vc.jsonld import PinnedContextLoader, iter_context_urls
from tradevc.vc.jsontext import Limits, loads as strict_loads
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_decode, base64url_encode
from tradevc.vc.report import PresentationResult, VerificationResult
from tradevc.vc.retrieval.did.resolver import DidResolvers, retrieve_verification_method
from tradevc.vc.retrieval.http import HttpsFetcher, RetrievalError
from tradevc.vc.retrieval.recording import Recorder, recording
from tradevc.vc.securing.enveloped import is_enveloped, token_from_envelope
from tradevc.vc.securing.jws import ALGORITHMS, is_compact_jws, parse_compact_jws

from .service import STATUS_LIST_MAX_BYTES, Verifier
from .trust import TrustPathPolicy, policy_from_document

if TYPE_CHECKING:
    from .entry.engine import LedgerLike
    from .entry.report import EntryReport
    from .entry.rules import RuleSet

__all__ = [
    "BUNDLE_TYPE", "EvidenceError", "Bundle", "EvidenceVerifier", "with_evidence", "seal_bundle", "read_bundle",
    "check_seal", "bundle_digest", "replay", "Replay", "Difference", "EVIDENCE_KEY_FILE", "create_evidence_key",
    "open_evidence_key",
]

BUNDLE_TYPE = "tradevc-evidence-bundle"
BUNDLE_VERSION = 1
KINDS = ("credential", "presentation", "entry")
RETRIEVED_KINDS = ("did", "status-list", "context", "schema", "vouch", "other")
INDEX_MEMBERS = ("entryNumber", "importer", "issuers", "credentialIds", "verificationMethods", "verified", "outcome")
SEAL_TYP = "tradevc-evidence+jws"
MAX_BUNDLE_BYTES = 256 * 1024 * 1024
"""The largest bundle read (its retrieved documents are inside it, base64)."""
BUNDLE_LIMITS = Limits(max_document_size=MAX_BUNDLE_BYTES, max_depth=128, max_array_entries=1_000_000,
                       max_proof_value_length=1024 * 1024, max_credentials=10_000)
"""What :func:`read_bundle` accepts: a bundle holds whole documents, a level or two deeper than they are."""
EVIDENCE_KEY_FILE = "evidence-key.sealed"
"""The file ``vc-verify evidence-key init`` writes in its ``--home``: the sealing key (sealed)."""


class EvidenceError(VcError):
    """A bundle that cannot be used: malformed, its seal broken or not by a trusted key, a
    recorded body that does not match its SHA-256, or one replay cannot rebuild a verifier from."""

    code = "EVIDENCE_ERROR"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse_time(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not value.endswith("Z"):
        raise EvidenceError(f"{what} must be an RFC 3339 UTC time ending in Z, not {value!r}")
    try:
        return datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        raise EvidenceError(f"{what} is not an RFC 3339 time: {value!r}") from None


def tool_version() -> str:
    try:
        return _package_version("tradevc")
    except PackageNotFoundError:  # a checkout run without installing
        return "unknown"


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundle:
    """A bundle read by :func:`read_bundle`: its JSON (:attr:`data`) and the parts replay and
    an archive use. The shape is checked, not the seal (see :func:`check_seal`)."""

    data: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.data["kind"])

    @property
    def verified_at(self) -> datetime:
        return _parse_time(self.data["verifiedAt"], "verifiedAt")

    @property
    def sealed_at(self) -> datetime:
        return _parse_time(self.data["sealedAt"], "sealedAt")

    @property
    def index(self) -> dict[str, Any]:
        return dict(self.data["index"])

    @property
    def report(self) -> dict[str, Any]:
        return dict(self.data["report"])

    @property
    def retrieved(self) -> list[dict[str, Any]]:
        return list(self.data["retrieved"])

    @property
    def signer(self) -> str:
        """The DID URL of the key that sealed it (the seal's ``kid``), not yet checked."""
        return str(self.data["proof"]["verificationMethod"])

    def status_list_methods(self) -> list[str]:
        """The verification methods (DID URLs) of the proofs on the status lists the decision
        read (a Data Integrity proof's ``verificationMethod``, a JOSE header's ``kid``): keys it
        relied on beside those that signed its documents (``index.verificationMethods``)."""
        methods: list[str] = []
        for entry in self.retrieved:
            if entry["kind"] != "status-list":
                continue
            walk = _Walk()
            try:
                text = self.body(entry).decode("utf-8").strip()
                walk.visit(text if is_compact_jws(text) else json.loads(text), credentials=True)
            except (EvidenceError, UnicodeDecodeError, ValueError, RecursionError):
                continue
            methods.extend(m for m in walk.methods if m not in methods)
        return methods

    def vouch_methods(self) -> list[str]:
        """The verification methods of the proofs on the vouches recorded for its trust paths:
        the credentials its recorded trust policy keeps in its store (``anchors``) and those
        fetched from parties' linked presentations (``retrieved`` of kind ``vouch``). Keys a
        path-aware decision relied on beside those of its documents and status lists."""
        sources: list[Any] = []
        policy = self.data["trust"].get("policy")
        if isinstance(policy, Mapping):
            for anchor in policy.get("anchors") or []:
                if isinstance(anchor, Mapping):
                    sources.append(anchor.get("credential"))
        for entry in self.retrieved:
            if entry["kind"] != "vouch":
                continue
            try:
                text = self.body(entry).decode("utf-8").strip()
                sources.append(text if is_compact_jws(text) else json.loads(text))
            except (EvidenceError, UnicodeDecodeError, ValueError, RecursionError):
                continue
        methods: list[str] = []
        for source in sources:
            for credential in _credentials_in(source):
                walk = _Walk()
                walk.visit(credential, credentials=True)
                methods.extend(m for m in walk.methods if m not in methods)
        return methods

    @property
    def seal_digest(self) -> str:
        """What the seal signs (:func:`bundle_digest`), in hex: the same for every serialisation
        of the bundle (indentation, member order)."""
        return bundle_digest(self.data).hex()

    def body(self, entry: Mapping[str, Any]) -> bytes:
        """The bytes of a ``retrieved`` entry. :raises EvidenceError: not base64."""
        try:
            return base64.b64decode(str(entry["bytes"]), validate=True)
        except (binascii.Error, ValueError):
            raise EvidenceError(f"the recorded bytes of {entry.get('url')} are not base64") from None


def _credentials_in(node: Any) -> list[Any]:
    """The credentials a vouch source holds: a presentation's (embedded, or in a ``vp+jwt``),
    or the credential itself; not the presentation's own proof."""
    if isinstance(node, str) and is_compact_jws(node):
        try:
            payload = parse_compact_jws(node).payload
        except VcError:
            return []
        inner = payload.get("vp") if isinstance(payload, Mapping) and isinstance(payload.get("vp"), Mapping) else payload
        if isinstance(inner, Mapping) and "verifiableCredential" in inner:
            return _credentials_in(inner)
        return [node]
    if isinstance(node, list):
        return [c for item in node for c in _credentials_in(item)]
    if isinstance(node, Mapping) and "verifiableCredential" in node:
        held = node.get("verifiableCredential")
        return [c for item in (held if isinstance(held, list) else [held]) for c in _credentials_in(item)]
    return [node] if node is not None else []


def read_bundle(source: str | os.PathLike[str] | bytes) -> Bundle:
    """Read a bundle from a file or from its bytes, and check its shape (every member the
    format has, of the right type). The seal is not checked: see :func:`check_seal`.

    :raises EvidenceError: not JSON (I-JSON), or not a bundle of this format.
    :raises OSError: the file cannot be read.
    """
    if isinstance(source, (bytes, bytearray)):
        data, where = bytes(source), "the bundle"
    else:
        with open(source, "rb") as f:
            data = f.read()
        where = os.fspath(source)
    if len(data) > MAX_BUNDLE_BYTES:
        raise EvidenceError(f"{where} is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MiB, more than a bundle holds")
    try:
        document = strict_loads(data, limits=BUNDLE_LIMITS)
    except VcError as e:
        raise EvidenceError(f"{where} is not strict JSON: {e.message.removeprefix('not JSON: ')}") from None
    _check_shape(document)
    return Bundle(document)


def _check_shape(document: Any) -> None:
    if not isinstance(document, dict) or document.get("type") != BUNDLE_TYPE:
        raise EvidenceError(f'not an evidence bundle (no "type": "{BUNDLE_TYPE}")')
    if document.get("version") != BUNDLE_VERSION:
        raise EvidenceError(f"evidence bundle version {document.get('version')!r} is not one this tradevc reads "
                            f"({BUNDLE_VERSION})")
    if document.get("kind") not in KINDS:
        raise EvidenceError(f"kind must be one of {', '.join(KINDS)}, not {document.get('kind')!r}")
    _parse_time(document.get("verifiedAt"), "verifiedAt")
    _parse_time(document.get("sealedAt"), "sealedAt")
    tool = document.get("tool")
    if not isinstance(tool, dict) or not isinstance(tool.get("name"), str) or not isinstance(tool.get("version"), str):
        raise EvidenceError('tool must be {"name": ..., "version": ...}')
    given = document.get("input")
    if not isinstance(given, dict) or not isinstance(given.get("documents"), list) or not isinstance(
        given.get("options"), dict
    ):
        raise EvidenceError('input must be {"documents": [...], "options": {...}}')
    retrieved = document.get("retrieved")
    if not isinstance(retrieved, list):
        raise EvidenceError("retrieved must be a list")
    for i, entry in enumerate(retrieved):
        if (
            not isinstance(entry, dict) or entry.get("kind") not in RETRIEVED_KINDS or not isinstance(entry.get("url"), str)
            or not isinstance(entry.get("sha256"), str) or not isinstance(entry.get("bytes"), str)
            or not (entry.get("mediaType") is None or isinstance(entry.get("mediaType"), str))
        ):
            raise EvidenceError(f"retrieved[{i}] must have kind, url, mediaType, sha256, bytes and retrievedAt")
        _parse_time(entry.get("retrievedAt"), f"retrieved[{i}].retrievedAt")
    unreachable = document.get("unreachable", [])
    if not isinstance(unreachable, list) or not all(
        isinstance(u, dict) and isinstance(u.get("url"), str) and isinstance(u.get("message"), str)
        and (u.get("status") is None or isinstance(u.get("status"), int)) for u in unreachable
    ):
        raise EvidenceError("unreachable must be a list of {kind, url, message, code, status}")
    trust = document.get("trust")
    if not isinstance(trust, dict) or not {"policy", "pack", "paths"} <= set(trust):
        raise EvidenceError('trust must be {"policy": ..., "pack": ..., "paths": [...]}')
    if not isinstance(document.get("report"), dict):
        raise EvidenceError("report must be an object")
    index = document.get("index")
    if not isinstance(index, dict) or not set(INDEX_MEMBERS) <= set(index):
        raise EvidenceError(f"index must have {', '.join(INDEX_MEMBERS)}")
    proof = document.get("proof")
    if (
        not isinstance(proof, dict) or proof.get("type") != "JsonWebSignature" or not isinstance(proof.get("jws"), str)
        or not isinstance(proof.get("verificationMethod"), str)
    ):
        raise EvidenceError('the bundle has no seal: proof must be {"type": "JsonWebSignature", "jws": ..., '
                            '"verificationMethod": ...}')


# -- sealing ---------------------------------------------------------------------------------------


def bundle_digest(bundle: Mapping[str, Any]) -> bytes:
    """The SHA-256 of the JCS (RFC 8785) form of ``bundle`` without its ``proof``: what the
    seal signs."""
    unsealed = {k: v for k, v in bundle.items() if k != "proof"}
    return hashlib.sha256(rfc8785.dumps(unsealed)).digest()


def seal_bundle(bundle: Mapping[str, Any], key: KeyPair, *, kid: str | None = None,
                sealed_at: datetime | None = None) -> dict[str, Any]:
    """A sealed copy of ``bundle``: ``sealedAt`` set (default now) and a ``proof``, a compact
    JWS signed with ``key`` (``kid`` default: the key's did:key verification method) whose
    payload is :func:`bundle_digest`.

    :raises TypeError: ``key`` is not a :class:`~tradevc.vc.keys.KeyPair` with its secret.
    """
    if not isinstance(key, KeyPair) or not key.has_secret:
        raise TypeError("seal_bundle needs the verifier's KeyPair, with its secret key")
    sealed = {k: v for k, v in bundle.items() if k != "proof"}
    sealed["sealedAt"] = _iso(sealed_at or _now())
    method = kid or key.verification_method
    header = {"alg": ALGORITHMS[key.key_type], "kid": method, "typ": SEAL_TYP}
    signing_input = (
        base64url_encode(json.dumps(header, separators=(",", ":")).encode("ascii")) + "."
        + base64url_encode(bundle_digest(sealed))
    ).encode("ascii")
    signature = base64url_encode(key.sign(signing_input))
    sealed["proof"] = {"type": "JsonWebSignature", "jws": f"{signing_input.decode('ascii')}.{signature}",
                       "verificationMethod": method}
    return sealed


def check_seal(
    bundle: Bundle | Mapping[str, Any], trusted: Iterable[str] | None = None, *,
    resolvers: DidResolvers | None = None,
) -> str:
    """Check ``bundle``: each recorded body against its ``sha256``, then the seal: the JWS's
    payload is the bundle's digest now (:func:`bundle_digest`), and its signature verifies
    with the key its ``kid`` names (resolved with ``resolvers``, default did:key and did:jwk
    only). With ``trusted`` (DIDs or DID URLs), the sealing key must be one of them. Returns
    the ``kid``.

    :raises EvidenceError: the message names what does not match.
    """
    data = bundle.data if isinstance(bundle, Bundle) else dict(bundle)
    if not isinstance(bundle, Bundle):
        _check_shape(data)
    held = Bundle(data)
    for entry in held.retrieved:
        actual = hashlib.sha256(held.body(entry)).hexdigest()
        if actual != entry["sha256"]:
            raise EvidenceError(f"the recorded {entry['kind']} {entry['url']} does not match its sha256 "
                                f"(recorded {entry['sha256']}, the bytes hash to {actual})")
    proof = data["proof"]
    parts = proof["jws"].split(".")
    if len(parts) != 3:
        raise EvidenceError("the seal is not a compact JWS (three parts)")
    try:
        header = json.loads(base64url_decode(parts[0]))
        payload = base64url_decode(parts[1])
        signature = base64url_decode(parts[2])
    except (VcError, ValueError):
        raise EvidenceError("the seal is not a compact JWS (bad base64url or header)") from None
    if not isinstance(header, dict) or header.get("typ") != SEAL_TYP:
        raise EvidenceError(f"the seal's header is not a {SEAL_TYP} header")
    kid = header.get("kid")
    if kid != proof["verificationMethod"]:
        raise EvidenceError(f"the seal's kid {kid!r} is not its verificationMethod {proof['verificationMethod']!r}")
    if trusted is not None:
        allowed = set(trusted)
        if kid not in allowed and str(kid).split("#", 1)[0] not in allowed:
            raise EvidenceError(f"the bundle is sealed by {kid}, which is not one of the trusted sealing keys "
                                f"({', '.join(sorted(allowed)) or 'none given'})")
    expected = bundle_digest(data)
    if payload != expected:
        raise EvidenceError(
            f"the bundle does not match its seal: its content hashes to {expected.hex()}, the seal signs "
            f"{payload.hex()}; a field was changed after sealing"
        )
    try:
        method = retrieve_verification_method(str(kid), resolvers or DidResolvers.offline())
    except VcError as e:
        raise EvidenceError(f"the sealing key {kid} cannot be read: {e.message}") from None
    if header.get("alg") != ALGORITHMS.get(method.key.key_type):
        raise EvidenceError(f"the seal's alg {header.get('alg')!r} does not fit the {method.key.key_type} key {kid}")
    try:
        method.key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except Exception:  # cryptography's InvalidSignature, or a signature of the wrong length
        raise EvidenceError(f"the seal's signature does not verify with {kid}: the seal was altered") from None
    return str(kid)


# -- recording -------------------------------------------------------------------------------------


class EvidenceVerifier:
    """A verifier's verifications, each with its evidence (see :func:`with_evidence`)."""

    def __init__(self, verifier: Verifier) -> None:
        if not isinstance(verifier, Verifier):
            raise TypeError("with_evidence needs a tradevc Verifier")
        self.verifier = verifier

    def verify_credential(self, document: Any, *, now: datetime | None = None) -> tuple[VerificationResult, dict[str, Any]]:
        """:meth:`Verifier.verify_credential`, and the (unsealed) evidence bundle of it."""
        clock_at = self.verifier.clock()
        moment = now or clock_at
        recorder = Recorder()
        with recording(recorder):
            result = self.verifier.verify_credential(document, now=moment)
        return result, self._bundle("credential", [document], {}, moment, clock_at, recorder, result.to_dict(),
                                    result)

    def verify_presentation(
        self, document: Any, *, challenge: str, domain: Any, now: datetime | None = None,
    ) -> tuple[PresentationResult, dict[str, Any]]:
        """:meth:`Verifier.verify_presentation`, and the (unsealed) evidence bundle of it. A
        challenge store's check is in the report; replay does not consult the store."""
        clock_at = self.verifier.clock()
        moment = now or clock_at
        recorder = Recorder()
        with recording(recorder):
            result = self.verifier.verify_presentation(document, challenge=challenge, domain=domain, now=moment)
        options = {"challenge": challenge, "domain": list(domain) if isinstance(domain, (list, tuple)) else domain}
        return result, self._bundle("presentation", [document], options, moment, clock_at, recorder,
                                    result.to_dict(), result)

    def verify_entry(
        self, entry: Any, presentation: Any, *, challenge: str, domain: Any, entry_rules: Any = None,
        rules: "RuleSet | None" = None, ledger: "LedgerLike | None" = None, now: datetime | None = None,
    ) -> tuple["EntryReport", dict[str, Any]]:
        """:meth:`Verifier.verify_entry`, and the (unsealed) evidence bundle of it. The rules
        are the default table configured by ``entry_rules`` (a policy's ``entryRules`` member,
        recorded in the bundle); ``rules`` instead is used but not recorded (replay then uses
        the default table, and says so). Replay decides the entry again without the ledger
        (quantities already drawn are not drawn again); the recorded report says what the
        ledger answered.

        :raises RuleError: ``entry_rules`` is malformed.
        """
        from .entry.model import Entry
        from .entry.rules import RuleSet

        if rules is None:
            rules = RuleSet.from_policy({"entryRules": entry_rules}, source="the policy")
            recorded_rules: Any = {"entryRules": entry_rules}
        else:
            recorded_rules = "given"
        clock_at = self.verifier.clock()
        moment = now or clock_at
        recorder = Recorder()
        declaration = entry.to_json() if isinstance(entry, Entry) else entry
        with recording(recorder):
            report = self.verifier.verify_entry(entry, presentation, challenge=challenge, domain=domain, rules=rules,
                                                ledger=ledger, now=moment)
        options = {"challenge": challenge, "domain": list(domain) if isinstance(domain, (list, tuple)) else domain,
                   "ledger": ledger is not None, "rules": recorded_rules}
        data = report.to_dict()
        bundle = self._bundle("entry", [declaration, presentation], options, moment, clock_at, recorder, data, None)
        bundle["index"]["entryNumber"] = report.entry_number
        bundle["index"]["importer"] = report.importer
        bundle["index"]["verified"] = str(data.get("decision", "")).upper() == "ACCEPT"
        return report, bundle

    def _bundle(
        self, kind: str, documents: list[Any], options: dict[str, Any], moment: datetime, clock_at: datetime,
        recorder: Recorder, report: dict[str, Any], result: VerificationResult | None,
    ) -> dict[str, Any]:
        verifier = self.verifier
        retrieved = [
            {"kind": item.kind, "url": item.url, "mediaType": item.media_type,
             "sha256": hashlib.sha256(item.body).hexdigest(), "bytes": base64.b64encode(item.body).decode("ascii"),
             "retrievedAt": _iso(item.retrieved_at)}
            for item in recorder.items
        ]
        walked = _Walk()
        for document in documents:
            walked.visit(document, credentials=True)
        for item in recorder.items:
            walked.visit_bytes(item.body)
        policy = _policy_document(verifier.policy)
        if isinstance(verifier.policy, TrustPathPolicy):
            for anchor in verifier.policy.anchors:
                walked.visit(anchor.document, credentials=False)
        held_at = _iso(clock_at)
        schemas = verifier.schemas
        for url in walked.schemas:
            data = schemas.resource_bytes(url)
            if data is not None:
                walked.visit_bytes(data)
                retrieved.append(_held("schema", url, data, held_at))
        loader = verifier.loader
        context_bytes: Callable[[str], bytes | None] | None = getattr(loader, "context_bytes", None)
        for url in walked.contexts:  # grows as contexts name others (@import, scoped contexts)
            data = context_bytes(url) if context_bytes is not None else None
            if data is not None:
                retrieved.append(_held("context", url, data, held_at))
                walked.visit_bytes(data)
        pack = getattr(verifier, "pack", None)
        full_options = {
            **options,
            "clockAt": held_at,
            "checkStatus": verifier.status_checker is not None,
            "maxClockSkewSeconds": verifier.max_clock_skew.total_seconds(),
            "compatibility": list(verifier.compatibility.allowed),
            "challengeStore": verifier.challenges is not None,
            "trustPack": pack is not None,
            "inlineContexts": sorted(getattr(loader, "inline_sha256", None) or ()),
        }
        outcome = result.outcome if result is not None else _entry_outcome(report)
        return {
            "type": BUNDLE_TYPE,
            "version": BUNDLE_VERSION,
            "kind": kind,
            "verifiedAt": _iso(moment),
            "sealedAt": _iso(_now()),
            "tool": {"name": "tradevc", "version": tool_version()},
            "input": {"documents": documents, "options": full_options},
            "retrieved": retrieved,
            "trust": {
                "policy": policy,
                "pack": None if pack is None else {
                    "name": pack.name, "version": pack.version, "built": _iso(pack.built), "signer": pack.signer,
                    "digest": hashlib.sha256(rfc8785.dumps(pack.payload)).hexdigest() if pack.payload else None,
                },
                "paths": _paths(report),
            },
            "report": report,
            "unreachable": [
                {"kind": f.kind, "url": f.url, "message": f.message, "code": f.code, "status": f.status}
                for f in recorder.unreachable if not any(r.url == f.url for r in recorder.items)
            ],
            "index": {
                "entryNumber": None, "importer": None, "issuers": walked.issuers, "credentialIds": walked.credential_ids,
                "verificationMethods": walked.methods, "verified": bool(result.verified) if result is not None else False,
                "outcome": outcome.replace("_", "-"),
            },
        }


def with_evidence(verifier: Verifier) -> EvidenceVerifier:
    """``verifier``'s ``verify_credential``, ``verify_presentation`` and ``verify_entry``, each
    returning ``(report, bundle)``: the same report, and the evidence bundle of that
    verification, to seal with :func:`seal_bundle`::

        result, bundle = with_evidence(verifier).verify_credential(document)
        sealed = seal_bundle(bundle, customs_key)

    The bytes are recorded for this call only (several threads may record at once on one
    verifier). Cached DID documents and status lists are recorded as they were fetched; the
    trust paths of a path-aware policy are found afresh, so that every vouch is recorded.
    """
    return EvidenceVerifier(verifier)


def _held(kind: str, url: str, data: bytes, at: str) -> dict[str, Any]:
    return {"kind": kind, "url": url, "mediaType": None, "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": base64.b64encode(data).decode("ascii"), "retrievedAt": at}


def _entry_outcome(report: Mapping[str, Any]) -> str:
    """An entry's decision as an index outcome: ACCEPT verified, REJECT not verified, REVIEW
    (a person must look: something could not be decided) could not verify."""
    decision = str(report.get("decision", "")).upper()
    return {"ACCEPT": "verified", "REJECT": "not-verified"}.get(decision, "could-not-verify")


def _paths(report: Mapping[str, Any]) -> list[Any]:
    paths: list[Any] = []
    for check in _all_checks(report):
        data = check.get("data")
        if check.get("name") == "issuer_trust" and isinstance(data, dict):
            for member in ("trustPath", "paths", "path"):
                if member in data:
                    paths.append(data[member])
    return paths


def _all_checks(report: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for check in report.get("checks") or []:
        if isinstance(check, Mapping):
            yield check
    for inner in report.get("credentials") or []:
        if isinstance(inner, Mapping):
            yield from _all_checks(inner)


def _policy_document(policy: VerificationPolicy) -> dict[str, Any] | None:
    if isinstance(policy, TrustPolicy):
        return {"kind": "trustedIssuers", "document": policy.to_dict()}
    if isinstance(policy, TrustPathPolicy) and policy.document is not None:
        return {
            "kind": "trustPaths", "source": policy.source, "document": policy.document,
            "anchors": [{"origin": a.origin, "credential": a.document} for a in policy.anchors],
        }
    return None


class _Walk:
    """What the documents of a verification name: contexts, schemas, and (for the documents
    verified) the issuers, credential ids and verification methods of their credentials."""

    def __init__(self) -> None:
        self.contexts: list[str] = []
        self.schemas: list[str] = []
        self.issuers: list[str] = []
        self.credential_ids: list[str] = []
        self.methods: list[str] = []

    @staticmethod
    def _add(target: list[str], value: Any) -> None:
        if isinstance(value, str) and value not in target:
            target.append(value)

    def visit_bytes(self, data: bytes) -> None:
        try:
            text = data.decode("utf-8").strip()
        except UnicodeDecodeError:
            return
        if is_compact_jws(text):
            self.visit(text, credentials=False)
            return
        try:
            self.visit(json.loads(text), credentials=False)
        except (ValueError, RecursionError):
            pass

    def visit(self, node: Any, *, credentials: bool, depth: int = 0) -> None:
        if depth > 64:
            return
        if isinstance(node, str):
            token = node
            if node.startswith("data:"):
                return
            if not is_compact_jws(token):
                return
            try:
                jws = parse_compact_jws(token)
            except VcError:
                return
            if credentials:
                self._add(self.methods, jws.header.get("kid"))
            self.visit(jws.payload, credentials=credentials, depth=depth + 1)
            return
        if isinstance(node, list):
            for item in node:
                self.visit(item, credentials=credentials, depth=depth + 1)
            return
        if not isinstance(node, Mapping):
            return
        for envelope in ("EnvelopedVerifiableCredential", "EnvelopedVerifiablePresentation"):
            if is_enveloped(node, envelope):
                try:
                    self.visit(token_from_envelope(node, envelope), credentials=credentials, depth=depth + 1)
                except VcError:
                    pass
        for url in iter_context_urls(node.get("@context")):
            self._add(self.contexts, url)
        self._add(self.contexts, node.get("@import"))
        schema = node.get("credentialSchema")
        for entry in schema if isinstance(schema, list) else [schema]:
            if isinstance(entry, Mapping):
                self._add(self.schemas, entry.get("id"))
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        if credentials and "VerifiableCredential" in types:
            issuer = node.get("issuer")
            self._add(self.issuers, issuer.get("id") if isinstance(issuer, Mapping) else issuer)
            self._add(self.credential_ids, node.get("id"))
        if credentials and "vc" in node and isinstance(node.get("iss"), str):  # a VC-JWT 1.1 payload
            self._add(self.issuers, node.get("iss"))
        proofs = node.get("proof")
        if credentials:
            for proof in proofs if isinstance(proofs, list) else [proofs]:
                if isinstance(proof, Mapping):
                    self._add(self.methods, proof.get("verificationMethod"))
        for key, value in node.items():
            if key == "proof" or (key == "@context" and not isinstance(value, (dict, list))):
                continue
            if isinstance(value, (dict, list)) or (isinstance(value, str) and len(value) > 40):
                self.visit(value, credentials=credentials, depth=depth + 1)


# -- replay ----------------------------------------------------------------------------------------


class _RecordedFetcher(HttpsFetcher):
    """Reads only the bodies a bundle recorded; a URL recorded as unreachable fails again as
    it did (an outage stays an outage); any other URL answers as not found (so that a history
    the issuer did not publish at the time is still not published)."""

    def __init__(self, bodies: Mapping[str, tuple[bytes, str | None]],
                 unreachable: Mapping[str, tuple[str, str, int | None]]) -> None:
        super().__init__(network=False, max_bytes=STATUS_LIST_MAX_BYTES)
        self._bodies = dict(bodies)
        self._unreachable = dict(unreachable)

    def _get(self, url: str, *, what: str, accept: str) -> tuple[bytes, str | None]:
        hit = self._bodies.get(url)
        failed = self._unreachable.get(url) if hit is None else None
        if failed is not None:
            message, code, status = failed
            raise RetrievalError(f"{message} (as recorded)", code=code or None, status=status)
        if hit is None:
            raise RetrievalError(f"{what}: {url} is not in the evidence bundle (a replay reads nothing else)",
                                 status=404)
        return hit


@dataclass(frozen=True)
class Difference:
    """One way the replayed report differs from the recorded one: ``where`` (``outcome``, or a
    check: ``credential 1 / status``), what was recorded and what the replay found."""

    where: str
    recorded: str
    replayed: str

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "recorded": self.recorded, "replayed": self.replayed}


@dataclass
class Replay:
    """What :func:`replay` found: the replayed ``report`` (as JSON), the ``differences`` from
    the recorded one (none: the same decision), ``notes`` on what a replay does not redo, and
    the ``signer`` of the seal."""

    bundle: Bundle
    report: dict[str, Any]
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signer: str = ""

    @property
    def same(self) -> bool:
        """No difference at all: the same decision, check by check."""
        return not self.differences

    @property
    def same_decision(self) -> bool:
        """The same outcome (a credential's or presentation's) or decision (an entry's), whatever
        the checks under it."""
        return _outcome_of(self.bundle.report) == _outcome_of(self.report)

    def to_dict(self) -> dict[str, Any]:
        recorded = self.bundle.report
        return {
            "same": self.same, "sameDecision": self.same_decision, "kind": self.bundle.kind, "verifiedAt": self.bundle.data["verifiedAt"],
            "sealedBy": self.signer, "recordedOutcome": _outcome_of(recorded),
            "replayedOutcome": _outcome_of(self.report), "differences": [d.to_dict() for d in self.differences],
            "notes": list(self.notes), "report": self.report,
        }


def _outcome_of(report: Mapping[str, Any]) -> str:
    return str(report.get("outcome") or report.get("decision") or "?")


def replay(
    bundle: Bundle | Mapping[str, Any] | bytes | str | os.PathLike[str], *, trusted: Iterable[str] | None = None,
    resolvers: DidResolvers | None = None, policy: VerificationPolicy | None = None,
) -> Replay:
    """Check ``bundle``'s seal (:func:`check_seal`, with ``trusted`` sealing keys and
    ``resolvers`` for them), then decide again from the bundle alone, and compare. ``policy``
    replaces the recorded trust policy (a policy revised since: what would it have decided?).

    The verifier of the replay has no network and no cache: it reads only the recorded
    bytes (any other URL is not found), holds only the recorded contexts and schemas, trusts
    the recorded policy, and its clock is the recorded one (so a status read as of a past
    moment is read from the same recorded version). What it cannot redo is said in
    :attr:`Replay.notes`: a challenge store, a trust pack's own check, an entry ledger.

    :raises EvidenceError: the bundle is malformed, its seal does not hold, or no verifier can
        be rebuilt from it (an unknown policy, a recorded context or schema that cannot be read).
    """
    if isinstance(bundle, Bundle):
        held = bundle
    elif isinstance(bundle, Mapping):
        _check_shape(dict(bundle))
        held = Bundle(dict(bundle))
    else:
        held = read_bundle(bundle)
    signer = check_seal(held, trusted, resolvers=resolvers)
    verifier = _replay_verifier(held, policy)
    data = held.data
    options = data["input"]["options"]
    documents = data["input"]["documents"]
    moment = held.verified_at
    notes: list[str] = []
    recorded = held.report
    if held.kind == "credential":
        if not documents:
            raise EvidenceError("the bundle holds no credential")
        report = verifier.verify_credential(documents[0], now=moment).to_dict()
    elif held.kind == "presentation":
        if not documents:
            raise EvidenceError("the bundle holds no presentation")
        report = verifier.verify_presentation(documents[0], challenge=str(options.get("challenge")),
                                              domain=options.get("domain"), now=moment).to_dict()
    else:
        if len(documents) < 2:
            raise EvidenceError("the bundle holds no entry and presentation")
        from .entry.rules import RuleError, RuleSet

        recorded_rules = options.get("rules")
        if not isinstance(recorded_rules, Mapping):
            notes.append("the rules of the recorded decision were given in code and not recorded: replayed with the "
                         "default rule table")
            recorded_rules = {}
        try:
            rules = RuleSet.from_policy(recorded_rules, source="the recorded rules")
        except RuleError as e:
            raise EvidenceError(f"the recorded entry rules cannot be used: {e}") from None
        try:
            report = verifier.verify_entry(documents[0], documents[1], challenge=str(options.get("challenge")),
                                           domain=options.get("domain"), rules=rules, now=moment).to_dict()
        except ValueError as e:  # EntryError: the recorded declaration is not one; RuleError
            raise EvidenceError(f"the recorded entry cannot be decided again: {e}") from None
        if options.get("ledger"):
            notes.append("the entry ledger was not consulted: quantities are not drawn again, so a finding that rested "
                         "on earlier entries' draws (a quantity used up) shows as a difference")
    if options.get("challengeStore"):
        notes.append("the challenge store was not consulted on replay (the challenge was checked against the proof "
                     "only); its recorded check is not compared")
        recorded = _without_store_check(recorded)
    if options.get("trustPack"):
        notes.append("the trust pack's own check (its age and signer) is not re-run; its policy and documents are "
                     "in the bundle")
        recorded = {**recorded, "checks": [c for c in recorded.get("checks", []) if c.get("name") != "trust_pack"]}
    differences = _compare(recorded, report, "")
    return Replay(held, report, differences, notes, signer)


def _without_store_check(report: dict[str, Any]) -> dict[str, Any]:
    checks = list(report.get("checks") or [])
    for i in range(len(checks) - 1, -1, -1):
        if isinstance(checks[i], dict) and checks[i].get("name") == "challenge":
            del checks[i]
            break
    return {**report, "checks": checks}


def _replay_verifier(held: Bundle, policy: VerificationPolicy | None = None) -> Verifier:
    data = held.data
    options = data["input"]["options"]
    bodies: dict[str, tuple[bytes, str | None]] = {}
    contexts: dict[str, bytes] = {}
    schemas: dict[str, bytes] = {}
    for entry in held.retrieved:
        body = held.body(entry)
        if entry["kind"] == "context":
            contexts[entry["url"]] = body
        elif entry["kind"] == "schema":
            schemas[entry["url"]] = body
        else:
            bodies.setdefault(entry["url"], (body, entry["mediaType"]))
    unreachable = {
        str(u["url"]): (str(u["message"]), str(u.get("code") or ""), u.get("status"))
        for u in data.get("unreachable", [])
    }
    try:
        loader = _recorded_loader(contexts, frozenset(str(d) for d in options.get("inlineContexts") or []))
        store = SchemaStore.from_recorded(schemas)
    except (VcError, SchemaStoreError) as e:
        raise EvidenceError(f"the recorded contexts and schemas cannot be used: {e.message}") from None
    try:
        compatibility = Compatibility.of(*[str(n) for n in options.get("compatibility") or []])
        skew = timedelta(seconds=float(options.get("maxClockSkewSeconds", 300)))
    except (ValueError, TypeError) as e:
        raise EvidenceError(f"the recorded options cannot be used: {e}") from None
    clock_at = _parse_time(options.get("clockAt", data["verifiedAt"]), "input.options.clockAt")
    return Verifier(
        policy=policy if policy is not None else _policy_of(data["trust"]["policy"]), loader=loader, schemas=store, fetcher=_RecordedFetcher(bodies, unreachable),
        check_status=bool(options.get("checkStatus", True)), clock=lambda: clock_at, max_clock_skew=skew,
        compatibility=compatibility,
    )


_loaders: dict[tuple[Any, ...], PinnedContextLoader] = {}
_loaders_lock = threading.Lock()


def _recorded_loader(contexts: Mapping[str, bytes], inline: frozenset[str]) -> PinnedContextLoader:
    """A loader of exactly these recorded contexts (and inline context digests), shared by the
    replays of bundles that recorded the same ones (the last 32 kinds, per process), so that
    its processed contexts are not worked out again for each bundle: most of a replay's cost.

    :raises VcError: a recorded context that cannot be read."""
    key = (tuple(sorted((url, hashlib.sha256(body).hexdigest()) for url, body in contexts.items())), inline)
    with _loaders_lock:
        loader = _loaders.get(key)
    if loader is None:
        loader = PinnedContextLoader.from_recorded(contexts)
        loader.inline_sha256 = inline
        with _loaders_lock:
            _loaders[key] = loader
            while len(_loaders) > 32:
                _loaders.pop(next(iter(_loaders)))
    return loader


def _policy_of(recorded: Any) -> VerificationPolicy:
    if not isinstance(recorded, Mapping):
        raise EvidenceError("the bundle records no trust policy that a replay can rebuild")
    document = recorded.get("document")
    try:
        if recorded.get("kind") == "trustedIssuers" and isinstance(document, Mapping):
            if document.get("unsafeAnyIssuer") is True:
                return TrustPolicy.unsafe_any_issuer()
            return TrustPolicy.from_dict(document)
        if recorded.get("kind") == "trustPaths" and isinstance(document, Mapping):
            anchors = [(str(a.get("origin")), a.get("credential")) for a in recorded.get("anchors") or []
                       if isinstance(a, Mapping)]
            return policy_from_document(document, source=str(recorded.get("source") or "the recorded policy"),
                                        anchors=anchors)
    except ValueError as e:
        raise EvidenceError(f"the recorded trust policy cannot be read: {e}") from None
    raise EvidenceError(f"the recorded trust policy is of an unknown kind {recorded.get('kind')!r}")


def _check_key(check: Mapping[str, Any]) -> tuple[str, str]:
    return str(check.get("name")), str(check.get("subject") or "")


def _check_text(check: Mapping[str, Any] | None) -> str:
    if check is None:
        return "(no such check)"
    code = f" [{check.get('code')}]" if check.get("code") else ""
    return f"{check.get('outcome')}{code}: {check.get('message', '')}"


def _compare(recorded: Mapping[str, Any], replayed: Mapping[str, Any], where: str) -> list[Difference]:
    """Check by check: each (name, subject), its n-th occurrence, by outcome and code."""
    prefix = f"{where} / " if where else ""
    out: list[Difference] = []
    for member in ("outcome", "decision"):
        if member in recorded or member in replayed:
            if recorded.get(member) != replayed.get(member):
                out.append(Difference(f"{prefix}{member}", str(recorded.get(member)), str(replayed.get(member))))

    def keyed(checks: Any) -> dict[tuple[str, str, int], Mapping[str, Any]]:
        seen: dict[tuple[str, str], int] = {}
        keyed_checks: dict[tuple[str, str, int], Mapping[str, Any]] = {}
        for check in checks or []:
            if not isinstance(check, Mapping):
                continue
            key = _check_key(check)
            n = seen.get(key, 0)
            seen[key] = n + 1
            keyed_checks[(*key, n)] = check
        return keyed_checks

    before, after = keyed(recorded.get("checks")), keyed(replayed.get("checks"))
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old.get("outcome") == new.get("outcome") and old.get(
            "code"
        ) == new.get("code"):
            continue
        name = key[0] + (f" ({key[1]})" if key[1] else "") + (f" #{key[2] + 1}" if key[2] else "")
        out.append(Difference(f"{prefix}{name}", _check_text(old), _check_text(new)))
    lines_before, lines_after = recorded.get("lines") or [], replayed.get("lines") or []
    if isinstance(lines_before, list) and isinstance(lines_after, list):  # an entry: each line's decision and findings
        for i in range(max(len(lines_before), len(lines_after))):
            a = lines_before[i] if i < len(lines_before) else {}
            b = lines_after[i] if i < len(lines_after) else {}
            if not isinstance(a, Mapping) or not isinstance(b, Mapping):
                continue
            if a.get("decision") != b.get("decision"):
                out.append(Difference(f"{prefix}line {i + 1}", str(a.get("decision")), str(b.get("decision"))))
            found_a = sorted(f"{f.get('rule')}: {f.get('decision')}" for f in a.get("findings") or [] if isinstance(f, Mapping))
            found_b = sorted(f"{f.get('rule')}: {f.get('decision')}" for f in b.get("findings") or [] if isinstance(f, Mapping))
            if found_a != found_b:
                out.append(Difference(f"{prefix}line {i + 1} findings", "; ".join(found_a) or "none",
                                      "; ".join(found_b) or "none"))
    docs_before, docs_after = recorded.get("documents") or [], replayed.get("documents") or []
    if isinstance(docs_before, list) and isinstance(docs_after, list):  # an entry: each document's outcome
        for i in range(max(len(docs_before), len(docs_after))):
            a = docs_before[i] if i < len(docs_before) else {}
            b = docs_after[i] if i < len(docs_after) else {}
            if isinstance(a, Mapping) and isinstance(b, Mapping) and a.get("outcome") != b.get("outcome"):
                out.append(Difference(f"{prefix}document {a.get('id') or b.get('id') or i + 1}",
                                      str(a.get("outcome")), str(b.get("outcome"))))
    inner_before, inner_after = recorded.get("credentials") or [], replayed.get("credentials") or []
    if isinstance(inner_before, list) and isinstance(inner_after, list):
        for i in range(max(len(inner_before), len(inner_after))):
            a = inner_before[i] if i < len(inner_before) else {}
            b = inner_after[i] if i < len(inner_after) else {}
            if isinstance(a, Mapping) and isinstance(b, Mapping):
                out.extend(_compare(a, b, f"{prefix}credential {i + 1}"))
    return out


# -- the verifier's sealing key --------------------------------------------------------------------


def create_evidence_key(home: str | os.PathLike[str], passphrase: str | bytes) -> KeyPair:
    """Create the verifier's sealing key (Ed25519) in ``home`` (:data:`EVIDENCE_KEY_FILE`,
    sealed under ``passphrase``: scrypt, AES-256-GCM, see :mod:`tradevc.vc.sealed`).

    :raises FileExistsError: ``home`` already holds one, or another one was made there while
        this one was being made (the file is never replaced).
    :raises OSError: it cannot be written.
    """
    from tradevc.vc.atomicfile import write_atomic
    from tradevc.vc.sealed import new_key

    path = os.path.join(home, EVIDENCE_KEY_FILE)
    if os.path.exists(path):
        raise FileExistsError(path)
    os.makedirs(home, mode=0o700, exist_ok=True)
    key = KeyPair.generate("Ed25519")
    # never over a key made meanwhile (two inits at once): the second one fails
    write_atomic(path, key.to_sealed(new_key(passphrase)), mode=0o600, replace=False)
    return key


def open_evidence_key(home: str | os.PathLike[str], passphrase: str | bytes) -> KeyPair:
    """The sealing key in ``home``.

    :raises FileNotFoundError: none there. :raises WrongPassphrase, DamagedSealedFile: see
        :meth:`tradevc.vc.keys.KeyPair.from_sealed`.
    """
    from tradevc.vc.sealed import normalize_passphrase

    with open(os.path.join(home, EVIDENCE_KEY_FILE), "rb") as f:
        data = f.read()
    return KeyPair.from_sealed(data, normalize_passphrase(passphrase))[0]
