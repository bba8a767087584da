"""The one verification pipeline, for credentials and presentations however they are secured.

For each document: pick the securing mechanism once (:func:`tradevc.vc.securing.registry.detect`),
let it open the document (``structure``), check the contexts (``context``, ``data_loss``),
let it verify its proofs (``proof``, ``purpose``, ``proof_expiry``, the binding to the issuer
or holder, a presentation's ``challenge`` and ``domain``), then run the checks that do not
depend on the mechanism, and return the report:

=================  ==========================================================================
check              what it establishes
=================  ==========================================================================
structure          the document follows the data model (and its securing mechanism's form)
jose_header        JOSE only: the header is one this library accepts (see
                   :mod:`tradevc.vc.securing.jose`)
context            every context URL (anywhere in the document) is pinned; an inline context is
                   covered by the signature (JCS proofs, a JWS) or pinned by its SHA-256 (RDFC
                   proofs do not cover it), and redefines no protected term
data_loss          JSON-LD expansion drops nothing: every claim is covered by the signature
                   (skipped when the signature is over the JSON itself and no context is inline)
proof, purpose,    the securing mechanism's checks (see :mod:`tradevc.vc.securing.data_integrity`
proof_expiry,      and :mod:`tradevc.vc.securing.jose`)
issuer_binding
validity_period    now is within validFrom..validUntil (1.1: issuanceDate..expirationDate)
revocation,        each credentialStatus entry, against its status list (with a status checker;
suspension,        without one, a credential with a status is reported as could-not-verify)
status
related_resource   each relatedResource entry's digest matches the bytes the verifier holds
                   (pinned contexts, held schemas); skipped for a resource it does not hold
schema             each credentialSchema (VC JSON Schema): the credential conforms to the held
                   schema; skipped for a schema the verifier does not hold
issuer_trust       the trust policy accepts the issuer for the credential's types
=================  ==========================================================================

A presentation gets ``structure``, ``context``, ``data_loss``, its mechanism's checks
(purpose ``authentication``, ``challenge``, ``domain``, ``holder_binding``), then
``credentials``: every credential inside goes through this same pipeline, and each has its
own report in :attr:`~tradevc.vc.report.PresentationResult.credentials`. The presentation is
verified only if all of that passed.

Bad input never raises out of these functions; API misuse (no policy, a naive ``now``, a
presentation without the verifier's challenge and domain) raises ``TypeError``/``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar, Unpack

from tradevc.vc.checks.common import (
    ExpectedDomain, StatusCheck, check_contexts, check_data_loss, check_status, check_validity_period, domain_set,
)
from tradevc.vc.checks.integrity import LocalResources, ResourceChain, check_related_resources, pinned_context_files
from tradevc.vc.checks.policy import VerificationPolicy, require_policy
from tradevc.vc.checks.schemas import SchemaStore, check_credential_schemas, default_schema_store
from tradevc.vc.compat import Compatibility, require_compatibility
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsontext import DEFAULT_LIMITS, Limits, check_value, json_kind, loads
from tradevc.vc.jsonld import DocumentLoader, default_loader
from tradevc.vc.model import Credential
from tradevc.vc.report import CheckResult, PresentationResult, VerificationResult
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.retrieval.http import Fetched, RetrievalError
from tradevc.vc.retrieval.status_lists import VerifiedList
from tradevc.vc.securing.jws import is_compact_jws, token_of_file
from tradevc.vc.securing.mechanism import CREDENTIAL, PRESENTATION, Context, Kind, Secured, SecuringMechanism
from tradevc.vc.securing.registry import JOSE_MECHANISMS, MECHANISMS, detect

__all__ = [
    "CHALLENGE_REQUIRED",
    "DEFAULT_CLOCK_SKEW",
    "VerifyOptions",
    "read_fetched",
    "verify_credential",
    "verify_credential_jwt",
    "verify_document",
    "verify_fetched_credential",
    "verify_presentation",
    "verify_presentation_jwt",
]

DEFAULT_CLOCK_SKEW = timedelta(minutes=5)
"""Tolerance for clocks that disagree, applied to validity periods and proof times."""

CHALLENGE_REQUIRED = "CHALLENGE_REQUIRED"
"""The code of the ``challenge`` check (in error: could not verify) of a presentation that
:func:`verify_document` was given without the challenge and domain to check it against."""


# -- entry points --------------------------------------------------------------------------------


def verify_credential(
    document: Any,
    *,
    policy: VerificationPolicy,
    now: datetime | None = None,
    loader: DocumentLoader | None = None,
    resolvers: DidResolvers | None = None,
    status_checker: StatusCheck | None = None,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    schemas: SchemaStore | None = None,
    compatibility: Compatibility | None = None,
    limits: Limits | None = None,
) -> VerificationResult:
    """Verify a credential, however it is secured: Data Integrity proofs (a proof set or
    chain: every proof must verify, and one must be the issuer's), a compact JWS string
    (``vc+jwt``, or a legacy VC-JWT 1.1 token) or an ``EnvelopedVerifiableCredential``.

    ``now`` defaults to the system clock (an aware datetime is required); ``loader`` to the
    pinned contexts; ``resolvers`` to offline resolvers (did:key, did:jwk). Without a
    ``status_checker`` nothing is fetched, and a credential with ``credentialStatus`` is
    reported as could-not-verify (use :class:`tradevc.verifier.Verifier` to check status
    online). ``schemas`` are the JSON Schemas the verifier holds for ``credentialSchema``
    (default: the shipped ones); they and the pinned contexts are also the resources whose
    ``relatedResource`` digests are checked.

    ``compatibility`` (default strict) names the pre-Recommendation forms to tolerate (see
    :mod:`tradevc.vc.compat`); each one tolerated adds a ``compat:<id>`` warning to the report.
    The status lists are judged by the status checker's own compatibility.

    A document that is not I-JSON (a dict with ``NaN``, an integer beyond 2**53-1, a lone
    surrogate...) fails ``structure`` with ``PARSING_ERROR``; one over ``limits`` (default
    :data:`~tradevc.vc.jsontext.DEFAULT_LIMITS`: size, nesting, array entries, proofs,
    proofValue length, ``@context`` entries, credentials in a presentation) fails it with
    ``RESOURCE_LIMIT_ERROR``, before anything expensive is done (see :mod:`tradevc.vc.jsontext`).

    :returns: the report; ``result.verified`` is True only if every check passed.
    :raises TypeError: ``policy`` is not a policy, ``now`` is naive, or ``compatibility`` is
        not a :class:`~tradevc.vc.compat.Compatibility`, ``limits`` not a
        :class:`~tradevc.vc.jsontext.Limits` (API misuse only).
    """
    run = _run(
        policy, now=now, loader=loader, resolvers=resolvers, status_checker=status_checker,
        max_clock_skew=max_clock_skew, schemas=schemas, compatibility=compatibility, limits=limits,
    )
    result = _new_report(VerificationResult(), policy)
    secured = _open(document, CREDENTIAL, run.context, result, MECHANISMS)
    if secured is not None:
        _verify_credential(secured, run, result)
    return result


def verify_presentation(
    document: Any,
    *,
    challenge: str,
    domain: ExpectedDomain,
    policy: VerificationPolicy,
    now: datetime | None = None,
    loader: DocumentLoader | None = None,
    resolvers: DidResolvers | None = None,
    status_checker: StatusCheck | None = None,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    schemas: SchemaStore | None = None,
    compatibility: Compatibility | None = None,
    limits: Limits | None = None,
) -> PresentationResult:
    """Verify a presentation for the verifier that issued ``challenge`` and ``domain``, and
    every credential in it (as :func:`verify_credential` does, with ``policy``), however each
    is secured: Data Integrity, a ``vp+jwt`` (or VC-JWT 1.1) token, an
    ``EnvelopedVerifiablePresentation``.

    ``domain`` is one string or a sequence of strings (a verifier known by several names).
    A proof's ``domain`` (a token's ``aud``) may be one string or a list; either way it must
    name exactly the strings of ``domain``, compared as sets (VC Data Integrity 1.0): a proof
    bound to ``["cbp.gov", "cbsa-asfc.gc.ca"]`` fails ``domain`` (``INVALID_DOMAIN_ERROR``)
    for ``domain="cbp.gov"`` and passes for ``domain=["cbsa-asfc.gc.ca", "cbp.gov"]``. The challenge (a token's ``nonce``) is compared in
    constant time. ``holder`` is optional (VC Data Model 2.0 section 4.13): a presentation that
    names none is verified by its proof, challenge and domain, ``holder_binding`` is skipped
    with the reason, and :attr:`~tradevc.vc.report.PresentationResult.signers` names who signed.
    The other arguments mean what they mean for :func:`verify_credential` and apply to every
    credential inside.

    :raises TypeError, ValueError: misuse: no policy, naive ``now``, empty challenge, a domain
        that is not a non-empty string or a non-empty sequence of non-empty strings, a ``compatibility`` that is not a :class:`~tradevc.vc.compat.Compatibility`.
    """
    run = _run(
        policy, now=now, loader=loader, resolvers=resolvers, status_checker=status_checker,
        max_clock_skew=max_clock_skew, schemas=schemas, compatibility=compatibility, limits=limits,
    )
    _require_challenge(challenge, domain)
    result = _new_report(PresentationResult(), policy)
    secured = _open(document, PRESENTATION, run.context, result, MECHANISMS)
    if secured is not None:
        _verify_presentation(secured, challenge, domain, run, result)
    return result


def verify_document(
    document: Any,
    *,
    policy: VerificationPolicy,
    challenge: str | None = None,
    domain: ExpectedDomain | None = None,
    **options: Unpack[VerifyOptions],
) -> VerificationResult:
    """Verify a credential or a presentation, whichever ``document`` is (its mechanism says:
    the ``type`` of a JSON document or envelope, a token's ``typ`` or claims). A presentation
    needs ``challenge`` and ``domain`` (one string or a sequence of strings, as for
    :func:`verify_presentation`); without them it could not be verified: its report has a
    ``challenge`` check in error, code :data:`CHALLENGE_REQUIRED`, that says so (a batch of
    documents goes on). Returns a
    :class:`~tradevc.vc.report.PresentationResult` for a presentation.

    :raises TypeError: as :func:`verify_credential`.
    """
    run = _run(policy, **options)
    probe = VerificationResult()
    mechanism = detect(document, MECHANISMS) if _within_limits(document, run.context, probe) else None
    secured = None if mechanism is None else mechanism.open(document, kind=None, context=run.context, result=probe)
    if secured is None:
        return _new_report(probe, policy)
    if secured.kind == CREDENTIAL:
        result = _new_report(probe, policy)
        _verify_credential(secured, run, result)
        return result
    if not (isinstance(challenge, str) and challenge and domain is not None and domain_set(domain) is not None):
        # not a defect of the document: the verifier did not say what to check it against
        refused = _new_report(PresentationResult(document_id=probe.document_id), policy)
        refused.add(CheckResult.error(
            "challenge", CHALLENGE_REQUIRED,
            "a presentation is verified against the challenge and domain you gave its holder; none given",
        ))
        return refused
    presentation = _new_report(PresentationResult(checks=probe.checks, warnings=probe.warnings,
                                                  document_id=probe.document_id), policy)
    _verify_presentation(secured, challenge, domain, run, presentation)
    return presentation


def verify_credential_jwt(
    document: str | Mapping[str, Any], *, policy: VerificationPolicy, **options: Unpack[VerifyOptions]
) -> VerificationResult:
    """:func:`verify_credential` for JOSE-secured credentials only: a compact JWS
    (``vc+jwt``, VC-JWT 1.1) or an ``EnvelopedVerifiableCredential``; anything else fails
    ``structure``."""
    run = _run(policy, **options)
    result = _new_report(VerificationResult(), policy)
    secured = _open(document, CREDENTIAL, run.context, result, JOSE_MECHANISMS)
    if secured is not None:
        _verify_credential(secured, run, result)
    return result


def verify_presentation_jwt(
    document: str | Mapping[str, Any],
    *,
    challenge: str,
    domain: ExpectedDomain,
    policy: VerificationPolicy,
    **options: Unpack[VerifyOptions],
) -> PresentationResult:
    """:func:`verify_presentation` for JOSE-secured presentations only (``vp+jwt``, VC-JWT
    1.1, an ``EnvelopedVerifiablePresentation``); the credentials inside may be secured in
    any way. The token's ``aud`` (a string or an array) must name exactly the strings of
    ``domain``, compared as sets."""
    run = _run(policy, **options)
    _require_challenge(challenge, domain)
    result = _new_report(PresentationResult(), policy)
    secured = _open(document, PRESENTATION, run.context, result, JOSE_MECHANISMS)
    if secured is not None:
        _verify_presentation(secured, challenge, domain, run, result)
    return result


def read_fetched(fetched: Fetched, *, what: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """A fetched body as a document to verify: a compact JWS (as a string, told from JSON by
    its form whatever the ``Content-Type``; the body's one trailing line end, as a file served
    or read from a snapshot has, is dropped), or I-JSON within ``limits`` (read by
    :func:`tradevc.vc.jsontext.loads`: no duplicate member, no ``NaN``...).

    :raises RetrievalError: the body is neither; its code is ``PARSING_ERROR`` or
        ``RESOURCE_LIMIT_ERROR`` when the body is JSON text that is not I-JSON or is over a limit.
    """
    body = fetched.body
    if body.lstrip()[:1] not in (b"{", b"["):
        try:
            text = token_of_file(body.decode("ascii"))
        except UnicodeDecodeError:
            text = ""
        if is_compact_jws(text):
            return text
    try:
        return loads(body, limits=limits)
    except InvalidDocument as e:
        raise RetrievalError(f"{what}: {fetched.url} did not return JSON (I-JSON): {e.message}", code=e.code) from e


def verify_fetched_credential(fetched: Fetched, *, policy: VerificationPolicy, **options: Unpack[VerifyOptions]) -> VerifiedList:
    """Verify a fetched credential (a status list: it has no status of its own to check) and
    give back the report with the credential it verified as JSON, for the caller to read (a
    :data:`~tradevc.vc.retrieval.status_lists.ListVerifier`).

    :raises RetrievalError: the body is neither JSON nor a compact JWS.
    """
    run = _run(policy, **options)
    document = read_fetched(fetched, what="status list", limits=run.context.limits)
    result = _new_report(VerificationResult(), policy)
    # read_fetched held the body to I-JSON and the limits already (a token's payload is, when opened)
    secured = _open(document, CREDENTIAL, run.context, result, MECHANISMS, checked=True)
    if secured is None:
        return VerifiedList(result, None)
    _verify_credential(secured, run, result)
    return VerifiedList(result, secured.document)


# -- the pipeline --------------------------------------------------------------------------------


def _open(
    document: Any, kind: Kind, context: Context, result: VerificationResult,
    mechanisms: tuple[SecuringMechanism, ...], *, checked: bool = False,
) -> Secured | None:
    """Hold a JSON document to I-JSON and the limits (unless ``checked``: a credential of a
    presentation, walked with it), pick the mechanism (once per document) and let it open the
    document."""
    if not checked and not _within_limits(document, context, result):
        return None
    mechanism = detect(document, mechanisms)
    if mechanism is None:
        names = " or ".join(m.name for m in mechanisms)
        result.add(CheckResult.failed(
            "structure", "MALFORMED_VALUE_ERROR",
            f"not a {kind} this function verifies (secured with {names}); got {json_kind(document)}",
        ))
        return None
    return mechanism.open(document, kind=kind, context=context, result=result)


def _within_limits(document: Any, context: Context, result: VerificationResult) -> bool:
    """``structure`` fails (``PARSING_ERROR``, ``RESOURCE_LIMIT_ERROR``) for a JSON document
    that is not I-JSON or is over the limits: one walk, before any mechanism opens it. A
    token's payload is held to the same when the JOSE mechanism parses it."""
    if not isinstance(document, Mapping):
        return True
    try:
        check_value(document, context.limits)
    except InvalidDocument as e:
        result.add(CheckResult.from_error("structure", e))
        return False
    return True


def _contexts_hold(secured: Secured, context: Context, result: VerificationResult) -> bool:
    """``context`` and ``data_loss``, on what was signed."""
    uses = check_contexts(secured.signed, context.loader, result, coverage=secured.coverage)
    return uses is not None and check_data_loss(
        secured.signed, context.loader, result, inline=bool(uses.inline), json_signed_by=secured.json_signed_by
    )


def _verify_credential(secured: Secured, run: _Run, result: VerificationResult) -> None:
    if not _contexts_hold(secured, run.context, result):
        return
    credential = secured.model
    assert isinstance(credential, Credential)
    secured.mechanism.verify(
        secured, party=credential.issuer_id, challenge=None, domain=None, context=run.context, result=result
    )
    _check_claims(credential, secured.document, run, result)


def _verify_presentation(
    secured: Secured, challenge: str, domain: ExpectedDomain, run: _Run, result: PresentationResult
) -> None:
    if not _contexts_hold(secured, run.context, result):
        return
    holder = getattr(secured.model, "holder_id", None)
    result.signers = secured.mechanism.verify(
        secured, party=holder, challenge=challenge, domain=domain, context=run.context, result=result
    )
    _require_a_verified_proof(result)
    for entry in secured.credentials:
        inner = _new_report(VerificationResult(), run.policy)
        opened = _open(entry, CREDENTIAL, run.context, inner, MECHANISMS, checked=True)
        if opened is not None:
            _verify_credential(opened, run, inner)
        result.credentials.append(inner)
    _check_credentials(result)


def _check_claims(credential: Credential, document: Mapping[str, Any], run: _Run, result: VerificationResult) -> None:
    """The checks after the securing mechanism's: ``validity_period``, the status checks,
    ``related_resource`` and ``schema`` (only when the credential has ``relatedResource`` /
    ``credentialSchema``), ``issuer_trust``, and the guard that a report without a verified
    proof never verifies. ``document`` is the credential as JSON."""
    context = run.context
    check_validity_period(credential, context.now, context.max_clock_skew, result)
    check_status(credential, run.status_checker, context.now, result)
    if credential.relatedResource is not None or credential.credentialSchema is not None:
        held = run.schemas if run.schemas is not None else default_schema_store()  # an empty store holds nothing
        if credential.relatedResource is not None:
            check_related_resources(credential.relatedResource, _local_resources(context.loader, held), result)
        if credential.credentialSchema is not None:
            def verify_schema_credential(schema_credential: Any) -> VerificationResult:
                return verify_credential(
                    schema_credential, policy=_PINNED_SCHEMA_CREDENTIAL, now=context.now, loader=context.loader,
                    resolvers=context.resolvers, status_checker=run.status_checker,
                    max_clock_skew=context.max_clock_skew, schemas=SchemaStore.empty(), limits=context.limits,
                )

            check_credential_schemas(
                document, credential.credentialSchema, held, result, verify_schema_credential=verify_schema_credential,
            )
    result.add(run.policy.check(credential))
    _require_a_verified_proof(result)


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


def _require_a_verified_proof(result: VerificationResult) -> None:
    """Belt and braces: a report without a passed ``proof`` check must never verify."""
    outcomes = {c.outcome.value for c in result.checks if c.name == "proof"}
    if "passed" not in outcomes and "error" not in outcomes:
        result.add(CheckResult.failed("proof", "PROOF_VERIFICATION_ERROR", "no proof verified"))


# -- inputs --------------------------------------------------------------------------------------


def _require_challenge(challenge: Any, domain: Any) -> None:
    if not isinstance(challenge, str) or not challenge or domain_set(domain) is None:
        raise ValueError(
            "verify_presentation needs the challenge and domain the verifier issued (the domain: a non-empty "
            "string or a non-empty sequence of non-empty strings)"
        )


class VerifyOptions(TypedDict, total=False):
    """The keyword arguments every verification takes besides ``policy`` (and a presentation's
    ``challenge`` and ``domain``); each means what it means for :func:`verify_credential`."""

    now: datetime | None
    loader: DocumentLoader | None
    resolvers: DidResolvers | None
    status_checker: StatusCheck | None
    max_clock_skew: timedelta
    schemas: SchemaStore | None
    compatibility: Compatibility | None
    limits: Limits | None


@dataclass(frozen=True, slots=True)
class _Run:
    """One verification's inputs, defaults filled in: what the mechanisms see (``context``)
    and what the checks after them need."""

    context: Context
    policy: VerificationPolicy
    status_checker: StatusCheck | None
    schemas: SchemaStore | None


def _run(policy: Any, **options: Unpack[VerifyOptions]) -> _Run:
    """What every verification starts with: refuse API misuse (no policy, a naive ``now``, a
    compatibility or limits that are not one) and fill in the defaults: the system clock, the
    pinned contexts, offline DID resolvers, :data:`~tradevc.vc.jsontext.DEFAULT_LIMITS`."""
    require_policy(policy)
    now = options.get("now")
    if now is None:
        now = datetime.now(timezone.utc)
    elif not isinstance(now, datetime) or now.tzinfo is None:
        raise TypeError("now must be a timezone-aware datetime")
    limits = options.get("limits")
    if limits is None:
        limits = DEFAULT_LIMITS
    elif not isinstance(limits, Limits):
        raise TypeError("limits must be a tradevc.vc.jsontext.Limits")
    context = Context(
        now=now, loader=options.get("loader") or default_loader(),
        resolvers=options.get("resolvers") or _offline_resolvers(),
        max_clock_skew=options.get("max_clock_skew", DEFAULT_CLOCK_SKEW),
        compatibility=require_compatibility(options.get("compatibility")), limits=limits,
    )
    return _Run(context, policy, options.get("status_checker"), options.get("schemas"))


_OFFLINE: DidResolvers | None = None


def _offline_resolvers() -> DidResolvers:
    """The default resolvers, shared by calls that bring none: offline did:key and did:jwk
    resolve a DID from the DID alone and keep no state of their own, so one instance serves
    every call (building one costs several microseconds, per verification)."""
    global _OFFLINE
    if _OFFLINE is None:
        _OFFLINE = DidResolvers.offline()
    return _OFFLINE


_Report = TypeVar("_Report", bound=VerificationResult)


def _new_report(report: _Report, policy: VerificationPolicy) -> _Report:
    """Start ``report``: the policy's warning first."""
    if policy.warning:
        report.warnings.insert(0, policy.warning)
    return report


def _local_resources(loader: DocumentLoader | None, schemas: SchemaStore) -> LocalResources:
    """What ``relatedResource`` digests are compared with: the loader's own bytes if it offers
    them (a :class:`~tradevc.vc.checks.integrity.LocalResources`), the pinned contexts, the held schemas."""
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
