"""Secrets at rest: a file sealed under a passphrase (scrypt, then AES-256-GCM).

One implementation for every secret the desks keep on disk: the holder's wallet and its
backups (``kind`` ``"wallet"``, ``"backup"``) and the issuer's signing keys (``"issuer-key"``).

File layout (all integers big-endian)::

    "TVCW"  format version (1 byte)  header length (4 bytes)  header (JSON)  ciphertext

The header says how to derive the key (scrypt: ``n``, ``r``, ``p``, ``salt``), what the file
holds (``kind``) and carries the AES-256-GCM nonce and a passphrase check value. Everything
before the ciphertext is bound to it as associated data, so changing a single header byte is
detected like changing the content. (The magic and the check label still say "wallet": the
format was the wallet's first, and existing files keep opening.)

The passphrase goes through scrypt into 64 bytes: the first 32 are the AES key, the last 32 key
an HMAC whose tag (``check``) tells a wrong passphrase from a damaged file. That tag gives an
attacker nothing GCM would not: each guess still costs one scrypt. scrypt parameters read from
a file are bounded, so a crafted file cannot make us allocate gigabytes or spin for minutes.

New files are written with :func:`default_kdf` (n = 2**17): never with parameters read from a
file or given on a command line. Tests lower that cost with :func:`unsafe_test_kdf`, a Python
context manager, which no option, environment variable or file can reach.

:func:`check_new_passphrase` is the rule for a passphrase being set: at least 12 characters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import struct
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .errors import VcError

__all__ = [
    "DamagedSealedFile", "DerivedKey", "KdfParams", "MIN_PASSPHRASE_LENGTH", "STRONG", "SealedFile", "WeakPassphrase",
    "WrongPassphrase", "check_new_passphrase", "default_kdf", "is_sealed", "new_key", "normalize_passphrase",
    "seal", "unsafe_test_kdf", "unseal",
]

MAGIC = b"TVCW"
FORMAT_VERSION = 1
MAX_HEADER = 4096
MIN_PASSPHRASE_LENGTH = 12
_PREFIX = struct.Struct(">4sBI")
_CHECK_LABEL = b"tradevc wallet passphrase check v1"

log = logging.getLogger(__name__)


class DamagedSealedFile(VcError):
    """Not a sealed file, truncated, altered, or of another kind. It is never written over."""

    code = "DAMAGED_FILE"


class WrongPassphrase(VcError):
    """The passphrase does not open the file (and nothing more is said)."""

    code = "WRONG_PASSPHRASE"


class WeakPassphrase(VcError, ValueError):
    """A new passphrase that :func:`check_new_passphrase` refuses."""

    code = "WEAK_PASSPHRASE"


@dataclass(frozen=True)
class KdfParams:
    """scrypt cost. The default (n = 2**17, r = 8, p = 1: 128 MiB, about 0.35 s on a desktop)
    follows current guidance for interactive unlocking; bounds apply to what we write and what
    we read (n down to 2**14, so that wallets made with that cost keep opening)."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    MIN_N = 2**14
    MAX_N = 2**20
    MAX_R = 16
    MAX_P = 4

    def validate(self) -> "KdfParams":
        """:raises ValueError: a parameter out of bounds."""
        n, r, p = self.n, self.r, self.p
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (n, r, p)):
            raise ValueError("scrypt parameters must be integers")
        if n < self.MIN_N or n > self.MAX_N or n & (n - 1):
            raise ValueError(f"scrypt n must be a power of two from {self.MIN_N} to {self.MAX_N}, not {n}")
        if not 1 <= r <= self.MAX_R or not 1 <= p <= self.MAX_P:
            raise ValueError(f"scrypt r must be 1..{self.MAX_R} and p 1..{self.MAX_P}, not r={r}, p={p}")
        return self


STRONG = KdfParams()
_test_params: KdfParams | None = None


def default_kdf() -> KdfParams:
    """The cost new files are sealed with: :data:`STRONG` (n = 2**17), unless a test lowered it
    with :func:`unsafe_test_kdf`."""
    return _test_params or STRONG


@contextmanager
def unsafe_test_kdf(params: KdfParams = KdfParams(n=KdfParams.MIN_N)) -> Iterator[None]:
    """Tests only: seal new files with the cheaper ``params`` (default n = 2**14, about 20 ms)
    while the block runs, so a test suite does not spend 0.35 s per unlock. Only Python code in
    the same process can call this; no option, environment variable or file sets it."""
    global _test_params
    log.warning("unsafe_test_kdf: new sealed files use scrypt n=%d (tests only)", params.n)
    previous, _test_params = _test_params, params.validate()
    try:
        yield
    finally:
        _test_params = previous


@dataclass(frozen=True)
class DerivedKey:
    """A key derived from a passphrase for one salt; kept so the next write of the same file
    need not run scrypt again."""

    params: KdfParams
    salt: bytes
    aes: bytes
    check: bytes


def normalize_passphrase(passphrase: str | bytes) -> bytes:
    """The passphrase as bytes: strings are NFC-normalised first, so the same passphrase typed
    on two systems opens the same file. :raises ValueError: empty."""
    if isinstance(passphrase, str):
        passphrase = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    if not isinstance(passphrase, bytes) or not passphrase:
        raise ValueError("a non-empty passphrase is needed")
    return passphrase


