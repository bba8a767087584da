"""The generic Data Integrity algorithms (VC Data Integrity 1.0, "Algorithms"): add a proof
(also to a proof set or chain) and verify one proof. The cryptosuite supplies canonicalization,
hashing and the signature.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cryptography.exceptions import InvalidSignature

from tradevc.vc.compat import STRICT, Compatibility
from tradevc.vc.retrieval.did.resolver import DidResolvers, VerificationMethod, retrieve_verification_method
from tradevc.vc.errors import InvalidDocument, KeyMaterialError, ProofVerificationError, SigningError, UnsupportedError
from tradevc.vc.jsonld import DocumentLoader, check_context_use, refuse_hidden_properties
from tradevc.vc.keys import KeyPair
from tradevc.vc.model import CREDENTIALS_V2, Proof, is_url, parse_datetime, parse_proof
from tradevc.vc.securing.proofs import Cryptosuite, get_suite, suite_for_proof

__all__ = [
    "add_proof", "verify_proof", "VerifiedProof", "format_datetime", "proofs_of", "LEGACY_PROOF_DEVIATIONS",
    "LEGACY_KEY_TYPES",
    "DATA_INTEGRITY_V2", "inline_coverage",
]

LEGACY_PROOF_DEVIATIONS = {"Ed25519Signature2018": "ed25519-signature-2018"}
"""Proof types verified only under a compatibility profile (see :mod:`tradevc.vc.compat`), and the
deviation id that allows each."""
LEGACY_KEY_TYPES = {"Ed25519VerificationKey2018": "Ed25519Signature2018"}
"""Verification method types used only by one legacy proof type (so only under its profile)."""

DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
"""The context that defines ``DataIntegrityProof`` and its terms (also part of credentials/v2)."""


def _with_data_integrity_context(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """VC Data Integrity, "Context Injection": a document whose ``@context`` holds neither
    the credentials v2 context nor the Data Integrity v2 context (a VC Data Model 1.1
    credential, say) gets the Data Integrity v2 context appended, so that the terms of its
    ``DataIntegrityProof`` are defined. A document without ``@context`` is plain JSON and is
    left alone, as is one that already has either context."""
    if "@context" not in document:
        return document
    context = document["@context"]
    entries = list(context) if isinstance(context, list) else [context]
    if CREDENTIALS_V2 in entries or DATA_INTEGRITY_V2 in entries:
        return document
    injected = dict(document)
    injected["@context"] = [*entries, DATA_INTEGRITY_V2]
    return injected


def format_datetime(moment: datetime) -> str:
    """An aware datetime as an XML Schema dateTimeStamp in UTC, to the second: ``2026-01-01T00:00:00Z``."""
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: str | datetime | None, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parse_datetime(value, field=name)
        except ValueError as e:
            raise ValueError(str(e)) from None
        return value
    if isinstance(value, datetime):
        return format_datetime(value)
    raise TypeError(f"{name} must be a datetime, a dateTimeStamp string or None")


def proofs_of(document: Mapping[str, Any]) -> list[Any]:
    """The document's proofs as a list (a single proof object, a list of them, or none)."""
    proof = document.get("proof")
    if proof is None:
        return []
    return list(proof) if isinstance(proof, list) else [proof]


