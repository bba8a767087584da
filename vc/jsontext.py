"""The one strict JSON reader of the library, and the limits every document is held to.

:func:`loads` reads JSON text (bytes or str) as I-JSON (RFC 7493): UTF-8 only; no member name
twice in an object, at any depth (a first-wins reader and a last-wins reader would see two
different documents); no ``NaN``, ``Infinity`` or ``-Infinity``; no number beyond the range of
an IEEE double (``1E400``); no integer outside [-(2**53)+1, 2**53-1] (write larger ones as
strings); no lone surrogate (``"\\ud800"``). It refuses text longer than the limit before
parsing it.

:func:`check_value` holds a value already parsed (a dict handed to the library) to the same
I-JSON rules and to the :class:`Limits`, in one walk that stops at the first breach. The
verification pipeline runs it once per document, before a securing mechanism opens it, so a
hostile document is refused before anything expensive (canonicalization, signature checks).

:func:`decode_text` and :func:`read_text` are how the three tools read a text file a person
gives them (a subject, a credential, a trust policy): UTF-8 with or without a byte order mark,
and anything else refused with the file's name, the byte offset and what to do.

Refusals are :class:`~tradevc.vc.errors.InvalidDocument` with the code ``PARSING_ERROR``
(:class:`~tradevc.vc.errors.ParsingError`: not I-JSON) or ``RESOURCE_LIMIT_ERROR``
(:class:`~tradevc.vc.errors.ResourceLimitError`: over a limit); nothing else escapes.
"""

from __future__ import annotations

import json
import math
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import orjson

from tradevc.vc.errors import NotUtf8Error, ParsingError, ResourceLimitError

__all__ = [
    "DEFAULT_LIMITS", "Limits", "check_value", "decode_text", "escape_hidden", "json_kind", "loads", "read_text", "shown",
    "UTF8_BOM",
]


def shown(value: Any, limit: int = 80) -> str:
    """``value`` as a message quotes it: a string as Python writes it (``'zz'``), anything else
    as JSON (``null``, ``true``, ``{"a": 1}``), never a Python spelling (``None``, ``True``);
    either cut at ``limit`` characters (a string, at ``limit`` of its own), so that a
    document's value cannot make a report's line as long as the document."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."
    try:
        text = json.dumps(value, ensure_ascii=False, default=lambda v: json_kind(v))
    except (TypeError, ValueError, RecursionError):  # a cycle, NaN...: say what kind it is
        text = json_kind(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_kind(value: Any) -> str:
    """What ``value`` is, in JSON's words (``a number``, ``a string``, ``a list``, ``a JSON
    object``, ``null``, ``true``): for messages, which never name a Python type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "a JSON object"
    return "another kind of value"


@dataclass(frozen=True, slots=True)
class Limits:
    """What a document may hold at most. The defaults leave room for real trade documents (a
    presentation of dozens of credentials with 500 goods items each) and refuse, in well under
    a millisecond, the documents made to exhaust a verifier. Every field is a positive int.

    Pass one to :func:`~tradevc.vc.verification.pipeline.verify_credential` (``limits=``) or
    :class:`tradevc.verifier.Verifier` (``limits=``); a breach is a failed ``structure`` check
    with the code ``RESOURCE_LIMIT_ERROR``.
    """

    max_document_size: int = 16 * 1024 * 1024
    """JSON text: its length in bytes (characters, for a str), checked before parsing (16 MiB).
    A dict: the length of its strings (member names and values) plus one for each other value,
    a lower bound of the length of its JSON text."""
    max_depth: int = 64
    """Objects and arrays nested in each other (the document itself is depth 1)."""
    max_array_entries: int = 10_000
    """Entries in any one array."""
    max_proofs: int = 16
    """Proofs in one ``proof`` member (a proof set or chain)."""
    max_proof_value_length: int = 16 * 1024
    """Characters of a proof's ``proofValue`` (or a legacy proof's ``jws``): an Ed25519
    signature is 88, a post-quantum one a few thousand."""
    max_contexts: int = 32
    """Entries in one ``@context`` array."""
    max_credentials: int = 100
    """Entries in one ``verifiableCredential`` array (credentials in a presentation)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if type(value) is not int:
                raise TypeError(f"Limits.{f.name} must be an int, not {type(value).__name__}")
            if value < 1:
                raise ValueError(f"Limits.{f.name} must be positive, not {value}")


DEFAULT_LIMITS = Limits()
"""The limits used when none are given."""

_NO_LIMITS = Limits(*(2**62,) * 7)
"""For :func:`check_value` with ``limits=None``: the I-JSON rules only."""

_MAX_INTEGER = 2**53 - 1
"""I-JSON (RFC 7493, section 2.2): integers beyond this magnitude do not survive every reader."""

_COUNTED = {"proof": "max_proofs", "@context": "max_contexts", "verifiableCredential": "max_credentials"}
"""Members whose arrays have a limit of their own (the field of :class:`Limits`)."""

_WHAT = {"proof": "proofs", "@context": "@context entries", "verifiableCredential": "credentials"}


# -- text ----------------------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ParsingError(f"duplicate member {_shown(key)}: a name appears twice in one object")
            seen.add(key)
    return out


def _refuse_constant(name: str) -> Any:
    raise ParsingError(f"{name} is not a JSON number (I-JSON)")


_WHITESPACE = b" \t\n\r"
"""JSON's white space (RFC 8259, section 2)."""

