"""The bitstring of W3C Bitstring Status List v1.0 (https://www.w3.org/TR/vc-bitstring-status-list/).

A status list is a long string of bits, split into entries of ``statusSize`` bits each (1 by
default); a credential's ``credentialStatus.statusListIndex`` names its entry. The list is
published as ``encodedList``: the bitstring, GZIP-compressed (RFC 1952), then multibase
base64url without padding (a ``"u"`` followed by RFC 4648 section 5 characters).

The bit order trap
    The spec puts index 0 at the *left-most* bit of the bitstring: the most significant bit of
    the first byte. So entry 0 set in a 1-bit list gives a first byte of ``0x80``, not ``0x01``
    (which is what "bit i of the integer" or a little-endian bitset library would produce, and
    what lists produced that way silently get wrong: they revoke the wrong credentials). Entry
    ``i`` of a list with status size ``s`` occupies bits ``[i*s, (i+1)*s)`` counted from that
    left-most bit, and its value is read most significant bit first: with ``s == 2``, entry 0
    having value 1 gives a first byte of ``0x40`` (bits ``01`` then six zeros).

The decompression-bomb cap
    ``encodedList`` comes from a document fetched from someone else. GZIP compresses a run of
    zeros about a thousandfold, so 64 KB of ``encodedList`` can expand to 64 MiB, and a few
    megabytes to gigabytes. :meth:`BitstringStatusList.decode` therefore never decompresses
    more than :data:`MAX_LENGTH` bits (8 MiB): it asks zlib for at most one byte more than
    that and refuses the list (``STATUS_LIST_LENGTH_ERROR``) if zlib has more to give. The same
    ceiling applies to lists built locally, so everything we encode we can decode.

Lengths
    The spec's minimum is 131,072 entries (:data:`MIN_LENGTH`; 16 KiB of bits when the status
    size is 1): the validate algorithm raises ``STATUS_LIST_LENGTH_ERROR`` when the bitstring's
    length divided by ``statusSize`` is below it. A decoded list has ``bits // status_size``
    entries; any bits left over after the last whole entry are kept (so re-encoding gives the
    same bytes) but belong to no entry.

Status size
    The spec only says ``statusSize`` is an integer greater than zero (default 1). Each entry
    with status size ``s`` must come with ``2**s`` status messages, so large sizes make no
    sense; this module accepts 1 to :data:`MAX_STATUS_SIZE` (8: every value fits in a byte,
    256 messages). A larger size in a document is refused as ``UNSUPPORTED_ERROR`` (raised as
    :class:`~tradevc.vc.errors.InvalidDocument`, so callers catching document errors see it).

Errors: malformed input raises :class:`tradevc.vc.errors.InvalidDocument` with the W3C codes
``MALFORMED_VALUE_ERROR``, ``STATUS_LIST_LENGTH_ERROR`` or ``RANGE_ERROR``; bad arguments from
the calling program (a constructor length, a value to store) raise ``ValueError``/``TypeError``.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from tradevc.vc.errors import InvalidDocument
from tradevc.vc.multibase import base64url_decode, base64url_encode

__all__ = [
    "MIN_LENGTH",
    "MAX_LENGTH",
    "MAX_STATUS_SIZE",
    "BitstringStatusList",
    "status_entry_index",
    "status_entry_size",
    "HistoryVersion",
    "history_index_url",
    "history_version_url",
    "parse_history_index",
    "version_covering",
]

MIN_LENGTH = 131_072
"""The spec's minimum number of entries (``minimumNumberOfEntries``): 16 KiB of 1-bit entries."""

MAX_LENGTH = 2**26
"""Our ceiling on the bits of a list (entries times status size): 8 MiB, decompressed."""

MAX_STATUS_SIZE = 8
"""The largest status size (bits per entry) accepted; the spec sets no upper bound."""

_MAX_BYTES = MAX_LENGTH // 8

# ASCII digits only (str.isdigit() and int() also take other scripts' digits), no sign, no
# spaces, and no leading zero except for "0" itself: one spelling per index.
_INDEX_RE = re.compile(r"0|[1-9][0-9]*")
# No list this module accepts has more than MAX_LENGTH entries (8 decimal digits); longer
# digit strings are well-formed but can only be out of range, and are not converted at all.
_MAX_INDEX_DIGITS = 20


