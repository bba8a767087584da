"""``vc-issuer``: the issuing desk on the command line. A thin layer over :class:`tradevc.issuer.Issuer`."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
import signal
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from tradevc.clistyle import EXIT_USAGE, Group, fail, opening, read_all, read_secret_file
from tradevc.vc.atomicfile import unsafe_mode_warnings_as_lines, write_atomic
from tradevc.vc.errors import ContextIndexError, InvalidDocument, NotUtf8Error, VcError
from tradevc.vc.jsontext import decode_text, escape_hidden, loads, read_text
from tradevc.vc.retrieval.did.web import did_web_for, document_url
from tradevc.vc.securing.jws import parse_compact_jws
from tradevc.vc.jsonld import PinnedContextLoader
from tradevc.vc.model import is_url, parse_datetime
from tradevc.vc.sealed import MIN_PASSPHRASE_LENGTH, WeakPassphrase, check_new_passphrase

from .backup import backup_home, restore_home
from .credential_types import TYPE_ALIASES, get_type, resolve_type_name, similar_type_names, type_names
from .home import IssuerHome
from .registry import StatusRegistry
from .service import (
    DEFAULT_LIST_VALIDITY, REGISTRY_FILE, STATUS_EXPIRY_WARNING, Issuer, expiry_warning, issuing_warnings,
    status_list_states,
)

HOME_ENV = "TRADEVC_ISSUER_HOME"
PASSPHRASE_ENV = "TRADEVC_ISSUER_PASSPHRASE"
PASSPHRASE_FILE_ENV = "TRADEVC_ISSUER_PASSPHRASE_FILE"
DEFAULT_HOME = Path("~/.tradevc/issuer")
IO_ERROR = "IO_ERROR"  # the code of a file that cannot be read or written


def _fail(message: str, code: int = 1) -> NoReturn:
    fail(message, code)


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected failures into one clear line on stderr, ``error: CODE: message``, and exit
    status 1 (2 for a file that is not UTF-8): no stack traces."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with unsafe_mode_warnings_as_lines():
                return fn(*args, **kwargs)
        except NotUtf8Error as e:  # bad input: the file must be saved again
            _fail(f"{e.code}: {e.message}", 2)
        except VcError as e:
            _fail(f"{e.code}: {e.message}")
        except OSError as e:
            _fail(f"{IO_ERROR}: " + f"{e.filename or ''}: {e.strerror or e}".lstrip(": "))

    return wrapper


_T = TypeVar("_T")


def _passphrase(ctx: click.Context, *, confirm: bool = False, new: bool = False, weak_ok: bool = False) -> bytes:
    """The key passphrase (:func:`_passphrase_text`) as UTF-8."""
    return _passphrase_text(ctx, confirm=confirm, new=new, weak_ok=weak_ok).encode("utf-8")


def _unlocking(ctx: click.Context, use: Callable[[bytes], _T]) -> _T:
    """``use(the key passphrase)``; again with the passphrase file's byte order mark if that is
    a wrong passphrase (a key sealed before the mark was dropped: see ``clistyle.opening``)."""
    return opening(_passphrase_text(ctx), lambda text: use(text.encode("utf-8")))


def _passphrase_text(ctx: click.Context, *, confirm: bool = False, new: bool = False, weak_ok: bool = False) -> str:
    """The key passphrase: from --passphrase-file, the environment, or a prompt; never argv.
    A ``new`` one (being set) must pass :func:`check_new_passphrase` unless ``weak_ok``
    (``--weak-passphrase``); otherwise exit status 2."""
    path = ctx.obj["passphrase_file"]
    if path is not None:
        value: str = read_secret_file(path)
    elif os.environ.get(PASSPHRASE_ENV):
        value = os.environ[PASSPHRASE_ENV]
    elif sys.stdin.isatty():
        value = click.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm)
    else:  # an option missing: a usage error, as the tools' other missing options
        _fail(f"NO_PASSPHRASE: use --passphrase-file FILE or set {PASSPHRASE_ENV}", 2)
    if not value:
        _fail("NO_PASSPHRASE: the passphrase is empty", 2)
    if new and not weak_ok:
        try:
            check_new_passphrase(value)
        except WeakPassphrase as e:
            _fail(f"{e.code}: {e.message}", 2)
    return value


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _open(ctx: click.Context, contexts: str | None = None, *, warn_lists: bool = True) -> Issuer:
    """The issuer, opened with the passphrase; with the warning of :func:`_warn_lists` unless
    not ``warn_lists`` (``publish``, which replaces the lists)."""
    if contexts is None:
        issuer = _unlocking(ctx, lambda passphrase: Issuer.open(ctx.obj["home"], passphrase))
    else:
        try:
            loader = PinnedContextLoader.with_user_contexts(contexts)
        except ContextIndexError as e:
            raise click.BadParameter(e.message, param_hint="--contexts") from None
        issuer = _unlocking(ctx, lambda passphrase: Issuer.open(ctx.obj["home"], passphrase, loader=loader))
    if warn_lists:
        _warn_lists(issuer.registry)
    return issuer


def _warn_lists(registry: StatusRegistry) -> None:
    """One ``warning:`` line on stderr when a published status list expires within
    STATUS_EXPIRY_WARNING or has expired (:func:`tradevc.issuer.service.expiry_warning`)."""
    line = expiry_warning(status_list_states(registry), _now())
    if line is not None:
        click.echo(f"warning: {line}", err=True)


def _home(ctx: click.Context) -> IssuerHome:
    """The issuer home, for the commands that neither sign nor use the registry, with the
    warning of :func:`_warn_lists`. A registry that cannot be read here is not this command's
    business: the commands that use it say what is wrong with it."""
    home = IssuerHome.open(ctx.obj["home"])
    path = home.path / REGISTRY_FILE
    if home.profile.status_base_url is not None and path.is_file():
        try:
            registry = StatusRegistry(path, base_url=home.profile.status_base_url)
        except (VcError, sqlite3.Error):
            return home
        try:
            _warn_lists(registry)
        except sqlite3.Error:
            pass
        finally:
            registry.close()
    return home


def _read_json(path: str) -> Any:
    """The I-JSON in ``path`` ('-': standard input): UTF-8 with or without a byte order mark
    (:func:`tradevc.vc.jsontext.decode_text`; anything else is refused naming the file and the
    byte, exit 2), read by :func:`tradevc.vc.jsontext.loads`: a member twice,
    ``NaN``/``Infinity``, an integer beyond 2**53-1 or a lone surrogate is a ``PARSING_ERROR``
    (one line, from :func:`_guard`), never signed. What the issuer signs is its own input: no
    size limits apply. A file that cannot be read is bad input (exit 2)."""
    data = read_all(sys.stdin.buffer) if path == "-" else _read_input(path)
    source = "standard input" if path == "-" else path
    text = decode_text(data, source=source)
    try:
        return loads(text, limits=None)
    except InvalidDocument as e:  # name the file: "subject.json: not JSON: ..."
        raise InvalidDocument(f"{source}: {e.message}", code=e.code) from None


def _read_input(path: str) -> bytes:
    """The bytes of a file named on the command line; one that cannot be read is a usage error
    (one line naming it, exit 2)."""
    try:
        with open(path, "rb") as f:  # a FIFO or a pipe: see read_all, a Ctrl-C is not lost
            return read_all(f)
    except OSError as e:
        _fail(f"{IO_ERROR}: cannot read {path}: {e.strerror or e}", EXIT_USAGE)


def _date_time_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--valid-from`` and ``--valid-until``: a dateTimeStamp, or a usage error (exit 2)
    before anything is asked or signed."""
    if value is not None:
        try:
            parse_datetime(value)
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a date and time with a time zone, like 2026-01-01T00:00:00Z"
            ) from None
    return value


