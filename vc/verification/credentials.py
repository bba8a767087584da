"""Issue and verify credentials secured with Data Integrity proofs.

:func:`verify_credential` runs a fixed sequence of named checks and returns a
:class:`~vc.verification.VerificationResult`; bad input never raises out of it.

=================  ==========================================================================
check              what it establishes
=================  ==========================================================================
structure          the credential and each proof follow the data model
context            every context URL (anywhere in the document) is pinned; an inline context is
                   covered by the signature (JCS proofs) or pinned by its SHA-256 (RDFC proofs
                   do not cover it), and redefines no protected term
data_loss          JSON-LD expansion drops nothing: every claim is covered by the signature
                   (skipped when every proof is JCS and no context is inline)
proof              the signature verifies with the verification method's key
purpose            the proof's purpose is the expected one and the controller's DID document
                   lists the verification method under it
proof_expiry       the proof is not expired and was not created in the future
                   (proof, purpose and proof_expiry repeat for each proof of a proof set or chain)
issuer_binding     a verified proof was made by a key the issuer controls (co-signers may add more)
validity_period    now is within validFrom..validUntil (1.1: issuanceDate..expirationDate)
revocation,        each credentialStatus entry, against its status list (with a status checker;
suspension,        without one, a credential with a status is reported as could-not-verify)
status
related_resource   each relatedResource entry's digest matches the bytes the verifier holds
                   (pinned contexts, held schemas); skipped for a resource it does not hold
schema             each credentialSchema (VC JSON Schema): the credential conforms to the held
                   schema; skipped for a schema the verifier does not hold (see vc.schemas)
issuer_trust       the trust policy accepts the issuer for the credential's types
=================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tradevc.vc.compat import Compatibility, require_compatibility, warning
from tradevc.vc.checks.common import (
    check_binding,
    check_contexts,
    check_data_loss,
    check_proofs,
    new_report,
    require_a_verified_proof,
    uses_json_ld,
    verification_inputs,
)
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.errors import InvalidDocument, SigningError
from tradevc.vc.checks.integrity import LocalResources, ResourceChain, check_related_resources, pinned_context_files
from tradevc.vc.jsonld import DocumentLoader, default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.enveloped import is_enveloped
from tradevc.vc.model import Credential, Proof, is_url, parse_credential, parse_datetime, parse_proof
from tradevc.vc.checks.policy import VerificationPolicy
from tradevc.vc.securing.proofs import get_suite
from tradevc.vc.securing.proofs.data_integrity import add_proof, proofs_of
from tradevc.vc.checks.schemas import SchemaStore, check_credential_schemas, default_schema_store
from tradevc.vc.report import CheckResult, VerificationResult

if TYPE_CHECKING:
    from tradevc.vc.retrieval.status_lists import StatusChecker

__all__ = ["sign_credential", "cosign_credential", "verify_credential", "DEFAULT_CLOCK_SKEW"]

LEGACY_CONTEXTS = {"Ed25519Signature2020": "https://w3id.org/security/suites/ed25519-2020/v1"}

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
    proof_id: str | None = None,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """Sign ``credential`` with ``key``; return a new dict, the input is not changed.

    Give the proof a ``proof_id`` (a URL such as ``urn:uuid:...``) if others will chain their
    proofs to it (see :func:`cosign_credential`).

    ``cryptosuite`` is one of ``eddsa-rdfc-2022``, ``eddsa-jcs-2022``, ``ecdsa-rdfc-2019``,
    ``ecdsa-jcs-2019`` or the legacy ``Ed25519Signature2020``. The verification method
    defaults to the key's did:key method. The credential's issuer must be the verification
    method's DID (a verifier would reject anything else). A VC Data Model 1.1 credential
    signed with a ``DataIntegrityProof`` comes back with
    ``https://w3id.org/security/data-integrity/v2`` appended to its ``@context``.

    :raises InvalidDocument: the credential breaks the data model.
    :raises SigningError: the credential already has a proof (see :func:`cosign_credential`),
        its issuer is not the DID of the verification method, or it lacks the context a
        legacy proof type needs (``Ed25519Signature2020``).
    :raises DataLossError: a term is not defined by the credential's contexts.
    :raises ContextNotPinned: the credential uses a context that is not pinned, or an inline
        context an RDFC proof would not cover and the loader does not pin by hash (JCS
        cryptosuites cover inline contexts; see :func:`vc.jsonld.check_context_use`).
    :raises ProtectedTermRedefinition: an inline context redefines a protected term.
    :raises UnsupportedError, KeyMaterialError: unknown suite, or a key it cannot use.
    """
    parsed = _signable(credential, key, cryptosuite)
    if parsed.proof is not None:
        raise SigningError("the credential already has a proof; use cosign_credential to add another")
    method = verification_method or key.verification_method
    did = method.split("#", 1)[0]
    if parsed.issuer_id != did:
        raise SigningError(
            f"the credential's issuer is {parsed.issuer_id} but the verification method belongs to {did}; "
            "set the issuer to the signing DID"
        )
    return add_proof(
        credential, key, cryptosuite=cryptosuite, verification_method=method, created=created, expires=expires,
        proof_id=proof_id, loader=loader or default_loader(),
    )


def cosign_credential(
    credential: Mapping[str, Any],
    key: KeyPair,
    *,
    cryptosuite: str = "eddsa-rdfc-2022",
    previous_proof: str | list[str] | None = None,
    proof_id: str | None = None,
    created: str | datetime | None = None,
    expires: str | datetime | None = None,
    verification_method: str | None = None,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """Add a proof by another party (an inspector, a certifier) to a signed credential.

    Without ``previous_proof`` the new proof joins a proof set: it signs the credential
    alone, independently of the proofs already there. With ``previous_proof`` (the ``id`` of
    one or more existing proofs) it forms a proof chain and also signs over those proofs, so
    it attests that they existed first. Returns a new dict.

    :raises SigningError: the credential has no proof yet, or ``previous_proof`` names none of its proofs.
    :raises InvalidDocument, DataLossError, ContextNotPinned, ProtectedTermRedefinition,
        UnsupportedError, KeyMaterialError: as :func:`sign_credential` (an RDFC proof joining JCS
        proofs makes inline contexts uncovered).
    """
    parsed = _signable(credential, key, cryptosuite)
    if parsed.proof is None:
        raise SigningError("the credential has no proof yet; the issuer signs first with sign_credential")
    return add_proof(
        credential, key, cryptosuite=cryptosuite, verification_method=verification_method or key.verification_method,
        created=created, expires=expires, proof_id=proof_id, previous_proof=previous_proof,
        loader=loader or default_loader(),
    )


def _signable(credential: Mapping[str, Any], key: KeyPair, cryptosuite: str) -> Credential:
    if not isinstance(key, KeyPair):
        raise TypeError("key must be a vc.keys.KeyPair")
    parsed = parse_credential(credential)
    suite = get_suite(cryptosuite)
    # a DataIntegrityProof injects its context where it is missing (add_proof); a legacy
    # proof type needs its suite context listed by the credential itself
    needed = LEGACY_CONTEXTS.get(suite.proof_type)
    if needed is not None and needed not in parsed.contexts:
        raise SigningError(
            f"a {suite.proof_type} proof on a VC Data Model {parsed.data_model.value} credential needs "
            f"{needed!r} in the credential's @context (it defines the proof's terms)"
        )
    return parsed


def verify_credential(
    document: Any,
    *,
    policy: VerificationPolicy,
    now: datetime | None = None,
    loader: DocumentLoader | None = None,
    resolvers: DidResolvers | None = None,
    status_checker: "StatusChecker | None" = None,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    schemas: SchemaStore | None = None,
    compatibility: Compatibility | None = None,
) -> VerificationResult:
    """Verify a credential secured with one or more Data Integrity proofs (a proof set or
    chain: every proof must verify, and one must be the issuer's), or with JOSE: a compact
    JWS string (``vc+jwt``, or a legacy VC-JWT 1.1 token) or an ``EnvelopedVerifiableCredential``
    object (see :mod:`vc.jose`; the checks after the signature are the same).

    ``now`` defaults to the system clock (an aware datetime is required); ``loader`` to the
    pinned contexts; ``resolvers`` to offline resolvers (did:key, did:jwk). Without a
    ``status_checker`` nothing is fetched, and a credential with ``credentialStatus`` is
    reported as could-not-verify (use :class:`verifier.Verifier` to check status online).
    ``schemas`` are the JSON Schemas the verifier holds for ``credentialSchema`` (default: the
    shipped ones, :func:`vc.schemas.default_schema_store`); they and the pinned contexts are
    also the resources whose ``relatedResource`` digests are checked.

    ``compatibility`` (default strict) names the pre-Recommendation forms to tolerate (see
    :mod:`vc.compat`); each one tolerated adds a ``compat:<id>`` warning to the report. The
    status lists are judged by the status checker's own compatibility.

    :returns: the report; ``result.verified`` is True only if every check passed.
    :raises TypeError: ``policy`` is not a policy, ``now`` is naive, or ``compatibility`` is
        not a :class:`~vc.compat.Compatibility` (API misuse only).
    """
    now, loader, resolvers = verification_inputs(policy, now, loader, resolvers)
    compat = require_compatibility(compatibility)
    if isinstance(document, str) or is_enveloped(document, "EnvelopedVerifiableCredential"):
        from tradevc.vc.securing.jose import verify_credential_jwt  # JOSE-secured: vc+jwt, VC-JWT 1.1, or its envelope

        return verify_credential_jwt(
            document, policy=policy, now=now, loader=loader, resolvers=resolvers, status_checker=status_checker,
            max_clock_skew=max_clock_skew, schemas=schemas, compatibility=compat,
        )

    result = new_report(VerificationResult(), document, policy)

    signed = document
    if compat.status_list_issuer_name and isinstance(document, Mapping):
        signer = _single_signer(document)
        bound = bind_named_list_issuer(document, signer, result) if signer else None
        if bound is not None:
            # A name is no IRI: JSON-LD processors of the time dropped it from the statements
            # they signed, so RDFC proofs are checked over the list without it. JCS proofs
            # signed the JSON itself, name included.
            if all(uses_json_ld(p) for p in proofs_of(document)):
                signed = {k: v for k, v in document.items() if k != "issuer"}
            document = bound
    structure = _check_structure(document, result)
    if structure is None:
        return result
    credential, parsed_proofs = structure
    uses = check_contexts(signed, loader, result)
    if uses is None or not check_data_loss(signed, loader, result, inline=bool(uses.inline)):
        return result
    verified = check_proofs(
        signed, expected_purpose="assertionMethod", resolvers=resolvers, loader=loader, now=now,
        skew=max_clock_skew, result=result, parsed_proofs=parsed_proofs, compatibility=compat,
    )
    check_binding("issuer_binding", "issuer", credential.issuer_id, verified, result)
    check_credential_claims(
        credential, document=document, policy=policy, now=now, status_checker=status_checker,
        max_clock_skew=max_clock_skew, result=result, loader=loader, resolvers=resolvers, schemas=schemas,
    )
    return result


STATUS_LIST_TYPES = frozenset({"BitstringStatusListCredential", "StatusList2021Credential"})


def _single_signer(document: Mapping[str, Any]) -> str | None:
    """The one DID whose keys made every proof of ``document``, or None."""
    proofs = document.get("proof")
    proofs = proofs if isinstance(proofs, list) else [proofs]
    dids = {
        p["verificationMethod"].split("#", 1)[0]
        for p in proofs if isinstance(p, Mapping) and isinstance(p.get("verificationMethod"), str)
    }
    if len(dids) != 1 or len(proofs) != len([p for p in proofs if isinstance(p, Mapping)]):
        return None
    did = dids.pop()
    return did if did.startswith("did:") else None


def bind_named_list_issuer(
    document: Mapping[str, Any], signer: str, result: VerificationResult
) -> dict[str, Any] | None:
    """The ``status-list-issuer-name`` deviation: for a status list credential whose
    ``issuer`` is a plain name (a non-empty string that is not a URL), a copy whose issuer is
    ``signer``, the DID whose key signed it, with a warning in ``result``; None for any other
    document (which is then checked as it is). The binding stays strict: the caller's checks
    still require a verified proof by ``signer`` and, for a status list, that ``signer`` is the
    credential's issuer."""
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    issuer = document.get("issuer")
    if STATUS_LIST_TYPES.isdisjoint(t for t in types if isinstance(t, str)):
        return None
    if not isinstance(issuer, str) or not issuer.strip() or is_url(issuer):
        return None
    result.warnings.append(warning(
        "status-list-issuer-name",
        f"the status list's issuer is the name {issuer[:80]!r}, not a URL; the list is bound to the DID of "
        f"its signing key, {signer}",
    ))
    return {**document, "issuer": signer}


def check_credential_claims(
    credential: Credential,
    *,
    document: Mapping[str, Any],
    policy: VerificationPolicy,
    now: datetime,
    status_checker: "StatusChecker | None",
    max_clock_skew: timedelta,
    result: VerificationResult,
    loader: DocumentLoader | None = None,
    resolvers: DidResolvers | None = None,
    schemas: SchemaStore | None = None,
) -> None:
    """The checks that follow the securing mechanism, whatever it is (Data Integrity proofs or
    a JOSE envelope): ``validity_period``, the status checks, ``related_resource`` and
    ``schema`` (only when the credential has ``relatedResource`` / ``credentialSchema``),
    ``issuer_trust``, and the guard that a report without a verified proof never verifies.
    ``document`` is the credential as JSON (a JOSE credential's payload); ``loader``,
    ``resolvers`` and ``schemas`` default as in :func:`verify_credential`."""
    _check_validity_period(credential, now, max_clock_skew, result)
    _check_status(credential, status_checker, now, result)
    if credential.relatedResource is not None or credential.credentialSchema is not None:
        held = schemas if schemas is not None else default_schema_store()  # an empty store holds nothing
        if credential.relatedResource is not None:
            check_related_resources(credential.relatedResource, _local_resources(loader, held), result)
        if credential.credentialSchema is not None:
            check_credential_schemas(
                document, credential.credentialSchema, held, result,
                verify_schema_credential=lambda schema_credential: verify_credential(
                    schema_credential, policy=_PINNED_SCHEMA_CREDENTIAL, now=now, loader=loader, resolvers=resolvers,
                    status_checker=status_checker, max_clock_skew=max_clock_skew, schemas=SchemaStore.empty(),
                ),
            )
    result.add(policy.check(credential))
    require_a_verified_proof(result)


def _local_resources(loader: DocumentLoader | None, schemas: SchemaStore) -> LocalResources:
    """What ``relatedResource`` digests are compared with: the loader's own bytes if it offers
    them (a :class:`~vc.integrity.LocalResources`), the pinned contexts, the held schemas."""
    stores: list[LocalResources] = [loader] if isinstance(loader, LocalResources) else []
    return ResourceChain(*stores, pinned_context_files(), schemas)


class _PinnedSchemaCredentialPolicy:
    """The policy a held ``JsonSchemaCredential`` is verified under: its proof, validity period
    and status are checked, its issuer is not judged (the verifier chose to hold it, pinned by
    its SHA-256, which is the trust decision)."""

    warning: str | None = None

    def check(self, credential: Credential) -> CheckResult:
        return CheckResult.passed(
            "issuer_trust", f"a schema credential held by the verifier (issued by {credential.issuer_id})"
        )


_PINNED_SCHEMA_CREDENTIAL = _PinnedSchemaCredentialPolicy()


def _check_structure(document: Any, result: VerificationResult) -> tuple[Credential, list[Proof]] | None:
    """The ``structure`` check. Returns the parsed credential and its parsed proofs (in the
    order of ``proofs_of(document)``: ``credential.proof`` is the document's own value), or
    None when the check did not pass."""
    try:
        credential = parse_credential(document)
        proofs = credential.proof if isinstance(credential.proof, list) else [credential.proof]
        if credential.proof is None or not proofs:
            result.add(CheckResult.failed("structure", "PROOF_VERIFICATION_ERROR", "the credential has no proof"))
            return None
        parsed_proofs = [parse_proof(proof) for proof in proofs]
    except InvalidDocument as e:
        result.add(CheckResult.from_error("structure", e))
        return None
    result.add(CheckResult.passed("structure", f"VC Data Model {credential.data_model.value} credential"))
    return credential, parsed_proofs


def _check_validity_period(credential: Credential, now: datetime, skew: timedelta, result: VerificationResult) -> None:
    written = credential.validity_strings
    start = None if written[0] is None else parse_datetime(written[0])
    end = None if written[1] is None else parse_datetime(written[1])
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
        window = f"{written[0] or 'any time'} .. {written[1] or 'no end'}"
        result.add(CheckResult.passed("validity_period", f"valid now ({window})"))


def _check_status(
    credential: Credential, checker: "StatusChecker | None", now: datetime, result: VerificationResult
) -> None:
    if credential.credentialStatus is None:
        result.add(CheckResult.skipped("status", "the credential has no credentialStatus"))
    elif checker is None:
        # Fail closed: never report a credential with a status as verified without checking it.
        result.add(
            CheckResult.error(
                "status", "STATUS_RETRIEVAL_ERROR",
                "credentialStatus is present but no status checker was given (offline verification)",
            )
        )
    else:
        checker.check(credential.credentialStatus, credential.issuer_id, now, result)