def _check_status_size(status_size: object) -> int:
    """Validate a status size passed by the program: ``ValueError``/``TypeError`` if bad."""
    if not isinstance(status_size, int) or isinstance(status_size, bool):
        raise TypeError(f"status_size must be an int, not {type(status_size).__name__}")
    if not 1 <= status_size <= MAX_STATUS_SIZE:
        raise ValueError(f"status_size must be between 1 and {MAX_STATUS_SIZE}, not {status_size}")
    return status_size


def _check_document_status_size(status_size: object) -> int:
    """Validate a status size taken from a document: ``InvalidDocument`` if bad."""
    if not isinstance(status_size, int) or isinstance(status_size, bool) or status_size < 1:
        raise InvalidDocument(f"statusSize must be an integer greater than zero, not {status_size!r}")
    if status_size > MAX_STATUS_SIZE:
        raise InvalidDocument(
            f"statusSize {status_size} is not supported (at most {MAX_STATUS_SIZE} bits per entry)",
            code="UNSUPPORTED_ERROR",
        )
    return status_size


class BitstringStatusList:
    """A Bitstring Status List: ``length`` entries of ``status_size`` bits, all 0 when created.

    The bits live in a ``bytearray`` in the spec's order (entry 0 at the most significant bit
    of the first byte; see the module docstring). Instances are mutable, compare equal when
    their length, status size and bytes are equal, and are not hashable.
    """

    __slots__ = ("length", "status_size", "_bits")
    __hash__ = None  # type: ignore[assignment]  # mutable

    length: int
    status_size: int

    def __init__(self, length: int = MIN_LENGTH, *, status_size: int = 1) -> None:
        """Create a list of ``length`` entries, every one 0.

        :raises TypeError: ``length`` or ``status_size`` is not an int.
        :raises ValueError: ``length < MIN_LENGTH``; ``status_size`` outside
            ``1..MAX_STATUS_SIZE``; or ``length * status_size`` bits above ``MAX_LENGTH``.
        """
        status_size = _check_status_size(status_size)
        if not isinstance(length, int) or isinstance(length, bool):
            raise TypeError(f"length must be an int, not {type(length).__name__}")
        if length < MIN_LENGTH:
            raise ValueError(f"a status list needs at least {MIN_LENGTH} entries, not {length}")
        if length * status_size > MAX_LENGTH:
            raise ValueError(
                f"{length} entries of {status_size} bits exceed the ceiling of {MAX_LENGTH} bits"
            )
        self.length = length
        self.status_size = status_size
        self._bits = bytearray((length * status_size + 7) // 8)

    # -- entries ---------------------------------------------------------------------------------

    def _check_index(self, index: int) -> None:
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"a status list index must be an int, not {type(index).__name__}")
        if not 0 <= index < self.length:
            raise InvalidDocument(
                f"status list index {index} is outside the list of {self.length} entries "
                f"(valid: 0 to {self.length - 1})",
                code="RANGE_ERROR",
            )

    def get(self, index: int) -> int:
        """The value (``0 .. 2**status_size - 1``) of entry ``index``.

        :raises InvalidDocument: code ``RANGE_ERROR`` if ``index`` is not in ``[0, length)``.
        :raises TypeError: ``index`` is not an int.
        """
        self._check_index(index)
        size = self.status_size
        if size == 1:
            return (self._bits[index >> 3] >> (7 - (index & 7))) & 1
        start = index * size
        first, offset = start >> 3, start & 7
        # An entry of at most 8 bits spans at most two bytes: read a 16-bit window.
        window = self._bits[first] << 8
        if offset + size > 8:
            window |= self._bits[first + 1]
        return (window >> (16 - offset - size)) & ((1 << size) - 1)

    def set(self, index: int, value: int) -> None:
        """Store ``value`` in entry ``index``; no other entry changes.

        :raises InvalidDocument: code ``RANGE_ERROR`` if ``index`` is not in ``[0, length)``.
        :raises ValueError: ``value`` is not in ``0 .. 2**status_size - 1``.
        :raises TypeError: ``index`` or ``value`` is not an int.
        """
        self._check_index(index)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"a status value must be an int, not {type(value).__name__}")
        size = self.status_size
        if not 0 <= value < 1 << size:
            raise ValueError(f"a {size}-bit status value must be between 0 and {(1 << size) - 1}, not {value}")
        start = index * size
        first, offset = start >> 3, start & 7
        shift = 16 - offset - size
        mask = ((1 << size) - 1) << shift
        bits = self._bits
        spans = offset + size > 8
        window = bits[first] << 8 | (bits[first + 1] if spans else 0)
        window = (window & ~mask) | (value << shift)
        bits[first] = window >> 8
        if spans:
            bits[first + 1] = window & 0xFF

    def count_set(self) -> int:
        """The number of entries whose value is not 0."""
        size = self.status_size
        entries_bits = self.length * size
        value = int.from_bytes(self._bits, "big") >> (len(self._bits) * 8 - entries_bits)
        if size == 1:
            return value.bit_count()
        # OR each entry's bits down into its lowest bit, keep only those lowest bits, count.
        folded = value
        for shift in range(1, size):
            folded |= value >> shift
        lowest_bits = ((1 << entries_bits) - 1) // ((1 << size) - 1)  # 1 every `size` bits
        return (folded & lowest_bits).bit_count()

    def to_bytes(self) -> bytes:
        """The uncompressed bitstring (a copy), in the spec's bit order."""
        return bytes(self._bits)

    # -- encodedList -----------------------------------------------------------------------------

    def encode(self) -> str:
        """The ``encodedList`` value: ``"u"`` + base64url (no padding) of the GZIP-compressed bits.

        Deterministic: the GZIP header's modification time is 0. Compression level 6 (zlib's
        default): level 9 is ten times slower on a realistically sparse list for ~4% less.
        """
        return "u" + base64url_encode(gzip.compress(bytes(self._bits), compresslevel=6, mtime=0))

    @classmethod
    def decode(cls, encoded: str, *, status_size: int = 1) -> BitstringStatusList:
        """Parse an ``encodedList`` value; the inverse of :meth:`encode`.

        The number of entries is derived from the decompressed bytes: ``bits // status_size``.
        At most :data:`MAX_LENGTH` bits are ever decompressed (see the module docstring).

        :raises InvalidDocument: code ``MALFORMED_VALUE_ERROR`` if ``encoded`` is not a string,
            does not start with the multibase prefix ``"u"``, is not canonical unpadded
            base64url, is not GZIP data (RFC 1952), is truncated or fails its CRC, or has
            anything after the (single) GZIP member; code ``STATUS_LIST_LENGTH_ERROR`` if it
            decompresses to more than ``MAX_LENGTH`` bits or to fewer than ``MIN_LENGTH``
            entries; code ``MALFORMED_VALUE_ERROR`` if ``status_size`` is not a positive int,
            ``UNSUPPORTED_ERROR`` if it is above ``MAX_STATUS_SIZE``.
        """
        status_size = _check_document_status_size(status_size)
        if not isinstance(encoded, str):
            raise InvalidDocument(f"encodedList must be a string, not {type(encoded).__name__}")
        if not encoded.startswith("u"):
            shown = encoded[:1] or "nothing"
            raise InvalidDocument(
                f"encodedList must be multibase base64url (prefix 'u'), not start with {shown!r}"
            )
        compressed = base64url_decode(encoded[1:])
        bits = _gunzip_capped(compressed)
        entries = len(bits) * 8 // status_size
        if entries < MIN_LENGTH:
            raise InvalidDocument(
                f"the status list has {entries} entries of {status_size} bits ({len(bits)} bytes), "
                f"fewer than the minimum of {MIN_LENGTH}",
                code="STATUS_LIST_LENGTH_ERROR",
            )
        status_list = cls.__new__(cls)
        status_list.length = entries
        status_list.status_size = status_size
        status_list._bits = bytearray(bits)
        return status_list

    # -- comparison ------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BitstringStatusList):
            return NotImplemented
        return (
            self.length == other.length
            and self.status_size == other.status_size
            and self._bits == other._bits
        )

    def __repr__(self) -> str:
        return (
            f"BitstringStatusList(length={self.length}, status_size={self.status_size}, "
            f"set={self.count_set()})"
        )


