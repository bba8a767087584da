"""Checks that do not depend on how a document was secured. Each appends named
:class:`~tradevc.vc.report.CheckResult` entries to a report and never raises for bad input.

What a securing mechanism knows (which proofs cover inline contexts, whether the signature is
over the JSON itself, who signed) reaches these functions as plain arguments; nothing here
imports a securing mechanism.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from tradevc.vc.compat import warning
from tradevc.vc.errors import DataLossError, InvalidDocument, ResolutionError
from tradevc.vc.fastpath import fast_quads
from tradevc.vc.jsonld import ContextUse, DocumentLoader, check_context_use, contexts_of, expand, refuse_hidden_properties
from tradevc.vc.model import Credential, is_url, parse_datetime
from tradevc.vc.report import CheckResult, VerificationResult
from tradevc.vc.retrieval.did.resolver import DidResolvers

__all__ = [
    "Coverage",
    "ExpectedDomain",
    "StatusCheck",
    "STATUS_LIST_TYPES",
    "bind_named_list_issuer",
    "check_binding",
    "check_challenge",
    "check_contexts",
    "check_data_loss",
    "check_domain",
    "check_status",
    "check_validity_period",
    "domain_set",
    "resolved_from",
    "skip_holder_binding",
]

Coverage = Callable[[], tuple[str | None, str]]
"""``() -> (what covers inline contexts, or None; what does not cover them)``: asked of the
securing mechanism only when a document has an inline context (see :func:`check_contexts`)."""


def check_contexts(
    document: Mapping[str, Any], loader: DocumentLoader, result: VerificationResult, *, coverage: Coverage
) -> ContextUse | None:
    """``context``: every context URL (of the document and of the objects inside it) is one the
    loader serves, and every inline context is covered by the signature or pinned by its
    SHA-256 (see :func:`tradevc.vc.jsonld.check_context_use`), without redefining a protected
    term. ``coverage`` says what covers inline contexts (a JWS, JCS proofs) and is called only
    when there are some. Returns the contexts used, or None if the check failed."""
    use = contexts_of(document)
    covered_by, not_covered = coverage() if use.inline else (None, "")
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


def check_data_loss(
    document: Mapping[str, Any],
    loader: DocumentLoader,
    result: VerificationResult,
    *,
    inline: bool,
    json_signed_by: str | None,
) -> bool:
    """``data_loss``: JSON-LD expansion keeps every term. Skipped where the signature is over
    the JSON itself (``json_signed_by`` says what signs it: "the JWS signs", "JCS proofs sign") and the
    document uses no inline context (``inline``): an inline context makes the document's
    terms the signer's own, so they must still all be defined. Where the signature is over
    the RDF statements (``json_signed_by`` None), member names are not signed, so a member
    written as an IRI or hidden in a keyword is refused too."""
    if json_signed_by is not None and not inline:
        result.add(CheckResult.skipped("data_loss", f"{json_signed_by} the JSON itself; no JSON-LD expansion needed"))
        return True
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    # the fast path keeps every term or gives up; it also gives up on a property written as
    # an IRI and on keywords other than @id, @type, @value and @language, so a document it
    # converts has no member an RDFC signature would leave unsigned by name
    if fast_quads(unsecured, loader) is not None:
        result.add(CheckResult.passed("data_loss", "every term is defined by the contexts"))
        return True
    if json_signed_by is None:  # an RDFC proof: member names are not signed
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


def resolved_from(resolvers: DidResolvers, did: str) -> tuple[str, dict[str, Any]]:
    """For a report: where the DID document of ``did`` was read from when a mirror or
    snapshot served it (``"; <did> resolved from mirror <url>"`` and ``{"didDocumentFrom":
    ...}``), else ``("", {})``, so an officer knows the bytes did not come from the DID's host."""
    origin = resolvers.origin(did)
    if origin is None:
        return "", {}
    return f"; {did} resolved from {origin}", {"didDocumentFrom": str(origin)}


def check_binding(name: str, role: str, party: str | None, controllers: list[str], result: VerificationResult) -> None:
    """``issuer_binding`` / ``holder_binding``: a verified proof was made by a key that
    ``party`` (the issuer, the holder) controls; ``controllers`` are the DIDs whose keys made
    the verified proofs. Other proofs (co-signers such as an inspector) need not be the
    party's, but at least one must. Adds nothing when no proof verified (the proof check
    already failed)."""
    if not controllers:
        return
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


