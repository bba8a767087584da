"""``vc-verify evidence-key`` and ``vc-verify replay``, and the ``--evidence`` options of
``vc-verify credential`` and ``presentation`` (see :mod:`tradevc.verifier.evidence`).

``vc-verify evidence-key init --home DIR`` makes the verifier's sealing key: an Ed25519 key
sealed under a passphrase (``--passphrase-file FILE``, else ``$TRADEVC_EVIDENCE_PASSPHRASE_FILE``,
else ``$TRADEVC_EVIDENCE_PASSPHRASE``, else asked on a terminal), and prints its did:key;
``evidence-key show --home DIR`` prints it again (from the public file beside the key).

``--evidence OUT.json --evidence-home DIR`` on ``credential`` and ``presentation`` writes the
sealed bundle of that verification (atomically, mode 0600: it holds the documents presented),
whatever its outcome; the exit status is the verification's. A key that cannot be opened is
exit 2, before anything is verified.

``--archive DIR`` (with ``--evidence``) also puts that sealed bundle into the archive in DIR,
indexed in the ledger database (``--ledger``, else ``$TRADEVC_LEDGER``; for ``entry``, its own
``--ledger``), its seal checked against ``$TRADEVC_ARCHIVE_SEALERS`` when set, else against
the key that sealed it here: a border post archives every decision as it makes it. An archive
that cannot be opened is exit 2 before anything is verified; a bundle that cannot be archived
is exit 3 (the file is written).

``vc-verify replay BUNDLE.json [--seal-key DID]...`` checks the seal and every recorded body's
SHA-256 (exit 2, one line naming what does not match), the seal against a pinned key: the
``--seal-key`` keys, else the key of ``--evidence-home`` (``$TRADEVC_EVIDENCE_HOME``), else it
refuses (exit 2), unless ``--any-sealer`` asks to accept any key, for inspection only, and the
output says so. It then decides again offline from the bundle alone and prints the replayed
decision and each difference from the recorded report, check by check: exit 0 for the same
decision (outcome), 1 for a different one.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from tradevc.clistyle import EXIT_COULD_NOT_VERIFY, EXIT_USAGE, fail, opening, read_secret_file
from tradevc.vc.atomicfile import write_atomic
from tradevc.vc.errors import VcError
from tradevc.vc.keys import KeyPair
from tradevc.vc.sealed import MIN_PASSPHRASE_LENGTH, WeakPassphrase, check_new_passphrase

from .archive import Archive, ArchiveError
from .evidence import (
    EVIDENCE_KEY_FILE, EvidenceError, create_evidence_key, open_evidence_key, read_bundle, replay, seal_bundle,
)

__all__ = [
    "evidence_key", "replay_command", "EVIDENCE_OPTIONS", "evidence_key_from_options", "write_evidence",
    "ARCHIVE_ENV", "LEDGER_ENV", "SEALERS_ENV", "sealers_option", "split_sealers", "archive_ledger_option",
    "evidence_archive", "sealer_home_option", "any_sealer_option", "pinned_sealers", "home_sealer", "NOT_PINNED",
]

PASSPHRASE_ENV = "TRADEVC_EVIDENCE_PASSPHRASE"
PASSPHRASE_FILE_ENV = "TRADEVC_EVIDENCE_PASSPHRASE_FILE"
HOME_ENV = "TRADEVC_EVIDENCE_HOME"
PUBLIC_FILE = "evidence-key.json"
EXIT_SAME, EXIT_DIFFERENT = 0, 1
ARCHIVE_ENV = "TRADEVC_ARCHIVE"
LEDGER_ENV = "TRADEVC_LEDGER"
SEALERS_ENV = "TRADEVC_ARCHIVE_SEALERS"


def split_sealers(values: tuple[str, ...] | list[str]) -> list[str]:
    """The sealing keys given as repeated options or one variable (separated by spaces or commas)."""
    return [part for value in values for part in value.replace(",", " ").split() if part]


sealers_option = click.option(
    "--sealer", "sealers", multiple=True, envvar=SEALERS_ENV, metavar="DID",
    help="Accept only bundles sealed by this evidence key: a DID, or a DID URL (repeatable; or $" + SEALERS_ENV
    + ", separated by spaces or commas): the keys of your own verifiers ('vc-verify evidence-key show'). Without "
    "it, only bundles sealed by your own evidence key (--evidence-home) are accepted.",
)
sealer_home_option = click.option(
    "--evidence-home", "sealer_home", type=click.Path(file_okay=False), envvar=HOME_ENV, metavar="DIR",
    help="Where your evidence key is ('vc-verify evidence-key init'; default $" + HOME_ENV + "): without a "
    "pinned key, only bundles it sealed are accepted.",
)
any_sealer_option = click.option(
    "--any-sealer", is_flag=True,
    help="Accept a bundle sealed by any key whose seal holds, for inspection only: the output says that the "
    "sealer was not checked against a pinned key.",
)
NOT_PINNED = "the sealer was NOT checked against a pinned key (--any-sealer)"
"""What the output says when ``--any-sealer`` accepted any sealing key."""


def home_sealer(home: str) -> str:
    """The DID of the evidence key in ``home``, from the public file ``evidence-key init`` wrote
    beside it. Exits 2 with one line if there is none."""
    try:
        public = json.loads((Path(home) / PUBLIC_FILE).read_text(encoding="utf-8"))
        did = public["did"]
        if not isinstance(did, str) or not did.startswith("did:"):
            raise ValueError(did)
        return did
    except (OSError, ValueError, KeyError, TypeError):
        _usage(f"no evidence key in {home} to check seals against; make one with 'vc-verify evidence-key init "
               f"--home {home}', or pin the sealer's key instead")


def pinned_sealers(sealers: tuple[str, ...] | list[str], home: str | None, any_sealer: bool, *,
                   pin: str = "--sealer DID (or set " + SEALERS_ENV + ")") -> list[str] | None:
    """The sealing keys a bundle must be sealed by: those given (``pin``), else the key of the
    evidence home (``--evidence-home``, ``$TRADEVC_EVIDENCE_HOME``); None (any key) only with
    ``--any-sealer``. Exits 2 with one line when none is pinned and any is not asked for, or
    when both are."""
    given = split_sealers(sealers)
    option = pin.split()[0]
    if given and any_sealer:
        _usage(f"give {option} or --any-sealer, not both")
    if given:
        return given
    if any_sealer:
        return None
    if home:
        return [home_sealer(home)]
    _usage(f"no sealing key to check the seal against: give {pin}, or --evidence-home DIR holding your own "
           f"evidence key (or set {HOME_ENV}); --any-sealer accepts any key, for inspection only")


archive_ledger_option = click.option(
    "--ledger", "archive_ledger", envvar=LEDGER_ENV, metavar="PATH_OR_URL",
    help="With --archive: the ledger database the archive's index lives in (an SQLite file, sqlite:///path or "
    "postgresql://...; default $" + LEDGER_ENV + ").",
)


def _usage(message: str) -> NoReturn:
    fail(message, EXIT_USAGE)


def _passphrase(path: str | None, *, new: bool = False, weak_ok: bool = False) -> str:
    """The sealing key's passphrase: from ``--passphrase-file``, the environment, or a prompt
    on a terminal; never from the command line."""
    if path is not None:
        value: str = read_secret_file(path)
    elif os.environ.get(PASSPHRASE_ENV):
        value = os.environ[PASSPHRASE_ENV]
    elif sys.stdin.isatty():
        value = click.prompt("Evidence key passphrase", hide_input=True, confirmation_prompt=new)
    else:
        _usage(f"no passphrase for the evidence key: use --passphrase-file FILE or set {PASSPHRASE_FILE_ENV} or "
               f"{PASSPHRASE_ENV}")
    if not value:
        _usage("the evidence key passphrase is empty")
    if new and not weak_ok:
        try:
            check_new_passphrase(value, what="evidence key passphrase")
        except WeakPassphrase as e:
            _usage(e.message)
    return value


_passphrase_option = click.option(
    "--passphrase-file", type=click.Path(dir_okay=False), envvar=PASSPHRASE_FILE_ENV, default=None,
    help=f"File holding the evidence key's passphrase (or set {PASSPHRASE_FILE_ENV}, or {PASSPHRASE_ENV} to the "
    "passphrase itself). Without either, it is asked for on a terminal.",
)
_home_option = click.option(
    "--home", type=click.Path(file_okay=False), envvar=HOME_ENV, required=True, metavar="DIR",
    help=f"Where the verifier's sealing key is kept (default: ${HOME_ENV}).",
)


@click.group("evidence-key")
def evidence_key() -> None:
    """The verifier's own key, which seals evidence bundles (--evidence)."""


