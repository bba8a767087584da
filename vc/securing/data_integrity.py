"""Data Integrity as a securing mechanism: proofs embedded in the JSON document (VC Data
Integrity 1.0), signed and verified with the cryptosuites of :mod:`tradevc.vc.securing.proofs`.

Signing: :func:`sign_credential`, :func:`cosign_credential` (a proof set or chain) and
:func:`sign_presentation`. Verifying, as :class:`DataIntegrity` for the pipeline:

=================  ==========================================================================
check              what it establishes
=================  ==========================================================================
structure          the credential (presentation) and each proof follow the data model
proof              the signature verifies with the verification method's key
purpose            the proof's purpose is the expected one and the controller's DID document
                   lists the verification method under it
proof_expiry       the proof is not expired and was not created in the future
                   (proof, purpose and proof_expiry repeat for each proof of a proof set or chain)
challenge, domain  presentations: each proof is bound to the verifier's challenge and domain
issuer_binding     a verified proof was made by a key the issuer (the holder) controls;
(holder_binding)   co-signers may add more
=================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Sequence

from tradevc.vc.checks.common import (
    ExpectedDomain, bind_named_list_issuer, check_binding, check_challenge, check_domain, resolved_from,
    skip_holder_binding,
)
from tradevc.vc.compat import STRICT, Compatibility, warning
from tradevc.vc.errors import InvalidDocument, SigningError, UnsupportedError, VcError
from tradevc.vc.jsonld import DocumentLoader, default_loader
from tradevc.vc.jsontext import check_value
from tradevc.vc.keys import KeyPair
from tradevc.vc.model import (
    CREDENTIALS_V1, CREDENTIALS_V2, Credential, Proof, is_url, parse_credential, parse_datetime, parse_presentation,
    parse_proof,
)
from tradevc.vc.report import CheckResult, PresentationResult, VerificationResult
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.retrieval.http import RetrievalError
from tradevc.vc.securing.enveloped import envelope_credential
from tradevc.vc.securing.mechanism import CREDENTIAL, PRESENTATION, Context, Kind, Secured
from tradevc.vc.securing.proofs import get_suite, suite_for_proof
from tradevc.vc.securing.proofs.data_integrity import (
    DATA_INTEGRITY_V2, LEGACY_PROOF_DEVIATIONS, VerifiedProof, add_proof, inline_coverage, proofs_of, verify_proof,
)

__all__ = [
    "DataIntegrity", "MECHANISM", "LEGACY_CONTEXTS", "check_proofs", "cosign_credential", "sign_credential",
    "sign_presentation", "uses_json_ld",
]

LEGACY_CONTEXTS = {"Ed25519Signature2020": "https://w3id.org/security/suites/ed25519-2020/v1"}
"""The context a legacy proof type needs the document itself to list."""

JCS_SIGNS = "JCS proofs sign"


# -- signing -------------------------------------------------------------------------------------


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
    :raises ParsingError: the credential is not I-JSON (``NaN``, ``Infinity``, an integer
        beyond 2**53-1 in magnitude, a lone surrogate): it is not signed.
    :raises SigningError: the credential already has a proof (see :func:`cosign_credential`),
        its issuer is not the DID of the verification method, or it lacks the context a
        legacy proof type needs (``Ed25519Signature2020``).
    :raises DataLossError: a term is not defined by the credential's contexts.
    :raises ContextNotPinned: the credential uses a context that is not pinned, or an inline
        context an RDFC proof would not cover and the loader does not pin by hash (JCS
        cryptosuites cover inline contexts; see :func:`tradevc.vc.jsonld.check_context_use`).
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
        raise TypeError("key must be a tradevc.vc.keys.KeyPair")
    check_value(credential, None)  # I-JSON: NaN, Infinity, big integers, lone surrogates are not signed
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


def sign_presentation(
    credentials: Sequence[Mapping[str, Any] | str],
    holder_key: KeyPair,
    *,
    challenge: str,
    domain: str,
    cryptosuite: str = "eddsa-rdfc-2022",
    holder: str | None = None,
    verification_method: str | None = None,
    presentation_id: str | None = None,
    created: str | datetime | None = None,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """Wrap ``credentials`` in a presentation signed by the holder for one verifier.

    Each credential is a JSON object (secured with Data Integrity, or an enveloped
    credential) or a ``vc+jwt`` token, which goes in as an ``EnvelopedVerifiableCredential``.
    ``challenge`` and ``domain`` are what the verifier asked for; the proof binds them, so the
    presentation cannot be replayed to another verifier or in another session. ``holder``
    defaults to the key's did:key, the verification method to its did:key method; the
    holder must be the verification method's DID.

    :raises ValueError: empty challenge or domain, or a holder that does not control the key.
    :raises ParsingError: a credential (or the challenge, domain, holder) is not I-JSON.
    :raises UnsupportedError, KeyMaterialError, DataLossError, ContextNotPinned,
        ProtectedTermRedefinition: as for credentials (an inline context anywhere in the
        presentation, the credentials' included, is not covered by an RDFC proof).
    """
    if not isinstance(holder_key, KeyPair):
        raise TypeError("holder_key must be a tradevc.vc.keys.KeyPair")
    if not isinstance(challenge, str) or not challenge or not isinstance(domain, str) or not domain:
        raise ValueError("a presentation needs the verifier's challenge and domain (non-empty strings)")
    method = verification_method or holder_key.verification_method
    holder = holder or method.split("#", 1)[0]
    if not is_url(holder) or method.split("#", 1)[0] != holder:
        raise ValueError(f"the holder {holder!r} must be the DID of the verification method {method!r}")
    entries = [envelope_credential(c) if isinstance(c, str) else dict(c) for c in credentials]
    check_value([entries, holder, challenge, domain, presentation_id], None)
    presentation: dict[str, Any] = {"@context": _contexts_for(entries, cryptosuite)}
    if presentation_id is not None:
        presentation["id"] = presentation_id
    presentation["type"] = ["VerifiablePresentation"]
    presentation["holder"] = holder
    presentation["verifiableCredential"] = entries
    parse_presentation(presentation)
    return add_proof(
        presentation, holder_key, cryptosuite=cryptosuite, verification_method=method,
        proof_purpose="authentication", challenge=challenge, domain=domain, created=created,
        loader=loader or default_loader(),
    )


def _contexts_for(credentials: Sequence[Mapping[str, Any]], cryptosuite: str) -> list[str]:
    """VC 2.0 presentations by default; a presentation of only 1.1 credentials uses the 1.1
    base context (the two base contexts protect the same terms differently)."""
    firsts = {_first_context(c) for c in credentials}
    contexts = [CREDENTIALS_V1, DATA_INTEGRITY_V2] if firsts == {CREDENTIALS_V1} else [CREDENTIALS_V2]
    legacy = LEGACY_CONTEXTS.get(get_suite(cryptosuite).proof_type)
    if legacy:
        contexts.append(legacy)
    return contexts


def _first_context(credential: Mapping[str, Any]) -> Any:
    context = credential.get("@context") if isinstance(credential, Mapping) else None
    return context[0] if isinstance(context, list) and context else context


# -- verifying -----------------------------------------------------------------------------------


def uses_json_ld(proof: Any) -> bool:
    """True if ``proof``'s suite interprets the document as JSON-LD (RDFC suites), or if the
    suite is unknown (the proof check will fail it; the data is then checked conservatively)."""
    try:
        return suite_for_proof(proof.get("type"), proof.get("cryptosuite")).uses_json_ld
    except (UnsupportedError, AttributeError):
        return True


def _types(document: Mapping[str, Any]) -> list[Any]:
    types = document.get("type")
    return types if isinstance(types, list) else [types]


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


class DataIntegrity:
    """Documents secured with embedded Data Integrity proofs (and legacy Linked Data proofs)."""

    name = "Data Integrity"

    def recognise(self, document: Any) -> bool:
        return isinstance(document, Mapping)

    def open(
        self, document: Any, *, kind: Kind | None, context: Context, result: VerificationResult
    ) -> Secured | None:
        if isinstance(document, Mapping) and isinstance(document.get("id"), str):
            result.document_id = document["id"]
        if kind is None:
            presentation = isinstance(document, Mapping) and "VerifiablePresentation" in _types(document)
            kind = PRESENTATION if presentation else CREDENTIAL
        signed = document
        if kind == CREDENTIAL and context.compatibility.status_list_issuer_name and isinstance(document, Mapping):
            signer = _single_signer(document)
            bound = bind_named_list_issuer(document, signer, result) if signer else None
            if bound is not None:
                # A name is no IRI: JSON-LD processors of the time dropped it from the statements
                # they signed, so RDFC proofs are checked over the list without it. JCS proofs
                # signed the JSON itself, name included.
                if all(uses_json_ld(p) for p in proofs_of(document)):
                    signed = {k: v for k, v in document.items() if k != "issuer"}
                document = bound
        noun = "credential" if kind == CREDENTIAL else "presentation"
        try:
            model = parse_credential(document) if kind == CREDENTIAL else parse_presentation(document)
            proofs = proofs_of(document)
            if not proofs:
                result.add(CheckResult.failed("structure", "PROOF_VERIFICATION_ERROR", f"the {noun} has no proof"))
                return None
            parsed_proofs = [parse_proof(proof) for proof in proofs]
        except InvalidDocument as e:
            result.add(CheckResult.from_error("structure", e))
            return None
        message = (
            f"VC Data Model {model.data_model.value} credential" if isinstance(model, Credential)
            else "verifiable presentation"
        )
        result.add(CheckResult.passed("structure", message))
        entries: list[Any] = []
        if kind == PRESENTATION:
            inner = document.get("verifiableCredential")
            entries = [] if inner is None else inner if isinstance(inner, list) else [inner]
        signed_proofs = proofs_of(signed)
        return Secured(
            mechanism=self, kind=kind, document=document, model=model, signed=signed,
            json_signed_by=None if any(uses_json_ld(p) for p in signed_proofs) else JCS_SIGNS,
            coverage=lambda: inline_coverage(signed_proofs), credentials=entries, state=parsed_proofs,
        )

    def verify(
        self, secured: Secured, *, party: str | None, challenge: str | None, domain: ExpectedDomain | None,
        context: Context, result: VerificationResult,
    ) -> list[str]:
        presentation = secured.kind == PRESENTATION
        verified = check_proofs(
            secured.signed, expected_purpose="authentication" if presentation else "assertionMethod",
            resolvers=context.resolvers, loader=context.loader, now=context.now, skew=context.max_clock_skew,
            result=result, parsed_proofs=secured.state, compatibility=context.compatibility,
        )
        controllers = [v.method.controller for v in verified]
        if presentation:
            assert challenge is not None and domain is not None, "the pipeline passes both for a presentation"
            proofs = proofs_of(secured.signed)
            if isinstance(result, PresentationResult) and proofs:
                result.expose_proof(proofs[0].get("challenge"), proofs[0].get("domain"), proofs[0].get("created"))
            for proof in proofs:
                subject = proof.get("id") or proof.get("verificationMethod")
                check_challenge(proof.get("challenge"), challenge, result, subject)
                check_domain(proof.get("domain"), domain, result, subject)
            if party is not None:
                check_binding("holder_binding", "holder", party, controllers, result)
            else:
                skip_holder_binding(result, list(dict.fromkeys(controllers)))
        else:
            check_binding("issuer_binding", "issuer", party, controllers, result)
        return list(dict.fromkeys(controllers))


MECHANISM = DataIntegrity()


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
    ``compatibility`` may allow legacy proof types (see :mod:`tradevc.vc.compat`); a proof that
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
            _check_purpose(verified, expected_purpose, result, subject)
        _check_proof_times(proof, now, skew, result, subject)
    return verified_proofs


def _check_purpose(verified: VerifiedProof, expected: str, result: VerificationResult, subject: str | None) -> None:
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


def _check_proof_times(
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
