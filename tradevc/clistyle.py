"""The conventions the three command-line tools share (``vc-issuer``, ``vc-verify``, ``vc-wallet``).

Errors are told on stderr in lines that start with ``error: ``, in plain words, and the exit
status says what kind of failure it was:

- 0: done (verified);
- 1: refused: the input was read and refused (a trade check, a document that does not verify,
  a wrong passphrase, an unknown id);
- 2: a usage error or a value that cannot be used: an option missing or unknown, a date or URL
  that does not parse, a file named on the command line that cannot be read;
- 3: could not verify (a DID document or status list could not be fetched);
- 130: interrupted (Ctrl-C).

:class:`Group` is the ``click.Group`` of each tool's top command: it writes click's own usage
errors in that style (``error: missing option '--challenge' (see 'vc-verify presentation
--help')``) instead of click's ``Usage: ... Error: ...`` block, and turns Ctrl-C into
``error: interrupted`` and exit status 130, wherever it comes. ``--help`` is click's.

This module is the desks' only shared code; the library (``tradevc.vc``) does not import it.
"""

from __future__ import annotations

import os
import select
import signal
import stat
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO, Callable, NoReturn, TypeVar

import click

from tradevc.vc.errors import NotUtf8Error
from tradevc.vc.jsontext import decode_text, escape_hidden
from tradevc.vc.sealed import WrongPassphrase

__all__ = [
    "EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "EXIT_COULD_NOT_VERIFY", "EXIT_INTERRUPTED", "Group", "fail", "say_error",
    "FileSecret", "is_wrong_passphrase", "opening", "read_all", "read_secret_file",
]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_COULD_NOT_VERIFY, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


_UTF8_BOM = b"\xef\xbb\xbf"


class FileSecret(str):
    """A secret read by :func:`read_secret_file`: its text without a leading byte order mark
    (what a new secret is set to, so that a passphrase file saved by Notepad sets the
    passphrase typed at a prompt). ``with_mark`` is the text with the mark, which versions
    before 2026-12-03 kept as part of the secret; None when the file began without one."""

    with_mark: str | None = None


def read_secret_file(path: str, what: str = "passphrase") -> FileSecret:
    """The secret in the file at ``path`` (``--passphrase-file``): its UTF-8 text without a
    byte order mark and without the line ends after it (see :class:`FileSecret` and
    :func:`opening`). A file that is not UTF-8 exits 2 with one line naming it; one that
    cannot be read, exit 2 as well."""
    try:
        raw = Path(path).expanduser().read_bytes()
    except OSError as e:
        fail(f"cannot read the {what} file {path}: {e.strerror or e}", EXIT_USAGE)
    try:
        text = decode_text(raw, source=path)  # the mark taken off
    except NotUtf8Error:  # its message quotes the text near the bad byte: not for a secret
        fail(f"the {what} file {path} is not UTF-8 text (perhaps Latin-1 or UTF-16): save it as UTF-8 "
             "and try again", EXIT_USAGE)
    secret = FileSecret(text.rstrip("\r\n"))
    if raw.startswith(_UTF8_BOM):
        secret.with_mark = "\ufeff" + secret
    return secret


_T = TypeVar("_T")


def is_wrong_passphrase(error: Exception) -> bool:
    """Whether ``error`` refuses a passphrase as wrong (the code the sealed files, the issuer's
    keys, its backups and the wallet give it)."""
    return getattr(error, "code", None) == WrongPassphrase.code


def opening(secret: str, use: Callable[[str], _T], wrong: Callable[[Exception], bool] = is_wrong_passphrase) -> _T:
    """``use(secret)``; if that raises an exception ``wrong`` says is a wrong passphrase, and
    ``secret`` came from a file that began with a byte order mark, ``use`` again with the mark
    (a secret set from such a file before 2026-12-03 holds it). Use is made once more at most."""
    try:
        return use(secret)
    except Exception as e:
        marked = getattr(secret, "with_mark", None)
        if marked is None or not wrong(e):
            raise
    return use(marked)


