"""Checks shared by credential and presentation verification. Each appends named
:class:`~vc.verification.CheckResult` entries to a report and never raises for bad input."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

from tradevc.vc.compat import STRICT, Compatibility, warning
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.errors import DataLossError, InvalidDocument, ResolutionError, UnsupportedError, VcError
from tradevc.vc.retrieval.http import RetrievalError
from tradevc.vc.fastpath import fast_quads
from tradevc.vc.jsonld import (
    ContextUse, DocumentLoader, check_context_use, contexts_of, default_loader, expand, refuse_hidden_properties,
)
from tradevc.vc.model import Proof, parse_datetime
from tradevc.vc.checks.policy import require_policy
from tradevc.vc.securing.proofs import suite_for_proof
from tradevc.vc.securing.proofs.data_integrity import LEGACY_PROOF_DEVIATIONS, VerifiedProof, inline_coverage, proofs_of, verify_proof
from tradevc.vc.report import CheckResult, VerificationResult


def verification_inputs(
    policy: Any, now: datetime | None, loader: DocumentLoader | None, resolvers: DidResolvers | None,
    *, challenge: str | None = None, domain: str | None = None, presentation: bool = False,
) -> tuple[datetime, DocumentLoader, DidResolvers]:
    """What every verification starts with: refuse API misuse (no policy, a naive ``now``, a
    presentation without the verifier's challenge and domain) with ``TypeError``/``ValueError``,
    and fill in the defaults: the system clock, the pinned contexts, offline DID resolvers."""
    require_policy(policy)
    if presentation and (not isinstance(challenge, str) or not challenge or not isinstance(domain, str) or not domain):
        raise ValueError("verify_presentation needs the challenge and domain the verifier issued")
    if now is None:
        now = datetime.now(timezone.utc)
    elif not isinstance(now, datetime) or now.tzinfo is None:
        raise TypeError("now must be a timezone-aware datetime")
    return now, loader or default_loader(), resolvers or _offline_resolvers()


_OFFLINE: DidResolvers | None = None


def _offline_resolvers() -> DidResolvers:
    """The default resolvers, shared by calls that bring none: offline did:key and did:jwk
    resolve a DID from the DID alone and keep no state of their own, so one instance serves
    every call (building one costs several microseconds, per verification)."""
    global _OFFLINE
    if _OFFLINE is None:
        _OFFLINE = DidResolvers.offline()
    return _OFFLINE


def check_contexts(
    document: Mapping[str, Any], loader: DocumentLoader, result: VerificationResult, *, signed_by: str | None = None
) -> ContextUse | None:
    """``context``: every context URL (of the document and of the objects inside it) is one the
    loader serves, and every inline context is covered by the signature or pinned by its
    SHA-256 (see :func:`vc.jsonld.check_context_use`), without redefining a protected term.

    ``signed_by`` names a mechanism that signs the JSON bytes (JOSE: "the JWS"); by default
    the document's proofs decide (JCS covers inline contexts, RDFC does not). Returns the
    contexts used, or None if the check failed.
    """
    use = contexts_of(document)
    covered_by, not_covered = signed_by, ""
    if use.inline and signed_by is None:  # which proofs cover inline contexts, only when there are some
        covered_by, not_covered = inline_coverage(proofs_of(document))
    try:
        use = check_context_use(document, loader, covered_by=covered_by, not_covered=not_covered, use=use)
    except (ResolutionError, InvalidDocument) as e:
        result.add(CheckResult.from_error("context", e))
        return None
    message = f"{len(use.urls)} pinned context(s)"
    if use.inline:
        covered = len(use.inline) - use.pinned
        parts = [f"{use.pinned} pinned by SHA-256"] if use.pinned else []
        if covered:
            parts.append(f"{covered} covered by {covered_by}")
        message += f", {len(use.inline)} inline ({', '.join(parts)})"
    result.add(CheckResult.passed("context", message))
    return use


def uses_json_ld(proof: Any) -> bool:
    """True if ``proof``'s suite interprets the document as JSON-LD (RDFC suites), or if the
    suite is unknown (the proof check will fail it; the data is then checked conservatively)."""
    try:
        return suite_for_proof(proof.get("type"), proof.get("cryptosuite")).uses_json_ld
    except (UnsupportedError, AttributeError):
        return True  # unknown suite: the proof check will fail it; check the data conservatively


def check_data_loss(
    document: Mapping[str, Any],
    loader: DocumentLoader,
    result: VerificationResult,
    *,
    inline: bool | None = None,
    signed_by: str | None = None,
) -> bool:
    """``data_loss``: JSON-LD expansion keeps every term. Skipped where the signature is over
    the JSON itself (every proof JCS, or ``signed_by`` a JWS) and the document uses no inline
    context (``inline``, from :func:`check_contexts`; found here if None): an inline context
    makes the document's terms the signer's own, so they must still all be defined."""
    json_signed = signed_by is not None or not any(uses_json_ld(p) for p in proofs_of(document))
    if json_signed:
        if inline is None:
            inline = bool(contexts_of(document).inline)
        if not inline:
            what = f"{signed_by} signs" if signed_by else "JCS proofs sign"
            result.add(CheckResult.skipped("data_loss", f"{what} the JSON itself; no JSON-LD expansion needed"))
            return True
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    # the fast path keeps every term or gives up; it also gives up on a property written as
    # an IRI and on keywords other than @id, @type, @value and @language, so a document it
    # converts has no member an RDFC signature would leave unsigned by name
    if fast_quads(unsecured, loader) is not None:
        result.add(CheckResult.passed("data_loss", "every term is defined by the contexts"))
        return True
    if not json_signed:  # an RDFC proof: member names are not signed
        try:
            refuse_hidden_properties(unsecured)
        except DataLossError as e:
            result.add(CheckResult.from_error("data_loss", e))
            return False
    try:
        expand(unsecured, loader)
    except (DataLossError, InvalidDocument, ResolutionError) as e:
        result.add(CheckResult.from_error("data_loss", e))
        return False
    result.add(CheckResult.passed("data_loss", "every term is defined by the contexts"))
    return True


def check_proofs(
    document: Mapping[str, Any],
    *,
    expected_purpose: str,
    resolvers: DidResolvers,
    loader: DocumentLoader,
    now: datetime,
    skew: timedelta,
    result: VerificationResult,
    parsed_proofs: Sequence[Proof] | None = None,
    compatibility: Compatibility = STRICT,
) -> list[VerifiedProof]:
    """``proof``, ``purpose`` and ``proof_expiry`` for every proof; all must pass. Returns the
    proofs whose signatures verified. ``parsed_proofs``, if given, is ``parse_proof`` of each
    of ``proofs_of(document)``, in that order (already done by the structure check).
    ``compatibility`` may allow legacy proof types (see :mod:`vc.compat`); a proof that
    needed one adds its warning to ``result``."""
    verified_proofs = []
    for index, proof in enumerate(proofs_of(document)):
        subject = proof.get("id") or proof.get("verificationMethod")
        parsed = parsed_proofs[index] if parsed_proofs is not None else None
        try:
            verified = verify_proof(
                document, proof, resolvers=resolvers, loader=loader, parsed_proof=parsed, compatibility=compatibility
            )
        except RetrievalError as e:  # could not fetch the DID document: not checked, not invalid
            result.add(CheckResult.error("proof", e.code, e.message, subject=subject))
        except VcError as e:
            result.add(CheckResult.from_error("proof", e, subject=subject))
        else:
            verified_proofs.append(verified)
            if verified.suite.proof_type in LEGACY_PROOF_DEVIATIONS:
                result.warnings.append(warning(
                    LEGACY_PROOF_DEVIATIONS[verified.suite.proof_type],
                    f"the legacy {verified.suite.proof_type} proof by {verified.method.id} was accepted",
                ))
            chained = f", chained to {verified.proof.previousProof}" if verified.proof.previousProof else ""
            source, data = resolved_from(resolvers, verified.method.controller)
            result.add(
                CheckResult.passed(
                    "proof", f"{verified.suite.name} signature verified with {verified.method.id}{chained}{source}",
                    subject=subject, data=data,
                )
            )
            check_purpose(verified, expected_purpose, result, subject)
        check_proof_times(proof, now, skew, result, subject)
    return verified_proofs


def resolved_from(resolvers: DidResolvers, did: str) -> tuple[str, dict[str, Any]]:
    """For a report: where the DID document of ``did`` was read from when a mirror or
    snapshot served it (``"; <did> resolved from mirror <url>"`` and ``{"didDocumentFrom":
    ...}``), else ``("", {})``, so an officer knows the bytes did not come from the DID's host."""
    origin = resolvers.origin(did)
    if origin is None:
        return "", {}
    return f"; {did} resolved from {origin}", {"didDocumentFrom": str(origin)}


def check_purpose(verified: VerifiedProof, expected: str, result: VerificationResult, subject: str | None) -> None:
    """``purpose``: the proof's purpose is ``expected`` and the DID document lists the key under it."""
    purpose = verified.proof.proofPurpose
    if purpose != expected:
        result.add(
            CheckResult.failed(
                "purpose", "PROOF_VERIFICATION_ERROR", f"proof purpose is {purpose!r}, expected {expected!r}",
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


def check_proof_times(
    proof: Mapping[str, Any], now: datetime, skew: timedelta, result: VerificationResult, subject: str | None
) -> None:
    """``proof_expiry``: the proof has not expired and was not created in the future."""
    try:
        expires = proof.get("expires")
        created = proof.get("created")
        expires_at = None if expires is None else parse_datetime(expires, field="expires")
        created_at = None if created is None else parse_datetime(created, field="created")
    except ValueError as e:
        result.add(CheckResult.failed("proof_expiry", "MALFORMED_VALUE_ERROR", str(e), subject=subject))
        return
    if expires_at is not None and expires_at < now - skew:
        result.add(
            CheckResult.failed(
                "proof_expiry", "PROOF_VERIFICATION_ERROR", f"the proof expired at {expires}", subject=subject,
                data={"expires": expires, "now": now.isoformat()},
            )
        )
    elif created_at is not None and created_at > now + skew:
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


def check_binding(
    name: str, role: str, party: str | None, verified_proofs: list[VerifiedProof], result: VerificationResult
) -> None:
    """``issuer_binding`` / ``holder_binding``: a verified proof was made by a key that
    ``party`` (the issuer, the holder) controls. Other proofs (co-signers such as an
    inspector) need not be the party's, but at least one must."""
    if not verified_proofs:
        return  # the proof check already failed
    controllers = [v.method.controller for v in verified_proofs]
    if party in controllers:
        others = sorted(set(controllers) - {party})
        extra = f"; also signed by {', '.join(others)}" if others else ""
        result.add(CheckResult.passed(name, f"signed by the {role} {party}{extra}"))
    else:
        result.add(
            CheckResult.failed(
                name,
                "PROOF_VERIFICATION_ERROR",
                f"no proof was made by a key of the {role} {party}; signed by {', '.join(sorted(set(controllers)))}",
            )
        )


def require_a_verified_proof(result: VerificationResult) -> None:
    """Belt and braces: a report without a passed ``proof`` check must never verify."""
    outcomes = {c.outcome.value for c in result.checks if c.name == "proof"}
    if "passed" not in outcomes and "error" not in outcomes:
        result.add(CheckResult.failed("proof", "PROOF_VERIFICATION_ERROR", "no proof verified"))


def new_report(report: VerificationResult, document: Any, policy: Any) -> VerificationResult:
    """Start ``report`` for ``document``: the policy's warning and the document's id."""
    if policy.warning:
        report.warnings.append(policy.warning)
    if isinstance(document, Mapping) and isinstance(document.get("id"), str):
        report.document_id = document["id"]
    return report
