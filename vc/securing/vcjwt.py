"""VC-JWT as in VC Data Model 1.1 (section 6.3.1), for wallets that still send it: the
credential sits in a ``vc`` claim (a presentation in ``vp``) and some of its properties are
carried by registered JWT claims instead:

=========  ==========================================================================
claim      property
=========  ==========================================================================
``iss``    ``issuer`` (its ``id``); for a presentation, ``holder``
``sub``    ``credentialSubject.id``
``jti``    ``id``
``nbf``    ``issuanceDate`` (``validFrom`` in a 2.0 credential), seconds since 1970
``exp``    ``expirationDate`` (``validUntil``)
=========  ==========================================================================

Decoding fills a property from its claim when the property is absent, and refuses a token
where both are present and disagree (times are compared to the second), with one exception
that the specification resolves: ``nbf`` "MUST be set as the value of the issuanceDate
property" when decoding, so a token whose ``nbf`` is its signing time while the credential
says an earlier (or later) date is decoded with the date of ``nbf``, and the difference is
reported as a warning (:func:`decode_credential`). A date that is not a valid date time is
still refused. Verification goes through the pipeline of :mod:`tradevc.vc.verification.pipeline`
(:func:`~tradevc.vc.verification.pipeline.verify_credential`, or ``verify_credential_jwt`` for
JOSE only), which picks the JOSE mechanism of :mod:`tradevc.vc.securing.jose` for a compact
JWS; that mechanism opens such tokens with :func:`decode_credential` here. Signing is
:func:`sign_credential_vcjwt` / :func:`sign_presentation_vcjwt`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, NamedTuple, Sequence

from tradevc.vc.errors import InvalidDocument, SigningError
from tradevc.vc.jsonld import DocumentLoader
from tradevc.vc.jsontext import check_value
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.jws import compact_jws, refuse_contexts, signing_method
from tradevc.vc.model import CREDENTIALS_V1, DataModel, parse_credential, parse_datetime, parse_presentation

LEGACY_TYP = "JWT"
"""The ``typ`` of a VC-JWT 1.1 token (when it has one)."""

__all__ = [
    "Decoded",
    "LEGACY_TYP",
    "credential_from_claims",
    "decode_credential",
    "presentation_from_claims",
    "sign_credential_vcjwt",
    "sign_presentation_vcjwt",
]


def _seconds(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidDocument(f"the '{name}' claim must be a number of seconds since 1970, not {value!r}")
    return int(value)


def _format(seconds: int) -> str:
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError) as e:
        raise InvalidDocument(f"the time {seconds} is out of range") from e


def _merge(target: dict[str, Any], prop: str, claim: str, value: Any, *, where: str = "vc") -> None:
    if prop not in target:
        target[prop] = value
    elif target[prop] != value:
        raise InvalidDocument(f"the '{claim}' claim {value!r} contradicts {where}.{prop} {target[prop]!r}")


def _merge_time(
    target: dict[str, Any], prop: str, claim: str, value: Any, warnings: list[str] | None = None
) -> None:
    """Set ``prop`` from the time ``claim``. With ``warnings`` (for ``nbf``, which decoding
    sets as the property's value), a different time in ``prop`` is replaced and a warning
    appended; without, it is refused."""
    seconds = _seconds(value, claim)
    if prop not in target:
        target[prop] = _format(seconds)
        return
    try:
        given = int(parse_datetime(target[prop], field=prop).timestamp())
    except ValueError as e:
        raise InvalidDocument(str(e)) from e
    if given == seconds:
        return
    if warnings is None:
        raise InvalidDocument(f"the '{claim}' claim ({_format(seconds)}) contradicts vc.{prop} {target[prop]!r}")
    warnings.append(
        f"the '{claim}' claim ({_format(seconds)}) differs from vc.{prop} ({target[prop]}); "
        f"VC Data Model 1.1 decodes {prop} from '{claim}', so {prop} is {_format(seconds)}"
    )
    target[prop] = _format(seconds)


def _object_claim(claims: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = claims.get(name)
    if not isinstance(value, dict):
        raise InvalidDocument(f"the '{name}' claim must be a JSON object")
    return copy.deepcopy(value)


def _time_properties(document: Mapping[str, Any]) -> tuple[str, str]:
    context = document.get("@context")
    first = context[0] if isinstance(context, list) and context else context
    return ("issuanceDate", "expirationDate") if first == CREDENTIALS_V1 else ("validFrom", "validUntil")


class Decoded(NamedTuple):
    """A credential decoded from VC-JWT 1.1 claims, and what the verifier should be told."""

    credential: dict[str, Any]
    warnings: list[str]


def credential_from_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The credential a VC-JWT 1.1 payload carries (see :func:`decode_credential`, which
    also gives the warnings).

    :raises InvalidDocument: as :func:`decode_credential`.
    """
    return decode_credential(claims).credential


def decode_credential(claims: Mapping[str, Any]) -> Decoded:
    """The credential a VC-JWT 1.1 payload carries: its ``vc`` claim completed from ``iss``,
    ``sub``, ``jti``, ``nbf`` and ``exp``; ``issuanceDate`` (``validFrom`` in a 2.0 credential)
    is the time of ``nbf`` whenever ``nbf`` is present, with a warning if the credential said
    another time.

    :raises InvalidDocument: ``vc`` is not an object; a claim has the wrong type or
        contradicts the property it stands for (``iss``, ``sub``, ``jti``, ``exp``); a date
        that ``nbf`` replaces is not a date time; ``sub`` with several subjects.
    """
    warnings: list[str] = []
    credential = _object_claim(claims, "vc")
    start, end = _time_properties(credential)
    if "iss" in claims:
        iss = claims["iss"]
        issuer = credential.get("issuer")
        if isinstance(issuer, dict):
            _merge(issuer, "id", "iss", iss, where="vc.issuer")
        else:
            _merge(credential, "issuer", "iss", iss)
    if "jti" in claims:
        _merge(credential, "id", "jti", claims["jti"])
    if "sub" in claims:
        subject = credential.setdefault("credentialSubject", {})
        if not isinstance(subject, dict):
            raise InvalidDocument("the 'sub' claim names one subject, but vc.credentialSubject is not one object")
        _merge(subject, "id", "sub", claims["sub"], where="vc.credentialSubject")
    if "nbf" in claims:
        _merge_time(credential, start, "nbf", claims["nbf"], warnings)
    if "exp" in claims:
        _merge_time(credential, end, "exp", claims["exp"])
    return Decoded(credential, warnings)


def presentation_from_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The presentation a VC-JWT 1.1 payload carries: its ``vp`` claim completed from ``iss``
    (the holder) and ``jti`` (the id). Its ``verifiableCredential`` may list VC-JWT tokens.

    :raises InvalidDocument: ``vp`` is not an object, or a claim contradicts a property.
    """
    presentation = _object_claim(claims, "vp")
    if "iss" in claims:
        holder = presentation.get("holder")
        if isinstance(holder, dict):
            _merge(holder, "id", "iss", claims["iss"], where="vp.holder")
        else:
            _merge(presentation, "holder", "iss", claims["iss"], where="vp")
    if "jti" in claims:
        _merge(presentation, "id", "jti", claims["jti"], where="vp")
    return presentation


def _epoch(value: str | None) -> int | None:
    return None if value is None else int(parse_datetime(value).timestamp())


def sign_credential_vcjwt(
    credential: Mapping[str, Any], key: KeyPair, *, verification_method: str | None = None,
    loader: DocumentLoader | None = None,
) -> str:
    """Secure ``credential`` as a VC-JWT 1.1 token (``typ: JWT``): the credential in ``vc``,
    with ``iss``, ``jti``, ``sub`` (for a single subject with an id), ``nbf`` and ``exp``
    taken from it. For legacy verifiers; new issuance uses :func:`tradevc.vc.securing.jose.sign_credential_jwt`.
    Contexts are checked as there (``loader``: by default the pinned contexts).

    :raises InvalidDocument: the credential breaks the data model.
    :raises ParsingError: the credential is not I-JSON (``NaN``, a big integer, a lone surrogate).
    :raises SigningError: it has a Data Integrity proof, or its issuer is not the signer.
    :raises ContextNotPinned, DataLossError, ProtectedTermRedefinition: see
        :func:`tradevc.vc.jsonld.check_context_use`.
    """
    check_value(credential, None)  # I-JSON: NaN, big integers, lone surrogates are not signed
    parsed = parse_credential(credential)
    if parsed.proof is not None:
        raise SigningError("the credential already has a Data Integrity proof; secure the unsigned credential")
    kid = signing_method(key, verification_method, parsed.issuer_id, "issuer")
    refuse_contexts(credential, loader)
    claims: dict[str, Any] = {"vc": copy.deepcopy(dict(credential)), "iss": parsed.issuer_id}
    if parsed.id is not None:
        claims["jti"] = parsed.id
    subject = parsed.credentialSubject
    if isinstance(subject, dict) and isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]
    start = parsed.issuanceDate if parsed.data_model is DataModel.V1_1 else parsed.validFrom
    end = parsed.expirationDate if parsed.data_model is DataModel.V1_1 else parsed.validUntil
    for name, value in (("nbf", _epoch(start)), ("exp", _epoch(end))):
        if value is not None:
            claims[name] = value
    return compact_jws(claims, key, typ=LEGACY_TYP, kid=kid, cty=None)


def sign_presentation_vcjwt(
    credentials: Sequence[Mapping[str, Any] | str],
    holder_key: KeyPair,
    *,
    challenge: str,
    domain: str,
    verification_method: str | None = None,
    loader: DocumentLoader | None = None,
) -> str:
    """A VC-JWT 1.1 presentation (``typ: JWT``, ``vp`` claim; ``iss`` the holder, ``nonce``
    the challenge, ``aud`` the domain) of VC-JWT tokens or credential objects. Contexts are
    checked as for :func:`sign_credential_vcjwt`.

    :raises ValueError: empty challenge or domain.
    :raises ParsingError: a credential, the challenge or the domain is not I-JSON.
    :raises ContextNotPinned, DataLossError, ProtectedTermRedefinition: see
        :func:`tradevc.vc.jsonld.check_context_use`.
    """
    if not isinstance(challenge, str) or not challenge or not isinstance(domain, str) or not domain:
        raise ValueError("a presentation needs the verifier's challenge and domain (non-empty strings)")
    method = verification_method or holder_key.verification_method
    holder = method.split("#", 1)[0]
    kid = signing_method(holder_key, method, holder, "holder")
    carried = [c if isinstance(c, str) else dict(c) for c in credentials]
    check_value([carried, challenge, domain], None)
    vp = {
        "@context": [CREDENTIALS_V1],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": carried,
    }
    objects = {**vp, "verifiableCredential": [c for c in carried if not isinstance(c, str)]}
    parse_presentation(objects)
    refuse_contexts(objects, loader)
    claims = {"vp": vp, "iss": holder, "nonce": challenge, "aud": domain}
    return compact_jws(claims, holder_key, typ=LEGACY_TYP, kid=kid, cty=None)