@evidence_key.command("init")
@_home_option
@_passphrase_option
@click.option("--weak-passphrase", is_flag=True,
              help=f"Accept a passphrase shorter than {MIN_PASSPHRASE_LENGTH} characters.")
def evidence_key_init(home: str, passphrase_file: str | None, weak_passphrase: bool) -> None:
    """Make the sealing key in --home (Ed25519, sealed under the passphrase: scrypt,
    AES-256-GCM) and print its did:key, which whoever replays your bundles pins with
    'vc-verify replay --seal-key DID'."""
    if (Path(home) / EVIDENCE_KEY_FILE).exists():
        _usage(f"{home} already holds an evidence key ({EVIDENCE_KEY_FILE}); keep it, or use another --home")
    passphrase = _passphrase(passphrase_file, new=True, weak_ok=weak_passphrase)
    try:
        key = create_evidence_key(home, passphrase)
        public = {"did": key.did, "verificationMethod": key.verification_method}
        write_atomic(Path(home) / PUBLIC_FILE, (json.dumps(public, indent=2) + "\n").encode(), mode=0o644)
    except FileExistsError:  # another init made one there meanwhile: it is kept
        _usage(f"{home} already holds an evidence key ({EVIDENCE_KEY_FILE}), made while this one was being made; "
               "keep it, or use another --home")
    except OSError as e:
        _usage(f"cannot write the evidence key in {home}: {e.strerror or e}")
    click.echo(key.did)


