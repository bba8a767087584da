"""The wallet at rest: one encrypted, versioned file, written atomically under a lock.

File layout (all integers big-endian)::

    "TVCW"  format version (1 byte)  header length (4 bytes)  header (JSON)  ciphertext

The header says how to derive the key (scrypt: ``n``, ``r``, ``p``, ``salt``) and carries the
AES-256-GCM nonce and a passphrase check value. Everything before the ciphertext is bound to it
as associated data, so changing a single header byte is detected like changing the content.

The passphrase goes through scrypt into 64 bytes: the first 32 are the AES key, the last 32 key
an HMAC whose tag (``check``) tells a wrong passphrase from a damaged file. That tag gives an
attacker nothing GCM would not: each guess still costs one scrypt. scrypt parameters read from
a file are bounded, so a crafted file cannot make us allocate gigabytes or spin for minutes.

Writers hold an exclusive ``flock`` on ``<file>.lock`` for the whole read-modify-write, so two
processes never lose each other's changes; a write is a temporary file, fsync, rename and a
directory fsync (:func:`tradevc.vc.atomicfile.write_atomic`), so a crash leaves the old or the new file,
never a mix. A file that does not open is reported and never written over.

The file is private: a wallet file (or lock file) that is a symbolic link is refused, and so is
a wallet directory that group or others may write to (they could have swapped the file); a
wallet file that group or others may read is made 0600 again, with a warning (it is encrypted,
but a copy can be attacked offline: consider a new passphrase).
"""

from __future__ import annotations

import base64
import errno
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import struct
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from tradevc.vc.atomicfile import UnsafeFileError, check_private_dir, read_private, write_atomic

from .errors import WalletCorrupted, WalletError, WalletLocked, WalletNotFound, WalletUnsafe, WrongPassphrase

__all__ = ["KdfParams", "SealedFile", "WalletFile", "seal", "unseal", "normalize_passphrase"]

MAGIC = b"TVCW"
FORMAT_VERSION = 1
MAX_HEADER = 4096
MAX_FILE = 256 * 1024 * 1024
_PREFIX = struct.Struct(">4sBI")
_CHECK_LABEL = b"tradevc wallet passphrase check v1"


