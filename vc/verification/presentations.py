"""Verifiable presentations: the holder signs one or more credentials for one verifier
(proof purpose ``authentication``, bound to the verifier's ``challenge`` and ``domain``), and
the verifier checks the presentation and then every credential in it.

Checks of the presentation itself: ``structure``, ``context``, ``data_loss``, then per proof
``proof``, ``purpose`` (authentication), ``proof_expiry``, ``challenge``, ``domain``; then
``holder_binding`` and ``credentials`` (every credential inside verified; each has its own
report in :attr:`PresentationResult.credentials`). The presentation is verified only if all
of that passed: good credentials never make up for a bad presentation proof, nor the reverse.

``holder`` is optional (VC Data Model 2.0 section 4.13, as in 1.1): a presentation that names
no holder is verified by its proof, challenge and domain alone, ``holder_binding`` is skipped
with the reason, and the report names the DID that signed (:attr:`PresentationResult.signers`).
A holder that is named must be a signer.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Sequence

from tradevc.vc.checks.common import (
    check_binding,
    check_contexts,
    check_data_loss,
    check_proofs,
    new_report,
    require_a_verified_proof,
    verification_inputs,
)
from tradevc.vc.compat import Compatibility, require_compatibility
from tradevc.vc.verification.credentials import DEFAULT_CLOCK_SKEW, LEGACY_CONTEXTS, verify_credential
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.securing.enveloped import is_enveloped
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsonld import DocumentLoader, default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.model import CREDENTIALS_V1, CREDENTIALS_V2, is_url, parse_presentation, parse_proof
from tradevc.vc.checks.policy import VerificationPolicy
from tradevc.vc.securing.proofs import get_suite
from tradevc.vc.securing.proofs.data_integrity import DATA_INTEGRITY_V2, add_proof, proofs_of
from tradevc.vc.report import CheckResult, VerificationResult

if TYPE_CHECKING:
    from tradevc.vc.retrieval.status_lists import StatusChecker
    from tradevc.vc.checks.schemas import SchemaStore

__all__ = ["sign_presentation", "verify_presentation", "PresentationResult"]


def sign_presentation(
    credentials: Sequence[Mapping[str, Any]],
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

    ``challenge`` and ``domain`` are what the verifier asked for; the proof binds them, so the
    presentation cannot be replayed to another verifier or in another session. ``holder``
    defaults to the key's did:key, the verification method to its did:key method; the
    holder must be the verification method's DID.

    :raises ValueError: empty challenge or domain, or a holder that does not control the key.
    :raises UnsupportedError, KeyMaterialError, DataLossError, ContextNotPinned,
        ProtectedTermRedefinition: as for credentials (an inline context anywhere in the
        presentation, the credentials' included, is not covered by an RDFC proof).
    """
    if not isinstance(holder_key, KeyPair):
        raise TypeError("holder_key must be a vc.keys.KeyPair")
    if not isinstance(challenge, str) or not challenge or not isinstance(domain, str) or not domain:
        raise ValueError("a presentation needs the verifier's challenge and domain (non-empty strings)")
    method = verification_method or holder_key.verification_method
    holder = holder or method.split("#", 1)[0]
    if not is_url(holder) or method.split("#", 1)[0] != holder:
        raise ValueError(f"the holder {holder!r} must be the DID of the verification method {method!r}")
    presentation: dict[str, Any] = {"@context": _contexts_for(credentials, cryptosuite)}
    if presentation_id is not None:
        presentation["id"] = presentation_id
    presentation["type"] = ["VerifiablePresentation"]
    presentation["holder"] = holder
    presentation["verifiableCredential"] = [dict(c) for c in credentials]
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


@dataclass
class PresentationResult(VerificationResult):
    """The presentation's report; ``credentials`` holds one report per credential inside,
    ``signers`` the DIDs whose keys made the presentation's verified proofs (for a JOSE
    presentation, the DID of the ``kid`` once the signature verified), in proof order, each
    once; it is empty when no proof verified."""

    credentials: list[VerificationResult] = field(default_factory=list)
    signers: list[str] = field(default_factory=list)

    @property
    def signer(self) -> str | None:
        """The DID that signed the presentation: the only one in :attr:`signers`; ``None``
        when no proof verified, or when proofs by several DIDs did (see :attr:`signers`)."""
        return self.signers[0] if len(self.signers) == 1 else None

    def summary(self) -> str:
        parts = [super().summary()]
        for i, credential in enumerate(self.credentials, 1):
            inner = credential.summary().replace("\n", "\n    ")
            parts.append(f"  credential {i}: {inner}")
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["signers"] = list(self.signers)
        out["credentials"] = [c.to_dict() for c in self.credentials]
        return out


