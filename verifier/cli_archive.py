"""``vc-verify archive``: keep evidence bundles, find them again, prune them, and re-verify them
(see :mod:`tradevc.verifier.archive` and :mod:`tradevc.verifier.reverify`).

Every command takes ``--archive DIR`` (the bundles' folder, made if missing; or
``$TRADEVC_ARCHIVE``) and ``--ledger PATH_OR_URL`` (the ledger database the index lives in,
as ``vc-verify entry --ledger`` takes it; or ``$TRADEVC_LEDGER``). ``--json`` prints machine
output. ``add``, ``reindex`` and ``reverify`` check each bundle's seal and accept only bundles
sealed by a pinned key: those of ``--sealer DID`` (repeatable, or ``$TRADEVC_ARCHIVE_SEALERS``),
the evidence keys of your own verifiers, else the key of ``--evidence-home DIR`` (or
``$TRADEVC_EVIDENCE_HOME``); with neither they refuse (exit 2). ``--any-sealer`` accepts any
key whose seal holds, for inspection only, and the output says the sealer was not checked. ``reverify`` replays each bundle's decision from what it
recorded (see :func:`tradevc.verifier.reverify.check_replay`).

Exit status: 0 done; 1 refused (a file that is not a bundle, an unknown digest, problems found
by ``check``); 2 bad usage or a value that cannot be used (an option missing, a date that does
not parse, a file that cannot be read, an archive or ledger that cannot be opened); 3 the
re-verification could not run (Dask missing, a cluster that cannot be reached).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from tradevc.clistyle import EXIT_COULD_NOT_VERIFY, EXIT_REFUSED, EXIT_USAGE, fail
from tradevc.vc.jsontext import escape_hidden

from .archive import OUTCOMES, Archive, ArchiveError, ArchivedBundle, Retention, parse_time
from .cli_evidence import (
    ARCHIVE_ENV, LEDGER_ENV, NOT_PINNED, any_sealer_option, pinned_sealers, sealer_home_option, sealers_option,
)
from .reverify import ReverifyError, cluster_security, replay_check, reverify_archived

_F = TypeVar("_F", bound=Callable[..., Any])


PRUNE_SKEW = timedelta(minutes=5)
"""How far after this machine's clock ``prune --now`` may be (clocks that disagree a little)."""


def _usage(message: str) -> NoReturn:
    fail(message, EXIT_USAGE)


def _echo(text: str) -> None:
    """A line of text that may hold what a bundle says (hidden characters escaped)."""
    click.echo(escape_hidden(text))


def _json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _archive_options(command: _F) -> _F:
    command = click.option("--ledger", "ledger_at", required=True, envvar=LEDGER_ENV, metavar="PATH_OR_URL",
                           help="The ledger database the archive's index lives in: an SQLite file (made if missing), "
                                "sqlite:///path or postgresql://user@host:port/db (default: $" + LEDGER_ENV + ").")(
        command)
    command = click.option("--archive", "archive_dir", required=True, envvar=ARCHIVE_ENV, metavar="DIR",
                           type=click.Path(file_okay=False),
                           help="The folder the bundles are kept in, made if missing (default: $" + ARCHIVE_ENV
                                + ").")(command)
    return command


def _open(archive_dir: str, ledger_at: str, retention: Retention | None = None,
          sealers: list[str] | None = None) -> Archive:
    try:
        if retention is None:
            return Archive(archive_dir, ledger_at, sealers=sealers)
        return Archive(archive_dir, ledger_at, retention=retention, sealers=sealers)
    except ArchiveError as e:
        _usage(e.message)


def _sealer_options(command: _F) -> _F:
    """--sealer, --evidence-home and --any-sealer: which keys a bundle's seal must be by."""
    for option in (any_sealer_option, sealer_home_option, sealers_option):
        command = option(command)
    return command


def _not_pinned() -> None:
    """Say on stderr that --any-sealer let any sealing key through."""
    click.echo(f"warning: {NOT_PINNED}: a bundle re-sealed by anyone's key passes; give --sealer DID or "
               "--evidence-home DIR to require keys you trust", err=True)


def _when(value: str | None, option: str) -> datetime | None:
    """``--since`` / ``--until`` / ``--now``: a date (midnight UTC) or an RFC 3339 time."""
    if value is None:
        return None
    text = value.strip()
    if len(text) == 10:
        try:
            return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    try:
        return parse_time(text, option)
    except ArchiveError:
        raise click.BadParameter(f"give a date (2026-03-01, midnight UTC) or a time with its offset "
                                 f"(2026-03-01T08:00:00Z), not {value!r}", param_hint=option) from None