# Built once: json.loads with hooks makes a new decoder on every call.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)


def loads(data: bytes | bytearray | str, *, limits: Limits | None = DEFAULT_LIMITS, walk: bool = True) -> Any:
    """Parse JSON text strictly as I-JSON (see the module) and check the value against
    ``limits`` (None: the I-JSON rules only, no limits). ``walk=False`` leaves out the walk of
    :func:`check_value` (duplicates and the non-numbers are still refused), for a caller that
    hands each part of the value to a check of its own (the service hands a credential to the
    verifier, which walks it against its limits).

    Text is parsed by ``orjson`` and written back; when the two are the same once white space
    is taken out of both, there was no duplicate member. Taking white space out keeps every
    token (JSON strings hold no raw tabs or line ends, and spaces are never part of another
    token), so the text read has as many members as it seems to; what was written back has as
    many as the value; a dropped duplicate would leave one fewer. This covers compact text as
    ``orjson`` writes it (a JWS payload, most fetched documents), Python's ``json.dumps`` form
    (what ``requests`` and ``httpx`` send) and indented files, with the characters as UTF-8;
    ``json.dumps``'s escapes of non-ASCII characters are compared with ``json.dumps`` itself. Anything else
    goes through the standard library's parser with hooks that refuse duplicates and the
    non-numbers. Either way the value is then walked once by :func:`check_value`.

    :raises ParsingError: not UTF-8, not JSON, or not I-JSON (code ``PARSING_ERROR``).
    :raises ResourceLimitError: over a limit (code ``RESOURCE_LIMIT_ERROR``); text longer than
        ``max_document_size`` is refused before it is parsed.
    :raises TypeError: ``data`` is neither bytes nor str.
    """
    if isinstance(data, str):
        size = len(data)
    elif isinstance(data, (bytes, bytearray)):
        size = len(data)
    else:
        raise TypeError(f"JSON text must be bytes or str, not {type(data).__name__}")
    if limits is not None and size > limits.max_document_size:
        raise ResourceLimitError(
            f"the JSON text is {size} bytes; at most {limits.max_document_size} are accepted"
        )
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ParsingError(f"the JSON text holds a lone surrogate at {e.start}: not Unicode text") from None
    else:
        raw = bytes(data)
    value: Any
    try:
        value = orjson.loads(raw)
        written = orjson.dumps(value)
        compact = (written == raw or raw.translate(None, _WHITESPACE) == written.translate(None, _WHITESPACE)
                   or json.dumps(value).encode() == raw)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, RecursionError):
        compact = False
    if not compact:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ParsingError(f"the JSON text is not UTF-8: {e.reason} at byte {e.start}") from None
        try:
            value = _DECODER.decode(text)
        except RecursionError:
            raise ResourceLimitError("the JSON text is nested too deeply to be read") from None
        except ValueError as e:  # JSONDecodeError; an integer of more than 4300 digits
            raise ParsingError(f"not JSON: {e}") from None
    if walk:
        check_value(value, limits)
    return value


