"""The exception tree of the library.

Every error carries a ``code``: the W3C error code where a specification names one
(``PROOF_VERIFICATION_ERROR``, ``MALFORMED_VALUE_ERROR``, ``DATA_LOSS_DETECTION_ERROR``...),
otherwise a code of ours in the same style. Verification never lets these escape: it turns
them into failed checks of a report (the pipeline of :mod:`tradevc.vc.verification.pipeline`
fills a :class:`~tradevc.vc.report.VerificationResult`). Issuing raises them.
"""

from __future__ import annotations

from typing import Any


class VcError(Exception):
    """Base of every error the library raises on purpose."""

    code: str = "VC_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def diagnostics(self) -> str:
        """A human-readable explanation, including the causes chained with ``raise ... from``."""
        lines = [f"{self.code}: {self.message}"]
        cause = self.__cause__
        while cause is not None:
            lines.append(f"  caused by {type(cause).__name__}: {cause}")
            cause = cause.__cause__
        return "\n".join(lines)


class InvalidDocument(VcError):
    """The input is malformed: not JSON, wrong shape, or breaks a rule of the data model."""

    code = "MALFORMED_VALUE_ERROR"


class DataLossError(InvalidDocument):
    """JSON-LD processing would drop or mangle a term, so part of the document would go unsigned."""

    code = "DATA_LOSS_DETECTION_ERROR"


class ProtectedTermRedefinition(InvalidDocument):
    """A context redefines (or nullifies) a term that an earlier context marked ``@protected``,
    such as ``credentialSubject`` or ``VerifiableCredential`` of the credentials contexts."""

    code = "PROTECTED_TERM_REDEFINITION"


class ParsingError(InvalidDocument):
    """The input is not I-JSON (RFC 7493): not UTF-8 or not JSON, a member name twice in one
    object, a non-finite number, an integer beyond 2**53-1 in magnitude, a lone surrogate
    (see :mod:`tradevc.vc.jsontext`); or a compact JWS with a character it cannot have."""

    code = "PARSING_ERROR"


class NotUtf8Error(ParsingError):
    """A text file is not UTF-8 (:func:`tradevc.vc.jsontext.decode_text`): Latin-1, UTF-16...
    ``offset`` is the byte at which it stops being UTF-8, counted from the file's start."""

    def __init__(self, message: str, *, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class ResourceLimitError(InvalidDocument):
    """The input is over a limit of :class:`tradevc.vc.jsontext.Limits` (size, nesting, array
    entries, proofs, proofValue length, ``@context`` entries, credentials in a presentation):
    refused before any expensive step."""

    code = "RESOURCE_LIMIT_ERROR"


class CanonicalizationError(VcError):
    """RDF canonicalization failed: bad N-Quads, or the work limit was exceeded (poison graph)."""

    code = "CANONICALIZATION_ERROR"


class UnsupportedError(VcError):
    """An unknown cryptosuite, DID method, status type, key type or algorithm."""

    code = "UNSUPPORTED_ERROR"


class ResolutionError(VcError):
    """A DID, verification method or document could not be resolved or loaded."""

    code = "RESOLUTION_ERROR"


class ContextNotPinned(ResolutionError):
    """A JSON-LD context that is not among the pinned contexts; it is never fetched."""

    code = "CONTEXT_NOT_PINNED"


class ContextIndexError(ResolutionError):
    """A folder of user-pinned contexts cannot be used: its index is missing or malformed, a
    file's SHA-256 does not match, or it would replace a bundled context with other bytes."""

    code = "CONTEXT_INDEX_ERROR"


class KeyMaterialError(VcError):
    """Malformed, weak or mismatched key material (wrong type, missing secret, small-order point...)."""

    code = "INVALID_KEY_ERROR"


class SigningError(VcError):
    """A document could not be signed."""

    code = "SIGNING_ERROR"


class VerificationFailed(VcError):
    """Raised only by ``VerificationResult.raise_for_failure()``; carries the result."""

    code = "VERIFICATION_FAILED"

    def __init__(self, result: Any) -> None:
        super().__init__(_summarize(result))
        self.result = result


def _summarize(result: Any) -> str:
    failed = [c for c in getattr(result, "checks", []) if getattr(c, "outcome", None) != "passed"]
    if not failed:
        return "verification failed"
    return "; ".join(f"{c.name}: {c.code or c.outcome}: {c.message}" for c in failed)


class ProofVerificationError(VcError):
    """A proof is present and well-formed, but does not verify (bad signature, wrong key type,
    wrong cryptosuite or proof type)."""

    code = "PROOF_VERIFICATION_ERROR"