def _search_options(command: _F) -> _F:
    for decl, name, help_text in reversed([
        ("--entry-number", "entry_number", "Bundles of this customs entry."),
        ("--importer", "importer", "Bundles of this importer (as the index records it)."),
        ("--issuer", "issuer", "Bundles relying on a credential of this issuer DID."),
        ("--credential-id", "credential_id", "Bundles holding the credential of this id."),
        ("--verification-method", "verification_method",
         "Bundles relying on this key (it signed a document, a status list read, or a vouch on a trust path): a "
         "DID URL (exactly), or a DID (any of its keys)."),
        ("--sealed-by", "sealer", "Bundles sealed by this evidence key: a DID URL (exactly), or a DID (any of its "
                                  "keys)."),
        ("--since", "since", "Bundles verified at or after this date or time (2026-03-01 is midnight UTC)."),
        ("--until", "until", "Bundles verified before this date or time."),
    ]):
        command = click.option(decl, name, metavar="VALUE" if name not in ("since", "until") else "DATE",
                               help=help_text)(command)
    command = click.option("--outcome", "outcome", type=click.Choice(OUTCOMES),
                           help="Bundles whose recorded outcome is this.")(command)
    return command


def _search(archive: Archive, conditions: dict[str, Any], limit: int | None = None) -> list[ArchivedBundle]:
    conditions = dict(conditions)
    conditions["since"] = _when(conditions.get("since"), "--since")
    conditions["until"] = _when(conditions.get("until"), "--until")
    try:
        return archive.search(**conditions, limit=limit)
    except ArchiveError as e:
        fail(e.message, EXIT_COULD_NOT_VERIFY)


def _line(bundle: ArchivedBundle) -> str:
    at = bundle.verified_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    held = "  HELD" if bundle.held else ""
    sealer = bundle.sealer.split("#", 1)[0] if bundle.sealer else "-"
    return (f"{bundle.digest[:16]}  {at}  {bundle.kind:<12} {bundle.outcome:<16} "
            f"{bundle.entry_number or '-':<16} {bundle.importer or '-'}  sealed by {sealer}{held}")


def _table(bundles: list[ArchivedBundle], as_json: bool) -> None:
    if as_json:
        _json([b.to_dict() for b in bundles])
        return
    for bundle in bundles:
        _echo(_line(bundle))
    click.echo(f"{len(bundles)} bundle{'s' if len(bundles) != 1 else ''}", err=True)


def _find(archive: Archive, digest: str) -> ArchivedBundle:
    try:
        return archive.find(digest)
    except ArchiveError as e:
        fail(e.message, EXIT_REFUSED)


@click.group("archive")
def archive() -> None:
    """Keep evidence bundles, find them by entry, importer, issuer, credential, key or date,
    prune them after their retention, and re-verify them."""


@archive.command("add")
@_archive_options
@_sealer_options
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print what was archived as JSON.")
def add(archive_dir: str, ledger_at: str, sealers: tuple[str, ...], sealer_home: str | None, any_sealer: bool,
        files: tuple[str, ...], as_json: bool) -> None:
    """Archive the bundles FILES (their exact bytes) after checking their seal; one already
    there (the same sealed content, however it is indented) is left as it is. The seal must be
    by a --sealer key, else by your own evidence key (--evidence-home); --any-sealer accepts
    any key. Exit 1 if a file is not a bundle, or its seal does not hold or is not by such a
    key (the others are archived)."""
    pinned = pinned_sealers(sealers, sealer_home, any_sealer)
    data: list[tuple[str, bytes]] = []
    for name in files:
        try:
            data.append((name, Path(name).read_bytes()))
        except OSError as e:
            _usage(f"cannot read {name}: {e.strerror or e}")
    refused = 0
    done: list[dict[str, Any]] = []
    with _open(archive_dir, ledger_at, sealers=pinned) as opened:
        for name, content in data:
            try:
                bundle = opened.add(content)
            except ArchiveError as e:
                click.echo(escape_hidden(f"error: {name}: {e.message}"), err=True)
                refused += 1
                continue
            done.append({"file": name, "new": bundle.new, **bundle.to_dict(), "sealerPinned": pinned is not None})
            if not as_json:
                checked = "" if pinned is not None else f"; {NOT_PINNED}"
                _echo(f"{'archived' if bundle.new else 'already archived'} {bundle.digest} {bundle.path} "
                      f"(sealed by {bundle.sealer}{checked})")
    if as_json:
        _json(done)
    if pinned is None and done:
        _not_pinned()
    sys.exit(EXIT_REFUSED if refused else 0)