def _previous_ids(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def _with_previous_proofs(
    unsecured: dict[str, Any], all_proofs: list[Any], previous: list[Any], error: type[Exception]
) -> None:
    """Put the proofs named by ``previous`` into ``unsecured["proof"]`` (a proof chain signs
    over the proofs it names), or raise ``error`` naming an id that matches no proof."""
    if not previous:
        return
    matching = []
    for proof_id in previous:
        found = [p for p in all_proofs if isinstance(p, Mapping) and p.get("id") == proof_id]
        if not found:
            raise error(f"previousProof {proof_id!r} names no proof in the document")
        matching.extend(found)
    unsecured["proof"] = matching


def add_proof(
    document: Mapping[str, Any],
    key: KeyPair,
    *,
    cryptosuite: str,
    verification_method: str,
    proof_purpose: str = "assertionMethod",
    created: str | datetime | None = None,
    expires: str | datetime | None = None,
    challenge: str | None = None,
    domain: str | None = None,
    proof_id: str | None = None,
    previous_proof: str | list[str] | None = None,
    loader: DocumentLoader,
) -> dict[str, Any]:
    """Return a copy of ``document`` secured with one more proof.

    ``cryptosuite`` is a Data Integrity cryptosuite name or a legacy proof type
    (``Ed25519Signature2020``). ``created`` defaults to now (UTC, to the second); a string is
    used exactly as given.

    A ``DataIntegrityProof`` on a document whose ``@context`` lacks the Data Integrity
    terms (a VC Data Model 1.1 credential) appends
    ``https://w3id.org/security/data-integrity/v2`` to the returned document's ``@context``
    ("Context Injection" of VC Data Integrity). The JCS suites (``eddsa-jcs-2022``,
    ``ecdsa-jcs-2019``) copy the document's ``@context`` into the proof, as their
    Recommendations say, so that verifiers that follow them rebuild the same proof
    configuration. If the document already has proofs, the new one joins them as a
    proof set; with ``previous_proof`` (ids of existing proofs) it forms a proof chain and
    signs over the proofs it names.

    :raises UnsupportedError: unknown cryptosuite, or a legacy proof type kept only to verify
        (``Ed25519Signature2018``).
    :raises KeyMaterialError: the key has no secret or is of a type the suite does not use.
    :raises SigningError: ``previous_proof`` names a proof the document does not have, or a
        ``DataIntegrityProof`` would need its context injected into a document that already
        has proofs (they would no longer verify).
    :raises DataLossError, ContextNotPinned, InvalidDocument: the document cannot be
        canonicalized without loss, or uses a context a verifier refuses: an unpinned URL, or
        an inline context that an RDFC proof of the document would not cover and the loader
        does not pin (see :func:`tradevc.vc.jsonld.check_context_use`).
    :raises ProtectedTermRedefinition: an inline context redefines a protected term.
    """
    suite = get_suite(cryptosuite)
    if suite.proof_type in LEGACY_PROOF_DEVIATIONS:
        raise UnsupportedError(f"{suite.proof_type} is kept only to verify old credentials; sign with eddsa-rdfc-2022")
    _refuse_uncovered_contexts(document, suite, loader)
    if key.key_type not in suite.key_types:
        raise KeyMaterialError(
            f"{suite.name} signs with {' or '.join(sorted(suite.key_types))} keys, not {key.key_type}"
        )
    if not key.has_secret:
        raise KeyMaterialError("signing needs a key pair with its secret key")
    if not is_url(verification_method):
        raise ValueError(f"verification_method must be a URL, got {verification_method!r}")

    proof: dict[str, Any] = {"type": suite.proof_type}
    if proof_id is not None:
        proof["id"] = proof_id
    if suite.proof_type == "DataIntegrityProof":
        proof["cryptosuite"] = suite.name
    proof["created"] = _timestamp(created, "created") or format_datetime(datetime.now(timezone.utc))
    if expires is not None:
        proof["expires"] = _timestamp(expires, "expires")
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = proof_purpose
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    if previous_proof is not None:
        proof["previousProof"] = previous_proof

    existing = proofs_of(document)
    if suite.uses_json_ld:  # what a verifier refuses: properties written as IRIs, unsigned by name
        refuse_hidden_properties({k: v for k, v in document.items() if k != "proof"})
    if suite.proof_type == "DataIntegrityProof":
        injected = _with_data_integrity_context(document)
        if injected is not document and existing:
            raise SigningError(
                f"the document's @context lacks {DATA_INTEGRITY_V2!r}, which a DataIntegrityProof needs; adding it "
                "now would change what its existing proofs signed, so it must be in the @context before the first proof"
            )
        document = injected
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if not suite.uses_json_ld and "@context" in unsecured:
        proof["@context"] = copy.deepcopy(unsecured["@context"])
    config = dict(proof)
    config["@context"] = unsecured.get("@context")
    _with_previous_proofs(unsecured, existing, _previous_ids(previous_proof), SigningError)
    hash_data = suite.hash(
        suite.transform(unsecured, loader=loader, key=key), suite.configure(config, loader=loader, key=key), key=key
    )
    proof["proofValue"] = suite.create_proof_value(hash_data, key)
    secured = copy.deepcopy(dict(document))
    secured["proof"] = [*copy.deepcopy(existing), proof] if existing else proof
    return secured


@dataclass(frozen=True)
class VerifiedProof:
    """A proof whose signature verified, with its suite and the verification method that made it."""

    proof: Proof
    suite: Cryptosuite
    method: VerificationMethod


def verify_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    *,
    resolvers: DidResolvers,
    loader: DocumentLoader,
    parsed_proof: Proof | None = None,
    compatibility: Compatibility = STRICT,
) -> VerifiedProof:
    """Verify one ``proof`` of ``document``.

    ``parsed_proof``, if given, must be ``parse_proof(proof)`` as the caller already computed
    it (a verifier checks every proof's structure first); it saves parsing the proof twice.

    The document's other proofs are ignored, except those the proof names in
    ``previousProof``: a chained proof is verified over them, and a name that matches no
    proof fails. Only the cryptographic binding is checked here: proof type and suite, the
    verification method and its key type, and the signature. Proof purpose, issuer binding
    and times are the caller's checks.

    If a ``DataIntegrityProof`` carries an ``@context``, the document's ``@context`` must
    equal it: the specifications accept a document whose contexts merely *start with* the
    proof's, but contexts appended after signing are not covered by the signature and could
    change the meaning of the claims, so they are refused here. A proof without one is
    verified with the document's ``@context`` in its configuration (what the
    Recommendations' proof configuration step does). A legacy proof type
    (``Ed25519Signature2020``) uses its own ``@context`` only to canonicalize its proof
    options, as the Linked Data Proofs algorithms did; there the document's contexts need
    not equal it.

    Legacy proof types of :data:`LEGACY_PROOF_DEVIATIONS` (``Ed25519Signature2018``) are
    verified only if ``compatibility`` allows them.

    :raises InvalidDocument: the proof is malformed (``MALFORMED_VALUE_ERROR``).
    :raises UnsupportedError: unknown proof type, cryptosuite, DID method or key type; a legacy
        proof type ``compatibility`` does not allow; a legacy key type (:data:`LEGACY_KEY_TYPES`)
        for another proof type.
    :raises ResolutionError: the verification method could not be retrieved.
    :raises ProofVerificationError: wrong key type, context mismatch, dangling previousProof,
        bad signature.
    :raises DataLossError, ContextNotPinned, CanonicalizationError: the document cannot be
        canonicalized without loss.
    """
    parsed = parse_proof(proof) if parsed_proof is None else parsed_proof
    suite = suite_for_proof(parsed.type, parsed.cryptosuite)
    deviation = LEGACY_PROOF_DEVIATIONS.get(suite.proof_type)
    if deviation is not None and not compatibility.allows(deviation):
        raise UnsupportedError(
            f"{suite.proof_type} is a legacy proof type, verified only under a compatibility profile "
            f"(profile pilots-2023, or deviation {deviation})"
        )
    member = suite.proof_value_member
    proof_value = parsed.proofValue if member == "proofValue" else proof.get(member)
    if not proof_value or not isinstance(proof_value, str):
        raise InvalidDocument(f"the proof has no {member}")

    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != member}
    if "@context" not in options:
        options["@context"] = unsecured.get("@context")
    elif suite.proof_type == "DataIntegrityProof" and options["@context"] != unsecured.get("@context"):
        raise ProofVerificationError(
            "the document's @context differs from the @context its proof was made with; "
            "contexts changed or appended after signing are not covered by the signature"
        )
    _with_previous_proofs(unsecured, proofs_of(document), _previous_ids(parsed.previousProof), ProofVerificationError)
    if suite.uses_json_ld:  # member names are not signed: the proof's own (expires...) must be terms
        refuse_hidden_properties(options, "the proof")

    method = retrieve_verification_method(parsed.verificationMethod, resolvers)
    if method.type in LEGACY_KEY_TYPES and LEGACY_KEY_TYPES[method.type] != suite.proof_type:
        raise UnsupportedError(
            f"{method.id} is an {method.type}, a legacy key type read only for {LEGACY_KEY_TYPES[method.type]} "
            f"proofs, not for {suite.name}"
        )
    if method.key.key_type not in suite.key_types:
        raise ProofVerificationError(
            f"{suite.name} needs a {' or '.join(sorted(suite.key_types))} key, but "
            f"{method.id} is a {method.key.key_type} key"
        )
    hash_data = suite.hash(
        suite.transform(unsecured, loader=loader, key=method.key),
        suite.configure(options, loader=loader, key=method.key),
        key=method.key,
    )
    try:
        suite.verify_proof_value(hash_data, proof_value, method.key)
    except InvalidSignature as e:
        raise ProofVerificationError(
            f"the {suite.name} signature does not verify with {method.id}: the document or proof was altered, "
            "or it was signed with another key"
        ) from e
    return VerifiedProof(proof=parsed, suite=suite, method=method)


