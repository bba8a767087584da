"""The wallet at rest: one encrypted, versioned file, written atomically under a lock.

The file is sealed under the passphrase by :mod:`tradevc.vc.sealed` (scrypt, then AES-256-GCM,
a versioned header bound to the content), the same implementation that protects the issuer's
keys; scrypt parameters read from a file are bounded.

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

import errno
import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tradevc.vc import sealed
from tradevc.vc.atomicfile import UnsafeFileError, check_private_dir, read_private, write_atomic
from tradevc.vc.sealed import DerivedKey, KdfParams, SealedFile, new_key, normalize_passphrase, seal

from .errors import WalletCorrupted, WalletError, WalletLocked, WalletNotFound, WalletUnsafe, WrongPassphrase

__all__ = ["KdfParams", "SealedFile", "WalletFile", "new_key", "seal", "unseal", "normalize_passphrase"]

MAX_FILE = 256 * 1024 * 1024


def unseal(data: bytes, passphrase: str | bytes, *, kind: str, cached: DerivedKey | None = None) -> SealedFile:
    """Decrypt a wallet or backup file (:func:`tradevc.vc.sealed.unseal`).

    :raises WalletCorrupted: not such a file, truncated, altered, or of another ``kind``.
    :raises WrongPassphrase: the passphrase does not open it.
    """
    try:
        return sealed.unseal(data, passphrase, kind=kind, cached=cached, what="wallet")
    except sealed.DamagedSealedFile as e:
        raise WalletCorrupted(e.message) from e
    except sealed.WrongPassphrase as e:
        raise WrongPassphrase(e.message) from None


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
