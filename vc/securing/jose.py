"""Credentials and presentations secured with JOSE: W3C VC-JOSE-COSE (``application/vc+jwt``,
``application/vp+jwt``) and, for wallets that still send it, VC-JWT 1.1 (see :mod:`vc.vcjwt`).

Signing and verifying are separate functions (:func:`sign_credential_jwt`,
:func:`verify_credential_jwt`, ...). Verification runs the checks of Data Integrity
credentials (see :mod:`vc.credentials`), with the securing mechanism's checks in the middle:

=================  ==========================================================================
check              what it establishes
=================  ==========================================================================
structure          a compact JWS of exactly three base64url parts (at most
                   :data:`MAX_TOKEN_LENGTH` characters) whose header and payload are JSON
                   objects; the payload (or its ``vc``/``vp`` claim) follows the data model
jose_header        ``alg`` is ES256, ES384 or EdDSA; ``typ`` is ``vc+jwt`` / ``vp+jwt`` (or
                   ``JWT`` with a ``vc``/``vp`` claim), in any case, with or without
                   ``application/`` (see :func:`media_type`); with no ``typ`` (VC-JOSE-COSE:
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
challenge, domain  presentations: ``nonce`` is the verifier's challenge, ``aud`` its domain
=================  ==========================================================================

then ``validity_period``, the status checks and ``issuer_trust``, by the same code as for
Data Integrity credentials. A compatibility profile (:mod:`vc.compat`, off by default) may
tolerate the envelope media types and ``typ`` values of the VC-JOSE-COSE drafts, each with a
``compat:<id>`` warning in the report.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, Sequence

import orjson
from jwcrypto.common import JWException
from jwcrypto.jwk import JWK
from cryptography.exceptions import InvalidSignature
from jwcrypto.jws import JWSCore

from tradevc.vc.checks.common import (
    check_contexts, check_data_loss, new_report, require_a_verified_proof, resolved_from, verification_inputs,
)
from tradevc.vc.verification.credentials import DEFAULT_CLOCK_SKEW, bind_named_list_issuer, check_credential_claims
from tradevc.vc.retrieval.did import parse_did_url
from tradevc.vc.retrieval.did.resolver import DidResolvers, VerificationMethod, retrieve_verification_method
from tradevc.vc.compat import STRICT, Compatibility, require_compatibility, warning
from tradevc.vc.securing.enveloped import envelope_credential, open_envelope
from tradevc.vc.errors import InvalidDocument, ProofVerificationError, ResolutionError, SigningError, UnsupportedError, VcError
from tradevc.vc.retrieval.http import RetrievalError
from tradevc.vc.jsonld import DocumentLoader, check_context_use, default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.model import CREDENTIALS_V2, Presentation, parse_credential, parse_presentation
from tradevc.vc.multibase import base64url_decode
from tradevc.vc.checks.policy import VerificationPolicy
from tradevc.vc.verification.presentations import PresentationResult, _check_challenge, _check_credentials, _check_domain, _skip_holder_binding
from tradevc.vc.report import CheckResult, VerificationResult

if TYPE_CHECKING:
    from tradevc.vc.retrieval.status_lists import StatusChecker
    from tradevc.vc.checks.schemas import SchemaStore

__all__ = [
    "ALGORITHMS",
    "MAX_TOKEN_LENGTH",
    "CompactJws",
    "credential_of",
    "is_compact_jws",
    "media_type",
    "parse_compact_jws",
    "sign_credential_jwt",
    "sign_presentation_jwt",
    "token_type",
    "verify_credential_jwt",
    "verify_presentation_jwt",
]

MAX_TOKEN_LENGTH = 1024 * 1024
"""The longest compact JWS accepted, in characters (1 MiB): larger input is refused before it
is decoded. A trade credential is a few kilobytes; a presentation of dozens stays far below."""

ALGORITHMS: dict[str, str] = {"Ed25519": "EdDSA", "P-256": "ES256", "P-384": "ES384"}
"""The one JWS algorithm accepted for each key type."""

VC_TYP, VP_TYP, LEGACY_TYP = "vc+jwt", "vp+jwt", "JWT"
_CTY = {VC_TYP: "vc", VP_TYP: "vp"}


def media_type(value: Any) -> Any:
    """A ``typ`` or ``cty`` header value in the short form it is compared in: lower case
    (media types are case-insensitive) and without the ``application/`` prefix, which RFC 7515
    (sections 4.1.9 and 4.1.10) lets producers omit and tells recipients to assume. So
    ``application/vc+jwt``, ``VC+JWT`` and ``vc+jwt`` are one type. Anything not a string is
    returned as it is (it matches no type)."""
    if not isinstance(value, str):
        return value
    value = value.lower()
    if value.startswith("application/") and "/" not in value[12:]:
        return value[12:]
    return value
_KEY_PARAMETERS = ("jwk", "jku", "x5u", "x5c")
_REGISTERED_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")


LEGACY_TYPES = (None, media_type(LEGACY_TYP))
"""The ``typ`` values (as :func:`media_type` gives them) of a VC-JWT 1.1 token: none, or JWT."""

DRAFT_VC_TYPES = ("vc+ld+json+jwt", "vc-ld+jwt")
"""``typ`` values (as :func:`media_type` gives them) that VC-JOSE-COSE drafts gave credential
tokens, accepted as ``vc+jwt`` only under the deviation ``jose-typ`` (see :mod:`vc.compat`)."""
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


# -- compact JWS parsing -------------------------------------------------------------------------


class CompactJws(NamedTuple):
    """A compact JWS split and decoded, not yet verified. (A named tuple: immutable, and
    quicker to make than a frozen dataclass, once per token.)"""

    token: str
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes = b""  # ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
    signature: bytes = b""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise InvalidDocument(f"duplicate member {duplicate!r} in the JWS")
    return out


# Built once: json.loads with a hook makes a new decoder on every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates)


def loads_without_duplicates(data: bytes) -> Any:
    """Parse UTF-8 JSON, refusing an object with a member name twice.

    The usual token is compact JSON as ``orjson`` itself writes it; for those, parse with
    ``orjson`` and write the value back: if that gives the very same bytes, the text has no
    duplicate member (each member of the text is one of the value, so a dropped duplicate
    would make the text longer than what is written back). Anything else (whitespace,
    other escapes, a duplicate, input orjson refuses) goes through the standard library's
    parser with a hook that refuses duplicates, which also gives the error messages. The
    shortcut is about twice as fast for a trade credential.

    :raises InvalidDocument: a duplicate member.
    :raises ValueError, UnicodeDecodeError, RecursionError: not UTF-8 JSON.
    """
    try:
        value = orjson.loads(data)
        if orjson.dumps(value) == data:
            return value
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, RecursionError):
        pass
    return _DECODER.decode(data.decode("utf-8"))


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        data = base64url_decode(segment)
        value = loads_without_duplicates(data)
    except InvalidDocument as e:
        raise InvalidDocument(f"the JWS {what} is not valid: {e.message}") from e
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise InvalidDocument(f"the JWS {what} is not UTF-8 JSON: {e}") from e
    if not isinstance(value, dict):
        raise InvalidDocument(f"the JWS {what} must be a JSON object, not {type(value).__name__}")
    return value


def is_compact_jws(text: Any) -> bool:
    """True if ``text`` looks like a compact JWS or JWE (dot-separated base64url parts, no
    whitespace inside): the test a CLI or wallet uses to tell a token from JSON. It proves
    nothing; :func:`verify_credential_jwt` does the checking."""
    if not isinstance(text, str):
        return False
    text = text.strip()
    return text.count(".") in (2, 4) and _TOKEN_CHARACTERS.fullmatch(text) is not None


_TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9_.\-]+")
"""base64url and the dots between the parts (checked in C: a fetched body can be a megabyte)."""


def parse_compact_jws(token: Any) -> CompactJws:
    """Split and decode a compact JWS (RFC 7515 section 7.1) without verifying it.

    :raises InvalidDocument: not a string; longer than :data:`MAX_TOKEN_LENGTH`; five parts
        (a JWE: encrypted tokens are refused, never decrypted); not three parts; a part that
        is not canonical base64url; a header or payload that is not a JSON object (duplicate
        members refused); an empty signature.
    """
    if not isinstance(token, str):
        raise InvalidDocument(f"a compact JWS must be a string, not {type(token).__name__}")
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidDocument(f"the token is {len(token)} characters; at most {MAX_TOKEN_LENGTH} are accepted")
    parts = token.split(".")
    if len(parts) == 5:
        raise InvalidDocument(
            "the token has five parts: it is an encrypted JWE, not a signed JWS; encrypted tokens are refused"
        )
    if len(parts) != 3:
        raise InvalidDocument(f"a compact JWS has three parts separated by '.', not {len(parts)}")
    header = _header(parts[0])
    payload = _json_object(parts[1], "payload")
    try:
        signature = base64url_decode(parts[2])
    except InvalidDocument as e:
        raise InvalidDocument(f"the JWS signature is not valid base64url: {e.message}") from e
    if not signature:
        raise InvalidDocument("the JWS has an empty signature (an unsecured JWT)")
    return CompactJws(token, header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


_HEADERS: dict[str, dict[str, Any]] = {}
_HEADERS_SIZE = 256


def _header(segment: str) -> dict[str, Any]:
    """The decoded protected header. An issuer's tokens share one header (alg, kid, typ,
    cty), so headers made only of strings are remembered by their encoded form (a bounded
    cache, emptied when full) and handed out as copies."""
    known = _HEADERS.get(segment)
    if known is not None:
        return dict(known)
    header = _json_object(segment, "header")
    if len(segment) <= 1024 and all(type(value) is str for value in header.values()):
        if len(_HEADERS) >= _HEADERS_SIZE:
            _HEADERS.clear()
        _HEADERS[segment] = dict(header)
    return header


def check_header(header: Mapping[str, Any]) -> str:
    """Check the protected header of a token to be verified with a key from a DID document;
    return its ``kid``. ``typ`` is the caller's check.

    :raises ProofVerificationError: ``alg`` is missing, ``none`` or an HMAC algorithm; the
        header carries a key or a key reference (``jwk``, ``jku``, ``x5u``, ``x5c``), ``crit``,
        ``zip`` (compression), ``enc`` (encryption) or ``b64``.
    :raises UnsupportedError: another signature algorithm (RS256, ES512, ...).
    :raises ResolutionError: ``kid`` is missing, relative or not a DID URL with a fragment.
    """
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in _ALGORITHM_NAMES:
        _refuse_algorithm(alg)
    if not header.keys().isdisjoint(_REFUSED_PARAMETERS):
        _refuse_parameters(header)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ResolutionError("the JOSE header has no 'kid' naming the signing key", code="INVALID_VERIFICATION_METHOD_URL")
    if not kid.startswith("did:"):
        raise ResolutionError(
            f"'kid' must be an absolute DID URL (did:...#key), not {kid!r}", code="INVALID_VERIFICATION_METHOD_URL"
        )
    _, fragment = parse_did_url(kid)
    if not fragment:
        raise ResolutionError(f"'kid' {kid!r} has no fragment naming a key", code="INVALID_VERIFICATION_METHOD_URL")
    return kid


_ALGORITHM_NAMES = frozenset(ALGORITHMS.values())
_REFUSED_PARAMETERS = frozenset(_KEY_PARAMETERS + ("crit", "zip", "enc", "b64"))


def _refuse_algorithm(alg: Any) -> NoReturn:
    if alg is None or alg == "":
        raise ProofVerificationError("the JOSE header has no 'alg'")
    if not isinstance(alg, str):
        raise ProofVerificationError(f"the JOSE header's 'alg' must be a string, not {type(alg).__name__}")
    if alg.lower() == "none":
        raise ProofVerificationError("'alg: none' (an unsigned token) is refused")
    if alg.upper().startswith("HS"):
        raise ProofVerificationError(
            f"the HMAC algorithm {alg} is refused: credentials are signed with the issuer's private key"
        )
    raise UnsupportedError(f"JWS algorithm {alg!r} is not supported (only ES256, ES384 and EdDSA)")


def _refuse_parameters(header: Mapping[str, Any]) -> NoReturn:
    embedded = [p for p in _KEY_PARAMETERS if p in header]
    if embedded:
        raise ProofVerificationError(
            f"the JOSE header carries {', '.join(embedded)}: keys are taken only from the signer's DID "
            "document, never from the token"
        )
    if "crit" in header:
        raise ProofVerificationError(f"critical header parameter(s) {header['crit']!r} are not understood")
    if "zip" in header:
        raise ProofVerificationError("compressed tokens ('zip') are refused")
    if "enc" in header:
        raise ProofVerificationError("the header has 'enc': an encrypted token is not a signed credential")
    raise ProofVerificationError("unencoded payloads ('b64') are refused")


def verify_signature(jws: CompactJws, kid: str, resolvers: DidResolvers) -> VerificationMethod:
    """Retrieve ``kid`` through ``resolvers`` and verify the signature with its key, with the
    algorithm pinned to the key's type.

    :raises ResolutionError, UnsupportedError: the key could not be retrieved, or is a legacy
        ``Ed25519VerificationKey2018`` (kept for Ed25519Signature2018 proofs only).
    :raises ProofVerificationError: the header's ``alg`` does not fit the key, or the
        signature does not verify.
    """
    method = retrieve_verification_method(kid, resolvers)
    if method.type == "Ed25519VerificationKey2018":
        raise UnsupportedError(f"{kid} is an Ed25519VerificationKey2018, a legacy key type not used for JOSE")
    expected = ALGORITHMS[method.key.key_type]
    claimed = jws.header.get("alg")
    if claimed != expected:
        raise ProofVerificationError(
            f"the header claims {claimed} but {kid} is a {method.key.key_type} key, which signs with {expected}"
        )
    try:
        # The algorithm is decided above, from the key; what is left is the signature primitive
        # itself, which jwcrypto would also hand to ``cryptography``. Calling it directly on the
        # bytes split once in parse_compact_jws avoids re-decoding the token and converting the
        # key to a JWK on every call (the tests cross-check tokens with jwcrypto both ways).
        method.key.verify(jws.signature, jws.signing_input)
    except InvalidSignature as e:
        raise ProofVerificationError(
            f"the {expected} signature does not verify with {kid}: the token was altered, or signed with another key"
        ) from e
    return method


def _timestamp(value: Any, name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidDocument(f"the '{name}' claim must be a number of seconds since 1970, not {value!r}")
    try:
        return datetime.fromtimestamp(value, tz=timezone.utc)
    except (OverflowError, OSError, ValueError) as e:
        raise InvalidDocument(f"the '{name}' claim {value!r} is out of range") from e


def _check_token_times(payload: Mapping[str, Any], now: datetime, skew: timedelta, result: VerificationResult) -> None:
    """``proof_expiry``: ``exp`` has not passed, ``nbf`` has come, ``iat`` is not in the future."""
    try:
        times = {name: _timestamp(payload[name], name) for name in ("exp", "nbf", "iat") if name in payload}
    except InvalidDocument as e:
        result.add(CheckResult.from_error("proof_expiry", e))
        return
    if not times:
        result.add(CheckResult.passed("proof_expiry", "the token does not expire"))
        return
    exp, nbf, iat = times.get("exp"), times.get("nbf"), times.get("iat")
    data = {"now": now.isoformat()}
    if exp is not None and now - skew > exp:
        result.add(CheckResult.failed(
            "proof_expiry", "PROOF_VERIFICATION_ERROR", f"the token expired at {exp.isoformat()} (exp)",
            data={**data, "exp": exp.isoformat()},
        ))
    elif nbf is not None and now + skew < nbf:
        result.add(CheckResult.failed(
            "proof_expiry", "PROOF_VERIFICATION_ERROR", f"the token is not valid before {nbf.isoformat()} (nbf)",
            data={**data, "nbf": nbf.isoformat()},
        ))
    elif iat is not None and now + skew < iat:
        result.add(CheckResult.failed(
            "proof_expiry", "PROOF_VERIFICATION_ERROR", f"the token was issued in the future, {iat.isoformat()} (iat)",
            data={**data, "iat": iat.isoformat()},
        ))
    else:
        result.add(CheckResult.passed(
            "proof_expiry", f"the token expires {exp.isoformat()}" if exp else "the token does not expire"
        ))


# -- signing -------------------------------------------------------------------------------------


def _compact(payload: Mapping[str, Any], key: KeyPair, *, typ: str, kid: str, cty: str | None) -> str:
    if not isinstance(key, KeyPair):
        raise TypeError("key must be a vc.keys.KeyPair")
    alg = ALGORITHMS[key.key_type]
    header = {"alg": alg, "kid": kid, "typ": typ}
    if cty is not None:
        header["cty"] = cty
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    secret = JWK(**key.to_jwk(private=True))
    try:
        signed = JWSCore(alg, secret, json.dumps(header, separators=(",", ":")), body, algs=[alg]).sign()
    except JWException as e:
        raise SigningError(f"jwcrypto could not sign with {alg}: {e}") from e
    return f"{signed['protected']}.{signed['payload'].decode('ascii')}.{signed['signature']}"


def _signing_method(key: KeyPair, verification_method: str | None, party: str, role: str) -> str:
    method = verification_method or key.verification_method
    if not isinstance(method, str) or "#" not in method or not method.startswith("did:"):
        raise SigningError(f"the verification method must be an absolute DID URL with a fragment, not {method!r}")
    if method.split("#", 1)[0] != party:
        raise SigningError(
            f"the {role} is {party} but the verification method {method} belongs to another DID; "
            f"set the {role} to the signing DID"
        )
    return method


def refuse_contexts(document: Mapping[str, Any], loader: DocumentLoader | None) -> None:
    """Before signing with JOSE: refuse the contexts the verifier refuses (unpinned URLs,
    inline contexts that redefine protected terms or leave terms undefined).

    :raises ContextNotPinned, DataLossError, ProtectedTermRedefinition, InvalidDocument: see
        :func:`vc.jsonld.check_context_use`.
    """
    check_context_use(document, loader or default_loader(), covered_by=JWS, refuse_data_loss=True)


def _with_claims(document: Mapping[str, Any], claims: Mapping[str, Any] | None) -> dict[str, Any]:
    payload = dict(document)
    for name, value in (claims or {}).items():
        if name not in _REGISTERED_CLAIMS:
            raise ValueError(f"{name!r} is not a registered JWT claim ({', '.join(_REGISTERED_CLAIMS)})")
        if name in payload:
            raise ValueError(f"the document already has a {name!r} member")
        payload[name] = value
    return payload


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
    :raises ContextNotPinned, DataLossError, ProtectedTermRedefinition: see
        :func:`vc.jsonld.check_context_use`.
    :raises SigningError: the credential has a Data Integrity proof, its issuer is not the
        verification method's DID, or ``iss`` is not the issuer.
    :raises KeyMaterialError: the key has no secret.
    :raises ValueError: ``claims`` has an unregistered name or one the credential already has.
    """
    parsed = parse_credential(credential)
    if parsed.proof is not None:
        raise SigningError("the credential already has a Data Integrity proof; secure the unsigned credential")
    kid = _signing_method(key, verification_method, parsed.issuer_id, "issuer")
    refuse_contexts(credential, loader)
    payload = _with_claims(credential, claims)
    if "iss" in payload and payload["iss"] != parsed.issuer_id:
        raise SigningError(f"'iss' must be the issuer {parsed.issuer_id}, not {payload['iss']!r}")
    return _compact(payload, key, typ=VC_TYP, kid=kid, cty=_CTY[VC_TYP])


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
    :raises ContextNotPinned, DataLossError, ProtectedTermRedefinition: see
        :func:`vc.jsonld.check_context_use`.
    """
    if not isinstance(challenge, str) or not challenge or not isinstance(domain, str) or not domain:
        raise ValueError("a presentation needs the verifier's challenge and domain (non-empty strings)")
    if not isinstance(holder_key, KeyPair):
        raise TypeError("holder_key must be a vc.keys.KeyPair")
    holder = holder or (verification_method or holder_key.verification_method).split("#", 1)[0]
    kid = _signing_method(holder_key, verification_method, holder, "holder")
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
    payload = _with_claims(presentation, claims)
    payload["nonce"] = challenge
    payload["aud"] = domain
    return _compact(payload, holder_key, typ=VP_TYP, kid=kid, cty=_CTY[VP_TYP])


def credential_of(document: str | Mapping[str, Any], compatibility: Compatibility = STRICT) -> dict[str, Any]:
    """The credential a JOSE-secured document carries, *without verifying anything*: the
    payload of a ``vc+jwt`` (also inside an ``EnvelopedVerifiableCredential``) or the
    credential mapped from a VC-JWT 1.1 ``vc`` claim. For display and indexing (a wallet's
    list) after :func:`verify_credential_jwt` has verified it. ``compatibility`` may allow
    the drafts' envelope media types and ``typ`` values.

    :raises InvalidDocument: not a compact JWS or envelope, or neither profile.
    """
    token = document.strip() if isinstance(document, str) else open_envelope(
        document, "EnvelopedVerifiableCredential", compatibility
    )[0]
    jws = parse_compact_jws(token)
    typ, kind = jws.header.get("typ"), token_type(jws)
    if (kind == VC_TYP or _draft_typ(jws.header, compatibility)) and "vc" not in jws.payload:
        return jws.payload
    if kind in LEGACY_TYPES and "vc" in jws.payload and isinstance(document, str):
        from tradevc.vc.securing.vcjwt import credential_from_claims

        return credential_from_claims(jws.payload)
    raise InvalidDocument(f"not a vc+jwt or VC-JWT 1.1 credential (typ {typ!r})")


# -- verification --------------------------------------------------------------------------------


@dataclass
class _Opened:
    jws: CompactJws
    document: dict[str, Any]  # the credential or presentation the token secures
    legacy: bool  # VC-JWT 1.1 (a vc / vp claim)
    typ: str | None = None  # vc+jwt or vp+jwt (from the header, or inferred when it has no typ)
    draft_typ: bool = False  # a VC-JOSE-COSE draft's typ, tolerated by the profile


def _open(
    document: Any, *, envelope_type: str, typ: str, claim: str, result: VerificationResult,
    compatibility: Compatibility = STRICT,
) -> _Opened | None:
    """``structure`` (part one): unwrap an envelope, split the token, find the document."""
    noun = "credential" if claim == "vc" else "presentation"
    try:
        if isinstance(document, str):
            token, enveloped = document.strip(), False
        else:
            token, tolerated = open_envelope(document, envelope_type, compatibility)
            result.warnings.extend(tolerated)
            enveloped = True
        jws = parse_compact_jws(token)
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
            from tradevc.vc.securing.vcjwt import decode_credential, presentation_from_claims

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


JWS = "the JWS"
"""What secures a JOSE document's JSON bytes, inline contexts included (for the context checks)."""