def _suite_or_none(proof: Any) -> Cryptosuite | None:
    try:
        return suite_for_proof(proof.get("type"), proof.get("cryptosuite"))
    except (UnsupportedError, AttributeError):
        return None


def inline_coverage(proofs: Iterable[Any], *, adding: Cryptosuite | None = None) -> tuple[str | None, str]:
    """Whether ``proofs`` (and the proof of suite ``adding``, about to be made) cover inline
    contexts: ``(what covers them, "")`` when every proof is JCS (which signs the JSON bytes),
    else ``(None, the proof that does not)``. An RDFC proof signs the data after the contexts
    are processed away, so one RDFC proof in a proof set is enough not to cover them; so is a
    proof of an unknown type (its own check fails it anyway). Raises nothing.
    """
    suites = [_suite_or_none(p) for p in proofs]
    if adding is not None:
        suites.append(adding)
    if not suites:
        return None, "any proof (there is none)"
    for suite in suites:
        if suite is None:
            return None, "a proof of an unknown type"
        if suite.uses_json_ld:
            mixed = any(not s.uses_json_ld for s in suites if s is not None)
            return None, f"the {suite.name} proof" + (
                " of this proof set (its JCS proofs cover it, but every proof must)" if mixed else ""
            )
    names = sorted({s.name for s in suites if s is not None})
    return f"the {' and '.join(names)} proof{'s' if len(suites) > 1 else ''}", ""


def _refuse_uncovered_contexts(document: Mapping[str, Any], suite: Cryptosuite, loader: DocumentLoader) -> None:
    """Before signing: refuse the contexts a verifier of the signed document would refuse."""
    covered_by, not_covered = inline_coverage(proofs_of(document), adding=suite)
    check_context_use(document, loader, covered_by=covered_by, not_covered=not_covered, refuse_data_loss=True)