def skip_holder_binding(result: VerificationResult, signers: list[str]) -> None:
    """``holder_binding``, skipped: the presentation names no holder (optional in the data
    model), so there is no holder to bind; the report's message names who signed instead
    (``signers``: the DIDs whose keys made its verified proofs)."""
    signed = f"signed by {', '.join(signers)}" if signers else "no proof verified"
    result.add(
        CheckResult.skipped("holder_binding", f"the presentation names no holder, so no holder binding to check; {signed}")
    )


def check_challenge(actual: Any, expected: str, result: VerificationResult, subject: str | None) -> None:
    """``challenge``: the proof's challenge (a JWT's ``nonce``) is the one the verifier issued,
    compared in constant time."""
    if not isinstance(actual, str) or not hmac.compare_digest(actual.encode(), expected.encode()):
        message = "the proof has no challenge" if actual is None else "the proof's challenge is not the one issued"
        result.add(CheckResult.failed("challenge", "INVALID_CHALLENGE_ERROR", message, subject=subject))
    else:
        result.add(CheckResult.passed("challenge", "matches the challenge issued", subject=subject))


ExpectedDomain = str | Sequence[str]
"""The domain a verifier gives its holders: one string, or several (a verifier known by more
than one name). Either way it is compared as a set."""


def domain_set(domain: object) -> frozenset[str] | None:
    """A domain as the set of strings it stands for: a string is the set of just that string,
    a list or tuple of strings the set of its elements. None for anything else, and for an
    empty string or an empty set (which bind nothing)."""
    if isinstance(domain, str):
        return frozenset((domain,)) if domain else None
    if not isinstance(domain, Sequence) or isinstance(domain, (bytes, bytearray)) or not domain:
        return None
    if not all(isinstance(item, str) and item for item in domain):
        return None
    return frozenset(domain)


def check_domain(actual: Any, expected: ExpectedDomain, result: VerificationResult, subject: str | None) -> None:
    """``domain``: the proof's ``domain`` (a token's ``aud``) names exactly the verifier's
    domain. Both are compared as sets, a single string being the set of just that string (VC
    Data Integrity 1.0, "Verify Proof": the given domain must contain the same strings as
    ``proof.domain``). So a proof bound to ``["cbp.gov", "cbsa-asfc.gc.ca"]`` is refused by a
    verifier that expects ``"cbp.gov"`` alone (containment is not enough: such a proof could be
    replayed to the other party), and accepted by one that expects both, in any order."""
    wanted = domain_set(expected)
    got = domain_set(actual) if isinstance(actual, (str, list)) else None
    shown = ", ".join(sorted(wanted)) if wanted else repr(expected)
    if wanted is not None and got == wanted:
        result.add(CheckResult.passed("domain", f"bound to {shown}", subject=subject))
        return
    if actual is None:
        message = "the proof has no domain"
    elif got is None:
        message = f"the proof's domain {actual!r} is not a non-empty string or list of non-empty strings"
    else:
        message = f"the proof is bound to {actual!r}, not exactly to {shown}"
    result.add(CheckResult.failed("domain", "INVALID_DOMAIN_ERROR", message, subject=subject))


def check_validity_period(credential: Credential, now: datetime, skew: timedelta, result: VerificationResult) -> None:
    """``validity_period``: now (give or take ``skew``) is within validFrom..validUntil
    (1.1: issuanceDate..expirationDate)."""
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


class StatusCheck(Protocol):
    """What checks a credential's ``credentialStatus`` (a
    :class:`~tradevc.vc.retrieval.status_lists.StatusChecker`)."""

    def check(self, credential_status: Any, issuer: str, now: datetime, result: VerificationResult) -> None: ...


def check_status(credential: Credential, checker: StatusCheck | None, now: datetime, result: VerificationResult) -> None:
    """The status checks (``revocation``, ``suspension``, ``status``): skipped without a
    ``credentialStatus``; could-not-verify with one but no checker (offline)."""
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


STATUS_LIST_TYPES = frozenset({"BitstringStatusListCredential", "StatusList2021Credential"})


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
