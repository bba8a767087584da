"""Issue and verify credentials secured with Data Integrity proofs.

:func:`verify_credential` runs a fixed sequence of named checks and returns a
:class:`~vc.verification.VerificationResult`; bad input never raises out of it.

=================  ==========================================================================
check              what it establishes
=================  ==========================================================================
structure          the credential and each proof follow the data model
context            every ``@context`` entry is a pinned context (no inline or unknown contexts)
data_loss          JSON-LD expansion drops nothing: every claim is covered by the signature
proof              the signature verifies with the verification method's key
purpose            the proof's purpose is the expected one and the controller's DID document
                   lists the verification method under it
issuer_binding     the verification method's controller is the credential's issuer
proof_expiry       the proof is not expired and was not created in the future
validity_period    now is within validFrom..validUntil (1.1: issuanceDate..expirationDate)
status             credentialStatus (not yet supported: a credential with one cannot verify)
policy             the trust policy accepts the issuer for the credential's types
=================  ==========================================================================
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from .did.resolver import DidResolvers
from .errors import (
    ContextNotPinned,
    DataLossError,
    InvalidDocument,
    ResolutionError,
    SigningError,
    VcError,
)
from .jsonld import DocumentLoader, default_loader, expand, iter_context_urls
from .keys import KeyPair
from .model import Credential, DataModel, parse_credential, parse_datetime, parse_proof
from .policy import VerificationPolicy
from .proofs.data_integrity import VerifiedProof, add_proof, verify_proof
from .verification import CheckResult, Outcome, VerificationResult

__all__ = ["sign_credential", "verify_credential", "DEFAULT_CLOCK_SKEW"]

DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"

DEFAULT_CLOCK_SKEW = timedelta(minutes=5)
"""Tolerance for clocks that disagree, applied to validity periods and proof times."""


def sign_credential(
    credential: Mapping[str, Any],
    key: KeyPair,
    *,
    cryptosuite: str = "eddsa-rdfc-2022",
    created: str | datetime | None = None,
    expires: str | datetime | None = None,
    verification_method: str | None = None,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """Sign ``credential`` with ``key``; return a new dict, the input is not changed.

    The verification method defaults to the key's did:key method. The credential's issuer
    must be the verification method's DID (a verifier would reject anything else).

    :raises InvalidDocument: the credential breaks the data model.
    :raises SigningError: the credential already has a proof, or its issuer is not the DID
        of the verification method.
    :raises DataLossError: a term is not defined by the credential's contexts.
    :raises ContextNotPinned: the credential uses a context that is not pinned.
    :raises UnsupportedError, KeyMaterialError: unknown suite, or a key it cannot use.
    """
    if not isinstance(key, KeyPair):
        raise TypeError("key must be a vc.keys.KeyPair")
    parsed = parse_credential(credential)
    if parsed.data_model is DataModel.V1_1 and DATA_INTEGRITY_V2 not in parsed.contexts:
        raise SigningError(
            f"a VC Data Model 1.1 credential needs {DATA_INTEGRITY_V2!r} in its @context to carry a "
            "DataIntegrityProof (the 1.1 base context does not define the proof's terms)"
        )
    if parsed.proof is not None:
        raise SigningError("the credential already has a proof")
    method = verification_method or key.verification_method
    did = method.split("#", 1)[0]
    if parsed.issuer_id != did:
        raise SigningError(
            f"the credential's issuer is {parsed.issuer_id} but the verification method belongs to {did}; "
            "set the issuer to the signing DID"
        )
    return add_proof(
        credential,
        key,
        cryptosuite=cryptosuite,
        verification_method=method,
        created=created,
        expires=expires,
        loader=loader or default_loader(),
    )


def verify_credential(
    document: Any,
    *,
    policy: VerificationPolicy,
    now: datetime | None = None,
    loader: DocumentLoader | None = None,
    resolvers: DidResolvers | None = None,
    expected_purpose: str = "assertionMethod",
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> VerificationResult:
    """Verify a credential secured with one or more Data Integrity proofs.

    ``now`` defaults to the system clock (an aware datetime is required); ``loader`` to the
    pinned contexts; ``resolvers`` to offline resolvers (did:key).

    :returns: the report; ``result.verified`` is True only if every check passed.
    :raises TypeError: ``policy`` is not a policy or ``now`` is naive (API misuse only).
    """
    if not isinstance(policy, VerificationPolicy):
        raise TypeError("policy must be a VerificationPolicy such as TrustPolicy.from_file(...)")
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        raise TypeError("now must be a timezone-aware datetime")
    loader = loader or default_loader()
    resolvers = resolvers or DidResolvers.offline()

    result = VerificationResult()
    if policy.warning:
        result.warnings.append(policy.warning)
    if isinstance(document, Mapping) and isinstance(document.get("id"), str):
        result.document_id = document["id"]

    credential = _check_structure(document, result)
    if credential is None:
        return result
    if not _check_contexts(document, loader, result):
        return result
    if not _check_data_loss(document, loader, result):
        return result

    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    for proof in proofs:
        subject = proof.get("id") or proof.get("verificationMethod")
        verified = _check_proof(document, proof, resolvers, loader, result, subject)
        if verified is not None:
            _check_purpose(verified, expected_purpose, result, subject)
            _check_issuer_binding(verified, credential, result, subject)
        _check_proof_times(proof, now, max_clock_skew, result, subject)

    _check_validity_period(credential, now, max_clock_skew, result)
    _check_status(credential, result)
    result.add(policy.check(credential))
    # belt and braces: whatever happens above, no proof that verified means not verified
    if not any(c.name == "proof" and c.outcome is Outcome.PASSED for c in result.checks):
        result.add(CheckResult.failed("proof", "PROOF_VERIFICATION_ERROR", "no proof of the credential verified"))
    return result


def _check_structure(document: Any, result: VerificationResult) -> Credential | None:
    try:
        credential = parse_credential(document)
        proofs = credential.proof if isinstance(credential.proof, list) else [credential.proof]
        if credential.proof is None or not proofs:
            result.add(CheckResult.failed("structure", "PROOF_VERIFICATION_ERROR", "the credential has no proof"))
            return None
        for proof in proofs:
            parse_proof(proof)
    except InvalidDocument as e:
        result.add(CheckResult.from_error("structure", e))
        return None
    result.add(CheckResult.passed("structure", f"VC Data Model {credential.data_model.value} credential"))
    return credential


def _check_contexts(document: Mapping[str, Any], loader: DocumentLoader, result: VerificationResult) -> bool:
    context = document["@context"]
    entries = context if isinstance(context, list) else [context]
    inline = [e for e in entries if not isinstance(e, str)]
    if inline:
        result.add(
            CheckResult.failed(
                "context", ContextNotPinned.code, "inline @context objects are not accepted; use pinned contexts only"
            )
        )
        return False
    for url in iter_context_urls(context):
        try:
            loader(url, {})
        except ResolutionError as e:
            result.add(CheckResult.from_error("context", e))
            return False
    result.add(CheckResult.passed("context", f"{len(entries)} pinned context(s)"))
    return True


def _check_data_loss(document: Mapping[str, Any], loader: DocumentLoader, result: VerificationResult) -> bool:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    try:
        expand(unsecured, loader)
    except (DataLossError, InvalidDocument, ResolutionError) as e:
        result.add(CheckResult.from_error("data_loss", e))
        return False
    result.add(CheckResult.passed("data_loss", "every term is defined by the contexts"))
    return True


def _check_proof(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    resolvers: DidResolvers,
    loader: DocumentLoader,
    result: VerificationResult,
    subject: str | None,
) -> VerifiedProof | None:
    try:
        verified = verify_proof(document, proof, resolvers=resolvers, loader=loader)
    except VcError as e:
        result.add(CheckResult.from_error("proof", e, subject=subject))
        return None
    result.add(
        CheckResult.passed(
            "proof", f"{proof.get('cryptosuite')} signature verified with {verified.method.id}", subject=subject
        )
    )
    return verified


def _check_purpose(verified: VerifiedProof, expected: str, result: VerificationResult, subject: str | None) -> None:
    purpose = verified.proof.proofPurpose
    if purpose != expected:
        result.add(
            CheckResult.failed(
                "purpose",
                "PROOF_VERIFICATION_ERROR",
                f"proof purpose is {purpose!r}, expected {expected!r}",
                subject=subject,
            )
        )
    elif not verified.method.is_listed_under(expected):
        result.add(
            CheckResult.failed(
                "purpose",
                "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD",
                f"{verified.method.id} is not listed under {expected} in {verified.method.controller}'s DID document",
                subject=subject,
            )
        )
    else:
        result.add(CheckResult.passed("purpose", f"{expected}, listed in the controller's DID document", subject=subject))


def _check_issuer_binding(
    verified: VerifiedProof, credential: Credential, result: VerificationResult, subject: str | None
) -> None:
    controller, issuer = verified.method.controller, credential.issuer_id
    if controller != issuer:
        result.add(
            CheckResult.failed(
                "issuer_binding",
                "PROOF_VERIFICATION_ERROR",
                f"the proof was made by a key of {controller}, but the credential's issuer is {issuer}",
                subject=subject,
            )
        )
    else:
        result.add(CheckResult.passed("issuer_binding", f"signed by the issuer {issuer}", subject=subject))


def _check_proof_times(
    proof: Mapping[str, Any], now: datetime, skew: timedelta, result: VerificationResult, subject: str | None
) -> None:
    # parse_proof already checked the formats.
    expires = proof.get("expires")
    created = proof.get("created")
    if expires is not None and parse_datetime(expires) < now - skew:
        result.add(
            CheckResult.failed(
                "proof_expiry", "PROOF_VERIFICATION_ERROR", f"the proof expired at {expires}", subject=subject,
                data={"expires": expires, "now": now.isoformat()},
            )
        )
    elif created is not None and parse_datetime(created) > now + skew:
        result.add(
            CheckResult.failed(
                "proof_expiry", "PROOF_VERIFICATION_ERROR", f"the proof was created in the future ({created})",
                subject=subject, data={"created": created, "now": now.isoformat()},
            )
        )
    else:
        result.add(
            CheckResult.passed(
                "proof_expiry", f"expires {expires}" if expires else "the proof does not expire", subject=subject
            )
        )


def _check_validity_period(credential: Credential, now: datetime, skew: timedelta, result: VerificationResult) -> None:
    start, end = credential.valid_from, credential.valid_until
    if start is not None and now + skew < start:
        result.add(
            CheckResult.failed(
                "validity_period", "RANGE_ERROR", f"the credential is not valid until {start.isoformat()}",
                data={"validFrom": start.isoformat(), "now": now.isoformat()},
            )
        )
    elif end is not None and now - skew > end:
        result.add(
            CheckResult.failed(
                "validity_period", "RANGE_ERROR", f"the credential expired at {end.isoformat()}",
                data={"validUntil": end.isoformat(), "now": now.isoformat()},
            )
        )
    else:
        window = f"{start.isoformat() if start else 'any time'} .. {end.isoformat() if end else 'no end'}"
        result.add(CheckResult.passed("validity_period", f"valid now ({window})"))


def _check_status(credential: Credential, result: VerificationResult) -> None:
    if credential.credentialStatus is None:
        result.add(CheckResult.skipped("status", "the credential has no credentialStatus"))
    else:
        # Fail closed until status lists are supported: never report such a credential as verified.
        result.add(
            CheckResult.error(
                "status", "STATUS_RETRIEVAL_ERROR", "credentialStatus is present but status checking is not supported yet"
            )
        )