@archive.command("list")
@_archive_options
@click.option("--limit", type=click.IntRange(min=1), help="At most this many bundles (the oldest first).")
@click.option("--json", "as_json", is_flag=True, help="Print the bundles as JSON.")
def list_(archive_dir: str, ledger_at: str, limit: int | None, as_json: bool) -> None:
    """Every bundle, by the time it was verified: digest, time, kind, outcome, entry, importer."""
    with _open(archive_dir, ledger_at) as opened:
        _table(_search(opened, {}, limit), as_json)


@archive.command("search")
@_archive_options
@_search_options
@click.option("--limit", type=click.IntRange(min=1), help="At most this many bundles (the oldest first).")
@click.option("--json", "as_json", is_flag=True, help="Print the bundles as JSON.")
def search(archive_dir: str, ledger_at: str, limit: int | None, as_json: bool, **conditions: Any) -> None:
    """The bundles matching every condition given, by the time they were verified."""
    with _open(archive_dir, ledger_at) as opened:
        _table(_search(opened, conditions, limit), as_json)


@archive.command("show")
@_archive_options
@click.argument("digest")
@click.option("--json", "as_json", is_flag=True, help="Print the index facts as JSON.")
@click.option("--bundle", "raw", is_flag=True, help="Print the bundle itself (its exact bytes), checked against "
                                                    "its digest.")
def show(archive_dir: str, ledger_at: str, digest: str, as_json: bool, raw: bool) -> None:
    """What the index holds of the bundle DIGEST (its SHA-256, or its first 8 or more hex digits)."""
    with _open(archive_dir, ledger_at) as opened:
        bundle = _find(opened, digest)
        if raw:
            try:
                sys.stdout.buffer.write(opened.read(bundle))
            except ArchiveError as e:
                fail(e.message, EXIT_REFUSED)
            return
    if as_json:
        _json(bundle.to_dict())
        return
    facts = bundle.to_dict()
    for key in ("digest", "sealDigest", "kind", "verifiedAt", "sealedAt", "sealer", "outcome", "entryNumber", "importer",
                "issuers", "credentialIds", "verificationMethods", "statusListMethods", "vouchMethods", "path", "held",
                "holdReason"):
        value = facts[key]
        shown = ", ".join(value) if isinstance(value, list) else ("-" if value is None else str(value))
        _echo(f"{key + ':':<21}{shown}")


@archive.command("hold")
@_archive_options
@click.argument("digest")
@click.option("--reason", help="Why it is held (an audit, an appeal, a case number); kept with it.")
def hold(archive_dir: str, ledger_at: str, digest: str, reason: str | None) -> None:
    """Put the bundle DIGEST under a legal hold: prune keeps it past its retention until released."""
    with _open(archive_dir, ledger_at) as opened:
        bundle = opened.hold(_find(opened, digest).digest, reason)
    _echo(f"held {bundle.digest}" + (f" ({reason})" if reason else ""))


@archive.command("release")
@_archive_options
@click.argument("digest")
def release(archive_dir: str, ledger_at: str, digest: str) -> None:
    """Lift the legal hold of the bundle DIGEST."""
    with _open(archive_dir, ledger_at) as opened:
        bundle = opened.release(_find(opened, digest).digest)
    _echo(f"released {bundle.digest}")


@archive.command("prune")
@_archive_options
@click.option("--retention", "retention_text", default=str(Retention()), show_default=True, metavar="SPAN",
              help="How long a bundle is kept after it was verified: years and/or days (5y, 400d, 5y30d).")
@click.option("--now", "now_text", metavar="TIME", help="Prune as of this date or time in the past (default: now; "
              "a time more than 5 minutes after the clock is refused).")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option("--json", "as_json", is_flag=True, help="Print what was removed as JSON.")
def prune(archive_dir: str, ledger_at: str, retention_text: str, now_text: str | None, dry_run: bool,
          as_json: bool) -> None:
    """Remove the bundles verified longer ago than the retention, except those held."""
    try:
        retention = Retention.parse(retention_text)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--retention") from None
    clock = datetime.now(timezone.utc)
    now = _when(now_text, "--now") or clock
    if now > clock + PRUNE_SKEW:  # as of a later time, bundles still in retention would go
        _usage(f"--now {now_text} is in the future (the clock says {clock.strftime('%Y-%m-%dT%H:%M:%SZ')}): pruning "
               "as of a later time would remove bundles still in retention; give a time up to now, or leave --now out")
    with _open(archive_dir, ledger_at, retention) as opened:
        try:
            pruned = opened.prune(now, dry_run=dry_run)
        except ArchiveError as e:
            fail(e.message, EXIT_COULD_NOT_VERIFY)
    if as_json:
        _json({**pruned.to_dict(), "dryRun": dry_run})
        return
    for bundle in pruned.removed:
        _echo(("would remove " if dry_run else "removed ") + _line(bundle))
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {len(pruned.removed)} bundle(s) verified before "
               f"{pruned.cutoff.strftime('%Y-%m-%dT%H:%M:%SZ')}; kept {pruned.held} held", err=True)