def verify_credential_jwt(
    document: str | Mapping[str, Any],
    *,
    policy: VerificationPolicy,
    now: datetime | None = None,
    loader: DocumentLoader | None = None,
    resolvers: DidResolvers | None = None,
    status_checker: "StatusChecker | None" = None,
    max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    schemas: "SchemaStore | None" = None,
    compatibility: Compatibility | None = None,
) -> VerificationResult:
    """Verify a JOSE-secured credential: a ``vc+jwt`` compact JWS (or one without ``typ``
    whose payload is a VC 2.0 credential, with a warning), an
    ``EnvelopedVerifiableCredential`` carrying one, or a VC-JWT 1.1 token (``typ`` ``JWT`` or
    none, with a ``vc`` claim). :func:`vc.credentials.verify_credential` routes here, and the
    arguments (``schemas`` too) mean what they mean there.
    ``compatibility`` (default strict, see :mod:`vc.compat`) may tolerate the drafts'
    envelope forms and ``typ`` values, and a status list whose issuer is a plain name; each
    one tolerated adds a ``compat:<id>`` warning.

    :returns: the report (checks listed in the module's docstring).
    :raises TypeError: ``policy`` is not a policy, ``now`` is naive, or ``compatibility`` is
        not a :class:`~vc.compat.Compatibility`.
    """
    now, loader, resolvers = verification_inputs(policy, now, loader, resolvers)
    compat = require_compatibility(compatibility)
    result = new_report(VerificationResult(), None, policy)

    opened = _open(
        document, envelope_type="EnvelopedVerifiableCredential", typ=VC_TYP, claim="vc", result=result,
        compatibility=compat,
    )
    if opened is None:
        return result
    payload: Mapping[str, Any] = opened.jws.payload
    if compat.status_list_issuer_name:
        kid = opened.jws.header.get("kid")
        signer = kid.split("#", 1)[0] if isinstance(kid, str) and kid.startswith("did:") else None
        bound = bind_named_list_issuer(opened.document, signer, result) if signer else None
        if bound is not None:
            named = opened.document.get("issuer")
            opened.document = bound
            if payload.get("iss") == named:  # VC-JWT 1.1: iss carried the same name
                payload = {**payload, "iss": signer}
    try:
        credential = parse_credential(opened.document)
        if credential.proof is not None:
            raise InvalidDocument("a JOSE-secured credential must not also carry a Data Integrity proof")
    except InvalidDocument as e:
        result.add(CheckResult.from_error("structure", e))
        return result
    result.document_id = credential.id
    result.add(
        CheckResult.passed("structure", f"VC Data Model {credential.data_model.value} credential in a compact JWS")
    )
    kid = _check_jose_header(opened, result)
    uses = None if kid is None else check_contexts(opened.document, loader, result, signed_by=JWS)
    if uses is None or not check_data_loss(opened.document, loader, result, inline=bool(uses.inline), signed_by=JWS):
        return result
    if _check_binding("issuer_binding", "issuer", credential.issuer_id, kid, payload, result):
        _check_signature(opened, kid, "assertionMethod", resolvers, result)
    _check_token_times(opened.jws.payload, now, max_clock_skew, result)
    check_credential_claims(
        credential, document=opened.document, policy=policy, now=now, status_checker=status_checker,
        max_clock_skew=max_clock_skew, result=result, loader=loader, resolvers=resolvers, schemas=schemas,
    )
    return result