def _gunzip_capped(data: bytes) -> bytes:
    """Decompress one GZIP member, refusing to produce more than ``_MAX_BYTES`` bytes."""
    decompressor = zlib.decompressobj(wbits=31)  # 16 + 15: GZIP wrapper only, 32 KiB window
    try:
        out = decompressor.decompress(data, _MAX_BYTES + 1)
    except zlib.error as e:
        raise InvalidDocument(f"encodedList is not valid GZIP data: {e}") from e
    if len(out) > _MAX_BYTES:
        raise InvalidDocument(
            f"encodedList decompresses to more than {MAX_LENGTH} bits ({_MAX_BYTES} bytes); refused",
            code="STATUS_LIST_LENGTH_ERROR",
        )
    # Output below the cap means zlib was not stopped early: all of `data` was consumed.
    if not decompressor.eof:
        raise InvalidDocument("encodedList is truncated GZIP data (no complete member and trailer)")
    if decompressor.unused_data:
        raise InvalidDocument(
            f"encodedList has {len(decompressor.unused_data)} bytes after its GZIP member"
        )
    return out


# -- credentialStatus entries --------------------------------------------------------------------


def status_entry_index(entry: Mapping[str, Any]) -> int:
    """The ``statusListIndex`` of a ``BitstringStatusListEntry``, as an int.

    The spec: "an arbitrary size integer greater than or equal to 0, expressed as a string in
    base 10". Accepted: a JSON string of ASCII digits, ``"0"`` or without a leading zero
    (``"12"``). Refused: numbers (``12``), signs, spaces, decimals, exponents, non-ASCII digits,
    and leading zeros (``"012"``): one spelling per index, and no reader can take it for octal.
    Strings of more than 20 digits are well-formed but name no entry of any list this module
    accepts; they are refused with ``RANGE_ERROR`` rather than converted.

    :raises InvalidDocument: code ``MALFORMED_VALUE_ERROR`` if ``entry`` is not a mapping or its
        ``statusListIndex`` is missing or not such a string; code ``RANGE_ERROR`` if it has
        more than 20 digits.
    """
    if not isinstance(entry, Mapping):
        raise InvalidDocument(f"a status entry must be an object, not {type(entry).__name__}")
    if "statusListIndex" not in entry:
        raise InvalidDocument("the status entry has no statusListIndex")
    raw = entry["statusListIndex"]
    if not isinstance(raw, str):
        raise InvalidDocument(
            f"statusListIndex must be a string of base-10 digits, not a {type(raw).__name__} ({raw!r})"
        )
    if not _INDEX_RE.fullmatch(raw):
        raise InvalidDocument(
            f"statusListIndex {raw[:40]!r} is not a base-10 integer >= 0 "
            "(ASCII digits only, no sign, spaces or leading zeros)"
        )
    if len(raw) > _MAX_INDEX_DIGITS:
        raise InvalidDocument(
            f"statusListIndex has {len(raw)} digits; no status list has that many entries",
            code="RANGE_ERROR",
        )
    return int(raw)