@archive.command("check")
@_archive_options
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def check(archive_dir: str, ledger_at: str, as_json: bool) -> None:
    """Check that every bundle file still hashes to its name and every index row has its file.
    Exit 1 if anything is wrong (unindexed files: run 'archive reindex')."""
    with _open(archive_dir, ledger_at) as opened:
        problems = opened.check()
    if as_json:
        _json([{"problem": p.problem, "digest": p.digest, "path": str(p.path)} for p in problems])
    else:
        for problem in problems:
            _echo(str(problem))
        click.echo("the archive is whole" if not problems else f"{len(problems)} problem(s)", err=True)
    sys.exit(EXIT_REFUSED if problems else 0)


@archive.command("reindex")
@_archive_options
@_sealer_options
def reindex(archive_dir: str, ledger_at: str, sealers: tuple[str, ...], sealer_home: str | None,
            any_sealer: bool) -> None:
    """Index the bundle files the index does not name (left by a crash between writing a file and
    indexing it), their seal checked (by a --sealer key, else your own evidence key; any with
    --any-sealer); give bundles archived by an older tradevc the digest of their seal and the
    keys of their status lists and vouches. Exit 1 if some files could not be (altered, not
    bundles, their seal does not hold, or another copy of the same sealed bundle is indexed)."""
    pinned = pinned_sealers(sealers, sealer_home, any_sealer)
    with _open(archive_dir, ledger_at, sealers=pinned) as opened:
        added, left = opened.reindex()
    for bundle in added:
        _echo(f"indexed {bundle.digest} {bundle.path}" + ("" if pinned is not None else f" ({NOT_PINNED})"))
    if pinned is None and added:
        _not_pinned()
    for problem in left:
        click.echo(escape_hidden(f"error: not indexed: {problem}"), err=True)
    sys.exit(EXIT_REFUSED if left else 0)


@archive.command("reverify")
@_archive_options
@_sealer_options
@_search_options
@click.option("--trust", "trust", type=click.Path(dir_okay=False), metavar="FILE",
              help="Replay under this trust policy, revised since (default: the policy each bundle recorded).")
@click.option("--compromised", "compromised", multiple=True, metavar="DID_OR_URL",
              help="A key found compromised (a DID URL, or a DID for all its keys): a decision that relied on it "
                   "is not verified now. Repeatable.")
@click.option("--cluster", "address", metavar="tls://HOST:PORT",
              help="Run on the Dask cluster of this scheduler, over TLS with --cluster-ca and --cluster-cert (or "
                   "Dask's own distributed.comm.tls configuration). The bundles are sent as bytes.")
@click.option("--cluster-ca", "cluster_ca", type=click.Path(dir_okay=False), metavar="FILE",
              help="The CA (PEM) that signed the --cluster scheduler's and workers' certificates.")
@click.option("--cluster-cert", "cluster_cert", type=click.Path(dir_okay=False), metavar="FILE",
              help="This client's certificate (PEM) for the --cluster scheduler, signed by that CA.")
@click.option("--cluster-key", "cluster_key", type=click.Path(dir_okay=False), metavar="FILE",
              help="The private key (PEM) of --cluster-cert, if not in the certificate's file.")
@click.option("--insecure-cluster", "insecure", is_flag=True,
              help="Accept a tcp:// --cluster: DANGEROUS, no encryption and no authentication, so anyone who can "
                   "reach the scheduler can run code on its workers, read the bundles and forge the outcomes. Only "
                   "on a network no one else can reach.")