def _url_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--id``: a URL (``urn:uuid:...``, ``https://...``), or a usage error (exit 2)."""
    if value is not None and not is_url(value):
        raise click.BadParameter(f"{value!r} is not a URL, such as urn:uuid:... or https://...")
    return value


def _read_credential(path: str) -> dict[str, Any] | str:
    """A signed credential from a file: JSON (a JSON object, read as :func:`_read_json` reads)
    or a ``vc+jwt`` compact token (the file's text, trimmed)."""
    text = decode_text(_read_input(path), source=path)
    if text.lstrip()[:1] == "{":
        document = loads(text, limits=None)
        if not isinstance(document, dict):  # pragma: no cover - '{' starts an object
            raise InvalidDocument(f"{path}: not a JSON object")
        return document
    if not text.isascii():
        raise InvalidDocument(f"{path}: neither a JSON credential nor a vc+jwt compact token")
    return text.strip()


def _check_out(out: str | None) -> None:
    """Refuse an ``--out`` that cannot be written (one line, exit 2) before anything is signed
    or recorded: a folder that does not exist, is not a folder, or cannot be written to."""
    if out is None or out == "-":
        return
    _check_folder(Path(out).parent, f"--out: cannot write {out}")


def _check_folder(folder: Path, what: str) -> None:
    """Refuse (one line starting with ``what``, exit 2) a ``folder`` to write in that does not
    exist, is not a folder, or cannot be written to."""
    if not folder.exists():
        _fail(f"{what}: the folder {folder} does not exist; create it first or choose another path", 2)
    if not folder.is_dir():
        _fail(f"{what}: {folder} is not a folder", 2)
    if not os.access(folder, os.W_OK | os.X_OK):
        _fail(f"{what}: no permission to write in the folder {folder}", 2)


def _known_types() -> str:
    return ", ".join(type_names()) + " (short names: " + ", ".join(TYPE_ALIASES) + ")"


def _check_type(type_name: str, allow_unknown: bool) -> str:
    """The full name of ``--type``; an unknown type is refused (one line, exit 2) with the
    close matches and the known types, unless ``allow_unknown`` (then a warning)."""
    full = resolve_type_name(type_name)
    if get_type(full) is not None:
        return full
    close = similar_type_names(type_name)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    if allow_unknown:
        click.echo(f"warning: {type_name} is not a known credential type: it is signed without the trade checks"
                   + (f" ({hint.rstrip()})" if hint else ""), err=True)
        return full
    _fail(
        f"--type: {type_name} is not a known credential type, so none of the trade checks would run; {hint}"
        f"known types: {_known_types()}; to sign a type of your own without the checks, add --allow-unknown-type",
        2,
    )


def _check_credential_types(document: dict[str, Any], source: str, allow_unknown: bool) -> None:
    """A whole credential (``--credential``) may carry types of its own, but not one that is
    nearly a known type's name (``MillTestReport``): that is a typo that would skip the trade
    checks, refused (exit 2) unless ``allow_unknown``."""
    types = document.get("type")
    for name in types if isinstance(types, list) else [types]:
        if not isinstance(name, str) or name == "VerifiableCredential" or get_type(name) is not None:
            continue
        close = similar_type_names(name, cutoff=0.85)
        if not close:
            continue
        if allow_unknown:
            click.echo(f"warning: {source}: type {name} is not {' or '.join(close)}: no trade checks for it", err=True)
            continue
        _fail(
            f"{source}: type {name} is not a known credential type but close to {' or '.join(close)}, whose "
            "trade checks would not run; write the known name in the credential's type, or add --allow-unknown-type "
            "if it is a type of your own",
            2,
        )


def _write_output(document: Any, out: str | None, *, before: bytes = b"") -> None:
    """Write the signed credential to ``out`` (None or '-': standard output), after the bytes
    ``before`` (the lines of a JSON Lines file written so far: the whole file is replaced at
    once). A file that cannot be written is an OSError naming ``out`` (not the temporary file
    written first)."""
    text = document + "\n" if isinstance(document, str) else json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None or out == "-":
        click.echo(text, nl=False)
        return
    try:
        write_atomic(Path(out), before + text.encode("utf-8"), mode=0o644)
    except OSError as e:
        raise OSError(e.errno, f"{e.strerror or e}; nothing was recorded as issued", out) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tradevc", prog_name="vc-issuer", message="%(prog)s (tradevc) %(version)s")
@click.option(
    "--home", type=click.Path(file_okay=False), envvar=HOME_ENV, default=str(DEFAULT_HOME), show_default=True,
    help=f"The issuer's state directory (or set {HOME_ENV}).",
)
@click.option(
    "--passphrase-file", type=click.Path(dir_okay=False), envvar=PASSPHRASE_FILE_ENV, default=None,
    help=f"File holding the key passphrase (or set {PASSPHRASE_FILE_ENV}, or {PASSPHRASE_ENV} to the "
    "passphrase itself). Without either, it is asked for on a terminal.",
)
@click.pass_context
def cli(ctx: click.Context, home: str, passphrase_file: str | None) -> None:
    """Issue W3C Verifiable Credentials for trade: certifications of origin, mill test
    reports, steel import licenses, invoices; and the credentials that say who the parties
    are: identity anchors, accreditations, GS1 and intellectual-property licences. Revoke or
    suspend them; publish your DID document and status lists.

    Exit status: 0 done, 1 refused (a trade check, a wrong passphrase, an unknown id), 2 usage
    error or a bad value (a date or URL that does not parse, a file that cannot be read), 130
    interrupted."""
    ctx.obj = {"home": Path(home).expanduser(), "passphrase_file": passphrase_file}


@cli.command()
@click.option("--name", required=True, help="The issuer's legal name, as it appears in credentials.")
@click.option(
    "--did-web", "did_web", metavar="HOST[:PORT][/PATH]",
    help="Use did:web for this host, where did.json will be served over https (default: did:key).",
)
@click.option("--status-base-url", metavar="URL", help="https://.../ where status lists will be served (default: no status lists).")
@click.option("--key-type", type=click.Choice(["Ed25519", "P-256", "P-384"]), default="Ed25519", show_default=True)
@click.option(
    "--cryptosuite", default="eddsa-rdfc-2022", show_default=True,
    type=click.Choice(["eddsa-rdfc-2022", "eddsa-jcs-2022", "ecdsa-rdfc-2019", "ecdsa-jcs-2019", "Ed25519Signature2020"]),
    help="Default cryptosuite for what this issuer signs.",
)
@click.option(
    "--weak-passphrase", is_flag=True,
    help=f"Accept a passphrase shorter than {MIN_PASSPHRASE_LENGTH} characters (not counting spaces around it).",
)
@click.pass_context
@_guard
def init(
    ctx: click.Context, name: str, did_web: str | None, status_base_url: str | None, key_type: str, cryptosuite: str,
    weak_passphrase: bool,
) -> None:
    """Create the issuer: a new key (sealed under the passphrase: scrypt, AES-256-GCM) and its DID.

    \b
    --did-web takes the host where did.json will be served, with its port and path if any:
      certifier.acme.example          -> https://certifier.acme.example/.well-known/did.json
      acme.example/issuers/mill       -> https://acme.example/issuers/mill/did.json
      acme.example:8443               -> did:web:acme.example%3A8443
    not a URL (https://acme.example is refused: did:web always means https).
    """
    if did_web is not None:
        try:
            did_web_for(did_web)
        except ValueError as e:  # before the passphrase is asked for
            _fail(f"--did-web: {e}", 2)
    issuer = Issuer.init(
        ctx.obj["home"], _passphrase(ctx, confirm=True, new=True, weak_ok=weak_passphrase), name=name, key_type=key_type, did_web_domain=did_web,
        status_base_url=status_base_url, cryptosuite=cryptosuite,
    )
    with issuer:
        click.echo(f"OK: issuer {name!r} created in {ctx.obj['home']}")
        click.echo(f"DID: {issuer.did}")
        if issuer.home.profile.did_method == "web":
            path = issuer.home.did_document_path()
            url = document_url(issuer.did)
            typed = (did_web or "").partition("/")[0].rpartition(":")[0] or (did_web or "").partition("/")[0]
            if not typed.isascii():
                click.echo(f"note: the DID names the host {typed} in its ASCII (IDNA) form, as DNS and certificates do")
            click.echo(f"publish its DID document at {url}")
            click.echo(f"  ('vc-issuer publish --out-dir SITE' writes it to SITE/{path}; serve SITE as that host's web root)")


def _signing_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``issue`` and ``issue-batch`` share: what is signed, and how."""
    options = [
        click.option(
            "--type", "type_name", metavar="TYPE",
            help="Credential type: one of the known types, checked before signing ("
            + ", ".join(type_names()) + "), or the short name of one ("
            + ", ".join(f"{alias} = {name}" for alias, name in TYPE_ALIASES.items())
            + "). Any other type is refused unless --allow-unknown-type.",
        ),
        click.option(
            "--allow-unknown-type", is_flag=True,
            help="Sign a type that is not one of the known types (or a --credential whose type is close to a known "
            "name), without the trade checks.",
        ),
        click.option("--valid-from", metavar="DATETIME", callback=_date_time_option, help="Start of validity, e.g. 2026-01-01T00:00:00Z (default: now)."),
        click.option(
            "--valid-until", metavar="DATETIME", callback=_date_time_option,
            help="End of validity (required for USMCA, SIMA, identity anchors and accreditations).",
        ),
        click.option("--no-revocation", is_flag=True, help="No revocation status entry."),
        click.option("--no-suspension", is_flag=True, help="No suspension status entry."),
        click.option("--cryptosuite", default=None, help="Override the issuer's default cryptosuite."),
        click.option(
            "--format", "securing", type=click.Choice(["di", "jose"]), default="di", show_default=True,
            help="di: JSON with a Data Integrity proof; jose: a VC-JOSE-COSE vc+jwt compact JWS.",
        ),
        click.option(
            "--contexts", type=click.Path(file_okay=False), metavar="DIR",
            help="A folder of JSON-LD contexts you pin besides the bundled ones: context files and an index.json of "
            "their URLs and SHA-256 (see the README).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _sign(
    issuer: Issuer, document: dict[str, Any], deliver: Callable[[Any], None], *, type_name: str | None,
    valid_from: str | None, valid_until: str | None, no_revocation: bool, no_suspension: bool,
    cryptosuite: str | None, securing: str, warn: Callable[[str], None], credential_id: str | None = None,
    derived_from: list[dict[str, Any] | str] | None = None,
) -> dict[str, Any] | str:
    """Sign ``document`` as the options say; recorded as issued only once ``deliver`` wrote it.
    What is wrong with it but not refused (expired, not valid yet, cannot be revoked:
    :func:`tradevc.issuer.service.issuing_warnings`) goes to ``warn``, once it is issued."""
    signed = issuer.issue(
        document, type_name=type_name, valid_from=valid_from, valid_until=valid_until, credential_id=credential_id,
        revocable=not no_revocation, suspendable=not no_suspension, cryptosuite=cryptosuite,
        securing="jose" if securing == "jose" else "data-integrity", derived_from=derived_from or (),
        deliver=deliver,
    )
    profile = issuer.home.profile
    for message in issuing_warnings(profile.did, signed, status_base_url=profile.status_base_url, now=_now()):
        warn(message)
    return signed


def _warning(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _credential_id(signed: dict[str, Any] | str) -> str:
    issued = parse_compact_jws(signed).payload if isinstance(signed, str) else signed
    return str(issued["id"])


@cli.command()
@_signing_options
@click.option("--subject", type=click.Path(dir_okay=False, allow_dash=True), help="JSON file with the credential subject ('-': stdin).")
@click.option("--credential", type=click.Path(dir_okay=False, allow_dash=True), help="JSON file with a whole unsigned credential instead.")
@click.option("--id", "credential_id", metavar="URL", callback=_url_option, help="The credential id (default: a new urn:uuid).")
@click.option(
    "--derived-from", "derived_from", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
    help="A signed credential this one derives from (JSON or vc+jwt; repeatable): listed in relatedResource "
    "with its id and a SHA-384 digestSRI (of its RFC 8785 form, or of the token).",
)
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), help="Write the signed credential here (default: stdout).")
@click.pass_context
@_guard
def issue(
    ctx: click.Context, type_name: str | None, subject: str | None, credential: str | None, valid_from: str | None,
    valid_until: str | None, credential_id: str | None, no_revocation: bool, no_suspension: bool,
    cryptosuite: str | None, securing: str, out: str | None, contexts: str | None, derived_from: tuple[str, ...],
    allow_unknown_type: bool,
) -> None:
    """Check, sign and record a credential.

    \b
    A registrar anchoring a mill's DID to its registered identifiers:
      vc-issuer issue --type IdentityAnchor --subject mill-subject.json \\
                      --valid-until 2027-06-30T23:59:59Z --out mill-anchor.json
    (issuer/examples/identity-anchor.subject.json is such a subject.)

    \b
    A pipe mill's transformation event, pinned to the mill test report it consumed:
      vc-issuer issue --type TransformationEvent --subject event.json \\
                      --derived-from melt-shop-mtr.json --out event-signed.json
    """
    if (subject is None) == (credential is None):
        raise click.UsageError("give exactly one of --subject (with --type) or --credential")
    if subject is not None and not type_name:
        raise click.UsageError("--subject needs --type")
    source = subject if subject is not None else credential
    if not source:  # an empty path names no file
        raise click.UsageError("--subject and --credential take a JSON file, or - for standard input")
    if type_name is not None:
        type_name = _check_type(type_name, allow_unknown_type)
    document = _read_json(source)
    if not isinstance(document, dict):
        raise InvalidDocument(f"{source}: the input must be a JSON object")
    if credential is not None:
        _check_credential_types(document, source, allow_unknown_type)
    inputs = [_read_credential(path) for path in derived_from]
    _check_out(out)
    with _open(ctx, contexts) as issuer:
        signed = _sign(
            issuer, document, lambda signed: _write_output(signed, out), type_name=type_name, valid_from=valid_from,
            valid_until=valid_until, no_revocation=no_revocation, no_suspension=no_suspension,
            cryptosuite=cryptosuite, securing=securing, credential_id=credential_id, derived_from=inputs,
            warn=_warning,
        )
    if out not in (None, "-"):
        click.echo(f"OK: issued {_credential_id(signed)} -> {out}", err=True)


EXIT_INTERRUPTED = 130


@contextmanager
def _stop_on_interrupt() -> Iterator[Callable[[], bool]]:
    """A function that says whether Ctrl-C was pressed: the first one lets the credential being
    signed finish (a second one interrupts at once: nothing is half-written, the atomic writer
    and the registry see to that)."""
    pressed: list[bool] = []

    def handler(signum: int, frame: Any) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: Ctrl-C stays a KeyboardInterrupt
        yield lambda: False
        return
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[], None]]:
    """A function to call after each line: draws a progress bar on stderr, only on a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda: None
        return
    columns = (TextColumn("issuing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("issuing", total=total)
        yield lambda: bar.advance(task)


@cli.command(name="issue-batch")
@click.argument("subjects", type=click.Path(dir_okay=False, exists=True))
@_signing_options
@click.option(
    "--out-dir", type=click.Path(file_okay=False),
    help="Write each credential to its own file in this folder (which must exist): line-NNNN.json (or .jwt with "
    "--format jose), NNNN the line number of its subject. A file already there is replaced.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False),
    help="Write the credentials to this JSON Lines file instead, one a line, in the order of the subjects.",
)
@click.pass_context
@_guard
def issue_batch(
    ctx: click.Context, subjects: str, type_name: str | None, allow_unknown_type: bool, valid_from: str | None,
    valid_until: str | None, no_revocation: bool, no_suspension: bool, cryptosuite: str | None, securing: str,
    contexts: str | None, out_dir: str | None, out: str | None,
) -> None:
    """Issue one credential per line of SUBJECTS, a JSON Lines file of credential subjects
    (UTF-8, with or without a byte order mark; blank lines are skipped), in one process: the
    passphrase is asked once. Each credential is checked, signed, written and recorded on its
    own as 'vc-issuer issue' does: a bad line is reported with its number and reason and the
    others are issued.

    \b
    Exit status: 0 all issued, 1 some lines failed, 2 bad usage or input (no subject in the
    file, not UTF-8), 130 interrupted (Ctrl-C stops after the credential being signed, and
    the summary is printed).

    \b
      vc-issuer issue-batch subjects.jsonl --type USMCACertificationOfOrigin \\
                            --valid-until 2027-06-30T23:59:59Z --out-dir issued/
    """
    if (out_dir is None) == (out is None):
        raise click.UsageError("give exactly one of --out-dir DIR or --out FILE.jsonl")
    if not type_name:
        raise click.UsageError("issue-batch needs --type")
    type_name = _check_type(type_name, allow_unknown_type)
    text = read_text(subjects)
    lines = [(number, line) for number, line in enumerate(text.split("\n"), 1) if line.strip()]
    if not lines:
        _fail(f"{subjects}: no subject in the file: give one JSON object a line", 2)
    if out_dir is not None:
        _check_folder(Path(out_dir), f"--out-dir: cannot write in {out_dir}")
    else:
        _check_out(out)
    written: list[bytes] = []  # the lines of --out so far

    def deliver(number: int) -> Callable[[Any], None]:
        if out_dir is not None:
            name = f"line-{number:04d}." + ("jwt" if securing == "jose" else "json")
            return lambda signed: _write_output(signed, str(Path(out_dir) / name))

        def append(signed: Any) -> None:
            line = signed if isinstance(signed, str) else json.dumps(signed, ensure_ascii=False)
            _write_output(line, out, before=b"".join(written))
            written.append(line.encode("utf-8") + b"\n")
        return append

    issued = 0
    failed: list[tuple[int, str]] = []
    interrupted = False
    warned: dict[str, int] = {}  # each warning once, with the number of credentials it concerns

    def warn(message: str) -> None:
        warned[message] = warned.get(message, 0) + 1
    with _open(ctx, contexts) as issuer, _stop_on_interrupt() as stop, _progress(len(lines)) as advance:
        try:
            for number, line in lines:
                if stop():
                    interrupted = True
                    break
                try:
                    document = loads(line.strip(), limits=None)
                    if not isinstance(document, dict):
                        raise InvalidDocument("the subject must be a JSON object")
                    _sign(issuer, document, deliver(number), type_name=type_name, valid_from=valid_from,
                          valid_until=valid_until, no_revocation=no_revocation, no_suspension=no_suspension,
                          cryptosuite=cryptosuite, securing=securing, warn=warn)
                    issued += 1
                except VcError as e:
                    failed.append((number, f"{e.code}: {e.message}"))
                except OSError as e:
                    failed.append((number, f"{IO_ERROR}: " + f"{e.filename or ''}: {e.strerror or e}".lstrip(": ")))
                advance()
        except KeyboardInterrupt:  # a second Ctrl-C: the credential being signed was not recorded
            interrupted = True
    for message, count in warned.items():
        _warning(f"{message} ({count} credential{'s' if count != 1 else ''})")
    where = out_dir if out_dir is not None else out
    click.echo(f"issued {issued}, failed {len(failed)} of {len(lines)} subject(s) in {subjects} -> {where}")
    for number, reason in failed:
        click.echo(f"  line {number}: {escape_hidden(reason, keep_newlines=False)}")
    if interrupted:
        left = len(lines) - issued - len(failed)
        click.echo(f"error: interrupted: {left} subject(s) not issued", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if failed:
        sys.exit(1)


def _status_command(name: str, verb: str, past: str) -> None:
    @cli.command(name=name, help=f"{verb} an issued credential (then run 'vc-issuer publish').")
    @click.argument("credential_id")
    @click.pass_context
    @_guard
    def command(ctx: click.Context, credential_id: str) -> None:
        with _open(ctx) as issuer:
            changed = getattr(issuer, name)(credential_id)
        click.echo(f"OK: {credential_id} {past}" if changed else f"OK: {credential_id} was already {past}")


_status_command("revoke", "Revoke (permanently)", "revoked")
_status_command("suspend", "Suspend", "suspended")
_status_command("reinstate", "Lift the suspension of", "reinstated")


@cli.command()
@click.option("--out-dir", required=True, type=click.Path(file_okay=False), help="Web root to write into.")
@click.option(
    "--valid-days", default=DEFAULT_LIST_VALIDITY.days, show_default=True, type=click.IntRange(1, 366),
    help="Validity of the status list credentials: publish again before it ends ('vc-issuer status' says when).",
)
@click.pass_context
@_guard
def publish(ctx: click.Context, out_dir: str, valid_days: int) -> None:
    """Write did.json (did:web) and the signed status lists, laid out as your website serves them.

    \b
    Each publish is a new version of every list, kept in the registry: the version it
    replaces is signed once more, valid until now, and the whole history is written beside
    each list (LIST.history/1, 2, ... and LIST.history/index.json), so that verifiers can
    check a credential's status as of a past moment (an entry date) years later. Upload the
    whole folder: plain files, any static web host serves them.
    """
    with _open(ctx, warn_lists=False) as issuer:
        written = issuer.publish(out_dir, valid_for=timedelta(days=valid_days))
        lists = issuer.status_lists()
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"OK: {len(written)} file(s) published under {out_dir}")
    if lists and lists[0].published is not None:
        click.echo(f"the status lists are valid until {lists[0].published.valid_until}: upload {out_dir} now, "
                   "and publish again before then ('vc-issuer status' says when)")


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
@_guard
def list_(ctx: click.Context, as_json: bool) -> None:
    """What this issuer issued, with its status."""
    home = IssuerHome.open(ctx.obj["home"])
    registry = StatusRegistry(home.path / REGISTRY_FILE, base_url=home.profile.status_base_url)
    try:
        _warn_lists(registry)
        records = registry.records()
    finally:
        registry.close()
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in records], indent=2))
        return
    if not records:
        click.echo("nothing issued yet")
        return

    def flag(value: bool | None, word: str) -> str:
        return "-" if value is None else (word if value else "no")

    click.echo(f"{'ID':46} {'TYPE':36} {'VALID UNTIL':21} {'REVOKED':8} {'SUSPENDED':9} STATE")
    for r in records:
        kind = next((t for t in r.types if t != "VerifiableCredential"), "VerifiableCredential")
        click.echo(
            f"{r.id:46} {kind:36} {r.valid_until or '-':21} {flag(r.revoked, 'REVOKED'):8} "
            f"{flag(r.suspended, 'SUSPENDED'):9} {r.state}"
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--check", is_flag=True,
    help="Exit status 1 if a list needs publishing: never published, expired, expiring within "
    f"{STATUS_EXPIRY_WARNING.days} days, or changed since it was published (for cron and monitoring).",
)
@click.pass_context
@_guard
def status(ctx: click.Context, as_json: bool, check: bool) -> None:
    """The status lists and how fresh what was published of them is: per list its purpose,
    URL, entries used, when it was published and until when it is valid ('expires in N days',
    'EXPIRED N days ago', 'never published'), whether a revoke, suspend or reinstate is not
    published yet, and how many versions of each list were published and are kept (every
    publish adds one; 'publish' writes them all to LIST.history/ beside each list, so that
    verifiers can check a status as of a past moment).

    \b
    Verifiers treat an expired list as 'could not verify'. Every command warns (stderr) when a
    published list expires within a week or has expired; 'vc-issuer publish --out-dir DIR' then
    upload renews them. Exit status: 0 (also with a warning), or with --check 1 if a list
    needs publishing.
    """
    home = IssuerHome.open(ctx.obj["home"])
    registry = StatusRegistry(home.path / REGISTRY_FILE, base_url=home.profile.status_base_url)
    try:
        _warn_lists(registry)
        states = status_list_states(registry)
        versions: dict[tuple[str, int], int] = {}
        for v in registry.versions():
            versions[(v.purpose, v.seq)] = versions.get((v.purpose, v.seq), 0) + 1
    finally:
        registry.close()
    now = _now()
    stale = any(s.state(now) != "valid" or s.changed for s in states)
    if as_json:
        click.echo(json.dumps({
            "did": home.profile.did, "now": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "warn_within_days": STATUS_EXPIRY_WARNING.days, "needs_publish": stale,
            "lists": [{
                "purpose": s.summary.purpose, "seq": s.summary.seq, "url": s.summary.url,
                "used": s.summary.used, "length": s.summary.length, "set": len(s.summary.set_bits),
                "published_at": s.published.published_at if s.published else None,
                "valid_from": s.published.valid_from if s.published else None,
                "valid_until": s.published.valid_until if s.published else None,
                "out_dir": s.published.out_dir if s.published else None,
                "state": s.state(now), "changed_since_publish": s.changed, "description": s.describe(now),
                "versions": versions.get((s.summary.purpose, s.summary.seq), 0),
            } for s in states],
        }, indent=2))
    elif not states:
        click.echo("no status lists: " + (
            "nothing was issued with a status entry yet" if home.profile.status_base_url else
            "this issuer has no status base URL, so its credentials carry no status entries"
        ))
    else:
        click.echo(f"{'PURPOSE':11} {'USED':15} {'PUBLISHED':21} {'VALID UNTIL':21} URL  STATE")
        for s in states:
            published = s.published.published_at if s.published else "-"
            until = s.published.valid_until if s.published else "-"
            used = f"{s.summary.used}/{s.summary.length}"
            click.echo(f"{s.summary.purpose:11} {used:15} {published:21} {until:21} {s.summary.url}  {s.describe(now)}")
        kept = [f"{s.summary.purpose}/{s.summary.seq}: {versions.get((s.summary.purpose, s.summary.seq), 0)}"
                for s in states]
        click.echo(f"versions published and kept (the lists' history, served beside each list): {', '.join(kept)}")
        places = sorted({s.published.out_dir for s in states if s.published})
        if places:
            click.echo(f"last published to {', '.join(places)}; upload it to where the URLs point after each publish")
    if check and stale:
        sys.exit(1)


