"""The generic Data Integrity algorithms (VC Data Integrity 1.0, "Algorithms"): add a proof,
verify a proof. The cryptosuite supplies the transformation, hashing and signature steps.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from cryptography.exceptions import InvalidSignature

from ..did.resolver import DidResolvers, VerificationMethod, retrieve_verification_method
from ..errors import InvalidDocument, KeyMaterialError, ProofVerificationError, SigningError
from ..jsonld import DocumentLoader
from ..keys import KeyPair
from ..model import Proof, is_url, parse_datetime, parse_proof
from . import Cryptosuite, get_suite

__all__ = ["add_proof", "verify_proof", "VerifiedProof", "format_datetime"]


def format_datetime(moment: datetime) -> str:
    """An aware datetime as an XML Schema dateTimeStamp in UTC, to the second: ``2026-01-01T00:00:00Z``."""
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: str | datetime | None, name: str) -> str | None:
    if value is None or isinstance(value, str):
        if isinstance(value, str):
            parse_datetime(value, field=name)
        return value
    if isinstance(value, datetime):
        return format_datetime(value)
    raise TypeError(f"{name} must be a datetime, a dateTimeStamp string or None")


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
    loader: DocumentLoader,
) -> dict[str, Any]:
    """Return a copy of ``document`` secured with a new ``DataIntegrityProof``.

    ``created`` defaults to now (UTC, to the second); a string is used exactly as given.

    :raises UnsupportedError: unknown cryptosuite.
    :raises KeyMaterialError: the key has no secret or is of a type the suite does not use.
    :raises DataLossError, ContextNotPinned, InvalidDocument: the document cannot be
        canonicalized without loss.
    """
    suite = get_suite(cryptosuite)
    if key.key_type not in suite.key_types:
        raise KeyMaterialError(
            f"{suite.name} signs with {' or '.join(sorted(suite.key_types))} keys, not {key.key_type}"
        )
    if not key.has_secret:
        raise KeyMaterialError("signing needs a key pair with its secret key")
    if not is_url(verification_method):
        raise ValueError(f"verification_method must be a URL, got {verification_method!r}")
    if "proof" in document:
        raise SigningError("the document already has a proof; proof sets and chains are not supported yet")
    proof: dict[str, Any] = {"type": suite.proof_type, "cryptosuite": suite.name}
    proof["created"] = _timestamp(created, "created") or format_datetime(datetime.now(timezone.utc))
    if expires is not None:
        proof["expires"] = _timestamp(expires, "expires")
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = proof_purpose
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain

    unsecured = dict(document)
    config = dict(proof)
    config["@context"] = unsecured.get("@context")
    hash_data = suite.hash(
        suite.transform(unsecured, loader=loader), suite.configure(config, loader=loader), key=key
    )
    proof["proofValue"] = suite.create_proof_value(hash_data, key)
    secured = copy.deepcopy(dict(document))
    secured["proof"] = proof
    return secured


@dataclass(frozen=True)
class VerifiedProof:
    """A proof whose signature verified, with the verification method that made it."""

    proof: Proof
    method: VerificationMethod


def verify_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    *,
    resolvers: DidResolvers,
    loader: DocumentLoader,
) -> VerifiedProof:
    """Verify one Data Integrity ``proof`` over ``document`` (whose ``proof`` property is ignored).

    Only the cryptographic binding is checked here: proof type and suite, the verification
    method and its key type, and the signature. Proof purpose, issuer binding and times are
    the caller's checks (see :mod:`vc.proofs.purposes`).

    :raises InvalidDocument: the proof is malformed (``MALFORMED_VALUE_ERROR``).
    :raises UnsupportedError: unknown cryptosuite, DID method or key type.
    :raises ResolutionError: the verification method could not be retrieved.
    :raises ProofVerificationError: wrong proof type, key type or context, or bad signature.
    :raises DataLossError, ContextNotPinned, CanonicalizationError: the document cannot be
        canonicalized without loss.
    """
    parsed = parse_proof(proof)
    if parsed.type != "DataIntegrityProof":
        raise ProofVerificationError(f"proof type {parsed.type!r} is not supported (expected DataIntegrityProof)")
    suite: Cryptosuite = get_suite(parsed.cryptosuite)
    if not parsed.proofValue:
        raise InvalidDocument("the proof has no proofValue")

    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        proof_context = options["@context"]
        proof_contexts = proof_context if isinstance(proof_context, list) else [proof_context]
        doc_context = unsecured.get("@context")
        doc_contexts = doc_context if isinstance(doc_context, list) else [doc_context]
        if doc_contexts[: len(proof_contexts)] != proof_contexts:
            raise ProofVerificationError("the document's @context does not start with the proof's @context")
        unsecured["@context"] = proof_context
    options["@context"] = unsecured.get("@context")

    method = retrieve_verification_method(parsed.verificationMethod, resolvers)
    if method.key.key_type not in suite.key_types:
        raise ProofVerificationError(
            f"{suite.name} needs a {' or '.join(sorted(suite.key_types))} key, but "
            f"{method.id} is a {method.key.key_type} key"
        )
    hash_data = suite.hash(
        suite.transform(unsecured, loader=loader), suite.configure(options, loader=loader), key=method.key
    )
    try:
        suite.verify_proof_value(hash_data, parsed.proofValue, method.key)
    except InvalidSignature as e:
        raise ProofVerificationError(
            f"the {suite.name} signature does not verify with {method.id}: the document or proof was altered, "
            "or it was signed with another key"
        ) from e
    return VerifiedProof(proof=parsed, method=method)