def status_entry_size(entry: Mapping[str, Any]) -> int:
    """The ``statusSize`` of a ``BitstringStatusListEntry``: 1 if absent.

    :raises InvalidDocument: code ``MALFORMED_VALUE_ERROR`` if ``entry`` is not a mapping or
        ``statusSize`` is present but not an integer greater than zero (JSON ``true`` and
        ``2.0`` included); ``UNSUPPORTED_ERROR`` if it is above ``MAX_STATUS_SIZE``.
    """
    if not isinstance(entry, Mapping):
        raise InvalidDocument(f"a status entry must be an object, not {type(entry).__name__}")
    return _check_document_status_size(entry.get("statusSize", 1))


# -- status history: the versions of a list an issuer published --------------------------------------
#
# Bitstring Status List v1.0 lets a server answer ``<list URL>?timestamp=<dateTimeStamp>`` with
# the list as it was at that moment. A static web host (nginx, Caddy, an object store: see
# PUBLISHING.md) cannot choose a file by a query parameter, so an issuer also publishes every
# version of a list as a plain file beside it, with an index:
#
#   <list URL>.history/index.json   which version was in effect when (not signed: a hint)
#   <list URL>.history/<N>          version N: a status list credential whose id is the list
#                                   URL, signed, valid from when it took effect until the next
#                                   version did
#
# The index is only a hint: a verifier trusts a version for a moment only once its proof
# verifies, its id, issuer and purpose are the list's, and its own signed validity period
# covers the moment.