@cli.command()
@click.pass_context
@_guard
def did(ctx: click.Context) -> None:
    """Print the issuer's DID document."""
    click.echo(json.dumps(_home(ctx).did_document(), indent=2))


@cli.group()
def key() -> None:
    """Manage the issuer's signing keys."""


@key.command(name="list")
@click.pass_context
@_guard
def key_list(ctx: click.Context) -> None:
    """The keys in the DID document: the current one and the retired ones."""
    for record in _home(ctx).profile.keys:
        state = "current" if record.retired is None else f"retired {record.retired}"
        click.echo(f"{record.id}  {record.key_type}  created {record.created}  {state}")


@key.command()
@click.option("--key-type", type=click.Choice(["Ed25519", "P-256", "P-384"]), default=None, help="Default: same as now.")
@click.pass_context
@_guard
def rotate(ctx: click.Context, key_type: str | None) -> None:
    """Make a new current key. The old key stays under assertionMethod, so what it signed keeps
    verifying; publish afterwards."""
    home = _home(ctx)
    record = _unlocking(ctx, lambda passphrase: home.rotate_key(passphrase, key_type=key_type))
    click.echo(f"OK: new current key {record.id}; run 'vc-issuer publish' to update did.json")


@key.command()
@click.argument("key_id")
@click.pass_context
@_guard
def remove(ctx: click.Context, key_id: str) -> None:
    """Remove a retired key from the DID document: credentials it signed stop verifying."""
    _home(ctx).remove_key(key_id)
    click.echo(f"OK: removed {key_id}; run 'vc-issuer publish' to update did.json")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