def read_all(file: BinaryIO, limit: int | None = None) -> bytes:
    """``file.read(limit)`` (all without a limit), except that a Ctrl-C that comes just before
    a read of a pipe, a FIFO or a terminal starts to wait is not lost. Python runs its signal
    handler only between steps of the program, and a read that has started to wait is not
    woken by a signal that came before it: the read would wait on, the Ctrl-C spent. Here such
    a file is read only once ``select`` says it has something, while a signal also wakes the
    ``select`` (through ``signal.set_wakeup_fd``), so the handler runs and the read stops with
    ``KeyboardInterrupt``. A regular file, one without a descriptor, or a call off the main
    thread is read as usual."""
    try:
        fd = file.fileno()
        usual = stat.S_ISREG(os.fstat(fd).st_mode) or threading.current_thread() is not threading.main_thread()
    except (OSError, ValueError):  # no file descriptor (a test's in-memory input)
        usual = True
    if usual:
        return file.read() if limit is None else file.read(limit)
    wake_reader, wake_writer = os.pipe()
    try:
        os.set_blocking(wake_writer, False)
        previous = signal.set_wakeup_fd(wake_writer)
        try:
            chunks: list[bytes] = []
            left = limit
            while left is None or left > 0:
                ready, _, _ = select.select([fd, wake_reader], [], [])
                if wake_reader in ready:  # a signal: its handler runs before the next step
                    os.read(wake_reader, 512)
                    continue
                chunk = os.read(fd, 65536 if left is None else min(left, 65536))
                if not chunk:
                    break
                chunks.append(chunk)
                if left is not None:
                    left -= len(chunk)
            return b"".join(chunks)
        finally:
            signal.set_wakeup_fd(previous)
    finally:
        os.close(wake_reader)
        os.close(wake_writer)


def say_error(message: str) -> None:
    """Write ``message`` to stderr as ``error: ...`` lines: each line of it prefixed, hidden
    characters (terminal escapes, bidi overrides) written as ``\\uXXXX``."""
    for line in message.splitlines() or [""]:
        click.echo(escape_hidden(f"error: {line}", keep_newlines=False), err=True)


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    """:func:`say_error` and exit with ``code``."""
    say_error(message)
    sys.exit(code)


class _Interrupted(Exception):
    """Ctrl-C during a command, carried past click's own handling (which prints ``Aborted!``)."""


def _plain(message: str) -> str:
    """click's sentence as a clause: first letter in lower case (unless the word is an acronym),
    no final full stop."""
    message = message.strip().replace(". Did you mean", "; did you mean")
    if message.endswith(".") and not message.endswith(".."):
        message = message[:-1]
    if message[:1].isupper() and not message[1:2].isupper():
        message = message[0].lower() + message[1:]
    return message


def usage_message(error: click.UsageError) -> str:
    """The one line of a usage error: click's message in plain words, and where to read more."""
    message = _plain(error.format_message())
    if error.ctx is not None:
        message += f" (see '{error.ctx.command_path} --help')"
    return message


class Group(click.Group):
    """A ``click.Group`` whose errors follow the house style (see the module): give it as
    ``@click.group(cls=Group)`` to a tool's top command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # before click turns it into "Aborted!"
            raise _Interrupted() from None

    def main(
        self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
        standalone_mode: bool = True, **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            fail(usage_message(e), e.exit_code)
        except click.Abort as e:  # Ctrl-C or end of input at a prompt
            if isinstance(e.__cause__ or e.__context__, KeyboardInterrupt):
                _interrupted()
            fail("aborted: no input", EXIT_REFUSED)
        except click.ClickException as e:
            fail(_plain(e.format_message()), e.exit_code)
        except (_Interrupted, KeyboardInterrupt):
            _interrupted()
        # standalone_mode=False returns what the command returned, or the code of ctx.exit()
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def _interrupted() -> NoReturn:
    if getattr(sys.stderr, "isatty", lambda: False)():  # end the line the terminal's ^C is on
        click.echo("", err=True)
    fail("interrupted", EXIT_INTERRUPTED)
