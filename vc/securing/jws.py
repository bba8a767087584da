"""Compact JWS (RFC 7515), as the JOSE securing mechanisms use it: split and decode a token
(nothing trimmed; header and payload read as I-JSON by :func:`tradevc.vc.jsontext.loads`, so
duplicate members are refused), the header policy for tokens verified with a key from a DID
document, the signature check with the algorithm pinned to the key's type, the registered
time claims, and compact serialization for signing. Knows nothing of credentials: what a
payload means is :mod:`tradevc.vc.securing.jose`'s business.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple, NoReturn

from cryptography.exceptions import InvalidSignature
from jwcrypto.common import JWException
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWSCore

from tradevc.vc.jsonld import DocumentLoader, check_context_use, default_loader
from tradevc.vc.errors import (
    InvalidDocument, ParsingError, ProofVerificationError, ResolutionError, ResourceLimitError, SigningError,
    UnsupportedError,
)
from tradevc.vc.jsontext import DEFAULT_LIMITS, Limits, check_value, decode_text, json_kind, loads
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_decode
from tradevc.vc.report import CheckResult, VerificationResult
from tradevc.vc.retrieval.did import parse_did_url
from tradevc.vc.retrieval.did.resolver import DidResolvers, VerificationMethod, retrieve_verification_method

__all__ = [
    "ALGORITHMS",
    "MAX_TOKEN_LENGTH",
    "CompactJws",
    "check_header",
    "check_token_times",
    "compact_jws",
    "is_compact_jws",
    "media_type",
    "parse_compact_jws",
    "refuse_contexts",
    "signing_method",
    "token_of_file",
    "document_of_file",
    "with_claims",
    "verify_signature",
]

MAX_TOKEN_LENGTH = 1024 * 1024
"""The longest compact JWS accepted, in characters (1 MiB): larger input is refused before it
is decoded. A trade credential is a few kilobytes; a presentation of dozens stays far below."""

ALGORITHMS: dict[str, str] = {"Ed25519": "EdDSA", "P-256": "ES256", "P-384": "ES384"}
"""The one JWS algorithm accepted for each key type."""


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
REGISTERED_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")
"""The registered JWT claim names (RFC 7519 section 4.1)."""


# -- compact JWS parsing -------------------------------------------------------------------------


class CompactJws(NamedTuple):
    """A compact JWS split and decoded, not yet verified. (A named tuple: immutable, and
    quicker to make than a frozen dataclass, once per token.)"""

    token: str
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes = b""  # ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
    signature: bytes = b""


def _json_object(segment: str, what: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    try:
        data = base64url_decode(segment)
    except InvalidDocument as e:
        raise InvalidDocument(f"the JWS {what} is not valid: {e.message}") from e
    try:
        value = loads(data, limits=limits)
    except InvalidDocument as e:  # ParsingError, ResourceLimitError: the code is kept
        raise type(e)(f"the JWS {what} is not valid: {e.message}", code=e.code) from e
    if not isinstance(value, dict):
        raise InvalidDocument(f"the JWS {what} must be a JSON object, not {json_kind(value)}")
    return value


def is_compact_jws(text: Any) -> bool:
    """True if ``text`` has the form of a compact JWS or JWE: dot-separated base64url parts
    and nothing else, no whitespace around or inside (a CLI that reads a token from a file
    drops the file's one trailing line end first, see :func:`token_of_file`). The test a CLI
    or wallet uses to tell a token from JSON. It proves nothing;
    :func:`~tradevc.vc.verification.pipeline.verify_credential_jwt` does the checking."""
    if not isinstance(text, str):
        return False
    return text.count(".") in (2, 4) and _TOKEN_CHARACTERS.fullmatch(text) is not None


_TOKEN_CHARACTERS = re.compile(r"[A-Za-z0-9_.\-]+")
"""base64url and the dots between the parts (checked in C: a fetched body can be a megabyte)."""


def token_of_file(text: str) -> str:
    """``text`` read from a file, without the file's one trailing line end (``\\n`` or
    ``\\r\\n``), if it has one: what a CLI hands on as a token. Nothing else is trimmed,
    so a token with other whitespace around it is refused as one."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def document_of_file(data: bytes | str, *, limits: Limits = DEFAULT_LIMITS) -> Any:
    """A document read from a file (or standard input): a compact JWS, returned as the string
    (the file's one trailing line end dropped, see :func:`token_of_file`), or I-JSON within
    ``limits`` (:func:`tradevc.vc.jsontext.loads`). What the CLIs use; a file longer than
    ``max_document_size`` bytes is refused before it is decoded.

    :raises NotUtf8Error: (a ParsingError) not UTF-8 (a UTF-8 byte order mark is dropped).
    :raises ParsingError: neither a compact JWS nor I-JSON.
    :raises ResourceLimitError: over ``limits``.
    """
    if isinstance(data, (bytes, bytearray)):
        if len(data) > limits.max_document_size:
            raise ResourceLimitError(f"the file is over {limits.max_document_size} bytes, the most accepted")
        text = decode_text(data)  # UTF-8, a byte order mark dropped; else NotUtf8Error
    else:
        text = data
    token = token_of_file(text)
    if is_compact_jws(token):
        return token
    try:
        return loads(text, limits=limits)
    except ParsingError as e:
        raise ParsingError(f"neither I-JSON nor a compact JWS: {e.message}") from e