@dataclass(frozen=True)
class KdfParams:
    """scrypt cost. The default (n = 2**17, r = 8, p = 1: 128 MiB, about 0.35 s here) follows
    current guidance for interactive unlocking; bounds apply to what we write and what we read."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    MIN_N = 2**14
    MAX_N = 2**20
    MAX_R = 16
    MAX_P = 4

    def validate(self) -> "KdfParams":
        n, r, p = self.n, self.r, self.p
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (n, r, p)):
            raise ValueError("scrypt parameters must be integers")
        if n < self.MIN_N or n > self.MAX_N or n & (n - 1):
            raise ValueError(f"scrypt n must be a power of two from {self.MIN_N} to {self.MAX_N}, not {n}")
        if not 1 <= r <= self.MAX_R or not 1 <= p <= self.MAX_P:
            raise ValueError(f"scrypt r must be 1..{self.MAX_R} and p 1..{self.MAX_P}, not r={r}, p={p}")
        return self


@dataclass(frozen=True)
class _Key:
    params: KdfParams
    salt: bytes
    aes: bytes
    check: bytes


def normalize_passphrase(passphrase: str | bytes) -> bytes:
    """The passphrase as bytes: strings are NFC-normalised first, so the same passphrase typed
    on two systems opens the same wallet. :raises ValueError: empty."""
    if isinstance(passphrase, str):
        passphrase = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    if not isinstance(passphrase, bytes) or not passphrase:
        raise ValueError("the wallet needs a non-empty passphrase")
    return passphrase


def _derive(passphrase: bytes, params: KdfParams, salt: bytes) -> _Key:
    material = Scrypt(salt=salt, length=64, n=params.n, r=params.r, p=params.p).derive(passphrase)
    check = hmac.new(material[32:], _CHECK_LABEL, hashlib.sha256).digest()
    return _Key(params, salt, material[:32], check)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise WalletCorrupted(f"the file header's {what} is missing")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError) as e:
        raise WalletCorrupted(f"the file header's {what} is not base64url") from e


@dataclass
class SealedFile:
    """What :func:`unseal` returns: the plaintext and the key it was sealed with (kept so the
    next write need not run scrypt again)."""

    kind: str
    plaintext: bytes
    key: _Key


def seal(plaintext: bytes, key: _Key, *, kind: str) -> bytes:
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


def new_key(passphrase: str | bytes, params: KdfParams | None = None) -> _Key:
    """A key for a new file: fresh salt, scrypt with ``params``."""
    return _derive(normalize_passphrase(passphrase), (params or KdfParams()).validate(), secrets.token_bytes(16))


def unseal(data: bytes, passphrase: str | bytes, *, kind: str, cached: _Key | None = None) -> SealedFile:
    """Decrypt a file made by :func:`seal`.

    :raises WalletCorrupted: not such a file, truncated, altered, or of another ``kind``.
    :raises WrongPassphrase: the passphrase does not open it.
    """
    if len(data) < _PREFIX.size:
        raise WalletCorrupted(f"the file is truncated ({len(data)} bytes)" if data else "the file is empty")
    magic, version, header_length = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise WalletCorrupted("this is not a tradevc wallet file")
    if version != FORMAT_VERSION:
        raise WalletCorrupted(f"unknown wallet file format version {version} (this tradevc reads version {FORMAT_VERSION})")
    if not 2 <= header_length <= MAX_HEADER:
        raise WalletCorrupted(f"the file header length {header_length} is out of range")
    end = _PREFIX.size + header_length
    if len(data) < end + 16:
        raise WalletCorrupted("the file is truncated")
    try:
        header = json.loads(data[_PREFIX.size : end].decode("ascii"))
        kdf = header["kdf"]
        if header.get("cipher") != "A256GCM" or kdf.get("name") != "scrypt":
            raise WalletCorrupted(f"unsupported cipher {header.get('cipher')!r} or key derivation {kdf.get('name')!r}")
        params = KdfParams(kdf["n"], kdf["r"], kdf["p"]).validate()
    except WalletCorrupted:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as e:
        raise WalletCorrupted(f"the file header is damaged: {e}") from e
    if header.get("kind") != kind:
        raise WalletCorrupted(f"this file is a {header.get('kind')!r} file, not a {kind!r} file")
    salt, nonce, check = _unb64(kdf.get("salt"), "salt"), _unb64(header.get("nonce"), "nonce"), _unb64(header.get("check"), "check")
    if not 16 <= len(salt) <= 64 or len(nonce) != 12 or len(check) != 32:
        raise WalletCorrupted("the file header has a salt, nonce or check value of the wrong size")
    if cached is not None and cached.params == params and hmac.compare_digest(cached.salt, salt):
        key = cached
    else:
        key = _derive(normalize_passphrase(passphrase), params, salt)
    if not hmac.compare_digest(key.check, check):
        raise WrongPassphrase("wrong passphrase")
    try:
        plaintext = AESGCM(key.aes).decrypt(nonce, data[end:], data[:end])
    except InvalidTag as e:
        raise WalletCorrupted("the file fails its integrity check: it was truncated or altered") from e
    return SealedFile(kind, plaintext, key)


class WalletFile:
    """The wallet's file and its lock file, next to each other in the wallet's home."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = lock_timeout

    def exists(self) -> bool:
        return self.path.exists()

    def check_home(self) -> None:
        """Refuse a wallet directory that group or others may write to: they could have put
        their own file, or a symbolic link, in the wallet's place.

        :raises WalletUnsafe: so. :raises FileNotFoundError: no such directory.
        """
        try:
            check_private_dir(self.path.parent)
        except UnsafeFileError as e:
            raise WalletUnsafe(e.message) from None

    def read_bytes(self) -> bytes:
        """The file, read as a private file (:func:`tradevc.vc.atomicfile.read_private`): a
        symbolic link is refused, a file group or others may read or write is made 0600 with
        an :class:`~tradevc.vc.atomicfile.UnsafeModeWarning`.

        :raises WalletNotFound: no wallet here. :raises WalletCorrupted: absurdly large file.
        :raises WalletUnsafe: the file is a symbolic link or not a regular file, or the
            directory is writable by group or others.
        """
        try:
            self.check_home()
            data = read_private(self.path, limit=MAX_FILE)
        except FileNotFoundError:
            raise WalletNotFound(f"no wallet at {self.path} (create one with 'vc-wallet init')") from None
        except UnsafeFileError as e:
            raise WalletUnsafe(e.message) from None
        if len(data) > MAX_FILE:
            raise WalletCorrupted(f"the file is larger than {MAX_FILE} bytes")
        return data

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the exclusive lock: wait for other writers up to ``lock_timeout`` seconds.

        :raises WalletLocked: another process kept it longer.
        :raises WalletUnsafe: the directory is writable by group or others, or the lock file
            is a symbolic link.
        """
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.check_home()
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise WalletUnsafe(f"{self.lock_path} is a symbolic link; refusing to follow it") from None
            raise
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise WalletLocked(
                            f"another process has kept the wallet locked for {self.lock_timeout:g} s; try again"
                        ) from None
                    time.sleep(0.02)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def write(self, data: bytes) -> None:
        """Replace the file (call with the lock held). Leftovers of writes that were killed are
        removed first: under the lock, no other writer can own them."""
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            try:
                stale.unlink()
            except FileNotFoundError:
                pass
        write_atomic(self.path, data, mode=0o600)


def refuse_existing(path: Path) -> None:
    if path.exists():
        raise WalletError(f"a wallet already exists at {path}; it was left as it is")