HISTORY_INDEX_TYPE = "StatusListHistory"
"""The ``type`` of a history index document."""

MAX_HISTORY_VERSIONS = 100_000
"""The most versions a history index may list (about one a day for 270 years)."""


@dataclass(frozen=True)
class HistoryVersion:
    """One version of a status list as its history index lists it: in effect from
    ``valid_from`` (inclusive) until ``valid_until`` (exclusive)."""

    version: int
    valid_from: datetime
    valid_until: datetime

    def covers(self, moment: datetime) -> bool:
        return self.valid_from <= moment < self.valid_until


def _history_base(list_url: str) -> str | None:
    try:
        parts = urlsplit(list_url)
    except ValueError:
        return None
    if parts.scheme != "https" or parts.query or parts.fragment or not parts.path or parts.path.endswith("/"):
        return None
    return f"{list_url}.history/"


def history_index_url(list_url: str) -> str | None:
    """The URL of the history index of the list at ``list_url`` (``<list URL>.history/index.json``),
    or None for a list URL that can have none (not https, with a query or fragment, or a path
    ending in ``/``)."""
    base = _history_base(list_url)
    return None if base is None else base + "index.json"


def history_version_url(list_url: str, version: int) -> str:
    """The URL of version ``version`` of the list at ``list_url``.

    :raises ValueError: the list URL can have no history (see :func:`history_index_url`)."""
    base = _history_base(list_url)
    if base is None:
        raise ValueError(f"status list URL {list_url!r} can have no history files")
    return f"{base}{int(version)}"


def _instant(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidDocument(f"{what} must be a dateTimeStamp string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise InvalidDocument(f"{what} is not a dateTimeStamp: {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise InvalidDocument(f"{what} has no time zone: {value[:40]!r}")
    return moment.astimezone(timezone.utc)


def parse_history_index(document: Any, list_url: str) -> list[HistoryVersion]:
    """The versions a history index document lists, oldest first.

    :raises InvalidDocument: not an index of the list at ``list_url``: another ``type`` or
        ``statusListCredential``, a version that is not a positive integer or listed twice, a
        period that is empty or not a dateTimeStamp, periods that overlap, or more than
        :data:`MAX_HISTORY_VERSIONS`.
    """
    if not isinstance(document, Mapping) or document.get("type") != HISTORY_INDEX_TYPE:
        raise InvalidDocument(f"the status history index of {list_url} is not a {HISTORY_INDEX_TYPE} document")
    if document.get("statusListCredential") != list_url:
        raise InvalidDocument(
            f"the status history index at the URL of {list_url}'s history is that of "
            f"{str(document.get('statusListCredential'))[:200]!r}"
        )
    versions = document.get("versions")
    if not isinstance(versions, list) or len(versions) > MAX_HISTORY_VERSIONS:
        raise InvalidDocument(f"the status history index of {list_url} needs a list of at most "
                              f"{MAX_HISTORY_VERSIONS} versions")
    out: list[HistoryVersion] = []
    for item in versions:
        if not isinstance(item, Mapping):
            raise InvalidDocument(f"the status history index of {list_url} lists a version that is not an object")
        number = item.get("version")
        if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 10**9:
            raise InvalidDocument(f"the status history index of {list_url} lists a version that is not a positive integer")
        start = _instant(item.get("validFrom"), f"version {number}'s validFrom")
        end = _instant(item.get("validUntil"), f"version {number}'s validUntil")
        if end < start:
            raise InvalidDocument(f"version {number} of {list_url}'s history ends before it starts")
        out.append(HistoryVersion(number, start, end))
    out.sort(key=lambda v: (v.valid_from, v.version))
    if len({v.version for v in out}) != len(out):
        raise InvalidDocument(f"the status history index of {list_url} lists a version twice")
    for earlier, later in zip(out, out[1:]):
        if later.valid_from < earlier.valid_until:
            raise InvalidDocument(f"versions {earlier.version} and {later.version} of {list_url}'s history overlap")
    return out


def version_covering(versions: Sequence[HistoryVersion], moment: datetime) -> HistoryVersion | None:
    """The version in effect at ``moment``, or None if none is."""
    return next((v for v in versions if v.covers(moment)), None)