# -- text files ----------------------------------------------------------------------------------

UTF8_BOM = b"\xef\xbb\xbf"
"""The UTF-8 byte order mark some editors (Windows Notepad, Excel's "CSV UTF-8") put first."""

_OTHER_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
)


def decode_text(data: bytes | bytearray, *, source: str | None = None) -> str:
    """``data`` as UTF-8 text, a leading byte order mark dropped: how a text file a person gives
    is read (:func:`loads` itself takes no byte order mark, as RFC 8259 asks of JSON sent over
    a network). ``source`` names the file in the message (``"subject.json"``).

    :raises NotUtf8Error: (code ``PARSING_ERROR``) not UTF-8: a UTF-16 or UTF-32 byte order
        mark, or a byte that UTF-8 cannot have there. The message gives the byte offset (from
        the file's start), the byte, a guess (Latin-1 or Windows-1252) and what to do.
    """
    raw = bytes(data)
    where = f"{source}: " if source else ""
    for mark, name in _OTHER_BOMS:
        if raw.startswith(mark):
            raise NotUtf8Error(
                f"{where}not UTF-8 text: it is {name} (it starts with a {name} byte order mark); save it as UTF-8 "
                "and try again",
                offset=0,
            )
    skipped = len(UTF8_BOM) if raw.startswith(UTF8_BOM) else 0
    try:
        return raw[skipped:].decode("utf-8")
    except UnicodeDecodeError as e:
        offset = skipped + e.start
        line = raw.count(b"\n", 0, offset) + 1
        start = max(raw.rfind(b"\n", 0, offset) + 1, skipped)
        end = raw.find(b"\n", offset)
        shown = raw[max(start, offset - 24):(end if end != -1 else len(raw))][:48]
        try:
            near = shown.decode("cp1252")
            guess = f"; it looks like Latin-1 or Windows-1252 (near {escape_hidden(near.strip(), keep_newlines=False)!r})"
        except UnicodeDecodeError:
            guess = ""
        raise NotUtf8Error(
            f"{where}not UTF-8 text: byte 0x{raw[offset]:02X} at offset {offset} (line {line}) cannot be there in "
            f"UTF-8{guess}; save the file as UTF-8 and try again",
            offset=offset,
        ) from None


def read_text(path: str | os.PathLike[str], *, limit: int | None = None) -> str:
    """The text of the file at ``path``, read by :func:`decode_text` (which names it in its
    message); at most ``limit`` bytes if given.

    :raises NotUtf8Error: not UTF-8. :raises ResourceLimitError: longer than ``limit``.
    :raises OSError: it cannot be read.
    """
    with open(path, "rb") as handle:
        data = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise ResourceLimitError(f"{os.fspath(path)}: the file is over {limit} bytes, the most accepted")
    return decode_text(data, source=os.fspath(path))


# -- values --------------------------------------------------------------------------------------


def _shown(key: str) -> str:
    shown = key if len(key) <= 40 else key[:40] + "..."
    return repr(shown.encode("utf-8", "backslashreplace").decode("utf-8"))


def _text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ParsingError(
            f"a string holds the lone surrogate \\u{ord(value[e.start]):04x}: not Unicode text (I-JSON)"
        ) from None


def _scalar(value: Any) -> int:
    """Check a value that is not a string, object or array; return its size."""
    if value is None or value is True or value is False:
        return 1
    kind = type(value)
    if kind is int:
        if -_MAX_INTEGER <= value <= _MAX_INTEGER:
            return 1
        raise ParsingError(
            "an integer beyond 2**53-1 in magnitude does not survive every JSON reader (I-JSON); "
            "write it as a string"
        )
    if kind is float:
        if math.isfinite(value):
            return 1
        raise ParsingError(f"{value}: a number beyond the range of an IEEE double is not I-JSON")
    if isinstance(value, bool):  # a subclass of bool cannot exist; an int subclass can
        return 1
    if isinstance(value, int):
        return _scalar(int(value))
    if isinstance(value, float):
        return _scalar(float(value))
    raise ParsingError(f"a {type(value).__name__} is not a JSON value")


