"""``vc-verify``: verify a credential or a presentation from the command line.

``--pack FILE --pack-signer DID`` verifies with an offline trust pack instead of ``--trust``
(see :mod:`tradevc.verifier.pack` and ``vc-verify pack --help``).

Exit status: 0 verified; 1 not verified (a check failed, or the input is not a credential);
3 could not verify (a check could not be carried out, e.g. a status list or DID document
could not be fetched); 2 bad usage (unreadable trust policy, missing option, a bad --mirror);
130 interrupted. Errors are ``error: ...`` lines on stderr (see :mod:`tradevc.clistyle`).

``--mirror HOST=URL``, ``--mirror-file FILE`` and ``--snapshot DIR`` read other parties'
did:web documents and status lists from a mirror or a snapshot directory (see :mod:`tradevc.vc.retrieval.mirror`).

``vc-verify credential``, ``presentation`` and ``entry`` keep the status lists and did:web DID
documents they fetch in a cache on disk (``--cache-dir DIR``, else ``$TRADEVC_CACHE_DIR``, else
``$XDG_CACHE_HOME/tradevc/verifier``, ``~/.cache/...`` without XDG_CACHE_HOME; ``--no-cache``: none;
never with ``--offline`` or ``--pack``), as the bytes fetched, so that
``--stale-status-if-error MINUTES`` works across runs: when an issuer's host does not answer (or
answers HTTP 5xx), a later run verifies the cached copies again and uses them if they are at most
MINUTES past their freshness, and the report says so (see
:mod:`tradevc.vc.retrieval.disk_cache`). A cache directory that cannot be used is one
``warning:`` line, and the run goes on without it.

Only public hosts are fetched from: ``--allow-host HOST[:PORT]`` (repeatable) lets a host on
loopback or a private network through, e.g. a local test server (see
:mod:`tradevc.vc.retrieval.netguard`).

``vc-verify archive`` keeps evidence bundles in an archive indexed in the ledger's database,
finds, prunes and checks them, and re-verifies them, on this machine or a Dask cluster (see
:mod:`tradevc.verifier.cli_archive`).

``vc-verify challenge new`` issues a challenge and remembers it in a challenge store (an
SQLite file: ``--challenges FILE``, else ``$TRADEVC_CHALLENGES``, else
``$XDG_DATA_HOME/tradevc/challenges.sqlite``, ``~/.local/share/...`` without XDG_DATA_HOME);
``vc-verify presentation --challenges FILE`` (or ``$TRADEVC_CHALLENGES``) then accepts a
presentation only for a challenge of that store, unexpired and not used before, and uses it
up (see :mod:`tradevc.verifier.challenges`).

``--evidence OUT.json --evidence-home DIR`` on ``credential``, ``presentation`` and ``entry``
writes the sealed evidence bundle of the verification; ``vc-verify evidence-key init`` makes
the sealing key and ``vc-verify replay BUNDLE.json`` decides again from a bundle alone (see
:mod:`tradevc.verifier.cli_evidence`).
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn

import click
import requests

from tradevc.clistyle import Group, fail, read_all
from tradevc.vc.compat import DEVIATIONS, PROFILES, Compatibility
from tradevc.vc.errors import ContextIndexError, InvalidDocument, NotUtf8Error
from tradevc.vc.jsontext import escape_hidden, Limits
from tradevc.vc.securing.jws import document_of_file
from tradevc.vc.retrieval.disk_cache import MAX_ENTRIES, MAX_TOTAL_BYTES, DiskCache, UnsafeFileError
from tradevc.vc.retrieval.mirror import Mirror
from tradevc.vc.retrieval.netguard import AllowList
from tradevc.vc.checks.schemas import SchemaStore, SchemaStoreError
from tradevc.vc.checks.vouches import hs_code as hs_digits
from tradevc.vc.checks.policy import TrustPolicy
from tradevc.vc.report import CheckResult, Outcome, PresentationResult, VerificationResult

from .challenges import ChallengeStoreError, SqliteChallengeStore
from .describe import (
    COLOR_MODES, colour_wanted, credential_text, presentation_text, print_report, shown_credential, shown_presentation,
    table_rows, with_paths,
)
from .cli_archive import archive as archive_commands
from .cli_entry import entry_command
from .cli_evidence import (
    archive_ledger_option, evidence_archive, evidence_key as evidence_key_commands, evidence_key_from_options,
    replay_command, with_evidence_options, write_evidence,
)
from .evidence import with_evidence
from .cli_pack import PACK_SIGNER_HELP, pack as pack_commands, pack_verifier
from .pack import SIGNERS_ENV as PACK_SIGNERS_ENV
from .service import Verifier
from .trust import TrustPathPolicy, load_policy, vouches_in

EXIT_VERIFIED, EXIT_NOT_VERIFIED, EXIT_USAGE, EXIT_COULD_NOT_VERIFY = 0, 1, 2, 3
EXIT_INTERRUPTED = 130


def _usage_error(message: str) -> NoReturn:
    """``error: <message>`` on stderr, one line, and exit 2."""
    fail(message, EXIT_USAGE)


_EMPTY_HINTS = {
    "--challenge": "give the challenge you gave the holder (e.g. one from 'vc-verify challenge new')",
    "--domain": "give your domain, as the holder bound the presentation to it (e.g. cbp.gov)",
}


def _given(value: str | None) -> str | None:
    """``value``, or None if it is empty or only white space (an unset shell variable)."""
    return value if value is not None and value.strip() else None


def _load_policy(path: str) -> TrustPolicy | TrustPathPolicy:
    """The policy of ``--trust``: flat (``trustedIssuers``) or with roots and paths (see
    :mod:`tradevc.verifier.trust`); a malformed file is a usage error naming the member."""
    try:
        return load_policy(path)
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}", param_hint="--trust") from None
    except ValueError as e:
        raise click.BadParameter(f"{path}: {e}", param_hint="--trust") from None


def _compatibility(names: tuple[str, ...]) -> Compatibility:
    try:
        return Compatibility.of(*names)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--compat") from None


def mirror_from_options(
    mirrors: tuple[str, ...], mirror_file: str | None, snapshots: tuple[str, ...]
) -> Mirror | None:
    """The :class:`tradevc.vc.retrieval.mirror.Mirror` of ``--mirror HOST=URL`` (these win), ``--mirror-file``
    and ``--snapshot DIR`` options, or None if none was given.

    :raises click.BadParameter: a malformed HOST=URL, a mirror that is not https, an
        unreadable or malformed mapping file, a snapshot that is not a directory.
    """
    mirror = Mirror()
    for spec in mirrors:
        host, equals, url = spec.partition("=")
        if not equals:
            raise click.BadParameter(f"expected HOST=URL, not {spec!r}", param_hint="--mirror")
        try:
            mirror = mirror.merged(Mirror({host.strip(): url.strip()}))
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--mirror") from None
    if mirror_file:
        try:
            mirror = mirror.merged(Mirror.from_file(mirror_file))
        except OSError as e:
            raise click.BadParameter(f"cannot read {mirror_file}: {e.strerror}", param_hint="--mirror-file") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise click.BadParameter(f"{mirror_file}: {e}", param_hint="--mirror-file") from None
    try:
        mirror = mirror.merged(Mirror(snapshots=snapshots))
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--snapshot") from None
    return mirror if mirror.hosts or mirror.snapshots else None


def _load_schemas(path: str | None) -> SchemaStore | None:
    if path is None:
        return None
    try:
        return SchemaStore.from_index(path)
    except SchemaStoreError as e:
        raise click.BadParameter(e.message, param_hint="--schemas") from None


def verifier_for(
    policy: Any, *, offline: bool, ca_bundle: str | None, mirror: Mirror | None, stale: timedelta | None = None,
    schemas: SchemaStore | None = None, compatibility: Compatibility | None = None, contexts: str | None = None,
    allow_hosts: tuple[str, ...] = (), cache: DiskCache | None = None,
) -> Verifier:
    """The Verifier the command-line options ask for (shared with ``vc-wallet``); ``cache``,
    the disk cache, is used online only.

    :raises click.BadParameter: ``--offline`` with an https ``--mirror``, a ``--contexts``
        folder that cannot be used, or an ``--allow-host`` that is not HOST[:PORT].
    """
    try:
        allow = AllowList(allow_hosts)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--allow-host") from None
    try:
        if offline:
            try:
                return Verifier.offline(
                    policy=policy, mirror=mirror, schemas=schemas, compatibility=compatibility, contexts=contexts
                )
            except ValueError:
                raise click.BadParameter(
                    "--offline reads --snapshot directories only; an https mirror needs the network",
                    param_hint="--mirror",
                ) from None
        session = requests.Session()
        if ca_bundle:
            session.verify = ca_bundle
        return Verifier(
            policy=policy, session=session, stale_status_if_error=stale, mirror=mirror, schemas=schemas,
            compatibility=compatibility, contexts=contexts, allow_hosts=allow, cache=cache,
        )
    except ContextIndexError as e:
        raise click.BadParameter(e.message, param_hint="--contexts") from None


def _verifier(
    trust: str | None, offline: bool, ca_bundle: str | None, stale_minutes: int | None, *,
    mirrors: tuple[str, ...] = (), mirror_file: str | None = None, snapshots: tuple[str, ...] = (),
    schemas: str | None = None, compat: tuple[str, ...] = (), contexts: str | None = None,
    allow_hosts: tuple[str, ...] = (), pack: str | None = None, pack_signers: tuple[str, ...] = (),
) -> Verifier:
    if pack is not None:  # everything comes from the pack (see cli_pack)
        return pack_verifier(pack, pack_signers, compatibility=_compatibility(compat), conflicts={
            "--trust": trust is not None, "--mirror": bool(mirrors), "--mirror-file": mirror_file is not None,
            "--snapshot": bool(snapshots), "--schemas": schemas is not None, "--contexts": contexts is not None,
            "--stale-status-if-error": stale_minutes is not None,
        })
    if trust is None:
        raise click.UsageError("give --trust FILE (your trust policy), or --pack FILE --pack-signer DID")
    policy = _load_policy(trust)
    mirror = mirror_from_options(mirrors, mirror_file, snapshots)
    held = _load_schemas(schemas)
    stale = timedelta(minutes=stale_minutes) if stale_minutes else None
    return verifier_for(
        policy, offline=offline, ca_bundle=ca_bundle, mirror=mirror, stale=stale, schemas=held,
        compatibility=_compatibility(compat), contexts=contexts, allow_hosts=allow_hosts,
        cache=None if offline else _disk_cache(),
    )


CACHE_ENV = "TRADEVC_CACHE_DIR"
_CACHE_META = "vc-verify cache options"  # ctx.meta: (--cache-dir, --no-cache) of the running command


def default_cache_dir() -> Path:
    """Where the verifier keeps its disk cache when neither ``--cache-dir`` nor
    ``$TRADEVC_CACHE_DIR`` says: ``$XDG_CACHE_HOME/tradevc/verifier`` (XDG_CACHE_HOME defaults
    to ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tradevc" / "verifier"


def _remember_cache_option(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """``--cache-dir`` and ``--no-cache`` are not handed to the command's function: they are
    kept for :func:`_disk_cache`, so that the commands' signatures need not change."""
    options = ctx.meta.setdefault(_CACHE_META, {})
    options[param.name] = value
    return value


def _disk_cache() -> DiskCache | None:
    """The disk cache the running command's ``--cache-dir`` / ``--no-cache`` ask for (None for a
    command without them, or with ``--no-cache``). A directory that cannot be used is one
    ``warning:`` line on stderr, and the command goes on without a cache (exit status unchanged)."""
    context = click.get_current_context(silent=True)
    options = context.meta.get(_CACHE_META) if context is not None else None
    if not options or options.get("no_cache"):
        return None
    directory = options.get("cache_dir") or default_cache_dir()
    try:
        return DiskCache(directory)
    except UnsafeFileError as e:
        reason = e.message
    except OSError as e:
        reason = f"cannot make or read it: {e.strerror or e}"
    click.echo(escape_hidden(f"warning: not using the cache directory {directory}: {reason}", keep_newlines=False),
               err=True)
    return None


_COMPAT_HELP = (
    "Tolerate pre-Recommendation forms: a profile (" + ", ".join(sorted(PROFILES)) + ") or one deviation ("
    + ", ".join(DEVIATIONS) + "); repeatable. Each one tolerated is a compat:<id> warning in the report."
)


CHALLENGES_ENV = "TRADEVC_CHALLENGES"


def default_challenges_path() -> Path:
    """Where ``vc-verify challenge new`` keeps its challenges when neither ``--challenges`` nor
    ``$TRADEVC_CHALLENGES`` says: ``$XDG_DATA_HOME/tradevc/challenges.sqlite`` (XDG_DATA_HOME
    defaults to ``~/.local/share``)."""
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "tradevc" / "challenges.sqlite"


def _challenge_store(path: str) -> SqliteChallengeStore:
    try:
        return SqliteChallengeStore(path)
    except ChallengeStoreError as e:
        raise click.BadParameter(e.message, param_hint="--challenges") from None


def read_capped(path: str, limits: Limits) -> bytes:
    """The bytes of ``path`` ('-': standard input), at most one more than the limit's
    ``max_document_size`` (enough to tell that a file is over it, without reading it all).

    :raises OSError: the file cannot be read.
    """
    cap = limits.max_document_size + 1
    if path == "-":
        return read_all(sys.stdin.buffer, cap)
    with open(path, "rb") as f:  # a FIFO or a pipe: see read_all, a Ctrl-C is not lost
        return read_all(f, cap)


def _read(path: str, limits: Limits) -> tuple[Any, VerificationResult | None]:
    """The parsed document (a compact JWS is returned as the string, without the file's one
    trailing line end), or a failed report if it is neither I-JSON nor a token, or over
    ``limits`` (see :func:`tradevc.vc.securing.jws.document_of_file`). UTF-8 with or without a
    byte order mark; a file in another encoding exits 2 with one line naming it."""
    try:
        data = read_capped(path, limits)
    except OSError as e:
        raise click.BadParameter(f"cannot read {path}: {e.strerror}", param_hint="FILE") from None
    try:
        return document_of_file(data, limits=limits), None
    except NotUtf8Error as e:  # bad input, not a document that failed: save it again (exit 2)
        click.echo(f"error: {path}: {e.message}", err=True)
        sys.exit(EXIT_USAGE)
    except InvalidDocument as e:
        report = VerificationResult()
        report.add(CheckResult.from_error("structure", InvalidDocument(f"{path}: {e.message}", code=e.code)))
        return None, report


def _printable(text: str) -> str:
    """``text`` with every hidden character (see escape_hidden: a lone surrogate, JSON's ``"\\ud800"``, an
    escape sequence or a bidi override quoted from a credential or a vouch's name) written as
    its JSON escape ``\\uXXXX``, which stdout can encode, a terminal shows as is, and JSON
    reads back."""
    return escape_hidden(text)


def summary_with_paths(result: VerificationResult) -> str:
    """``result.summary()``, with the trust path of each ``issuer_trust`` check that has one
    (``data["trustPath"]``, see :func:`tradevc.verifier.trust.describe_path`) under its line."""
    lines = with_paths(result)
    if isinstance(result, PresentationResult):
        for i, credential in enumerate(result.credentials, 1):
            inner = summary_with_paths(credential).replace("\n", "\n    ")
            lines.append(f"  credential {i}: {inner}")
    return "\n".join(lines)


def _finish(
    result: VerificationResult, as_json: bool, *, document: Any = None, policy: Any = None, color: str = "never",
    brief: bool = False,
) -> None:
    """Print the report and exit with its status. As text (see :mod:`tradevc.verifier.describe`):
    a credential's outcome line, what it says (unless ``brief``) and its checks; a
    presentation's own checks, each credential so, a table of documents and checks and the
    verdict. ``document`` is what was verified (a presentation when ``result`` is one)."""
    if as_json:
        click.echo(_printable(result.to_json()))
    else:
        isatty = getattr(sys.stdout, "isatty", None)
        terminal = bool(isatty and isatty())
        colour = colour_wanted(color, is_terminal=terminal, environ=os.environ)
        if isinstance(result, PresentationResult):
            shown = shown_presentation(document, result) if document is not None else []
            body, end = presentation_text(result, shown, policy, brief=brief)
            table = table_rows(shown) if shown and not brief else None
            if table is not None:
                table = ([_printable(c) for c in table[0]], [[_printable(c) for c in row] for row in table[1]])
            print_report(_printable(body), table=table, end=None if brief else _printable(end), colour=colour,
                         terminal=terminal, echo=click.echo)
        else:
            shown_one = shown_credential(document, result)
            print_report(_printable(credential_text(shown_one, policy, brief=brief)), colour=colour,
                         terminal=terminal, echo=click.echo)
    if result.verified:
        sys.exit(EXIT_VERIFIED)
    sys.exit(EXIT_COULD_NOT_VERIFY if result.could_not_verify else EXIT_NOT_VERIFIED)


_OUTPUT_OPTIONS = [
    click.option("--color", "color", type=click.Choice(COLOR_MODES), default="auto", show_default=True,
                 help="Colour the outcome and failed checks: auto (on a terminal, unless NO_COLOR is set), always, "
                 "never."),
    click.option("--brief", is_flag=True,
                 help="The outcome and the checks only, without what the document says (and, for a presentation, "
                 "without the table and verdict)."),
]


def _with_output(fn: Any) -> Any:
    for decorator in reversed(_OUTPUT_OPTIONS):
        fn = decorator(fn)
    return fn


MIRROR_OPTIONS = [
    click.option("--mirror", "mirrors", multiple=True, metavar="HOST=URL",
                 help="Read HOST's did:web documents and status lists from this https URL instead, e.g. "
                 "mill.example=https://127.0.0.1:8443/mill/ (repeatable). Every check and limit still applies; "
                 "reports say what came from a mirror."),
    click.option("--mirror-file", type=click.Path(dir_okay=False), metavar="FILE",
                 help='JSON file of mirrors: {"hosts": {"HOST": "https://..."}, "snapshots": ["DIR"]} '
                 "(relative paths from the file's directory)."),
    click.option("--snapshot", "snapshots", multiple=True, type=click.Path(file_okay=False), metavar="DIR",
                 help="Read the documents of every host DIR has a directory for from DIR/HOST/PATH, e.g. "
                 "DIR/mill.example/.well-known/did.json (repeatable); works with --offline."),
    click.option("--allow-host", "allow_hosts", multiple=True, metavar="HOST[:PORT]",
                 help="Fetch from HOST (on PORT, or any port) although it is not public, e.g. localhost:8443 "
                 "(repeatable). Otherwise a did:web host or status list URL that is, or resolves to, a loopback, "
                 "private or link-local address is refused. A --mirror's own host needs no --allow-host."),
]


def with_mirror_options(fn: Any) -> Any:
    """Add ``--mirror``, ``--mirror-file`` and ``--snapshot`` to a command."""
    for decorator in reversed(MIRROR_OPTIONS):
        fn = decorator(fn)
    return fn


_TRUST_OPTIONS = [
    click.option("--trust", type=click.Path(dir_okay=False),
                 help='Trust policy JSON: {"trustedIssuers": [{"did", "name", "types"}, ...]}. Required unless '
                 "--pack is given (giving both is refused: the pack holds the policy)."),
    click.option("--pack", type=click.Path(dir_okay=False), metavar="FILE",
                 help="An offline trust pack ('vc-verify pack build'): its policy, DID documents, status lists, "
                 "contexts and schemas are used, and nothing is fetched. Refused if not signed by a --pack-signer, "
                 "altered, or past its maximum staleness (exit 2; 3 if too old or from the future)."),
    click.option("--pack-signer", "pack_signers", multiple=True, envvar=PACK_SIGNERS_ENV, metavar="DID",
                 help=PACK_SIGNER_HELP),
]
_FETCH_OPTIONS = [
    click.option("--offline", is_flag=True,
                 help="No network: did:key/did:jwk only (and what --snapshot holds); otherwise status cannot be checked."),
    click.option("--ca-bundle", type=click.Path(dir_okay=False, exists=True),
                 help="PEM file of CA certificates to trust for HTTPS instead of the system's."),
    click.option("--stale-status-if-error", "stale_minutes", type=click.IntRange(1, 7 * 24 * 60), metavar="MINUTES",
                 help="If an issuer is unreachable (no answer, or HTTP 5xx; not a 404), accept the copies of its "
                 "status list and did:web DID document cached earlier (on disk by an earlier run, verified again) up "
                 "to this long past their freshness (a list's ttl or validUntil; 5 minutes for a DID document). The "
                 "report says so."),
    click.option("--cache-dir", "cache_dir", type=click.Path(file_okay=False), envvar=CACHE_ENV, metavar="DIR",
                 expose_value=False, callback=_remember_cache_option,
                 help="Keep the status lists and DID documents fetched here, as fetched, for "
                 "--stale-status-if-error in later runs (default: $TRADEVC_CACHE_DIR, else "
                 f"$XDG_CACHE_HOME/tradevc/verifier, else ~/.cache/tradevc/verifier; made 0700; at most {MAX_ENTRIES} "
                 f"entries, {MAX_TOTAL_BYTES // (1024 * 1024)} MiB). Not read or written with --offline or --pack."),
    click.option("--no-cache", "no_cache", is_flag=True, expose_value=False, callback=_remember_cache_option,
                 help="Neither read nor write the cache on disk."),
    click.option("--schemas", type=click.Path(exists=True), default=None, metavar="DIR",
                 help="More JSON Schemas to hold for credentialSchema: a folder with index.json "
                      '({"schemas": [{"url", "file", "sha256"}]}); the shipped ones are always held.'),
    click.option("--compat", "compat", multiple=True, metavar="NAME", help=_COMPAT_HELP),
]
_common = [
    click.argument("file", type=click.Path(dir_okay=False, allow_dash=True)),
    *_TRUST_OPTIONS,
    click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
    *_FETCH_OPTIONS,
    *MIRROR_OPTIONS,
]
_contexts = click.option(
    "--contexts", type=click.Path(file_okay=False), metavar="DIR",
    help="A folder of JSON-LD contexts you pin besides the bundled ones: context files and an index.json of "
    "their URLs and SHA-256 (see the README).",
)
VERIFIER_OPTIONS = [*_TRUST_OPTIONS, *_FETCH_OPTIONS, *MIRROR_OPTIONS, _contexts]
"""The options that say how to build the verifier, as ``credential`` and ``presentation``
take them; :func:`verifier_from_options` builds it from their values."""


def with_verifier_options(fn: Any) -> Any:
    """Add :data:`VERIFIER_OPTIONS` to a command (its function then takes their values as
    keywords, to hand to :func:`verifier_from_options`)."""
    for decorator in reversed(VERIFIER_OPTIONS):
        fn = decorator(fn)
    return fn


def verifier_from_options(
    *, trust: str | None, pack: str | None, pack_signers: tuple[str, ...], offline: bool, ca_bundle: str | None,
    stale_minutes: int | None, schemas: str | None, compat: tuple[str, ...], mirrors: tuple[str, ...],
    mirror_file: str | None, snapshots: tuple[str, ...], allow_hosts: tuple[str, ...], contexts: str | None,
) -> Verifier:
    """The Verifier of the :data:`VERIFIER_OPTIONS` values, as ``credential`` builds it: from
    a trust pack, or from a trust policy with the fetching options.

    :raises click.UsageError: neither or both of ``--trust`` and ``--pack``; a bad option value
        (:class:`click.BadParameter`). Exits 2 or 3 (one line) if the pack is refused.
    """
    return _verifier(trust, offline, ca_bundle, stale_minutes, mirrors=mirrors, mirror_file=mirror_file,
                     snapshots=snapshots, schemas=schemas, compat=compat, contexts=contexts, allow_hosts=allow_hosts,
                     pack=pack, pack_signers=pack_signers)


def _with_common(fn: Any) -> Any:
    for decorator in reversed([*_common, _contexts]):
        fn = decorator(fn)
    return fn


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tradevc", prog_name="vc-verify", message="%(prog)s (tradevc) %(version)s")
def cli() -> None:
    """Verify W3C Verifiable Credentials and Presentations: signatures, issuer keys (did:key,
    did:web, did:jwk), revocation and suspension, validity periods, and which issuers you
    trust for which credential types.

    Exit status: 0 verified, 1 not verified, 3 could not verify, 2 usage error or a bad
    value, 130 interrupted."""


@cli.command()
@_with_common
@_with_output
@with_evidence_options
@archive_ledger_option
@click.option("--at", "at", metavar="ISO-TIME",
              help="Verify as of this time (an audit: was it valid, and revoked or not, on that day?); default now. "
                   "Status lists too: the version in effect then, where the issuer publishes its lists' history "
                   "(the report says which version, or that the status is the current one).")
def credential(
    file: str, trust: str | None, pack: str | None, pack_signers: tuple[str, ...], as_json: bool, offline: bool, ca_bundle: str | None, stale_minutes: int | None,
    schemas: str | None, mirrors: tuple[str, ...], mirror_file: str | None, snapshots: tuple[str, ...],
    compat: tuple[str, ...], contexts: str | None, color: str = "auto", brief: bool = False,
    allow_hosts: tuple[str, ...] = (), at: str | None = None, evidence: str | None = None,
    evidence_home: str | None = None, evidence_passphrase_file: str | None = None, archive_dir: str | None = None,
    archive_ledger: str | None = None,
) -> None:
    """Verify the credential in FILE ('-' for stdin): JSON with a Data Integrity proof, a
    vc+jwt or VC-JWT 1.1 compact JWS, or an EnvelopedVerifiableCredential.

    Prints the outcome (VERIFIED, NOT VERIFIED or COULD NOT VERIFY: the first line), what the
    credential says (issuer, named as your trust policy names it; subject; validity; goods and
    HS codes, origin criteria, heats, licence numbers, quantities), labelled not to be relied
    on if it did not verify, then every check. --json prints the report with its "outcome".

    --evidence OUT.json (with --evidence-home DIR) also writes the sealed evidence bundle of
    this verification, for 'vc-verify replay'; --archive DIR (with --ledger) also keeps it in
    the evidence archive."""
    now = _moment_option("--at", at)
    key = evidence_key_from_options(evidence, evidence_home, evidence_passphrase_file)
    archive = evidence_archive(evidence, archive_dir, archive_ledger)
    verifier = _verifier(
        trust, offline, ca_bundle, stale_minutes, mirrors=mirrors, mirror_file=mirror_file, snapshots=snapshots,
        schemas=schemas, compat=compat, contexts=contexts, allow_hosts=allow_hosts, pack=pack, pack_signers=pack_signers,
    )
    document, failed = _read(file, verifier.limits)
    if failed is not None:
        result = failed
        if evidence is not None:
            click.echo(f"warning: no evidence written to {evidence}: the input is not a credential", err=True)
    elif key is not None and evidence is not None:
        result, bundle = with_evidence(verifier).verify_credential(document, now=now)
        write_evidence(evidence, bundle, key, archive)
    else:
        result = verifier.verify_credential(document, now=now)
    _finish(result, as_json, document=document, policy=verifier.policy, color=color, brief=brief)


def _moment_option(option: str, value: str | None) -> datetime | None:
    """An ISO 8601 time given as ``option`` (UTC if it names no zone); None if not given.
    Exits 2 (one line) for anything else."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        _usage_error(f"{option}: not an ISO 8601 time: {value[:60]!r} (e.g. 2026-03-01T00:00:00Z)")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


@cli.command()
@_with_common
@_with_output
@with_evidence_options
@archive_ledger_option
@click.option("--challenge", required=True, help="The challenge you gave the holder for this presentation.")
@click.option("--domain", required=True, help="Your domain, as the holder bound the presentation to it.")
@click.option("--challenges", "challenges", type=click.Path(dir_okay=False, exists=True), envvar=CHALLENGES_ENV,
              metavar="FILE",
              help="Challenge store made by 'vc-verify challenge new' (default: $TRADEVC_CHALLENGES, if set): "
              "--challenge must then be one it issued, not expired and not used before; a presentation that "
              "verifies uses it up. Without it, --challenge is only compared with the proof's.")
def presentation(
    file: str, trust: str | None, pack: str | None, pack_signers: tuple[str, ...], as_json: bool, offline: bool, ca_bundle: str | None, stale_minutes: int | None,
    schemas: str | None, mirrors: tuple[str, ...], mirror_file: str | None, snapshots: tuple[str, ...],
    compat: tuple[str, ...], contexts: str | None, challenge: str, domain: str, challenges: str | None,
    color: str = "auto", brief: bool = False, allow_hosts: tuple[str, ...] = (), evidence: str | None = None,
    evidence_home: str | None = None, evidence_passphrase_file: str | None = None, archive_dir: str | None = None,
    archive_ledger: str | None = None,
) -> None:
    """Verify the presentation in FILE (JSON, or a vp+jwt / VC-JWT 1.1 compact JWS) and every
    credential in it.

    Prints the outcome, the presentation's checks, then each credential as 'vc-verify
    credential' does, a table of the documents and their checks, and the verdict in plain
    words: which document failed and why, which could not be checked, which are fine.

    --evidence OUT.json (with --evidence-home DIR) also writes the sealed evidence bundle of
    this verification, for 'vc-verify replay' (which does not consult the challenge store);
    --archive DIR (with --ledger) also keeps it in the evidence archive."""
    for value, option in ((challenge, "--challenge"), (domain, "--domain")):
        if _given(value) is None:  # e.g. an unset shell variable
            _usage_error(f"{option} is empty: {_EMPTY_HINTS[option]}")
    key = evidence_key_from_options(evidence, evidence_home, evidence_passphrase_file)
    archive = evidence_archive(evidence, archive_dir, archive_ledger)
    verifier = _verifier(
        trust, offline, ca_bundle, stale_minutes, mirrors=mirrors, mirror_file=mirror_file, snapshots=snapshots,
        schemas=schemas, compat=compat, contexts=contexts, allow_hosts=allow_hosts, pack=pack, pack_signers=pack_signers,
    )
    if challenges is not None:
        verifier.challenges = _challenge_store(challenges)
    document, failed = _read(file, verifier.limits)
    if failed is not None:
        result: VerificationResult = failed
        if evidence is not None:
            click.echo(f"warning: no evidence written to {evidence}: the input is not a presentation", err=True)
    elif key is not None and evidence is not None:
        result, bundle = with_evidence(verifier).verify_presentation(document, challenge=challenge, domain=domain)
        write_evidence(evidence, bundle, key, archive)
    else:
        result = verifier.verify_presentation(document, challenge=challenge, domain=domain)
    _finish(result, as_json, document=document, policy=verifier.policy, color=color, brief=brief)


@cli.command()
@click.argument("source", type=click.Path(exists=True))
@click.option("--trust", type=click.Path(dir_okay=False),
              help='Trust policy JSON: {"trustedIssuers": [{"did", "name", "types"}, ...]}. Required unless --pack '
              "is given (not both).")
@click.option("--pack", type=click.Path(dir_okay=False), metavar="FILE",
              help="An offline trust pack ('vc-verify pack build') to verify with, instead of --trust; nothing is "
              "fetched.")
@click.option("--pack-signer", "pack_signers", multiple=True, envvar=PACK_SIGNERS_ENV, metavar="DID",
              help=PACK_SIGNER_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the summary and each document's status as JSON.")
@click.option("--offline", is_flag=True, help="No network: did:key/did:jwk only; status cannot be checked.")
@click.option("--ca-bundle", type=click.Path(dir_okay=False, exists=True),
              help="PEM file of CA certificates to trust for HTTPS instead of the system's.")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Worker processes (default: one per CPU).")
@click.option("--challenge", default=None, help="Challenge for the presentations in the batch, if any.")
@click.option("--domain", default=None, help="Domain for the presentations in the batch, if any.")
@click.option("--schemas", type=click.Path(exists=True), default=None, metavar="DIR",
              help="More JSON Schemas to hold for credentialSchema (a folder with index.json).")
@click.option("--compat", "compat", multiple=True, metavar="NAME", help=_COMPAT_HELP)
@with_mirror_options
@_contexts
def batch(
    source: str, trust: str | None, pack: str | None, pack_signers: tuple[str, ...], as_json: bool, offline: bool, ca_bundle: str | None, workers: int | None,
    challenge: str | None, domain: str | None, schemas: str | None, mirrors: tuple[str, ...],
    mirror_file: str | None, snapshots: tuple[str, ...], compat: tuple[str, ...],
    contexts: str | None,
    allow_hosts: tuple[str, ...] = (),
) -> None:
    """Verify every document of SOURCE: a directory of *.json and *.jwt files (subfolders are
    not read), or a JSON Lines file (one document per line). Each document is JSON or a compact
    JWS, a credential or a presentation (presentations need --challenge and --domain; without
    them each is reported as could not verify).

    Prints a summary table (verified; not verified and could not verify, by reason; files
    skipped, as unreadable or not a .json/.jwt file), then every file that did not verify or
    was skipped, with why. On a terminal it shows progress and draws the tables; piped, it
    prints plain text only. Exit status: 0 all verified, 1 some not verified, 3 none failed
    but some could not be verified or read (or a worker process died), 2 nothing to verify,
    130 interrupted (Ctrl-C: the summary of what was verified so far is printed first)."""
    from .batch import iter_verify_many, scan_documents, summarize
    from .cli_batch import print_summary, progress

    verifier = _verifier(
        trust, offline, ca_bundle, None, mirrors=mirrors, mirror_file=mirror_file, snapshots=snapshots,
        schemas=schemas, compat=compat, contexts=contexts, allow_hosts=allow_hosts, pack=pack, pack_signers=pack_signers,
    )
    challenge, domain = _given(challenge), _given(domain)
    sources: list[str] = []
    results: list[VerificationResult] = []
    skipped: list[Any] = []
    planned: int | None = None
    interrupted = broken = False
    try:
        try:
            scan = scan_documents(source, limits=verifier.limits)
        except OSError as e:
            _usage_error(f"cannot read {source}: {e.strerror or e}")
        sources, skipped = [s for s, _ in scan.items], scan.skipped
        planned = len(sources)
        if verifier.challenges is not None and not verifier.challenges.across_processes:
            workers = 1  # as Verifier.verify_many: a store the forked workers would not share
        # without a challenge and domain each presentation says what it needs; the rest is verified
        stream = iter_verify_many(verifier, [document for _, document in scan.items], workers=workers,
                                  challenge=challenge, domain=domain)
        with progress(len(sources)) as advance, closing(stream):  # closing it stops the workers
            for result in stream:
                results.append(result)
                advance(1)
    except KeyboardInterrupt:
        interrupted = True
    except BrokenProcessPool:  # a worker was killed (the OOM killer, a signal): say so, keep what was done
        broken = True
    summary = summarize(sources, results, skipped=skipped, planned=planned if planned is not None else 0)
    summary.interrupted = interrupted or broken
    if as_json:
        click.echo(_printable(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False)))
    else:
        print_summary(summary, click.echo)
    if interrupted:
        click.echo(f"error: interrupted after {summary.total} of {summary.planned} documents", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if broken:
        click.echo(f"error: a worker process stopped unexpectedly after {summary.total} of {summary.planned} "
                   "documents (killed, or out of memory?); run again, or with fewer --workers", err=True)
        sys.exit(EXIT_COULD_NOT_VERIFY)
    if summary.total == 0:
        what = ", ".join(f"{n} {kind}" for kind, n in summary.skipped_counts().items() if n)
        _usage_error(f"nothing to verify in {source}: no document found"
                     + (f" ({what} file(s) skipped)" if what else "") + "; give a folder of .json or .jwt files "
                     "or a JSON Lines file")
    if summary.not_verified:
        sys.exit(EXIT_NOT_VERIFIED)
    unreadable = summary.skipped_counts()["unreadable"]
    sys.exit(EXIT_COULD_NOT_VERIFY if summary.could_not_verify or unreadable else EXIT_VERIFIED)


def _hs_option(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``--hs``: an HS/HTS code of 2 to 10 digits (dots and spaces allowed), or a usage error."""
    digits = hs_digits(value)
    if not (digits.isascii() and digits.isdigit() and 2 <= len(digits) <= 10):
        raise click.BadParameter(f"{value!r} is not an HS/HTS code: 2 to 10 digits, dots allowed, like 8471.30")
    return value


@cli.command()
@click.option("--mark", required=True, help="The mark the goods bear, as recorded (e.g. ACME).")
@click.option("--party", required=True, metavar="DID", help="The manufacturer or distributor of the goods.")
@click.option("--hs", "hs_code", required=True, metavar="CODE", callback=_hs_option,
              help="The goods' HS/HTS code, e.g. 8471.30.")
@click.option("--country", default="US", show_default=True, metavar="CC", help="Where they are imported.")
@click.option("--trust", required=True, type=click.Path(dir_okay=False),
              help='Trust policy JSON with "recordedMarks" (see the README).')
@click.option("--with", "with_files", multiple=True, type=click.Path(dir_okay=False, allow_dash=True), metavar="FILE",
              help="A presentation, credential or list of credentials holding authorisations (repeatable); each "
              "is verified before use.")
@click.option("--json", "as_json", is_flag=True, help="Print the check as JSON.")
@click.option("--offline", is_flag=True, help="No network: did:key/did:jwk only (and what --snapshot holds).")
@click.option("--ca-bundle", type=click.Path(dir_okay=False, exists=True),
              help="PEM file of CA certificates to trust for HTTPS instead of the system's.")
@with_mirror_options
def mark(
    mark: str, party: str, hs_code: str, country: str, trust: str, with_files: tuple[str, ...], as_json: bool,
    offline: bool, ca_bundle: str | None, mirrors: tuple[str, ...], mirror_file: str | None,
    snapshots: tuple[str, ...], allow_hosts: tuple[str, ...] = (),
) -> None:
    """Check that goods bearing a mark recorded with customs come from a PARTY authorised
    through a chain from the recorded rights holder (within its goods, territories and dates).
    Exit status: 0 authorised, 1 not, 3 could not verify."""
    verifier = _verifier(trust, offline, ca_bundle, None, mirrors=mirrors, mirror_file=mirror_file,
                         snapshots=snapshots, allow_hosts=allow_hosts)
    if not isinstance(verifier.policy, TrustPathPolicy) or not verifier.policy.marks:
        raise click.BadParameter(f"{trust} records no marks (recordedMarks)", param_hint="--trust")
    offered: list[Any] = []
    for path in with_files:
        document, failed = _read(path, verifier.limits)
        if failed is not None:
            raise click.BadParameter(failed.checks[0].message, param_hint="--with")
        offered.extend(vouches_in(document))
    check = verifier.check_mark(mark, party, hs_code, country, vouches=offered)
    if as_json:
        click.echo(_printable(json.dumps(check.to_dict(), indent=2, ensure_ascii=False)))
    else:
        report = VerificationResult(checks=[check])
        head = {"passed": "AUTHORISED", "failed": "NOT AUTHORISED", "error": "COULD NOT VERIFY"}[check.outcome.value]
        body = summary_with_paths(report).split("\n", 1)[1]
        click.echo(_printable(f"{head}: {mark} goods {hs_code} into {country} from {party}\n{body}"))
    if check.outcome is Outcome.PASSED:
        sys.exit(EXIT_VERIFIED)
    sys.exit(EXIT_COULD_NOT_VERIFY if check.outcome is Outcome.ERROR else EXIT_NOT_VERIFIED)


@cli.group()
def challenge() -> None:
    """Challenges for holders to sign their presentations over, each usable once."""


@challenge.command("new")
@click.option("--ttl", type=click.IntRange(1, 7 * 24 * 3600), default=600, show_default=True, metavar="SECONDS",
              help="How long the challenge stays usable.")
@click.option("--challenges", "challenges", type=click.Path(dir_okay=False), envvar=CHALLENGES_ENV, metavar="FILE",
              help="The challenge store (an SQLite file, made if missing). Default: $TRADEVC_CHALLENGES, else "
              "$XDG_DATA_HOME/tradevc/challenges.sqlite (~/.local/share/tradevc/... without XDG_DATA_HOME).")
@click.option("--json", "as_json", is_flag=True, help='Print {"challenge": ..., "expires": ...} instead.')
def new_challenge(ttl: int, challenges: str | None, as_json: bool) -> None:
    """Issue a random challenge, remember it in the challenge store and print it (its expiry
    goes to stderr). Give it to the holder; verify their presentation with
    'vc-verify presentation FILE --challenge C --domain D --challenges STORE', which accepts
    it once."""
    if challenges is None:
        path = default_challenges_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise click.BadParameter(f"cannot make {path.parent}: {e.strerror}", param_hint="--challenges") from None
        challenges = str(path)
    store = _challenge_store(challenges)
    try:
        issued = store.issue(timedelta(seconds=ttl))
    except ChallengeStoreError as e:
        raise click.BadParameter(e.message, param_hint="--challenges") from None
    finally:
        store.close()
    expires = issued.expires.isoformat().replace("+00:00", "Z")
    if as_json:
        click.echo(json.dumps({"challenge": issued.token, "expires": expires}))
    else:
        click.echo(issued.token)
        click.echo(f"expires {expires} (stored in {challenges})", err=True)


cli.add_command(pack_commands)  # vc-verify pack build|show|diff|keygen
cli.add_command(entry_command(with_verifier_options, verifier_from_options))  # vc-verify entry ENTRY.json VP.json
cli.add_command(archive_commands)  # vc-verify archive add|list|search|show|hold|release|prune|check|reindex|reverify
cli.add_command(evidence_key_commands)  # vc-verify evidence-key init|show
cli.add_command(replay_command)  # vc-verify replay BUNDLE.json


def main() -> None:
    cli(prog_name="vc-verify")


if __name__ == "__main__":
    main()