@evidence_key.command("show")
@_home_option
def evidence_key_show(home: str) -> None:
    """Print the did:key of the sealing key in --home (no passphrase needed)."""
    try:
        public = json.loads((Path(home) / PUBLIC_FILE).read_text(encoding="utf-8"))
        click.echo(str(public["did"]))
    except (OSError, ValueError, KeyError, TypeError):
        _usage(f"no evidence key in {home}; make one with 'vc-verify evidence-key init --home {home}'")


EVIDENCE_OPTIONS = [
    click.option("--evidence", "evidence", type=click.Path(dir_okay=False), metavar="OUT.json",
                 help="Write the sealed evidence bundle of this verification to OUT.json: the documents, the exact "
                 "bytes of every DID document, status list, context and schema used, the policy, times and the "
                 "report, sealed with your evidence key (--evidence-home). Replay it with 'vc-verify replay'."),
    click.option("--evidence-home", "evidence_home", type=click.Path(file_okay=False), envvar=HOME_ENV,
                 metavar="DIR", help=f"Where your evidence key is ('vc-verify evidence-key init'; default ${HOME_ENV})."),
    click.option("--evidence-passphrase-file", "evidence_passphrase_file", type=click.Path(dir_okay=False),
                 envvar=PASSPHRASE_FILE_ENV, metavar="FILE",
                 help=f"File holding the evidence key's passphrase (or set {PASSPHRASE_FILE_ENV} or {PASSPHRASE_ENV})."),
    click.option("--archive", "archive_dir", type=click.Path(file_okay=False), metavar="DIR",
                 help="With --evidence: also keep the sealed bundle in the evidence archive in DIR ('vc-verify archive'), "
                 "indexed in the ledger database (--ledger or $" + LEDGER_ENV + ")."),
]


def with_evidence_options(fn: Any) -> Any:
    for decorator in reversed(EVIDENCE_OPTIONS):
        fn = decorator(fn)
    return fn


def evidence_key_from_options(evidence: str | None, home: str | None, passphrase_file: str | None) -> KeyPair | None:
    """The sealing key when ``--evidence`` is given (None otherwise). Exits 2 with one line if
    there is no ``--evidence-home`` or the key cannot be opened."""
    if evidence is None:
        return None
    if home is None:
        _usage(f"--evidence needs your evidence key: give --evidence-home DIR (or set {HOME_ENV}); make one with "
               "'vc-verify evidence-key init --home DIR'")
    if not (Path(home) / EVIDENCE_KEY_FILE).is_file():
        _usage(f"no evidence key in {home}; make one with 'vc-verify evidence-key init --home {home}'")
    try:
        # again with the passphrase file's byte order mark if that is a wrong passphrase: a key
        # sealed before the mark was dropped (see clistyle.opening)
        return opening(_passphrase(passphrase_file), lambda passphrase: open_evidence_key(home, passphrase))
    except VcError as e:
        _usage(f"cannot open the evidence key in {home}: {e.message}")
    except OSError as e:
        _usage(f"cannot read the evidence key in {home}: {e.strerror or e}")


def evidence_archive(evidence: str | None, archive_dir: str | None, ledger_at: str | None) -> Archive | None:
    """The archive ``--archive`` names (None without it), opened before anything is verified,
    accepting the sealing keys of ``$TRADEVC_ARCHIVE_SEALERS`` (when unset: the key that seals
    the bundle, see :func:`write_evidence`). Exits 2 with one line without ``--evidence`` or a
    ledger, or when it cannot be opened."""
    if archive_dir is None:
        return None
    if evidence is None:
        _usage("--archive keeps the sealed evidence bundle: give --evidence OUT.json (and --evidence-home DIR) too")
    if not ledger_at:
        _usage(f"--archive needs the ledger database its index lives in: give --ledger PATH_OR_URL or set {LEDGER_ENV}")
    try:
        return Archive(archive_dir, ledger_at, sealers=split_sealers([os.environ.get(SEALERS_ENV, "")]))
    except ArchiveError as e:
        _usage(f"--archive {archive_dir}: {e.message}")


