"""Credentials and presentations secured with JOSE: W3C VC-JOSE-COSE (``application/vc+jwt``,
``application/vp+jwt``) and, for wallets that still send it, VC-JWT 1.1 (see :mod:`tradevc.vc.securing.vcjwt`).

Signing: :func:`sign_credential_jwt`, :func:`sign_presentation_jwt`. Verifying: the
pipeline (:mod:`tradevc.vc.verification.pipeline`) runs :class:`Jose` for a compact JWS (and,
through :class:`tradevc.vc.securing.enveloped.Enveloped`, for one in an envelope); its checks
sit between the ones every document gets:

=================  ==========================================================================
check              what it establishes
=================  ==========================================================================
structure          a compact JWS of exactly three base64url parts (at most
                   :data:`~tradevc.vc.securing.jws.MAX_TOKEN_LENGTH` characters, nothing
                   around them: whitespace is refused, not trimmed) whose header and payload
                   are I-JSON objects (:mod:`tradevc.vc.jsontext`: no duplicate member...)
                   within the verification's limits; the payload (or its ``vc``/``vp``
                   claim) follows the data model
jose_header        ``alg`` is ES256, ES384 or EdDSA; ``typ`` is ``vc+jwt`` / ``vp+jwt`` (or
                   ``JWT`` with a ``vc``/``vp`` claim), in any case, with or without
                   ``application/`` (see :func:`tradevc.vc.securing.jws.media_type`); with no ``typ`` (VC-JOSE-COSE:
                   it SHOULD be there), a ``vc``/``vp`` claim makes the token VC-JWT 1.1, a
                   VC 2.0 credential (presentation) as the payload makes it ``vc+jwt``
                   (``vp+jwt``), with a warning in the report (see :func:`token_type`), and
                   anything else is refused; ``kid`` is an absolute DID URL; no key
                   in the header (``jwk``, ``jku``, ``x5u``, ``x5c``), no ``crit``, ``zip``,
                   ``enc`` or ``b64``
context            as for Data Integrity; inline contexts are covered by the JWS (they still
                   may not redefine protected terms)
data_loss          skipped: the signature covers the JSON bytes themselves (unless a context is
                   inline: its terms must then all be defined)
issuer_binding     the ``kid`` is a key of the issuer's DID, and ``iss``, if present, is the
(holder_binding)   issuer exactly (for a presentation: the holder, named by ``holder`` or, in
                   a ``vp+jwt`` without one, by ``iss``; a presentation naming neither is
                   verified by its signature, ``nonce`` and ``aud``, the check is skipped and
                   the report names the signer)
proof              the key is retrieved from the DID document named by ``kid`` (never from the
                   token); the algorithm is the one of that key's type (Ed25519 -> EdDSA,
                   P-256 -> ES256, P-384 -> ES384), whatever the header claims; the signature
                   verifies
purpose            the DID document lists the key under ``assertionMethod`` (presentations:
                   ``authentication``)
proof_expiry       ``exp``, ``nbf`` and ``iat`` against ``now`` with the clock skew
challenge, domain  presentations: ``nonce`` is the verifier's challenge, ``aud`` its domain:
                   a string or an array (RFC 7519 allows both), compared as a set with the
                   verifier's domain, as a Data Integrity ``domain`` is. RFC 7519 asks only
                   that the verifier find itself in ``aud``; we ask for the very set, so a
                   token made out to several audiences is refused by a verifier that does not
                   name them all (it could be replayed to the others)
=================  ==========================================================================

then ``validity_period``, the status checks and ``issuer_trust``, by the same code as for
Data Integrity credentials. A compatibility profile (:mod:`tradevc.vc.compat`, off by default) may
tolerate the envelope media types and ``typ`` values of the VC-JOSE-COSE drafts, each with a
``compat:<id>`` warning in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from tradevc.vc.checks.common import (
    ExpectedDomain, bind_named_list_issuer, check_challenge, check_domain, resolved_from, skip_holder_binding,
)
from tradevc.vc.compat import STRICT, Compatibility, warning
from tradevc.vc.errors import InvalidDocument, SigningError, VcError
from tradevc.vc.jsonld import DocumentLoader
from tradevc.vc.jsontext import check_value
from tradevc.vc.keys import KeyPair
from tradevc.vc.model import CREDENTIALS_V2, Credential, Presentation, parse_credential, parse_presentation
from tradevc.vc.report import CheckResult, PresentationResult, VerificationResult
from tradevc.vc.retrieval.did.resolver import DidResolvers, VerificationMethod
from tradevc.vc.retrieval.http import RetrievalError
from tradevc.vc.securing.enveloped import envelope_credential, open_envelope
from tradevc.vc.securing.jws import (
    JWS, CompactJws, check_header, check_token_times, compact_jws, media_type, parse_compact_jws, refuse_contexts,
    signing_method, verify_signature, with_claims,
)
from tradevc.vc.securing.mechanism import CREDENTIAL, PRESENTATION, Context, Kind, Secured
from tradevc.vc.securing.vcjwt import LEGACY_TYP, decode_credential, presentation_from_claims

__all__ = [
    "Jose",
    "MECHANISM",
    "JWS",
    "LEGACY_TYPES",
    "VC_TYP",
    "VP_TYP",
    "credential_of",
    "sign_credential_jwt",
    "sign_presentation_jwt",
    "token_type",
]

VC_TYP, VP_TYP = "vc+jwt", "vp+jwt"
_CTY: dict[str | None, str] = {VC_TYP: "vc", VP_TYP: "vp"}  # looked up by a header typ, which may be absent



LEGACY_TYPES = (None, media_type(LEGACY_TYP))
"""The ``typ`` values (as :func:`media_type` gives them) of a VC-JWT 1.1 token: none, or JWT."""

DRAFT_VC_TYPES = ("vc+ld+json+jwt", "vc-ld+jwt")
"""``typ`` values (as :func:`media_type` gives them) that VC-JOSE-COSE drafts gave credential
tokens, accepted as ``vc+jwt`` only under the deviation ``jose-typ`` (see :mod:`tradevc.vc.compat`)."""
DRAFT_VC_CTYS = (None, "vc", "vc+ld+json")
"""The ``cty`` values accepted with one of :data:`DRAFT_VC_TYPES`."""


def _draft_typ(header: Mapping[str, Any], compatibility: Compatibility) -> bool:
    return compatibility.jose_typ and media_type(header.get("typ")) in DRAFT_VC_TYPES


def _is_v2(payload: Mapping[str, Any], kind: str) -> bool:
    context, types = payload.get("@context"), payload.get("type")
    return (
        isinstance(context, list) and bool(context) and context[0] == CREDENTIALS_V2
        and (kind in types if isinstance(types, list) else types == kind)
    )


def token_type(jws: CompactJws) -> Any:
    """What a token is verified as: its ``typ`` as :func:`media_type` gives it; or, when the
    header has no ``typ`` (VC-JOSE-COSE only says it SHOULD be there), ``vc+jwt`` for a payload
    that is a VC Data Model 2.0 credential (first context the 2.0 one, typed
    ``VerifiableCredential``) without a ``vc`` claim, ``vp+jwt`` for a 2.0 presentation without
    a ``vp`` claim, and ``None`` for anything else (VC-JWT 1.1, if it has a ``vc``/``vp``
    claim). Decides nothing about validity; raises nothing."""
    typ = jws.header.get("typ")
    if typ is not None:
        return media_type(typ)
    if "vc" not in jws.payload and _is_v2(jws.payload, "VerifiableCredential"):
        return VC_TYP
    if "vp" not in jws.payload and _is_v2(jws.payload, "VerifiablePresentation"):
        return VP_TYP
    return None


JWS_SIGNS = "the JWS signs"


# -- signing -------------------------------------------------------------------------------------


def sign_credential_jwt(
    credential: Mapping[str, Any],
    key: KeyPair,
    *,
    verification_method: str | None = None,
    claims: Mapping[str, Any] | None = None,
    loader: DocumentLoader | None = None,
) -> str:
    """Secure ``credential`` as a VC-JOSE-COSE ``application/vc+jwt`` compact JWS.

    The payload is the credential itself; the header has ``alg`` (from the key type: EdDSA,
    ES256 or ES384), ``kid`` (the verification method, by default the key's did:key method),
    ``typ: vc+jwt`` and ``cty: vc``. ``claims`` adds registered JWT claims to the payload
    (``iat``, ``nbf``, ``exp`` as seconds since 1970; ``iss``, which must then be the issuer).
    Its contexts are checked as a verifier checks them (``loader``: by default the pinned
    contexts); inline contexts are covered by the JWS, but must define every term.

    :raises InvalidDocument: the credential breaks the data model.
    :raises ParsingError: the credential or a claim is not I-JSON (``NaN``, ``Infinity``, an
        integer beyond 2**53-1 in magnitude, a lone surrogate).
    :raises ContextNotPinned, DataLossError, ProtectedTermRedefinition: see
        :func:`tradevc.vc.jsonld.check_context_use`.
    :raises SigningError: the credential has a Data Integrity proof, its issuer is not the
        verification method's DID, or ``iss`` is not the issuer.
    :raises KeyMaterialError: the key has no secret.
    :raises ValueError: ``claims`` has an unregistered name or one the credential already has.
    """
    check_value([credential, claims], None)  # I-JSON: NaN, big integers, lone surrogates are not signed
    parsed = parse_credential(credential)
    if parsed.proof is not None:
        raise SigningError("the credential already has a Data Integrity proof; secure the unsigned credential")
    kid = signing_method(key, verification_method, parsed.issuer_id, "issuer")
    refuse_contexts(credential, loader)
    payload = with_claims(credential, claims)
    if "iss" in payload and payload["iss"] != parsed.issuer_id:
        raise SigningError(f"'iss' must be the issuer {parsed.issuer_id}, not {payload['iss']!r}")
    return compact_jws(payload, key, typ=VC_TYP, kid=kid, cty=_CTY[VC_TYP])


def sign_presentation_jwt(
    credentials: Sequence[Mapping[str, Any] | str],
    holder_key: KeyPair,
    *,
    challenge: str,
    domain: str,
    holder: str | None = None,
    verification_method: str | None = None,
    presentation_id: str | None = None,
    claims: Mapping[str, Any] | None = None,
    loader: DocumentLoader | None = None,
) -> str:
    """Wrap ``credentials`` in a presentation secured as ``application/vp+jwt`` for one verifier.

    Each credential is a Data Integrity credential (an object), an enveloped credential, or
    a ``vc+jwt`` token (put in an ``EnvelopedVerifiableCredential``). The verifier's
    ``challenge`` goes into the ``nonce`` claim and its ``domain`` into ``aud``. ``holder``
    defaults to the key's DID. Contexts are checked as for :func:`sign_credential_jwt`.

    :raises ValueError: empty challenge or domain, or unknown ``claims``.
    :raises SigningError: the holder is not the verification method's DID.
    :raises InvalidDocument: the presentation breaks the data model.
    :raises ParsingError: a credential, claim, challenge or domain is not I-JSON.
    :raises ContextNotPinned, DataLossError, ProtectedTermRedefinition: see
        :func:`tradevc.vc.jsonld.check_context_use`.
    """
    if not isinstance(challenge, str) or not challenge or not isinstance(domain, str) or not domain:
        raise ValueError("a presentation needs the verifier's challenge and domain (non-empty strings)")
    if not isinstance(holder_key, KeyPair):
        raise TypeError("holder_key must be a tradevc.vc.keys.KeyPair")
    check_value([list(credentials), challenge, domain, holder, presentation_id, claims], None)
    holder = holder or (verification_method or holder_key.verification_method).split("#", 1)[0]
    kid = signing_method(holder_key, verification_method, holder, "holder")
    presentation: dict[str, Any] = {"@context": [CREDENTIALS_V2]}
    if presentation_id is not None:
        presentation["id"] = presentation_id
    presentation["type"] = ["VerifiablePresentation"]
    presentation["holder"] = holder
    presentation["verifiableCredential"] = [
        envelope_credential(c) if isinstance(c, str) else dict(c) for c in credentials
    ]
    parse_presentation(presentation)
    refuse_contexts(presentation, loader)
    if claims and "aud" in claims:
        raise ValueError("the 'aud' claim is the domain; pass it as domain=")
    payload = with_claims(presentation, claims)
    payload["nonce"] = challenge
    payload["aud"] = domain
    return compact_jws(payload, holder_key, typ=VP_TYP, kid=kid, cty=_CTY[VP_TYP])


def credential_of(document: str | Mapping[str, Any], compatibility: Compatibility = STRICT) -> dict[str, Any]:
    """The credential a JOSE-secured document carries, *without verifying anything*: the
    payload of a ``vc+jwt`` (also inside an ``EnvelopedVerifiableCredential``) or the
    credential mapped from a VC-JWT 1.1 ``vc`` claim. For display and indexing (a wallet's
    list) after :func:`~tradevc.vc.verification.pipeline.verify_credential_jwt` has verified
    it. ``compatibility`` may allow the drafts' envelope media types and ``typ`` values.

    :raises InvalidDocument: not a compact JWS or envelope, or neither profile.
    """
    token = document if isinstance(document, str) else open_envelope(
        document, "EnvelopedVerifiableCredential", compatibility
    )[0]
    jws = parse_compact_jws(token)
    typ, kind = jws.header.get("typ"), token_type(jws)
    if (kind == VC_TYP or _draft_typ(jws.header, compatibility)) and "vc" not in jws.payload:
        return jws.payload
    if kind in LEGACY_TYPES and "vc" in jws.payload and isinstance(document, str):
        return decode_credential(jws.payload).credential
    raise InvalidDocument(f"not a vc+jwt or VC-JWT 1.1 credential (typ {typ!r})")


# -- verification --------------------------------------------------------------------------------


@dataclass
class _Opened:
    jws: CompactJws
    document: dict[str, Any]  # the credential or presentation the token secures
    legacy: bool  # VC-JWT 1.1 (a vc / vp claim)
    typ: str | None = None  # vc+jwt or vp+jwt (from the header, or inferred when it has no typ)
    draft_typ: bool = False  # a VC-JOSE-COSE draft's typ, tolerated by the profile
    kid: str = ""
    payload: Mapping[str, Any] | None = None  # the claims the binding checks read (iss)


_TYP_OF = {CREDENTIAL: VC_TYP, PRESENTATION: VP_TYP}
_CLAIM_OF = {CREDENTIAL: "vc", PRESENTATION: "vp"}


def _kind_of(jws: CompactJws, compatibility: Compatibility) -> Kind:
    """What a token holds when the caller did not say: a presentation if its type (or
    VC-JWT 1.1 claim) says so, otherwise a credential (whose checks then say what is wrong)."""
    kind = token_type(jws)
    if kind == VP_TYP or (kind in LEGACY_TYPES and "vp" in jws.payload and "vc" not in jws.payload):
        return PRESENTATION
    return CREDENTIAL


class Jose:
    """Compact JWS tokens: ``vc+jwt`` / ``vp+jwt`` (VC-JOSE-COSE) and VC-JWT 1.1, told apart
    by ``typ`` and the payload (see :func:`token_type`)."""

    name = "JOSE"

    def recognise(self, document: Any) -> bool:
        return isinstance(document, str)

    def open(
        self, document: Any, *, kind: Kind | None, context: Context, result: VerificationResult
    ) -> Secured | None:
        # Not trimmed: whitespace around a token is refused (PARSING_ERROR) by parse_compact_jws.
        return self.open_token(document, kind=kind, context=context, result=result, enveloped=False)

    def open_token(
        self, token: str, *, kind: Kind | None, context: Context, result: VerificationResult, enveloped: bool,
    ) -> Secured | None:
        """Open ``token`` (from an envelope if ``enveloped``: then VC-JWT 1.1 is refused)."""
        compatibility = context.compatibility
        try:
            jws = parse_compact_jws(token, context.limits)
        except InvalidDocument as e:
            result.add(CheckResult.from_error("structure", e))
            return None
        if kind is None:
            kind = _kind_of(jws, compatibility)
        opened = _open(jws, typ=_TYP_OF[kind], claim=_CLAIM_OF[kind], enveloped=enveloped, result=result,
                       compatibility=compatibility)
        if opened is None:
            return None
        opened.payload = jws.payload
        if kind == CREDENTIAL:
            model: Credential | Presentation | None = _credential_structure(opened, compatibility, result)
            entries: list[Any] = []
        else:
            entries, model = _presentation_structure(opened, result)
        if model is None:
            return None
        kid = _check_jose_header(opened, result)
        if kid is None:
            return None
        opened.kid = kid
        return Secured(
            mechanism=self, kind=kind, document=opened.document, model=model, signed=opened.document,
            json_signed_by=JWS_SIGNS, coverage=_JWS_COVERAGE, credentials=entries, state=opened,
        )

    def verify(
        self, secured: Secured, *, party: str | None, challenge: str | None, domain: ExpectedDomain | None,
        context: Context, result: VerificationResult,
    ) -> list[str]:
        opened: _Opened = secured.state
        payload = opened.payload if opened.payload is not None else opened.jws.payload
        method: VerificationMethod | None = None
        if secured.kind == CREDENTIAL:
            if _check_binding("issuer_binding", "issuer", party, opened.kid, payload, result):
                method = _check_signature(opened, opened.kid, "assertionMethod", context.resolvers, result)
            check_token_times(opened.jws.payload, context.now, context.max_clock_skew, result)
            return [] if method is None else [method.controller]
        assert challenge is not None and domain is not None, "the pipeline passes both for a presentation"
        holder = party
        if holder is None and not opened.legacy:
            holder = opened.jws.payload.get("iss")  # a vp+jwt may name its holder in iss alone
        # With no holder (it is optional), the signature, challenge and domain alone decide.
        if holder is None or _check_binding("holder_binding", "holder", holder, opened.kid, payload, result):
            method = _check_signature(opened, opened.kid, "authentication", context.resolvers, result)
        signers = [] if method is None else [method.controller]
        if holder is None:
            skip_holder_binding(result, signers)
        check_token_times(opened.jws.payload, context.now, context.max_clock_skew, result)
        if isinstance(result, PresentationResult):
            claims = opened.jws.payload
            result.expose_proof(claims.get("nonce"), claims.get("aud"), _iat_date(claims.get("iat")))
        check_challenge(opened.jws.payload.get("nonce"), challenge, result, None)
        check_domain(opened.jws.payload.get("aud"), domain, result, None)
        return signers


MECHANISM = Jose()


def _iat_date(iat: Any) -> str | None:
    """A token's ``iat`` (seconds since the epoch) as an ISO 8601 date, or None if it is not a
    number a date can hold."""
    if isinstance(iat, bool) or not isinstance(iat, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(iat, timezone.utc).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def _jws_coverage() -> tuple[str | None, str]:
    return JWS, ""


_JWS_COVERAGE = _jws_coverage


def _open(
    jws: CompactJws, *, typ: str, claim: str, enveloped: bool, result: VerificationResult,
    compatibility: Compatibility = STRICT,
) -> _Opened | None:
    """``structure`` (part one): find the document the token secures, by its ``typ``."""
    noun = "credential" if claim == "vc" else "presentation"
    try:
        header_typ = jws.header.get("typ")
        kind = token_type(jws)
        draft = typ == VC_TYP and _draft_typ(jws.header, compatibility)
        if draft:
            result.warnings.append(warning(
                "jose-typ", f"the token's typ is {header_typ!r}, a VC-JOSE-COSE draft's name for {VC_TYP!r}"
            ))
        if kind == typ or draft:
            if claim in jws.payload:
                raise InvalidDocument(
                    f"a {typ} payload is the {noun} itself; a '{claim}' claim belongs to VC-JWT 1.1 (typ JWT)"
                )
            if header_typ is None:
                result.warnings.append(
                    f"the token has no typ header (VC-JOSE-COSE: it SHOULD be '{typ}'); "
                    f"verified as {typ} because its payload is a VC Data Model 2.0 {noun}"
                )
            return _Opened(jws, jws.payload, legacy=False, typ=typ, draft_typ=draft)
        if kind in LEGACY_TYPES and claim in jws.payload and not enveloped:
            if claim == "vc":
                mapped, warnings = decode_credential(jws.payload)
                result.warnings.extend(warnings)
            else:
                mapped = presentation_from_claims(jws.payload)
            return _Opened(jws, mapped, legacy=True)
    except InvalidDocument as e:
        result.add(CheckResult.from_error("structure", e))
        return None
    if header_typ is None:
        alternative = "" if enveloped else f" nor a VC-JWT 1.1 payload with a '{claim}' claim"
        message = f"the token has no typ, and its payload is not a VC Data Model 2.0 {noun}{alternative}"
    else:
        alternative = "" if enveloped else f" (or 'JWT' with a '{claim}' claim, VC-JWT 1.1)"
        message = f"the token's typ is {header_typ!r}; expected '{typ}'{alternative}"
    result.add(CheckResult.failed("jose_header", "PROOF_VERIFICATION_ERROR", message))
    return None


def _credential_structure(
    opened: _Opened, compatibility: Compatibility, result: VerificationResult
) -> Credential | None:
    """``structure`` (part two) of a credential; the ``status-list-issuer-name`` deviation binds
    a status list's issuer name to the ``kid``'s DID first."""
    if compatibility.status_list_issuer_name:
        kid = opened.jws.header.get("kid")
        signer = kid.split("#", 1)[0] if isinstance(kid, str) and kid.startswith("did:") else None
        bound = bind_named_list_issuer(opened.document, signer, result) if signer else None
        if bound is not None:
            named = opened.document.get("issuer")
            opened.document = bound
            if opened.jws.payload.get("iss") == named:  # VC-JWT 1.1: iss carried the same name
                opened.payload = {**opened.jws.payload, "iss": signer}
    try:
        credential = parse_credential(opened.document)
        if credential.proof is not None:
            raise InvalidDocument("a JOSE-secured credential must not also carry a Data Integrity proof")
    except InvalidDocument as e:
        result.add(CheckResult.from_error("structure", e))
        return None
    result.document_id = credential.id
    result.add(
        CheckResult.passed("structure", f"VC Data Model {credential.data_model.value} credential in a compact JWS")
    )
    return credential


def _presentation_structure(opened: _Opened, result: VerificationResult) -> tuple[list[Any], Presentation | None]:
    """``structure`` (part two) of a presentation: its credentials, and the presentation parsed."""
    entries = opened.document.get("verifiableCredential")
    entries = [] if entries is None else entries if isinstance(entries, list) else [entries]
    try:
        if not opened.legacy and any(isinstance(e, str) for e in entries):
            raise InvalidDocument(
                "a vp+jwt lists credentials as objects; a secured token goes in an EnvelopedVerifiableCredential"
            )
        # VC-JWT 1.1 presentations list credentials as bare tokens; the model checks the objects.
        presentation = parse_presentation(
            {**opened.document, "verifiableCredential": [e for e in entries if not isinstance(e, str)]}
        )
        if presentation.proof is not None:
            raise InvalidDocument("a JOSE-secured presentation must not also carry a Data Integrity proof")
    except InvalidDocument as e:
        result.add(CheckResult.from_error("structure", e))
        return [], None
    result.document_id = presentation.id
    result.add(CheckResult.passed("structure", "verifiable presentation in a compact JWS"))
    return entries, presentation


def _check_jose_header(opened: _Opened, result: VerificationResult) -> str | None:
    try:
        kid = check_header(opened.jws.header)
    except VcError as e:
        result.add(CheckResult.from_error("jose_header", e))
        return None
    cty = opened.jws.header.get("cty")
    typ = opened.typ
    if opened.draft_typ:
        if media_type(cty) not in DRAFT_VC_CTYS:
            result.add(CheckResult.failed(
                "jose_header", "PROOF_VERIFICATION_ERROR",
                f"the content type (cty) is {cty!r}, expected none, 'vc' or 'vc+ld+json' with typ "
                f"{opened.jws.header.get('typ')!r}",
            ))
            return None
    elif cty is not None and not opened.legacy and media_type(cty) != _CTY.get(typ):
        result.add(
            CheckResult.failed(
                "jose_header", "PROOF_VERIFICATION_ERROR", f"the content type (cty) is {cty!r}, expected {_CTY.get(typ)!r}"
            )
        )
        return None
    if opened.legacy:
        profile = "VC-JWT 1.1"
    else:
        inferred = opened.jws.header.get("typ") is None
        profile = f"{typ} (no typ header; inferred from the payload)" if inferred else f"{typ}"
    result.add(CheckResult.passed("jose_header", f"{opened.jws.header['alg']} {profile}, kid {kid}"))
    return kid


def _check_binding(name: str, role: str, party: str | None, kid: str, payload: Mapping[str, Any], result: VerificationResult) -> bool:
    """``issuer_binding`` / ``holder_binding``: the key is the party's, ``iss`` is the party."""
    signer = kid.split("#", 1)[0]
    if party is None:
        result.add(CheckResult.failed(name, "PROOF_VERIFICATION_ERROR", f"the presentation names no {role}"))
        return False
    if signer != party:
        result.add(
            CheckResult.failed(
                name, "PROOF_VERIFICATION_ERROR", f"the kid {kid} is a key of {signer}, not of the {role} {party}"
            )
        )
        return False
    if "iss" in payload and payload["iss"] != party:
        result.add(
            CheckResult.failed(name, "PROOF_VERIFICATION_ERROR", f"'iss' is {payload['iss']!r}, not the {role} {party}")
        )
        return False
    result.add(CheckResult.passed(name, f"signed by the {role} {party}"))
    return True


def _check_signature(
    opened: _Opened, kid: str, expected_purpose: str, resolvers: DidResolvers, result: VerificationResult
) -> VerificationMethod | None:
    """``proof`` and ``purpose``; returns the key that verified the signature, if it did."""
    try:
        method = verify_signature(opened.jws, kid, resolvers)
    except RetrievalError as e:  # could not fetch the DID document: not checked, not invalid
        result.add(CheckResult.error("proof", e.code, e.message, subject=kid))
        return None
    except VcError as e:
        result.add(CheckResult.from_error("proof", e))
        return None
    source, data = resolved_from(resolvers, method.controller)
    result.add(CheckResult.passed("proof", f"{opened.jws.header['alg']} JWS verified with {kid}{source}", data=data))
    if method.is_listed_under(expected_purpose):
        result.add(CheckResult.passed("purpose", f"{expected_purpose}, listed in the controller's DID document"))
    else:
        result.add(
            CheckResult.failed(
                "purpose", "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD",
                f"{kid} is not listed under {expected_purpose} in {method.controller}'s DID document",
            )
        )
    return method