def _proof_values(proofs: Any, limit: int) -> None:
    for proof in proofs if isinstance(proofs, list) else (proofs,):
        if isinstance(proof, Mapping):
            for name in ("proofValue", "jws"):
                value = proof.get(name)
                if isinstance(value, str) and len(value) > limit:
                    raise ResourceLimitError(
                        f"a proof's {name} is {len(value)} characters; at most {limit} are accepted"
                    )


def _too_many(count: int, what: str, limit: int) -> ResourceLimitError:
    return ResourceLimitError(f"{count} {what} in one array; at most {limit} are accepted")


def check_value(value: Any, limits: Limits | None = DEFAULT_LIMITS) -> None:
    """Check a parsed JSON value (a dict handed to the library) in one walk: I-JSON (string
    member names; no non-finite float; no integer beyond 2**53-1 in magnitude; no lone
    surrogate; nothing that is not a JSON value) and, unless ``limits`` is None, every field of
    ``limits``. Objects may be any :class:`~collections.abc.Mapping`, arrays lists or tuples.

    :raises ParsingError: not I-JSON (code ``PARSING_ERROR``).
    :raises ResourceLimitError: over a limit (code ``RESOURCE_LIMIT_ERROR``).
    """
    limit = _NO_LIMITS if limits is None else limits
    max_depth, max_entries, budget = limit.max_depth, limit.max_array_entries, limit.max_document_size
    kind = type(value)
    if kind is str:
        if not value.isascii():
            _text(value)
        if len(value) > budget:
            raise ResourceLimitError(f"the document is larger than {budget} bytes of JSON")
        return
    if not (kind is dict or kind is list or kind is tuple or isinstance(value, Mapping)):
        _scalar(value)
        return
    # Breadth first, one level at a time: no recursion (a dict handed in may be nested a
    # million deep) and no (node, depth) tuple for each container.
    size = 0
    depth = 0
    level: list[Any] = [value]
    while level:
        depth += 1
        if depth > max_depth:
            raise ResourceLimitError(f"objects and arrays are nested more than {max_depth} deep")
        below: list[Any] = []
        push = below.append
        for node in level:
            if type(node) is list or type(node) is tuple:
                if len(node) > max_entries:
                    raise _too_many(len(node), "entries", max_entries)
                size += 1 + len(node)
                for item in node:
                    kind = type(item)
                    if kind is str:
                        size += len(item)
                        if not item.isascii():
                            _text(item)
                    elif kind is dict or kind is list or kind is tuple or isinstance(item, Mapping):
                        push(item)
                    else:
                        size += _scalar(item)
                continue
            size += 1 + len(node)
            for key, item in node.items():
                if type(key) is not str:
                    raise ParsingError(f"a member name must be a string, not {type(key).__name__}")
                size += len(key)
                if not key.isascii():
                    _text(key)
                kind = type(item)
                if kind is str:
                    size += len(item)
                    if not item.isascii():
                        _text(item)
                elif kind is dict:
                    push(item)
                elif kind is list or kind is tuple:
                    counted = _COUNTED.get(key)
                    if counted is not None and len(item) > getattr(limit, counted):
                        raise _too_many(len(item), _WHAT[key], getattr(limit, counted))
                    push(item)
                elif isinstance(item, Mapping):
                    push(item)
                else:
                    size += _scalar(item)
            if "proof" in node:
                _proof_values(node["proof"], limit.max_proof_value_length)
            if size > budget:
                raise ResourceLimitError(f"the document is larger than {budget} bytes of JSON")
        if size > budget:
            raise ResourceLimitError(f"the document is larger than {budget} bytes of JSON")
        level = below


HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Unicode categories a terminal does not show as themselves: controls (escape sequences),
format characters (the bidirectional overrides), lone surrogates and line/paragraph separators."""


def escape_hidden(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every hidden character (:data:`HIDDEN_CATEGORIES`) written as its JSON
    escape ``\\uXXXX`` (a surrogate pair above U+FFFF), so a document cannot rewrite the
    terminal, reorder or hide what is printed; JSON printed this way reads back as the same
    JSON. ``keep_newlines`` leaves ``\\n`` as it is (for multi-line output)."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if (char != "\n" or not keep_newlines) and unicodedata.category(char) in HIDDEN_CATEGORIES:
            code = ord(char)
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)
