"""Integrity of related resources: ``digestSRI`` and ``digestMultibase``.

VC Data Model 2.0 section 5.3 lets an issuer pin the exact bytes of a resource it links to
(a JSON-LD context, a schema, an image) with ``relatedResource`` entries, and any object with
an ``id`` (such as a ``credentialSchema`` entry) may carry the same properties:

* ``digestSRI``: Subresource Integrity hash expressions, ``sha256-``, ``sha384-`` or
  ``sha512-`` followed by the digest in base64 (several may be separated by white space);
* ``digestMultibase``: a multibase string (``u`` base64url without padding, or ``z``
  base58btc) of a multihash (sha2-256 ``0x12``, sha2-384 ``0x20``, sha2-512 ``0x13``, and
  the sha3 codes ``0x16``, ``0x15``, ``0x14``, each followed by the digest's length) or, as
  also found in the wild, of the raw digest bytes alone (32, 48 or 64 bytes, read as SHA-2).
  The two forms never collide: a multihash is always two bytes longer than its digest.

Either property may also be a list of such strings. :func:`parse_digests` reads them and
raises :class:`~tradevc.vc.errors.InvalidDocument` for anything else; :func:`check_digests`
compares them with bytes. The ``related_resource`` check built on them is
:func:`tradevc.vc.checks.integrity.check_related_resources`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tradevc.vc.errors import InvalidDocument, VcError
from tradevc.vc.multibase import base58btc_encode, base64url_decode, base64url_encode, multibase_decode

__all__ = [
    "Digest",
    "ResourceIntegrityError",
    "parse_digests",
    "digest_sri",
    "digest_multibase",
    "check_digests",
]

# hashlib name -> (SRI prefix or None, multihash code, digest length)
_ALGORITHMS: dict[str, tuple[str | None, int, int]] = {
    "sha256": ("sha256", 0x12, 32),
    "sha384": ("sha384", 0x20, 48),
    "sha512": ("sha512", 0x13, 64),
    "sha3_256": (None, 0x16, 32),
    "sha3_384": (None, 0x15, 48),
    "sha3_512": (None, 0x14, 64),
}
_BY_SRI = {sri: name for name, (sri, _, _) in _ALGORITHMS.items() if sri}
_BY_MULTIHASH = {code: name for name, (_, code, _) in _ALGORITHMS.items()}
_RAW_LENGTHS = {32: "sha256", 48: "sha384", 64: "sha512"}
_NAMES = {
    "sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512",
    "sha3_256": "SHA3-256", "sha3_384": "SHA3-384", "sha3_512": "SHA3-512",
}

# SRI hash-with-options (https://www.w3.org/TR/SRI/#the-integrity-attribute): the base64 value
# is CSP's base64-value (either alphabet, at most two '=').
_SRI_EXPRESSION = re.compile(r"([A-Za-z0-9]+)-([A-Za-z0-9+/_-]+={0,2})(\?[\x21-\x7e]*)?")


class ResourceIntegrityError(VcError):
    """A related resource's bytes do not have the digest the credential gives for it."""

    code = "RESOURCE_INTEGRITY_ERROR"


@dataclass(frozen=True, slots=True)
class Digest:
    """One digest of a resource: the hashlib ``algorithm`` and the expected ``value``, as
    written in ``prop`` (``digestSRI`` or ``digestMultibase``)."""

    prop: str
    algorithm: str
    value: bytes
    written: str

    @property
    def name(self) -> str:
        """The algorithm as people write it: ``SHA-384``."""
        return _NAMES[self.algorithm]

    def matches(self, data: bytes) -> bool:
        """True if ``data`` has this digest (compared in constant time)."""
        return hmac.compare_digest(hashlib.new(self.algorithm, data).digest(), self.value)


def _strings(value: Any, prop: str, where: str) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise InvalidDocument(f"{where}.{prop} must be a non-empty string or a list of them; got {value!r}")
    return values


def _decode_base64(text: str) -> bytes | None:
    """CSP base64-value: the standard or the URL-safe alphabet, padding optional."""
    body = text.rstrip("=").replace("+", "-").replace("/", "_")
    if len(body) % 4 == 1:
        return None
    try:
        return base64url_decode(body)
    except InvalidDocument:
        return None