def verify_presentation_jwt(
    document: str | Mapping[str, Any],
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
    """Verify a JOSE-secured presentation (a ``vp+jwt`` token, or one without ``typ`` whose
    payload is a VC 2.0 presentation, an ``EnvelopedVerifiablePresentation``, or a VC-JWT 1.1
    token with a ``vp`` claim) for the
    verifier that issued ``challenge`` (the ``nonce`` claim) and ``domain`` (``aud``, a string
    or a list containing it), then every credential in it, whatever secures each one.
    :func:`vc.presentations.verify_presentation` routes here. ``compatibility`` (default
    strict, see :mod:`vc.compat`) applies to the credentials inside.

    :raises TypeError, ValueError: misuse: no policy, naive ``now``, empty challenge or domain,
        a ``compatibility`` that is not a :class:`~vc.compat.Compatibility`.
    """
    from tradevc.vc.verification.credentials import verify_credential

    now, loader, resolvers = verification_inputs(
        policy, now, loader, resolvers, challenge=challenge, domain=domain, presentation=True
    )
    compat = require_compatibility(compatibility)
    result = new_report(PresentationResult(), None, policy)

    opened = _open(document, envelope_type="EnvelopedVerifiablePresentation", typ=VP_TYP, claim="vp", result=result)
    if opened is None:
        return result
    entries = opened.document.get("verifiableCredential")
    entries = [] if entries is None else entries if isinstance(entries, list) else [entries]
    try:
        if not opened.legacy and any(isinstance(e, str) for e in entries):
            raise InvalidDocument(
                "a vp+jwt lists credentials as objects; a secured token goes in an EnvelopedVerifiableCredential"
            )
        # VC-JWT 1.1 presentations list credentials as bare tokens; the model checks the objects.
        presentation: Presentation = parse_presentation(
            {**opened.document, "verifiableCredential": [e for e in entries if not isinstance(e, str)]}
        )
        if presentation.proof is not None:
            raise InvalidDocument("a JOSE-secured presentation must not also carry a Data Integrity proof")
    except InvalidDocument as e:
        result.add(CheckResult.from_error("structure", e))
        return result
    result.document_id = presentation.id
    result.add(CheckResult.passed("structure", "verifiable presentation in a compact JWS"))
    kid = _check_jose_header(opened, result)
    uses = None if kid is None else check_contexts(opened.document, loader, result, signed_by=JWS)
    if uses is None or not check_data_loss(opened.document, loader, result, inline=bool(uses.inline), signed_by=JWS):
        return result
    holder = presentation.holder_id
    if holder is None and not opened.legacy:
        holder = opened.jws.payload.get("iss")  # a vp+jwt may name its holder in iss alone
    # With no holder (it is optional), the signature, challenge and domain alone decide.
    if holder is None or _check_binding("holder_binding", "holder", holder, kid, opened.jws.payload, result):
        method = _check_signature(opened, kid, "authentication", resolvers, result)
        result.signers = [] if method is None else [method.controller]
    if holder is None:
        _skip_holder_binding(result)
    _check_token_times(opened.jws.payload, now, max_clock_skew, result)
    _check_challenge(opened.jws.payload.get("nonce"), challenge, result, None)
    _check_domain(opened.jws.payload.get("aud"), domain, result, None)
    require_a_verified_proof(result)

    for entry in entries:
        result.credentials.append(
            verify_credential(
                entry, policy=policy, now=now, loader=loader, resolvers=resolvers, status_checker=status_checker,
                max_clock_skew=max_clock_skew, schemas=schemas, compatibility=compat,
            )
        )
    _check_credentials(result)
    return result