def check_new_passphrase(passphrase: str | bytes, *, what: str = "passphrase") -> None:
    """Refuse a passphrase being set that is shorter than 12 characters, not counting the
    whitespace around it: whitespace at either end is invisible when typed and adds next to
    nothing for a guesser, and a passphrase of spaces alone (any number) is one repeated symbol,
    so it is refused as well. Characters are counted after NFC normalisation, not bytes.

    :raises WeakPassphrase: so; the message says what is required.
    """
    text = passphrase.decode("utf-8", "replace") if isinstance(passphrase, bytes) else passphrase
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) < MIN_PASSPHRASE_LENGTH:
        raise WeakPassphrase(
            f"the new {what} is too short: use at least {MIN_PASSPHRASE_LENGTH} characters besides spaces "
            "around it (several words are easy to type and hard to guess), or pass --weak-passphrase to accept it"
        )


def _derive(passphrase: bytes, params: KdfParams, salt: bytes) -> DerivedKey:
    material = Scrypt(salt=salt, length=64, n=params.n, r=params.r, p=params.p).derive(passphrase)
    check = hmac.new(material[32:], _CHECK_LABEL, hashlib.sha256).digest()
    return DerivedKey(params, salt, material[:32], check)


def new_key(passphrase: str | bytes, params: KdfParams | None = None) -> DerivedKey:
    """A key for a new file: fresh salt, scrypt with ``params`` (default: :func:`default_kdf`).

    :raises ValueError: empty passphrase, or ``params`` out of bounds.
    """
    return _derive(normalize_passphrase(passphrase), (params or default_kdf()).validate(), secrets.token_bytes(16))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise DamagedSealedFile(f"the file header's {what} is missing")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError) as e:
        raise DamagedSealedFile(f"the file header's {what} is not base64url") from e


@dataclass
class SealedFile:
    """What :func:`unseal` returns: the plaintext and the key it was sealed with."""

    kind: str
    plaintext: bytes
    key: DerivedKey


def is_sealed(data: bytes) -> bool:
    """Whether ``data`` starts as a sealed file does (it may still be damaged)."""
    return data[:4] == MAGIC


def seal(plaintext: bytes, key: DerivedKey, *, kind: str) -> bytes:
    """Encrypt ``plaintext`` into the file format, with a fresh random nonce."""
    nonce = secrets.token_bytes(12)
    header = json.dumps(
        {
            "kind": kind,
            "kdf": {"name": "scrypt", "n": key.params.n, "r": key.params.r, "p": key.params.p, "salt": _b64(key.salt)},
            "cipher": "A256GCM",
            "nonce": _b64(nonce),
            "check": _b64(key.check),
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode("ascii")
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header)) + header
    return prefix + AESGCM(key.aes).encrypt(nonce, plaintext, prefix)


def unseal(
    data: bytes, passphrase: str | bytes, *, kind: str, cached: DerivedKey | None = None, what: str = "sealed"
) -> SealedFile:
    """Decrypt a file made by :func:`seal`. ``what`` names the file in messages ("this is not a
    tradevc *what* file").

    :raises DamagedSealedFile: not such a file, truncated, altered, or of another ``kind``.
    :raises WrongPassphrase: the passphrase does not open it.
    """
    if len(data) < _PREFIX.size:
        raise DamagedSealedFile(f"the file is truncated ({len(data)} bytes)" if data else "the file is empty")
    magic, version, header_length = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise DamagedSealedFile(f"this is not a tradevc {what} file")
    if version != FORMAT_VERSION:
        raise DamagedSealedFile(f"unknown {what} file format version {version} (this tradevc reads version {FORMAT_VERSION})")
    if not 2 <= header_length <= MAX_HEADER:
        raise DamagedSealedFile(f"the file header length {header_length} is out of range")
    end = _PREFIX.size + header_length
    if len(data) < end + 16:
        raise DamagedSealedFile("the file is truncated")
    try:
        header = json.loads(data[_PREFIX.size : end].decode("ascii"))
        kdf = header["kdf"]
        if header.get("cipher") != "A256GCM" or kdf.get("name") != "scrypt":
            raise DamagedSealedFile(f"unsupported cipher {header.get('cipher')!r} or key derivation {kdf.get('name')!r}")
        params = KdfParams(kdf["n"], kdf["r"], kdf["p"]).validate()
    except DamagedSealedFile:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as e:
        raise DamagedSealedFile(f"the file header is damaged: {e}") from e
    if header.get("kind") != kind:
        raise DamagedSealedFile(f"this file is a {header.get('kind')!r} file, not a {kind!r} file")
    salt, nonce, check = _unb64(kdf.get("salt"), "salt"), _unb64(header.get("nonce"), "nonce"), _unb64(header.get("check"), "check")
    if not 16 <= len(salt) <= 64 or len(nonce) != 12 or len(check) != 32:
        raise DamagedSealedFile("the file header has a salt, nonce or check value of the wrong size")
    if cached is not None and cached.params == params and hmac.compare_digest(cached.salt, salt):
        key = cached
    else:
        key = _derive(normalize_passphrase(passphrase), params, salt)
    if not hmac.compare_digest(key.check, check):
        raise WrongPassphrase("wrong passphrase")
    try:
        plaintext = AESGCM(key.aes).decrypt(nonce, data[end:], data[:end])
    except InvalidTag as e:
        raise DamagedSealedFile("the file fails its integrity check: it was truncated or altered") from e
    return SealedFile(kind, plaintext, key)
