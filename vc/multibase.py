"""Binary-to-text encodings used by keys, DIDs and proofs.

* base58btc (the Bitcoin alphabet; every leading zero byte is written as a leading ``1``),
* base64url without padding (RFC 4648 section 5, as used by JWK and JOSE),
* multibase strings with the ``z`` (base58btc) and ``u`` (base64url, no padding) prefixes,
* unsigned-varint multicodec prefixes (https://github.com/multiformats/unsigned-varint).

Every decoder is strict: input that is not the one canonical encoding of some bytes raises
:class:`tradevc.vc.errors.InvalidDocument` (code ``MALFORMED_VALUE_ERROR``) with a message saying what
is wrong. No decoder lets a bare ``ValueError``, ``KeyError`` or ``IndexError`` escape.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal, NoReturn

import pybase64

from tradevc.vc.errors import InvalidDocument

__all__ = [
    "BASE58_ALPHABET",
    "base58btc_encode",
    "base58btc_decode",
    "base64url_encode",
    "base64url_decode",
    "multibase_encode",
    "multibase_decode",
    "varint_encode",
    "varint_decode",
    "multicodec_wrap",
    "multicodec_unwrap",
]

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: value for value, char in enumerate(BASE58_ALPHABET)}

_BASE64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
_BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_BASE64URL_VALUES = {c: i for i, c in enumerate(_BASE64URL_ALPHABET)}


def _refuse_character(text: str) -> NoReturn:
    bad = next((c for c in text if not (c.isascii() and (c.isalnum() or c in "-_"))), None)
    raise InvalidDocument(f"invalid base64url character {bad!r} (padding is not allowed either)")

# Multiformats unsigned varints are at most 9 bytes long (63 bits of payload).
_VARINT_MAX_BYTES = 9


def _require_bytes(data: object, what: str) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} takes bytes, not {type(data).__name__}")


def _require_str(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise InvalidDocument(f"{what} must be a string, not {type(text).__name__}")
    return text


# -- base58btc -----------------------------------------------------------------------------------


def base58btc_encode(data: bytes) -> str:
    """Encode ``data`` in base58btc (no multibase prefix).

    Each leading zero byte becomes a leading ``"1"``; ``b""`` encodes as ``""``.

    :raises TypeError: ``data`` is not bytes-like.
    """
    data = _require_bytes(data, "base58btc_encode")
    stripped = data.lstrip(b"\x00")
    zeros = len(data) - len(stripped)
    value = int.from_bytes(stripped, "big")
    digits: list[str] = []
    while value:
        value, remainder = divmod(value, 58)
        digits.append(BASE58_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def _digits_value(digits: list[int], start: int, end: int) -> int:
    """The integer the base-58 digits ``digits[start:end]`` spell.

    Divide and conquer, so that untrusted long inputs (a proofValue of megabytes) cost
    sub-quadratic time; the digit-by-digit loop would be quadratic.
    """
    if end - start <= 64:
        value = 0
        index = start
        while index + 5 <= end:  # five digits at a time: small-int arithmetic, one big step
            d0, d1, d2, d3, d4 = digits[index:index + 5]
            value = value * 656_356_768 + ((((d0 * 58 + d1) * 58 + d2) * 58 + d3) * 58 + d4)
            index += 5
        for digit in digits[index:end]:
            value = value * 58 + digit
        return value
    middle = (start + end) // 2
    scale: int = 58 ** (end - middle)
    return _digits_value(digits, start, middle) * scale + _digits_value(digits, middle, end)


def base58btc_decode(text: str) -> bytes:
    """Decode a base58btc string (no multibase prefix); ``""`` decodes to ``b""``.

    Each leading ``"1"`` becomes a leading zero byte.

    :raises InvalidDocument: ``text`` is not a string or contains a character outside the
        Bitcoin base58 alphabet (which leaves out ``0``, ``O``, ``I`` and ``l``).
    """
    text = _require_str(text, "a base58btc value")
    try:
        digits = [_BASE58_INDEX[char] for char in text]
    except KeyError:
        digits = []
        for position, char in enumerate(text):
            digit = _BASE58_INDEX.get(char)
            if digit is None:
                raise InvalidDocument(
                    f"invalid base58btc character {char!r} at position {position} "
                    "(the alphabet has no 0, O, I or l)"
                ) from None
            digits.append(digit)
    value = _digits_value(digits, 0, len(digits))
    stripped = text.lstrip("1")
    zeros = len(text) - len(stripped)
    body = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return b"\x00" * zeros + body


# -- base64url (no padding) ----------------------------------------------------------------------


def base64url_encode(data: bytes) -> str:
    """Encode ``data`` as base64url without ``=`` padding (RFC 4648 section 5 / RFC 7515 section 2).

    :raises TypeError: ``data`` is not bytes-like.
    """
    data = _require_bytes(data, "base64url_encode")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def base64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, strictly.

    Refused: padding, whitespace, characters outside ``A-Z a-z 0-9 - _``, a length that is
    1 modulo 4 (no byte string encodes that way), and non-zero unused trailing bits (so each
    byte string has exactly one accepted encoding).

    :raises InvalidDocument: ``text`` is not a string or not canonical unpadded base64url.
    """
    text = _require_str(text, "a base64url value")
    remainder = len(text) % 4
    if remainder == 1:
        if not _BASE64URL_RE.fullmatch(text):
            _refuse_character(text)
        raise InvalidDocument(f"a base64url value cannot have length {len(text)} (1 modulo 4)")
    # The alphabet check and the decoding run in C (pybase64's SIMD decoder, about six times
    # faster than binascii on a credential-sized JWS payload): '+', '/' and '=' are not
    # base64url, and validating decoding with the URL-safe alphabet refuses anything else.
    if "+" in text or "/" in text or "=" in text or not text.isascii():
        _refuse_character(text)
    try:
        data = pybase64.b64decode(text + "=" * (-remainder % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        _refuse_character(text)
    # Canonical: the bits of the last character that encode no byte must be zero (2 of them
    # when the length is 3 modulo 4, 4 when it is 2).
    if remainder and _BASE64URL_VALUES[text[-1]] & (0b11 if remainder == 3 else 0b1111):
        raise InvalidDocument("non-canonical base64url value: the unused trailing bits are not zero")
    return data


# -- multibase -----------------------------------------------------------------------------------

Multibase = Literal["base58btc", "base64url"]


def multibase_encode(data: bytes, base: Multibase = "base58btc") -> str:
    """Encode ``data`` as a multibase string: ``"z"`` + base58btc, or ``"u"`` + base64url (no padding).

    :raises TypeError: ``data`` is not bytes-like.
    :raises InvalidDocument: ``base`` is neither ``"base58btc"`` nor ``"base64url"``.
    """
    if base == "base58btc":
        return "z" + base58btc_encode(data)
    if base == "base64url":
        return "u" + base64url_encode(data)
    raise InvalidDocument(f"unsupported multibase encoding {base!r} (supported: base58btc, base64url)")


def multibase_decode(text: str) -> bytes:
    """Decode a ``z`` (base58btc) or ``u`` (base64url, no padding) multibase string.

    :raises InvalidDocument: ``text`` is not a string, is empty, has another multibase prefix,
        or its body is not valid in the encoding its prefix names.
    """
    text = _require_str(text, "a multibase value")
    if not text:
        raise InvalidDocument("empty multibase value (it needs at least the encoding prefix)")
    prefix, body = text[0], text[1:]
    if prefix == "z":
        return base58btc_decode(body)
    if prefix == "u":
        return base64url_decode(body)
    raise InvalidDocument(
        f"unsupported multibase prefix {prefix!r} (supported: 'z' base58btc, 'u' base64url without padding)"
    )


# -- unsigned varint and multicodec --------------------------------------------------------------


def varint_encode(value: int) -> bytes:
    """Encode a non-negative integer as a multiformats unsigned varint (LEB128, at most 9 bytes).

    :raises InvalidDocument: ``value`` is not an int in ``[0, 2**63)``.
    """
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 63:
        raise InvalidDocument(f"an unsigned varint must be an integer in [0, 2**63), not {value!r}")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint_decode(data: bytes, offset: int = 0) -> tuple[int, int]:
    """Decode the unsigned varint starting at ``data[offset]``.

    Returns ``(value, next_offset)``, ``next_offset`` being the index just past the varint.

    :raises InvalidDocument: the varint is truncated, longer than 9 bytes, or not minimally
        encoded (a final ``0x00`` byte after a continuation byte).
    :raises TypeError: ``data`` is not bytes-like.
    """
    data = _require_bytes(data, "varint_decode")
    value = 0
    for i in range(_VARINT_MAX_BYTES):
        index = offset + i
        if index >= len(data):
            raise InvalidDocument("truncated unsigned varint (multicodec prefix)")
        byte = data[index]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise InvalidDocument("unsigned varint is not minimally encoded")
            return value, index + 1
    raise InvalidDocument(f"unsigned varint longer than {_VARINT_MAX_BYTES} bytes")


def multicodec_wrap(code: int, payload: bytes) -> bytes:
    """Prefix ``payload`` with the unsigned varint of the multicodec ``code``.

    :raises InvalidDocument: ``code`` is not a valid varint value.
    :raises TypeError: ``payload`` is not bytes-like.
    """
    return varint_encode(code) + _require_bytes(payload, "multicodec_wrap")


def multicodec_unwrap(data: bytes) -> tuple[int, bytes]:
    """Split ``data`` into its multicodec code and the bytes after it.

    :raises InvalidDocument: the varint prefix is missing or malformed.
    :raises TypeError: ``data`` is not bytes-like.
    """
    data = _require_bytes(data, "multicodec_unwrap")
    code, end = varint_decode(data)
    return code, data[end:]