def write_evidence(path: str, bundle: dict[str, Any], key: KeyPair, archive: Archive | None = None) -> None:
    """Seal ``bundle`` with ``key`` and write it to ``path`` atomically, then (``archive``) add
    those very bytes to the archive and close it. Exits 2 with one line if the file cannot be
    written, 3 if the bundle cannot be archived."""
    sealed = seal_bundle(bundle, key)
    data = (json.dumps(sealed, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    try:
        write_atomic(path, data, mode=0o600)  # private: it holds the documents and who presented them
    except OSError as e:
        if archive is not None:
            archive.close()
        _usage(f"cannot write the evidence bundle {path}: {e.strerror or e}")
    if archive is None:
        return
    if archive.sealers is None:  # no $TRADEVC_ARCHIVE_SEALERS: this verifier's own key, never any key
        archive.sealers = (key.did,)
    try:
        added = archive.add(data)
    except ArchiveError as e:
        fail(f"the evidence bundle {path} was written but not archived: {e.message}; archive it with "
             f"'vc-verify archive add'", EXIT_COULD_NOT_VERIFY)
    finally:
        archive.close()
    click.echo(f"evidence: {'archived' if added.new else 'already archived'} {added.digest} in {archive.root}",
               err=True)


@click.command("replay")
@click.argument("bundle", type=click.Path(dir_okay=False, exists=True))
@click.option("--seal-key", "seal_keys", multiple=True, metavar="DID",
              help="A verifier key (did:key DID or DID URL) the bundle must be sealed by (repeatable). Without it, "
              "the key of your own evidence home (--evidence-home) is required.")
@sealer_home_option
@any_sealer_option
@click.option("--json", "as_json", is_flag=True, help="Print the replay (decisions, differences, report) as JSON.")
def replay_command(bundle: str, seal_keys: tuple[str, ...], sealer_home: str | None, any_sealer: bool,
                   as_json: bool) -> None:
    """Decide again, offline, from the evidence bundle alone, and compare with the recorded
    report.

    The seal and every recorded body's SHA-256 are checked first (a bundle altered in any byte,
    or not sealed by a --seal-key key, else by your own evidence key: exit 2, saying what does
    not match; with neither, it refuses unless told --any-sealer). The replay reads only the recorded bytes (no network, no cache, no current
    trust pack), at the recorded time, under the recorded policy. Every difference from the
    recorded report is printed, check by check. Exit 0: the same decision (outcome); 1: a
    different one."""
    trusted = pinned_sealers(seal_keys, sealer_home, any_sealer, pin="--seal-key DID")
    try:
        held = read_bundle(bundle)
        result = replay(held, trusted=trusted)
    except EvidenceError as e:
        _usage(f"{bundle}: {e.message}")
    except OSError as e:
        _usage(f"cannot read {bundle}: {e.strerror or e}")
    if as_json:
        out = result.to_dict()
        out["sealKeyPinned"] = trusted is not None
        if trusted is None:
            out["sealerNote"] = NOT_PINNED
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        data = result.to_dict()
        if result.same_decision:
            differs = len(result.differences)
            also = f"; but {differs} difference{'s' if differs > 1 else ''} under it" if differs else ""
            click.echo(f"SAME DECISION: {data['replayedOutcome']}, as recorded{also}")
        else:
            click.echo(f"DIFFERENT DECISION: recorded {data['recordedOutcome']}, replayed {data['replayedOutcome']}")
        click.echo(f"  {held.kind} verified as of {data['verifiedAt']}, sealed {held.data['sealedAt']} by "
                   f"{result.signer}{'' if trusted is not None else f'; {NOT_PINNED}'}")
        click.echo(f"  recorded with {held.data['tool']['name']} {held.data['tool']['version']}; "
                   f"{len(held.retrieved)} recorded documents; nothing else was read")
        for note in result.notes:
            click.echo(f"  note: {note}")
        if result.differences:
            click.echo("  differences (recorded -> replayed):")
            for difference in result.differences:
                click.echo(f"    {difference.where}: {difference.recorded} -> {difference.replayed}")
        else:
            click.echo("  no difference, check by check")
        if trusted is None:
            click.echo(f"warning: {NOT_PINNED}: a bundle re-sealed by anyone's key passes; give --seal-key DID or "
                       "--evidence-home DIR to require a key you trust", err=True)
    sys.exit(EXIT_SAME if result.same_decision else EXIT_DIFFERENT)