def verify_presentation(
    document: Any,
    *,
    challenge: str,
    domain: str,
    policy: VerificationPolicy,
    now: datetime | None = None,
    loader: DocumentLoader | None = None,
    resolvers: DidResolvers | None = None,
    status_checker: "StatusChecker | None" = None,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    schemas: "SchemaStore | None" = None,
    compatibility: Compatibility | None = None,
) -> PresentationResult:
    """Verify a presentation for the verifier that issued ``challenge`` and ``domain``, and
    every credential in it (with :func:`~vc.credentials.verify_credential` and ``policy``).
    A compact JWS string or an ``EnvelopedVerifiablePresentation`` is verified by
    :func:`vc.jose.verify_presentation_jwt` instead.

    A proof's ``domain`` may be one string, which must equal ``domain``, or a list, which must
    contain it. The challenge is compared in constant time. ``schemas`` (the JSON Schemas the
    verifier holds) are used for every credential, as in :func:`~vc.credentials.verify_credential`.
    ``compatibility`` (default strict, see :mod:`vc.compat`) applies to the presentation and
    every credential in it.

    :raises TypeError, ValueError: misuse: no policy, naive ``now``, empty challenge or domain,
        a ``compatibility`` that is not a :class:`~vc.compat.Compatibility`.
    """
    now, loader, resolvers = verification_inputs(
        policy, now, loader, resolvers, challenge=challenge, domain=domain, presentation=True
    )
    compat = require_compatibility(compatibility)
    if isinstance(document, str) or is_enveloped(document, "EnvelopedVerifiablePresentation"):
        from tradevc.vc.securing.jose import verify_presentation_jwt  # JOSE-secured: vp+jwt, VC-JWT 1.1, or its envelope

        return verify_presentation_jwt(
            document, challenge=challenge, domain=domain, policy=policy, now=now, loader=loader,
            resolvers=resolvers, status_checker=status_checker, max_clock_skew=max_clock_skew, schemas=schemas,
            compatibility=compat,
        )

    result = new_report(PresentationResult(), document, policy)

    try:
        presentation = parse_presentation(document)
        proofs = proofs_of(document)
        if not proofs:
            result.add(CheckResult.failed("structure", "PROOF_VERIFICATION_ERROR", "the presentation has no proof"))
            return result
        parsed_proofs = [parse_proof(proof) for proof in proofs]
    except InvalidDocument as e:
        result.add(CheckResult.from_error("structure", e))
        return result
    result.add(CheckResult.passed("structure", "verifiable presentation"))
    uses = check_contexts(document, loader, result)
    if uses is None or not check_data_loss(document, loader, result, inline=bool(uses.inline)):
        return result

    verified = check_proofs(
        document, expected_purpose="authentication", resolvers=resolvers, loader=loader, now=now,
        skew=max_clock_skew, result=result, parsed_proofs=parsed_proofs, compatibility=compat,
    )
    for proof in proofs:
        subject = proof.get("id") or proof.get("verificationMethod")
        _check_challenge(proof.get("challenge"), challenge, result, subject)
        _check_domain(proof.get("domain"), domain, result, subject)
    result.signers = list(dict.fromkeys(v.method.controller for v in verified))
    if presentation.holder_id is None:
        _skip_holder_binding(result)
    else:
        check_binding("holder_binding", "holder", presentation.holder_id, verified, result)
    require_a_verified_proof(result)

    entries = presentation.verifiableCredential
    entries = [] if entries is None else entries if isinstance(entries, list) else [entries]
    for entry in entries:
        result.credentials.append(
            verify_credential(
                entry, policy=policy, now=now, loader=loader, resolvers=resolvers, status_checker=status_checker,
                max_clock_skew=max_clock_skew, schemas=schemas, compatibility=compat,
            )
        )
    _check_credentials(result)
    return result


def _skip_holder_binding(result: PresentationResult) -> None:
    """``holder_binding``, skipped: the presentation names no holder (optional in the data
    model), so there is no holder to bind; the report's message names who signed instead."""
    signed = f"signed by {', '.join(result.signers)}" if result.signers else "no proof verified"
    result.add(
        CheckResult.skipped("holder_binding", f"the presentation names no holder, so no holder binding to check; {signed}")
    )


def _check_challenge(actual: Any, expected: str, result: VerificationResult, subject: str | None) -> None:
    if not isinstance(actual, str) or not hmac.compare_digest(actual.encode(), expected.encode()):
        message = "the proof has no challenge" if actual is None else "the proof's challenge is not the one issued"
        result.add(CheckResult.failed("challenge", "INVALID_CHALLENGE_ERROR", message, subject=subject))
    else:
        result.add(CheckResult.passed("challenge", "matches the challenge issued", subject=subject))


def _check_domain(actual: Any, expected: str, result: VerificationResult, subject: str | None) -> None:
    ok = actual == expected or (isinstance(actual, list) and expected in actual)
    if ok:
        result.add(CheckResult.passed("domain", f"bound to {expected}", subject=subject))
    else:
        message = "the proof has no domain" if actual is None else f"the proof is bound to {actual!r}, not {expected!r}"
        result.add(CheckResult.failed("domain", "INVALID_DOMAIN_ERROR", message, subject=subject))


def _check_credentials(result: PresentationResult) -> None:
    if not result.credentials:
        result.add(CheckResult.skipped("credentials", "the presentation holds no credentials"))
        return
    bad = [i for i, c in enumerate(result.credentials, 1) if not c.verified]
    if bad:
        result.add(
            CheckResult.failed(
                "credentials", "CREDENTIAL_VERIFICATION_ERROR",
                f"credential(s) {', '.join(map(str, bad))} of {len(result.credentials)} did not verify",
            )
        )
    else:
        result.add(CheckResult.passed("credentials", f"all {len(result.credentials)} credential(s) verified"))