@_guard
def backup(ctx: click.Context, file: str) -> None:
    """Write the keys, the profile and the status registry to FILE, sealed under the key
    passphrase. Safe while other vc-issuer commands issue: the registry is copied consistently.
    Without the registry, what was issued cannot be revoked: back up after issuing."""
    summary = _unlocking(ctx, lambda passphrase: backup_home(ctx.obj["home"], file, passphrase))
    _home(ctx)
    click.echo(f"OK: backup of {summary.did}: {summary.keys} key(s), {summary.credentials} credential(s) -> {file}")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--force", is_flag=True, help="Replace the issuer already in --home (stop other vc-issuer commands first).")
@click.pass_context
@_guard
def restore(ctx: click.Context, file: str, force: bool) -> None:
    """Put the issuer of a backup FILE (from 'vc-issuer backup') in --home; refused if --home
    already holds an issuer, unless --force. It opens with the key passphrase of the issuer
    backed up."""
    summary = _unlocking(ctx, lambda passphrase: restore_home(file, ctx.obj["home"], passphrase, force=force))
    click.echo(f"OK: restored {summary.did} in {ctx.obj['home']}: {summary.keys} key(s), "
               f"{summary.credentials} credential(s)")


# -- trying the published site locally; the shipped schemas and examples -------------------------
# (imported here, beside the commands that use them)