def _parse_sri(text: str, where: str) -> list[Digest]:
    digests = []
    for expression in text.split():
        match = _SRI_EXPRESSION.fullmatch(expression)
        algorithm = _BY_SRI.get(match.group(1).lower()) if match else None
        if match is None or algorithm is None:
            raise InvalidDocument(
                f"{where}.digestSRI: {expression!r} is not a Subresource Integrity hash expression "
                "(sha256-, sha384- or sha512- followed by the digest in base64)"
            )
        value = _decode_base64(match.group(2))
        if value is None or len(value) != _ALGORITHMS[algorithm][2]:
            raise InvalidDocument(
                f"{where}.digestSRI: {expression!r} does not hold a {_NAMES[algorithm]} digest "
                f"({_ALGORITHMS[algorithm][2]} bytes in base64)"
            )
        digests.append(Digest("digestSRI", algorithm, value, expression))
    return digests


def _parse_multibase(text: str, where: str) -> Digest:
    try:
        data = multibase_decode(text)
    except InvalidDocument as e:
        raise InvalidDocument(f"{where}.digestMultibase: {e.message}") from None
    # A multihash: one-byte varint code (every supported code is below 0x80), one-byte length.
    if len(data) >= 2 and data[0] in _BY_MULTIHASH:
        algorithm = _BY_MULTIHASH[data[0]]
        length = _ALGORITHMS[algorithm][2]
        if data[1] == length and len(data) == length + 2:
            return Digest("digestMultibase", algorithm, data[2:], text)
    if len(data) in _RAW_LENGTHS:  # the raw digest bytes, without the multihash header
        return Digest("digestMultibase", _RAW_LENGTHS[len(data)], data, text)
    raise InvalidDocument(
        f"{where}.digestMultibase: {text!r} is neither a SHA-2/SHA-3 multihash nor a raw SHA-256, "
        f"SHA-384 or SHA-512 digest ({len(data)} bytes)"
    )


def parse_digests(entry: Mapping[str, Any], where: str) -> list[Digest]:
    """Every digest of ``entry`` (its ``digestSRI`` and ``digestMultibase``), in order; empty if
    it has neither. ``where`` names the entry in error messages (``relatedResource[0]``).

    :raises InvalidDocument: a digest is not a string (or list of strings) in one of the forms
        described in the module docstring.
    """
    digests: list[Digest] = []
    if "digestSRI" in entry:
        for text in _strings(entry["digestSRI"], "digestSRI", where):
            digests.extend(_parse_sri(text, where))
    if "digestMultibase" in entry:
        for text in _strings(entry["digestMultibase"], "digestMultibase", where):
            digests.append(_parse_multibase(text, where))
    return digests


def digest_sri(data: bytes, algorithm: str = "sha384") -> str:
    """The ``digestSRI`` of ``data``: ``sha384-`` and the digest in base64.

    :raises ValueError: ``algorithm`` is not sha256, sha384 or sha512.
    """
    if algorithm not in _BY_SRI:
        raise ValueError(f"digestSRI algorithms are sha256, sha384 and sha512, not {algorithm!r}")
    import base64

    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode("ascii")


def digest_multibase(
    data: bytes,
    algorithm: str = "sha256",
    *,
    form: Literal["multihash", "raw"] = "multihash",
    base: Literal["base64url", "base58btc"] = "base64url",
) -> str:
    """The ``digestMultibase`` of ``data``: a multihash (or with ``form="raw"`` the digest
    alone) in base64url (``u``, as VC Data Model 2.0 asks) or base58btc (``z``).

    :raises ValueError: an unknown ``algorithm`` (hashlib names: sha256, sha384, sha512,
        sha3_256, sha3_384, sha3_512), ``form`` or ``base``; a raw SHA-3 digest (its length
        would read as SHA-2).
    """
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    digest = hashlib.new(algorithm, data).digest()
    if form == "multihash":
        _, code, length = _ALGORITHMS[algorithm]
        payload = bytes([code, length]) + digest
    elif form == "raw" and algorithm in _BY_SRI:
        payload = digest
    else:
        raise ValueError(f"form must be 'multihash' or 'raw' (raw only for SHA-2), not {form!r} with {algorithm}")
    if base == "base64url":
        return "u" + base64url_encode(payload)
    if base == "base58btc":
        return "z" + base58btc_encode(payload)
    raise ValueError(f"base must be 'base64url' or 'base58btc', not {base!r}")


def check_digests(digests: Iterable[Digest], data: bytes, what: str) -> None:
    """Compare every digest with ``data`` (all must match: an issuer that lists several
    digests vouches for each).

    :raises ResourceIntegrityError: naming the first digest that does not match.
    """
    for digest in digests:
        if not digest.matches(data):
            actual = (
                digest_sri(data, digest.algorithm) if digest.algorithm in _BY_SRI
                else digest_multibase(data, digest.algorithm)
            )
            raise ResourceIntegrityError(
                f"{digest.prop} {digest.written!r} does not match {what}: its {digest.name} is {actual}"
            )
