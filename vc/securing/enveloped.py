"""Enveloped credentials and presentations (VC Data Model 2.0, section 4.13): a JSON object
that carries a secured document whose securing mechanism wraps it, here a compact JWS, as a
``data:`` URL in its ``id``::

    {"@context": "https://www.w3.org/ns/credentials/v2",
     "id": "data:application/vc+jwt,eyJhbGciOiJFUzM4NCIs...",
     "type": "EnvelopedVerifiableCredential"}

Only the two media types of VC-JOSE-COSE are understood, without ``;base64`` or other
parameters: the token's own characters are already URL-safe. A compatibility profile (see
:mod:`tradevc.vc.compat`) may allow the drafts' credential media types and a ``;`` for the ``,``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from tradevc.vc.checks.common import ExpectedDomain
from tradevc.vc.compat import STRICT, Compatibility, warning
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.report import CheckResult, VerificationResult
from tradevc.vc.securing.mechanism import CREDENTIAL, PRESENTATION, Context, Kind, Secured

__all__ = [
    "Enveloped",
    "TokenOpener",
    "VC_JWT_MEDIA_TYPE",
    "VP_JWT_MEDIA_TYPE",
    "envelope_credential",
    "envelope_presentation",
    "is_enveloped",
    "open_envelope",
    "token_from_envelope",
    "LEGACY_VC_MEDIA_TYPES",
]

VC_JWT_MEDIA_TYPE = "application/vc+jwt"
VP_JWT_MEDIA_TYPE = "application/vp+jwt"
_CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
LEGACY_VC_MEDIA_TYPES = ("application/vc-ld+jwt", "application/vc+ld+json+jwt")
"""Media types of VC-JOSE-COSE drafts that 2023-2024 pilots put in envelopes (deviation
``envelope-media-type``)."""
_LEGACY_MEDIA_TYPES = {"EnvelopedVerifiableCredential": LEGACY_VC_MEDIA_TYPES, "EnvelopedVerifiablePresentation": ()}
_MEDIA_TYPES = {
    "EnvelopedVerifiableCredential": VC_JWT_MEDIA_TYPE,
    "EnvelopedVerifiablePresentation": VP_JWT_MEDIA_TYPE,
}


def is_enveloped(document: Any, envelope_type: str) -> bool:
    """True if ``document`` is an object whose ``type`` is (or includes) ``envelope_type``
    (``"EnvelopedVerifiableCredential"`` or ``"EnvelopedVerifiablePresentation"``)."""
    if not isinstance(document, Mapping):
        return False
    types = document.get("type")
    return envelope_type == types or (isinstance(types, list) and envelope_type in types)


def _envelope(token: str, envelope_type: str) -> dict[str, Any]:
    if not isinstance(token, str) or not token:
        raise TypeError("token must be a compact JWS string")
    return {"@context": _CREDENTIALS_V2, "id": f"data:{_MEDIA_TYPES[envelope_type]},{token}", "type": envelope_type}


def envelope_credential(token: str) -> dict[str, Any]:
    """An ``EnvelopedVerifiableCredential`` carrying the ``vc+jwt`` ``token``."""
    return _envelope(token, "EnvelopedVerifiableCredential")


def envelope_presentation(token: str) -> dict[str, Any]:
    """An ``EnvelopedVerifiablePresentation`` carrying the ``vp+jwt`` ``token``."""
    return _envelope(token, "EnvelopedVerifiablePresentation")


def token_from_envelope(document: Any, envelope_type: str) -> str:
    """The compact JWS inside an enveloped credential or presentation.

    :raises InvalidDocument: not an object of that type, a ``@context`` that does not start
        with the VC 2.0 context, or an ``id`` that is not a ``data:`` URL of the expected
        media type (``application/vc+jwt`` / ``application/vp+jwt``).
    """
    return open_envelope(document, envelope_type)[0]


def open_envelope(
    document: Any, envelope_type: str, compatibility: Compatibility = STRICT
) -> tuple[str, list[str]]:
    """The compact JWS inside an enveloped credential or presentation, and the warnings of
    the deviations ``compatibility`` tolerated to get it (``envelope-media-type``: a draft's
    media type in a credential's envelope; ``envelope-separator``: ``;`` instead of ``,``
    before the token, with no parameter after it).

    :raises InvalidDocument: as :func:`token_from_envelope`, for any form ``compatibility``
        does not allow.
    """
    if not is_enveloped(document, envelope_type):
        raise InvalidDocument(f"not an {envelope_type}")
    context = document.get("@context")
    first = context[0] if isinstance(context, list) and context else context
    if first != _CREDENTIALS_V2:
        raise InvalidDocument(f"an {envelope_type} must have {_CREDENTIALS_V2!r} as its first @context")
    media_type = _MEDIA_TYPES[envelope_type]
    url = document.get("id")
    prefix = f"data:{media_type},"
    if isinstance(url, str) and url.startswith(prefix) and len(url) > len(prefix):
        return url[len(prefix):], []
    warnings: list[str] = []
    if isinstance(url, str) and url.startswith("data:") and not compatibility.strict:
        rest = url[5:]
        cut = min((i for i in (rest.find(","), rest.find(";")) if i >= 0), default=-1)
        given, separator, token = rest[:cut], rest[cut:cut + 1], rest[cut + 1:]
        known = given == media_type or (
            given in _LEGACY_MEDIA_TYPES[envelope_type] and compatibility.envelope_media_type
        )
        separated = separator == "," or (separator == ";" and compatibility.envelope_separator and "," not in token)
        if cut > 0 and known and separated and token:
            if given != media_type:
                warnings.append(warning(
                    "envelope-media-type", f"the envelope's data: URL says {given}, a draft's name for {media_type}"
                ))
            if separator == ";":
                warnings.append(warning(
                    "envelope-separator", "the envelope's data: URL has ';' where ',' must come before the token"
                ))
            return token, warnings
    shown = url[:60] + "..." if isinstance(url, str) and len(url) > 60 else url
    raise InvalidDocument(f"an {envelope_type}'s id must be a data: URL '{prefix}<compact JWS>'; got {shown!r}")


class TokenOpener(Protocol):
    """The mechanism that opens the token an envelope carries (:class:`tradevc.vc.securing.jose.Jose`)."""

    def open_token(
        self, token: str, *, kind: Kind | None, context: Context, result: VerificationResult, enveloped: bool,
    ) -> Secured | None: ...

    def verify(
        self, secured: Secured, *, party: str | None, challenge: str | None, domain: ExpectedDomain | None,
        context: Context, result: VerificationResult,
    ) -> list[str]: ...


_ENVELOPE_OF = {CREDENTIAL: "EnvelopedVerifiableCredential", PRESENTATION: "EnvelopedVerifiablePresentation"}


class Enveloped:
    """``EnvelopedVerifiableCredential`` / ``EnvelopedVerifiablePresentation`` objects: the
    envelope is opened here (its ``data:`` URL checked, with the deviations the compatibility
    allows), the token inside by ``tokens`` (which then also verifies it)."""

    name = "enveloped"

    def __init__(self, tokens: TokenOpener) -> None:
        self.tokens = tokens

    def recognise(self, document: Any) -> bool:
        return is_enveloped(document, "EnvelopedVerifiableCredential") or is_enveloped(
            document, "EnvelopedVerifiablePresentation"
        )

    def open(
        self, document: Any, *, kind: Kind | None, context: Context, result: VerificationResult
    ) -> Secured | None:
        if kind is None:
            kind = PRESENTATION if is_enveloped(document, "EnvelopedVerifiablePresentation") else CREDENTIAL
        try:
            token, tolerated = open_envelope(document, _ENVELOPE_OF[kind], context.compatibility)
        except InvalidDocument as e:
            result.add(CheckResult.from_error("structure", e))
            return None
        result.warnings.extend(tolerated)
        return self.tokens.open_token(token, kind=kind, context=context, result=result, enveloped=True)

    def verify(
        self, secured: Secured, *, party: str | None, challenge: str | None, domain: ExpectedDomain | None,
        context: Context, result: VerificationResult,
    ) -> list[str]:
        """The token's own checks: an opened envelope is a token (``secured.mechanism`` says so)."""
        return self.tokens.verify(
            secured, party=party, challenge=challenge, domain=domain, context=context, result=result
        )
