"""Crash-safe file writes: a file is either its old content or its new content, never a mix.
And private files: a key or a store is read only from a regular file of its own (never through
a symbolic link) that group and others cannot read, in a directory they cannot write to."""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from .errors import VcError

__all__ = [
    "write_atomic", "fsync_dir", "read_private", "check_private_file", "check_private_dir", "UnsafeFileError",
    "UnsafeModeWarning",
]


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry (a rename or a new file in it) to disk."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600, replace: bool = True) -> None:
    """Replace ``path`` with ``data``: write a temporary file in the same directory with
    ``mode`` (whatever the umask), fsync it, rename it over ``path``, fsync the directory.
    The temporary file is removed if anything fails.

    ``replace=False`` never replaces a file already there: the complete temporary file is
    hard-linked to ``path``, which fails if ``path`` exists (even if it appeared a moment
    before), so of two writers at once exactly one succeeds.

    :raises FileExistsError: ``replace`` is False and ``path`` exists.
    :raises OSError: the file cannot be written.
    """
    target = Path(path)
    directory = target.parent
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temp, target)
        else:
            os.link(temp, target)  # no-replace: EEXIST if anything is at target
            os.unlink(temp)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(directory)


class UnsafeFileError(VcError):
    """A private file or its directory cannot be trusted: a symbolic link, not a regular file,
    or a directory that group or others can write to (they could have replaced what is in it)."""

    code = "UNSAFE_FILE"


class UnsafeModeWarning(UserWarning):
    """A private file was readable or writable by group or others; it has been made 0600."""


@contextmanager
def unsafe_mode_warnings_as_lines() -> Iterator[None]:
    """For a CLI: show each :class:`UnsafeModeWarning` as one ``warning: ...`` line on
    standard error; other warnings as usual."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", UnsafeModeWarning)
        shown = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if issubclass(category, UnsafeModeWarning):
                sys.stderr.write(f"warning: {message}\n")
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


def check_private_dir(directory: str | os.PathLike[str]) -> None:
    """Refuse a directory that group or others may write to (what it holds could have been
    replaced), or that is not a directory. A symbolic link to a directory is followed.

    :raises UnsafeFileError: so. :raises FileNotFoundError: it does not exist.
    """
    info = os.stat(directory)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFileError(f"{directory} is not a directory")
    if info.st_mode & 0o022:
        raise UnsafeFileError(
            f"{directory} is writable by group or others (mode {stat.S_IMODE(info.st_mode):04o}), so its files could "
            f"have been replaced; check them, then run: chmod go-w {directory}"
        )


def check_private_file(path: str | os.PathLike[str]) -> None:
    """Check a private file (a key, a store) before it is used, as :func:`read_private` does,
    without reading it.

    :raises UnsafeFileError: refused. :raises FileNotFoundError: no such file.
    """
    with _open_private(path, stacklevel=3):
        pass


def read_private(path: str | os.PathLike[str], *, limit: int | None = None) -> bytes:
    """Read a private file (a key, a store): at most ``limit`` + 1 bytes if given.

    Refused: a symbolic link (not followed; it could point anywhere) and anything but a regular
    file. Repaired: a file that group or others may read or write is made 0600 (its owner's
    bits kept) and an :class:`UnsafeModeWarning` says so (what was in it may have been copied).

    :raises UnsafeFileError: refused. :raises FileNotFoundError: no such file.
    :raises OSError: it cannot be read.
    """
    with _open_private(path, stacklevel=3) as handle:
        return handle.read() if limit is None else handle.read(limit + 1)


def _open_private(path: str | os.PathLike[str], *, stacklevel: int) -> BinaryIO:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UnsafeFileError(f"{path} is a symbolic link; refusing to follow it (put the file itself there)") from None
        raise
    handle = os.fdopen(fd, "rb")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(f"{path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            try:
                os.fchmod(fd, mode & 0o700)
            except OSError as e:
                raise UnsafeFileError(
                    f"{path} is open to group or others (mode {mode:04o}) and cannot be made private: {e.strerror}"
                ) from None
            warnings.warn(
                f"{path} was open to group or others (mode {mode:04o}); it is now {mode & 0o700:04o}. "
                "Whoever could read it may have copied it.",
                UnsafeModeWarning,
                stacklevel=stacklevel,
            )
    except BaseException:
        handle.close()
        raise
    return handle