def parse_compact_jws(token: Any, limits: Limits = DEFAULT_LIMITS) -> CompactJws:
    """Split and decode a compact JWS (RFC 7515 section 7.1) without verifying it. The
    payload is held to ``limits`` (see :mod:`tradevc.vc.jsontext`).

    :raises InvalidDocument: not a string; longer than :data:`MAX_TOKEN_LENGTH`; five parts
        (a JWE: encrypted tokens are refused, never decrypted); not three parts; a part that
        is not canonical base64url; a header or payload that is not a JSON object; an empty
        signature.
    :raises ParsingError: a character outside base64url and the two dots (whitespace around
        the token included: it is refused, not trimmed); a header or payload that is not
        I-JSON (a member name twice, a non-finite number, a lone surrogate...).
    :raises ResourceLimitError: a payload over ``limits``.
    """
    if not isinstance(token, str):
        raise InvalidDocument(f"a compact JWS must be a string, not {json_kind(token)}")
    if len(token) > MAX_TOKEN_LENGTH:
        raise ResourceLimitError(f"the token is {len(token)} characters; at most {MAX_TOKEN_LENGTH} are accepted")
    if token and _TOKEN_CHARACTERS.fullmatch(token) is None:
        bad = next((c for c in token if not (c.isascii() and (c.isalnum() or c in "-_."))), "")
        raise ParsingError(
            f"a compact JWS holds only base64url characters and two dots; it has {bad!r}"
            + (" (whitespace around a token is refused, not trimmed)" if bad.isspace() else "")
        )
    parts = token.split(".")
    if len(parts) == 5:
        raise InvalidDocument(
            "the token has five parts: it is an encrypted JWE, not a signed JWS; encrypted tokens are refused"
        )
    if len(parts) != 3:
        raise InvalidDocument(f"a compact JWS has three parts separated by '.', not {len(parts)}")
    header = _header(parts[0])
    payload = _json_object(parts[1], "payload", limits)
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
        raise ProofVerificationError(f"the JOSE header's 'alg' must be a string, not {json_kind(alg)}")
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


def check_token_times(payload: Mapping[str, Any], now: datetime, skew: timedelta, result: VerificationResult) -> None:
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


def compact_jws(payload: Mapping[str, Any], key: KeyPair, *, typ: str, kid: str, cty: str | None) -> str:
    """Sign ``payload`` (compact JSON) as a compact JWS with ``key``: header ``alg`` (from the
    key type), ``kid``, ``typ`` and, if given, ``cty``.

    :raises ParsingError: ``payload`` is not I-JSON (``NaN``, ``Infinity``, an integer beyond
        2**53-1 in magnitude, a lone surrogate): it is not signed."""
    if not isinstance(key, KeyPair):
        raise TypeError("key must be a tradevc.vc.keys.KeyPair")
    check_value(payload, None)  # I-JSON: no NaN, Infinity, big integer or lone surrogate is signed
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


def signing_method(key: KeyPair, verification_method: str | None, party: str, role: str) -> str:
    """The ``kid`` to sign with: ``verification_method`` (default: the key's did:key method),
    which must be an absolute DID URL of ``party`` (the issuer or holder, named by ``role``).

    :raises SigningError: it is not, or it belongs to another DID.
    """
    method = verification_method or key.verification_method
    if not isinstance(method, str) or "#" not in method or not method.startswith("did:"):
        raise SigningError(f"the verification method must be an absolute DID URL with a fragment, not {method!r}")
    if method.split("#", 1)[0] != party:
        raise SigningError(
            f"the {role} is {party} but the verification method {method} belongs to another DID; "
            f"set the {role} to the signing DID"
        )
    return method


JWS = "the JWS"
"""What secures a JOSE document's JSON bytes, inline contexts included (for the context checks)."""


def refuse_contexts(document: Mapping[str, Any], loader: DocumentLoader | None) -> None:
    """Before signing with JOSE: refuse the contexts the verifier refuses (unpinned URLs,
    inline contexts that redefine protected terms or leave terms undefined).

    :raises ContextNotPinned, DataLossError, ProtectedTermRedefinition, InvalidDocument: see
        :func:`tradevc.vc.jsonld.check_context_use`.
    """
    check_context_use(document, loader or default_loader(), covered_by=JWS, refuse_data_loss=True)


def with_claims(document: Mapping[str, Any], claims: Mapping[str, Any] | None) -> dict[str, Any]:
    """``document`` as a JWT payload with the registered ``claims`` added.

    :raises ValueError: a claim that is not registered, or one ``document`` already has.
    """
    payload = dict(document)
    for name, value in (claims or {}).items():
        if name not in REGISTERED_CLAIMS:
            raise ValueError(f"{name!r} is not a registered JWT claim ({', '.join(REGISTERED_CLAIMS)})")
        if name in payload:
            raise ValueError(f"the document already has a {name!r} member")
        payload[name] = value
    return payload