from tradevc.vc.checks.schemas import default_schema_store, shipped_schema_for  # noqa: E402

from .credential_types import load_example  # noqa: E402
from .site import SiteError, SiteServer, SiteUnavailable, sigterm_stops, start_site  # noqa: E402


@cli.command(name="serve-site", short_help="Serve the published site over HTTPS on this machine, to try did:web.")
@click.argument("directory", default="site", type=click.Path(file_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port to listen on (default: the port of the localhost DID in DIRECTORY, else 8443).")
@click.option("--host", "bind", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="Address to listen on: loopback only, unless --public.")
@click.option("--public", is_flag=True, help="Allow a --host that is not loopback (others on the network can then connect).")
@click.option("--ca-out", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Where to write the throwaway CA certificate (default: DIRECTORY-ca.pem beside DIRECTORY).")
@_guard
def serve_site(directory: str, port: int | None, bind: str, public: bool, ca_out: str | None) -> None:
    """Serve DIRECTORY (what 'vc-issuer publish --out-dir DIRECTORY' wrote; default: site)
    over HTTPS on this machine, to try did:web and status lists before they go on a real
    website (see PUBLISHING.md).

    \b
    A CA made for this run (written to --ca-out) signs a certificate for localhost,
    127.0.0.1 and the hosts of the DIDs found; it prints the DIDs it serves and the options
    that let vc-verify and vc-wallet trust it. Files only (no listings, no redirects), with
    their media types and CORS; GET and HEAD only; nothing outside DIRECTORY is served.
    A status list asked for as LIST?timestamp=DATETIME is answered with the version of its
    history (LIST.history/, written by publish) in effect then (404 if none was).
    An issuer to try it with:
      vc-issuer init --name "Mill" --did-web localhost:8443 \\
                     --status-base-url https://localhost:8443/status/
      vc-issuer publish --out-dir site && vc-issuer serve-site site
    Ctrl-C (or SIGTERM) stops it: it prints 'stopped' and exits 0.
    """
    try:
        server = start_site(directory, bind=bind, port=port, ca_out=ca_out, public=public)
    except SiteUnavailable as e:
        _fail(e.message)
    except SiteError as e:  # the folder, or a non-loopback --host: bad input
        _fail(e.message, 2)
    with sigterm_stops():
        try:
            _announce(server, directory)
            server.serve()
        except KeyboardInterrupt:  # before serving began
            server.close()
    click.echo("stopped")


def _announce(server: SiteServer, directory: str) -> None:
    """What serve-site prints once it listens: where, which DIDs, the CA, the options for vc-verify."""
    where = f"[{server.bind}]" if ":" in server.bind else server.bind
    click.echo(f"serving {directory} at {server.base_url} (listening on {where}:{server.port}; Ctrl-C stops)")
    for found in server.dids:
        click.echo(f"DID {found.did}: {found.url}")
        for note in found.notes:
            click.echo(f"  warning: {note}")
    if not server.dids:
        click.echo(f"note: no did.json in {directory} (a did:key issuer publishes status lists only)")
    click.echo(f"CA certificate (made for this run, trusted for these names only): {server.ca_path}")
    click.echo("verify with these options (vc-wallet add and check take them too):")
    click.echo("  vc-verify credential FILE --trust POLICY " + " ".join(server.verify_options()))


def _known_type(type_name: str) -> str:
    """The full name of a known trade type (a short name is accepted); otherwise one line with
    the close names and the known ones, exit 2."""
    full = resolve_type_name(type_name)
    if get_type(full) is not None:
        return full
    close = similar_type_names(type_name)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    _fail(f"{type_name} is not a known credential type; {hint}known types: {_known_types()}", 2)


@cli.command(short_help="Print the JSON Schema of a trade credential type.")
@click.argument("type_name", metavar="TYPE", required=False)
@click.option("--list", "list_all", is_flag=True, help="List the trade types and the URL of each one's schema.")
def schema(type_name: str | None, list_all: bool) -> None:
    """Print the JSON Schema of a trade credential TYPE, as shipped (contexts/schemas/): the
    schema the issuer names in the credential's credentialSchema and checks before signing,
    and the verifier holds, pinned by its SHA-256."""
    if list_all:
        for name in type_names():
            click.echo(f"{name:44} {shipped_schema_for(name) or '-'}")
        return
    if not type_name:
        raise click.UsageError("give a TYPE (e.g. USMCACertificationOfOrigin), or --list")
    full = _known_type(type_name)
    url = shipped_schema_for(full)
    data = default_schema_store().resource_bytes(url) if url else None
    if data is None:
        _fail(f"{full} has no shipped JSON Schema", 1)
    click.echo(data, nl=False)


@cli.command(short_help="Print the example subject of a trade credential type.")
@click.argument("type_name", metavar="TYPE")
def example(type_name: str) -> None:
    """Print the example credential subject of a trade credential TYPE (what issuer/examples/
    holds), to edit or to issue as it is:

    \b
      vc-issuer example USMCACertificationOfOrigin > subject.json
      vc-issuer issue --type USMCACertificationOfOrigin --subject subject.json ...
    """
    click.echo(json.dumps(load_example(_known_type(type_name)), indent=2, ensure_ascii=False))


def main() -> None:
    cli(prog_name="vc-issuer")


if __name__ == "__main__":
    main()