@click.option("--local-cluster", "local_cluster", type=click.IntRange(min=1), metavar="N",
              help="Run on a Dask cluster of N worker processes started on this machine (127.0.0.1) for the run, "
                   "over TLS with a certificate made for the run (no other process can join it).")
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help="Worker processes on this machine (default: the CPUs; 1: in this process).")
@click.option("--json", "as_json", is_flag=True, help="Print every outcome as JSON.")
def reverify_command(archive_dir: str, ledger_at: str, sealers: tuple[str, ...], sealer_home: str | None,
                     any_sealer: bool, trust: str | None, compromised: tuple[str, ...], address: str | None,
                     cluster_ca: str | None, cluster_cert: str | None, cluster_key: str | None, insecure: bool,
                     local_cluster: int | None, workers: int | None, as_json: bool, **conditions: Any) -> None:
    """Re-verify the bundles matching the conditions (all without one): check each one's seal,
    replay its decision offline from the DID documents, status lists, contexts and schemas it
    recorded, as of the time it was made, with what is known now (--compromised keys, a revised
    --trust policy), and list the entries whose decision changes. For example, after a key is
    found compromised: --verification-method DIDURL --since 2026-03-01 --compromised DIDURL.
    Each seal must be by a --sealer key, else your own evidence key (--evidence-home); a bundle
    sealed by another key is could-not-verify. --any-sealer accepts any key. A bundle file that
    no longer holds the indexed bundle is not verified. Exit 3 if the run cannot be done, or an
    outcome comes back for another bundle than the one sent."""
    if address is not None and local_cluster is not None:
        raise click.UsageError("give --cluster or --local-cluster, not both")
    if (address is not None or local_cluster is not None) and workers is not None:
        raise click.UsageError("--workers is for this machine's processes; a Dask cluster has its own workers")
    tls_files = (cluster_ca, cluster_cert, cluster_key)
    if address is None and (insecure or any(f is not None for f in tls_files)):
        raise click.UsageError("--cluster-ca, --cluster-cert, --cluster-key and --insecure-cluster are for --cluster")
    security = None
    if address is not None:
        if address.startswith("tcp://") and not insecure:
            raise click.BadParameter(f"refusing {address}: tcp:// is neither encrypted nor authenticated, so whoever "
                                     "can reach it can run code on its workers and forge their outcomes; use "
                                     "tls:// with --cluster-ca and --cluster-cert (or --insecure-cluster on a "
                                     "network no one else can reach)", param_hint="--cluster")
        if address.startswith("tls://"):
            try:
                security = cluster_security(*tls_files)
            except ValueError as e:
                raise click.BadParameter(str(e), param_hint="--cluster") from None
            except ReverifyError as e:
                fail(e.message, EXIT_COULD_NOT_VERIFY)
        elif not address.startswith("tcp://"):
            raise click.BadParameter(f"a scheduler address is tls://HOST:PORT, not {address!r}", param_hint="--cluster")
    policy: dict[str, Any] | None = None
    if trust is not None:
        try:
            policy = json.loads(Path(trust).read_text("utf-8"))
        except OSError as e:
            raise click.BadParameter(f"cannot read {trust}: {e.strerror}", param_hint="--trust") from None
        except ValueError as e:
            raise click.BadParameter(f"{trust} is not JSON: {e}", param_hint="--trust") from None
        if not isinstance(policy, dict):
            raise click.BadParameter(f"{trust} is not a trust policy (a JSON object)", param_hint="--trust")
    pinned = pinned_sealers(sealers, sealer_home, any_sealer)
    try:  # the policy and the trust store files it names are read here, relative to its folder
        check = replay_check(compromised, sealers=pinned, policy=policy,
                             base=None if trust is None else Path(trust).parent)
    except ValueError as e:
        raise click.BadParameter(f"{trust}: {e}", param_hint="--trust") from None
    with _open(archive_dir, ledger_at) as opened:
        chosen = _search(opened, conditions)
    dask = address is not None or local_cluster is not None
    try:  # the workers of a --cluster may not see this machine's files: send the bytes
        outcomes = reverify_archived(chosen, check, as_bytes=address is not None, engine="dask" if dask else "local",
                                     workers=local_cluster if dask else workers, address=address, security=security,
                                     insecure=insecure)
    except ValueError as e:
        _usage(str(e))
    except ReverifyError as e:
        fail(e.message, EXIT_COULD_NOT_VERIFY)
    changed = [(b, o) for b, o in zip(chosen, outcomes) if o.changed]
    if as_json:
        _json({"reverified": len(outcomes), "changed": len(changed), "sealerPinned": pinned is not None,
               "outcomes": [{**o.to_dict(), "verifiedAt": b.to_dict()["verifiedAt"], "importer": b.importer}
                            for b, o in zip(chosen, outcomes)]})
        if pinned is None:
            _not_pinned()
        return
    for bundle, outcome in changed:
        _echo(f"{bundle.entry_number or '-':<16} {bundle.digest[:16]}  "
              f"{bundle.verified_at.strftime('%Y-%m-%dT%H:%M:%SZ')}  {outcome.recorded} -> {outcome.now}"
              + (f"  ({outcome.reason})" if outcome.reason else ""))
    click.echo(f"re-verified {len(outcomes)} bundle(s); {len(changed)} decision(s) change", err=True)
    if pinned is None:
        _not_pinned()
