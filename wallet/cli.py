"""``vc-wallet``: the importer's wallet on the command line. A thin layer over :class:`tradevc.wallet.Wallet`.

Exit status: 0 done; 1 refused or failed (wrong passphrase, damaged file, invalid credential,
unknown id; for ``check``: some credential is no longer valid; for ``present``: a chosen
credential is not valid now); 2 usage error, or a value or file named on the command line
that cannot be used; 3 (``present``) a chosen credential could not be checked; 130
interrupted. Errors are ``error: ...`` lines on stderr (see :mod:`tradevc.clistyle`).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timedelta, timezone
from functools import wraps
from pathlib import Path
from typing import Any, Callable, NoReturn

import click

from tradevc.clistyle import Group, fail, opening, read_secret_file
from tradevc.vc.jsontext import escape_hidden
from tradevc.vc.atomicfile import unsafe_mode_warnings_as_lines, write_atomic
from tradevc.vc.errors import ContextIndexError, InvalidDocument, NotUtf8Error, VcError
from tradevc.vc.securing.jws import document_of_file
from tradevc.vc.jsonld import PinnedContextLoader
from tradevc.verifier.trust import load_policy
from tradevc.verifier import Verifier
from tradevc.verifier.cli import MIRROR_OPTIONS, mirror_from_options, read_capped, verifier_for

from .errors import WalletError
from .service import (
    MAX_ANCHOR_DEPTH, MAX_ANCHORS, CheckChange, CredentialRefused, HeldCredential, HolderPolicy, Wallet, describe_vouch,
    problem_of,
)
from tradevc.vc.sealed import MIN_PASSPHRASE_LENGTH, STRONG, WeakPassphrase, check_new_passphrase

from .store import KdfParams

HOME_ENV = "TRADEVC_WALLET_HOME"
PASSPHRASE_ENV = "TRADEVC_WALLET_PASSPHRASE"
PASSPHRASE_FILE_ENV = "TRADEVC_WALLET_PASSPHRASE_FILE"
DEFAULT_HOME = Path("~/.tradevc/wallet")


def _fail(message: str, code: int = 1) -> NoReturn:
    fail(message, code)


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Expected failures become one clear line on stderr and exit status 1: no stack traces."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with unsafe_mode_warnings_as_lines():
                return fn(*args, **kwargs)
        except VcError as e:
            _fail(e.message)
        except ValueError as e:  # bad passphrase shape, bad challenge... (JSON errors are handled where read)
            _fail(str(e))
        except OSError as e:
            _fail(f"{e.filename or ''}: {e.strerror or e}".lstrip(": "))

    return wrapper


def _read_secret(path: str, what: str) -> str:
    value = read_secret_file(path, what)
    if not value:
        _fail(f"the {what} file {path} is empty")
    return value


def _new_secret(value: str, what: str, weak_ok: bool) -> str:
    """``value``, a passphrase being set: refused (exit status 2) if :func:`check_new_passphrase`
    refuses it, unless ``weak_ok`` (``--weak-passphrase``)."""
    if not weak_ok:
        try:
            check_new_passphrase(value, what=what)
        except WeakPassphrase as e:
            _fail(e.message, 2)
    return value


def _passphrase(ctx: click.Context, *, confirm: bool = False, new: bool = False, weak_ok: bool = False) -> str:
    """The wallet passphrase: from --passphrase-file, the environment, or a prompt; never argv.
    A ``new`` one goes through :func:`_new_secret`."""
    path = ctx.obj["passphrase_file"]
    if path is not None:
        value = _read_secret(path, "passphrase")
    elif os.environ.get(PASSPHRASE_ENV):
        value = os.environ[PASSPHRASE_ENV]
    elif sys.stdin.isatty():
        value = click.prompt("Wallet passphrase", hide_input=True, confirmation_prompt=confirm)
        if not value:
            _fail("the passphrase is empty", 2)
    else:  # an option missing: a usage error, as the tools' other missing options
        _fail(f"no passphrase: use --passphrase-file FILE or set {PASSPHRASE_FILE_ENV} or {PASSPHRASE_ENV}", 2)
    return _new_secret(value, "wallet passphrase", weak_ok) if new else value


_weak_passphrase = click.option(
    "--weak-passphrase", is_flag=True,
    help=f"Accept a new passphrase shorter than {MIN_PASSPHRASE_LENGTH} characters (not counting spaces around it).",
)


def _loader(contexts: str | None) -> PinnedContextLoader | None:
    """The loader of the bundled contexts and those of ``--contexts DIR`` (None without it)."""
    if contexts is None:
        return None
    try:
        return PinnedContextLoader.with_user_contexts(contexts)
    except ContextIndexError as e:
        raise click.BadParameter(e.message, param_hint="--contexts") from None


def _verifier(
    offline: bool, ca_bundle: str | None, trust: str | None, network: dict[str, Any], contexts: str | None = None
) -> Verifier:
    policy: Any = HolderPolicy()
    if trust:
        try:
            policy = load_policy(trust)
        except (OSError, ValueError) as e:
            raise click.BadParameter(f"{trust}: {e}", param_hint="--trust") from None
    mirror = mirror_from_options(network["mirrors"], network["mirror_file"], network["snapshots"])
    return verifier_for(
        policy, offline=offline, ca_bundle=ca_bundle, mirror=mirror, contexts=contexts,
        allow_hosts=network["allow_hosts"],
    )


def _open(ctx: click.Context, verifier: Verifier | None = None) -> Wallet:
    # again with the passphrase file's byte order mark if that is a wrong passphrase: a wallet
    # sealed before the mark was dropped (see clistyle.opening)
    return opening(_passphrase(ctx), lambda passphrase: Wallet.open(ctx.obj["home"], passphrase, verifier=verifier))


_network = [
    click.option("--offline", is_flag=True, help="No network: did:key/did:jwk only; credentials with a status cannot be checked."),
    click.option("--ca-bundle", type=click.Path(dir_okay=False, exists=True),
                 help="PEM file of CA certificates to trust for HTTPS instead of the system's."),
    click.option("--trust", type=click.Path(dir_okay=False),
                 help="Also require the issuers of this trust policy file (default: the wallet leaves trust to the verifier)."),
    *MIRROR_OPTIONS,
]
_contexts = click.option(
    "--contexts", type=click.Path(file_okay=False), metavar="DIR",
    help="A folder of JSON-LD contexts you pin besides the bundled ones: context files and an index.json of "
    "their URLs and SHA-256 (see the README).",
)


def _with_network(fn: Any) -> Any:
    for decorator in reversed([*_network, _contexts]):
        fn = decorator(fn)
    return fn


def _escaped(text: str) -> str:
    """``text`` with every hidden character (see escape_hidden) written as a JSON escape, ``\\uXXXX`` (a
    surrogate pair above U+FFFF): a credential cannot reorder or hide what is printed, and a
    JSON document printed this way reads back as the same JSON."""
    return escape_hidden(text)


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tradevc", prog_name="vc-wallet", message="%(prog)s (tradevc) %(version)s")
@click.option("--home", type=click.Path(file_okay=False), envvar=HOME_ENV, default=str(DEFAULT_HOME),
              show_default=True, help=f"The wallet's directory (or set {HOME_ENV}).")
@click.option("--passphrase-file", type=click.Path(dir_okay=False), envvar=PASSPHRASE_FILE_ENV, default=None,
              help=f"File holding the wallet passphrase (or set {PASSPHRASE_FILE_ENV}, or {PASSPHRASE_ENV} to the "
              "passphrase itself). Without either, it is asked for on a terminal.")
@click.pass_context
def cli(ctx: click.Context, home: str, passphrase_file: str | None) -> None:
    """The importer's wallet: keep trade credentials encrypted at rest, check them, and present
    them to customs bound to customs' challenge and domain, with the anchors that vouch for
    their issuers (a registrar's, an accreditation body's or a licensor's credentials).

    Exit status: 0 done, 1 refused, 2 usage error or a bad value, 3 (present) a credential
    could not be checked, 130 interrupted."""
    ctx.obj = {"home": Path(home).expanduser(), "passphrase_file": passphrase_file}


@cli.command()
@click.option("--key-type", type=click.Choice(["Ed25519", "P-256", "P-384"]), default="Ed25519", show_default=True,
              help="The holder key.")
@click.option("--did-method", type=click.Choice(["key", "jwk"]), default="key", show_default=True,
              help="The holder DID: did:key or did:jwk.")
@click.option("--scrypt-n", type=click.IntRange(STRONG.n, KdfParams.MAX_N), default=None,
              help=f"scrypt cost (a power of two, {STRONG.n} by default): higher is slower to unlock and to guess.")
@_weak_passphrase
@click.pass_context
@_guard
def init(ctx: click.Context, key_type: str, did_method: str, scrypt_n: int | None, weak_passphrase: bool) -> None:
    """Create the wallet: a holder key and DID, in an encrypted file."""
    passphrase = _passphrase(ctx, confirm=True, new=True, weak_ok=weak_passphrase)
    wallet = Wallet.create(ctx.obj["home"], passphrase, key_type=key_type, did_method=did_method,
                           kdf=KdfParams(n=scrypt_n) if scrypt_n else None)
    click.echo(f"OK: wallet created in {wallet.home}")
    click.echo(f"holder DID: {wallet.holder_did}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@_with_network
@click.pass_context
@_guard
def add(
    ctx: click.Context, files: tuple[str, ...], offline: bool, ca_bundle: str | None, trust: str | None,
    contexts: str | None,
    **network: Any,
) -> None:
    """Verify each credential in FILES and keep the ones that verify. A file holds a credential
    as JSON (Data Integrity proofs, or an EnvelopedVerifiableCredential) or a compact JWS
    (vc+jwt, VC-JWT 1.1); which one is detected. An invalid one is refused with the check that
    failed; the others are still added (exit status 1 if any was refused; 2 if a file cannot be
    read or is not UTF-8 text, with or without a byte order mark: save it as UTF-8). An anchor (an
    identity anchor, accreditation, licence or IP authorisation vouching for another party,
    usually an issuer) is added the same way, and its line says whom it vouches for."""
    wallet = _open(ctx, _verifier(offline, ca_bundle, trust, network, contexts))
    refused = not_text = 0
    for path in files:
        try:
            document = document_of_file(read_capped(path, wallet.verifier.limits), limits=wallet.verifier.limits)
            held, new = wallet.add(document)
        except NotUtf8Error as e:  # bad input: the others are still added, then exit 2
            refused += 1
            not_text += 1
            click.echo(f"REFUSED {path}: {e.message}", err=True)
            continue
        except InvalidDocument as e:  # neither I-JSON nor a token, over the limits
            refused += 1
            what = "not JSON" if e.code == "PARSING_ERROR" else "too large"
            click.echo(f"REFUSED {path}: {what} ({e.code}: {e.message})", err=True)
            continue
        except OSError as e:  # bad input, as a file that is not text: exit 2
            refused += 1
            not_text += 1
            click.echo(f"REFUSED {path}: cannot read it ({e.strerror})", err=True)
            continue
        except CredentialRefused as e:
            refused += 1
            click.echo(_escaped(f"REFUSED {path}: {e.message}; nothing was stored"), err=True)
            continue
        if new:
            click.echo(_escaped(f"added {held.id}  {_what(held)}"))
        else:
            click.echo(_escaped(f"already held {held.id}"))
        if held.vouch_problem is not None:
            click.echo(_escaped(f"warning: {held.id} ({held.type}) cannot serve as an anchor: "
                                f"{held.vouch_problem}; it is kept, and is never added to a presentation for its "
                                "subject's credentials"), err=True)
    if refused:
        sys.exit(2 if not_text else 1)


def _what(held: HeldCredential) -> str:
    """``TYPE from ISSUER``, or for an anchor what it vouches for (:func:`describe_vouch`)."""
    return describe_vouch(held.vouch) if held.vouch is not None else f"{held.type} from {held.issuer}"


_ANCHORS_HEADING = ("anchors (vouches for the issuers of your credentials; 'vc-wallet present' adds them "
                    "for the credentials whose issuers they vouch for):")


@cli.command(name="list")
@click.option("--anchors", "only_anchors", is_flag=True,
              help="Only the anchors: the credentials in which a registrar, an accreditation body or a licensing "
              "authority vouches for a party (identity anchors, accreditations, licences, IP authorisations).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (each with its kind; an anchor with "
              "what it vouches for).")
@click.pass_context
@_guard
def list_(ctx: click.Context, only_anchors: bool, as_json: bool) -> None:
    """What the wallet holds: id, type, issuer, valid until, status as last checked; then the
    anchors, one line each: what they vouch for, by whom, until when, and their status."""
    held = _open(ctx).list()
    anchors = [h for h in held if h.vouch is not None]
    others = [] if only_anchors else [h for h in held if h.vouch is None]
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in (anchors if only_anchors else held)], indent=2))
        return
    if not held or (only_anchors and not anchors):
        what = "anchors" if only_anchors else "credentials"
        click.echo(f"the wallet holds no {what} (add some with 'vc-wallet add FILE')")
        return
    if others:
        rows = [[_escaped(str(c)) for c in [h.id, h.type, h.issuer, h.valid_until or "-", f"{h.status} ({h.checked})"]]
                for h in others]
        click.echo(_table(rows, ["ID", "TYPE", "ISSUER", "VALID UNTIL", "STATUS (LAST CHECKED)"]))
    if anchors:
        if others:
            click.echo("")
        click.echo(_ANCHORS_HEADING)
        for h in anchors:
            click.echo(_escaped(f"{h.id}  {_what(h)}; {h.status} ({h.checked})"))


@cli.command()
@click.argument("credential_id")
@click.pass_context
@_guard
def show(ctx: click.Context, credential_id: str) -> None:
    """Print a held credential: JSON, or the compact JWS of a JOSE-secured one. Control and
    format characters (bidirectional overrides and isolates, zero-width and other invisible
    marks) are printed as \\uXXXX escapes, which JSON reads back as the same text."""
    credential = _open(ctx).get(credential_id).credential
    click.echo(_escaped(credential if isinstance(credential, str) else json.dumps(credential, indent=2, ensure_ascii=False)))


@cli.command()
@_with_network
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output, with each report.")
@click.pass_context
@_guard
def check(
    ctx: click.Context, offline: bool, ca_bundle: str | None, trust: str | None, contexts: str | None, as_json: bool,
    **network: Any,
) -> None:
    """Verify everything held again (revocation, suspension, expiry, keys) and say what changed.
    Exit status 1 if any credential is not valid now."""
    changes = _open(ctx, _verifier(offline, ca_bundle, trust, network, contexts)).check()
    if as_json:
        click.echo(json.dumps([{"id": c.id, "type": c.type, "before": c.before, "after": c.after,
                                "report": c.result.to_dict()} for c in changes], indent=2))
    elif not changes:
        click.echo("the wallet holds no credentials")
    else:
        rows = [[_escaped(c.id), _escaped(c.type), c.before, c.after, "CHANGED" if c.changed else ""] for c in changes]
        click.echo(_table(rows, ["ID", "TYPE", "WAS", "NOW", ""]))
        for c in changes:
            if not c.result.verified:
                problem = next(iter(c.result.failures + c.result.errors), None)
                if problem is not None:
                    click.echo(_escaped(f"{c.id}: {problem.name}: {problem.message}"))
    if any(c.after != "valid" for c in changes):
        sys.exit(1)


MAX_EXPIRES_IN = 30 * 24 * 3600  # seconds: a presentation answers one challenge, not a season's

_STATE_WORDS = {"REVOKED": "revoked", "SUSPENDED": "suspended", "EXPIRED": "expired", "NOT YET VALID": "not yet valid"}


_STATE_CHECKS = {"REVOKED": "revocation", "SUSPENDED": "suspension", "EXPIRED": "validity_period",
                 "NOT YET VALID": "validity_period"}


def _recheck_line(change: CheckChange) -> str:
    """What is wrong with a credential re-checked before presenting, without the ``error:``:
    its state and the check that says so (the first failed or erring one otherwise)."""
    result = change.result
    if result.could_not_verify:
        return f"{change.id} could not be checked ({problem_of(result)})"
    named = [c for c in result.failures if c.name == _STATE_CHECKS.get(change.after)]
    problem = f"{named[0].name}: {named[0].message}" if named else problem_of(result)
    return f"{change.id} is {_STATE_WORDS.get(change.after, 'invalid')} ({problem})"


def _recheck(wallet: Wallet, credential_ids: list[str], anyway: bool) -> None:
    """Verify the credentials about to be presented again, as 'check' does (their state is
    recorded): one line for each that is not valid now, then refuse (exit 1, or 3 if all that
    is wrong is that some could not be checked) unless ``anyway``."""
    changes = wallet.recheck(credential_ids)
    bad = [c for c in changes if not c.result.verified]
    if not bad:
        return
    for change in bad:
        click.echo(_escaped(f"{'warning' if anyway else 'error'}: {_recheck_line(change)}"), err=True)
    if anyway:
        click.echo(f"warning: presenting {len(bad)} credential(s) that are not valid now (--anyway); "
                   "customs will see that too", err=True)
        return
    refused = any(not c.result.could_not_verify for c in bad)
    what = "not valid now" if refused else "could not be checked"
    _fail(f"nothing was signed: {len(bad)} credential(s) {what} (--anyway presents them anyway)", 1 if refused else 3)


def _powers(wallet: Wallet, credential_ids: list[str], chosen: tuple[str, ...], automatic: bool) -> list[str]:
    """The ids of the powers of attorney to present: those given with --poa (each checked to
    be a power naming the holder as agent), else those :meth:`Wallet.powers_for` finds."""
    if chosen:
        for power_id in chosen:
            try:
                wallet.power_of_attorney(power_id)
            except WalletError as e:
                if power_id in {h.id for h in wallet.list()}:  # held, but not a power for this holder
                    raise click.BadParameter(e.message, param_hint="--poa") from None
                raise
        return list(chosen)
    if not automatic:
        return []
    selection = wallet.powers_for(credential_ids)
    if selection.note is not None:
        click.echo(_escaped(f"power of attorney not added: {selection.note}"), err=True)
    for power in selection.added:
        click.echo(_escaped(f"power of attorney added: {power.id}  {power.type} from {power.issuer}"), err=True)
    return list(selection.ids)


@cli.command()
@click.option("--credential", "credential_ids", multiple=True, required=True, metavar="ID",
              help="A held credential to include (repeat for several).")
@click.option("--challenge", required=True, help="The challenge the verifier gave you.")
@click.option("--domain", required=True, help="The verifier's domain, e.g. cbp.gov.")
@click.option("--format", "secured_as", type=click.Choice(["di", "jose"]), default="di", show_default=True,
              help="di: a JSON presentation with a Data Integrity proof. jose: a VC-JOSE-COSE vp+jwt compact JWS "
              "(EdDSA, ES256 or ES384 by the holder key), the challenge as its nonce and the domain as its aud.")
@click.option("--anyway", is_flag=True,
              help="Present even credentials that the check before signing finds revoked, suspended, expired, not "
              "yet valid or invalid, or cannot check (each is named in a warning).")
@click.option("--anchors/--no-anchors", "with_anchors", default=True, show_default=True,
              help="Add the held anchors for the issuers of the chosen credentials, and the anchors for the issuers "
              "of those, as a verifier needs them to trust an issuer through its registrar or accreditation body "
              f"(up to {MAX_ANCHOR_DEPTH} links and {MAX_ANCHORS} anchors; each is checked again first, and expired "
              "ones and those found revoked, suspended or invalid are left out). --no-anchors presents only the "
              "chosen credentials.")
@click.option("--poa", "power_ids", multiple=True, metavar="ID",
              help="A held power of attorney naming you (the holder) as agent to present with the credentials "
              "(repeatable). Without it, a broker's wallet adds the powers it holds from the importer the chosen "
              "credentials name.")
@click.option("--no-poa", "no_power", is_flag=True, help="Add no power of attorney unless given with --poa.")
@click.option("--cryptosuite", default=None,
              help="Holder proof suite with --format di (default: eddsa-jcs-2022 for Ed25519, ecdsa-jcs-2019 for "
              "P-256/P-384).")
@click.option("--expires-in", type=click.IntRange(1, MAX_EXPIRES_IN), default=None, metavar="SECONDS",
              help="With --format jose: the token expires (exp) this long after it is signed (at most 30 days). "
              "Default: no exp (customs' challenge bounds its use).")
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the presentation here (default: stdout): JSON, or the compact token (a .jwt file) with "
              "--format jose.")
@_with_network
@click.pass_context
@_guard
def present(ctx: click.Context, credential_ids: tuple[str, ...], challenge: str, domain: str, secured_as: str,
            anyway: bool, with_anchors: bool, power_ids: tuple[str, ...], no_power: bool, cryptosuite: str | None,
            expires_in: int | None, out: str | None, offline: bool, ca_bundle: str | None, trust: str | None,
            contexts: str | None, **network: Any) -> None:
    """Sign a presentation of the chosen credentials for one verifier.

    Each chosen credential (and power of attorney) is verified again first, as 'vc-wallet check'
    does (status, validity period, proof; the network options below apply), and its state is
    recorded. If one is revoked, suspended, expired, not yet valid or invalid, each is named
    and nothing is signed (exit status 1); if one cannot be checked (its issuer's site is down,
    --offline), the same with exit status 3. --anyway presents them with a warning each.

    By default the anchors held for their issuers go with them (see --anchors), and a broker
    presenting an importer's documents adds the importer's power of attorney (see --poa): each
    one added, and each one left out with the reason, is named on stderr, so stdout is only the
    presentation."""
    if secured_as == "jose" and cryptosuite is not None:
        raise click.BadParameter("a vp+jwt is signed with the JOSE algorithm of the holder key, not a cryptosuite",
                                 param_hint="--cryptosuite")
    if secured_as != "jose" and expires_in is not None:
        raise click.BadParameter("only a vp+jwt (--format jose) carries an expiry", param_hint="--expires-in")
    for value, option in ((challenge, "--challenge"), (domain, "--domain")):
        if not value.strip():  # e.g. an unset shell variable: found before anything is verified
            raise click.BadParameter("is empty: give the value customs sent", param_hint=option)
    loader = _loader(contexts)
    wallet = _open(ctx, _verifier(offline, ca_bundle, trust, network, contexts))
    ids = list(dict.fromkeys(credential_ids))
    for credential_id in ids:
        wallet.get(credential_id)  # an unknown id is named before anything is verified
    ids = list(dict.fromkeys([*ids, *_powers(wallet, ids, power_ids, not no_power)]))
    _recheck(wallet, ids, anyway)
    if with_anchors:
        wallet.recheck_anchors(ids)
    if secured_as == "jose":
        issued = datetime.now(timezone.utc).replace(microsecond=0)
        expires = issued + timedelta(seconds=expires_in) if expires_in is not None else None
        text = wallet.present_jwt(ids, challenge=challenge, domain=domain, issued=issued, expires=expires,
                                  loader=loader, with_anchors=with_anchors) + "\n"
    else:
        vp = wallet.present(ids, challenge=challenge, domain=domain, cryptosuite=cryptosuite, loader=loader,
                            with_anchors=with_anchors)
        text = json.dumps(vp, indent=2, ensure_ascii=False) + "\n"
    selection = wallet.last_anchors
    assert selection is not None  # present sets it
    for added in selection.added:
        click.echo(_escaped(f"anchor added: {added.held.id}  {describe_vouch(added.vouch)} (for {added.for_id})"),
                   err=True)
    for skipped in selection.skipped:
        click.echo(_escaped(f"anchor not added: {skipped.held.id}: {skipped.why}"), err=True)
    if out in (None, "-"):
        click.echo(text, nl=False)
    else:
        write_atomic(Path(out), text.encode("utf-8"), mode=0o644)
        anchors = f" and {len(selection.added)} anchor(s)" if selection.added else ""
        click.echo(f"OK: presentation of {len(ids)} credential(s){anchors} for {domain} -> {out}", err=True)


@cli.command()
@click.argument("credential_id")
@click.pass_context
@_guard
def remove(ctx: click.Context, credential_id: str) -> None:
    """Remove a credential from the wallet."""
    _open(ctx).remove(credential_id)
    click.echo(f"OK: removed {credential_id}")


@cli.command()
@click.pass_context
@_guard
def did(ctx: click.Context) -> None:
    """Print the holder DID."""
    click.echo(_open(ctx).holder_did)


_backup_passphrase = click.option(
    "--backup-passphrase-file", type=click.Path(dir_okay=False),
    help="File holding the backup's passphrase (default: the wallet passphrase).",
)


@cli.command()
@click.argument("backup", type=click.Path(dir_okay=False))
@_backup_passphrase
@_weak_passphrase
@click.pass_context
@_guard
def export(ctx: click.Context, backup: str, backup_passphrase_file: str | None, weak_passphrase: bool) -> None:
    """Write an encrypted backup of the wallet (holder key and credentials) to BACKUP."""
    secret = None
    if backup_passphrase_file:
        secret = _new_secret(_read_secret(backup_passphrase_file, "backup passphrase"), "backup passphrase", weak_passphrase)
    wallet = _open(ctx)
    wallet.export(backup, passphrase=secret)
    click.echo(f"OK: backup of {len(wallet.list())} credential(s) written to {backup}")


@cli.command(name="import")
@click.argument("backup", type=click.Path(dir_okay=False, exists=True))
@_backup_passphrase
@_weak_passphrase
@_with_network
@click.pass_context
@_guard
def import_(
    ctx: click.Context, backup: str, backup_passphrase_file: str | None, offline: bool, ca_bundle: str | None,
    trust: str | None, contexts: str | None, weak_passphrase: bool, **network: Any,
) -> None:
    """Restore a backup. With no wallet yet, the backup becomes the wallet (same holder DID);
    otherwise its credentials that are not held yet are added (the holder key stays). Either
    way each credential is verified first, as 'add' does: one that does not verify now is
    refused with the check that failed, the others are kept (exit status 1 if any was refused)."""
    secret = _read_secret(backup_passphrase_file, "backup passphrase") if backup_passphrase_file else None
    home = ctx.obj["home"]
    verifier = _verifier(offline, ca_bundle, trust, network, contexts)
    if not Wallet.exists(home):
        passphrase = _passphrase(ctx, confirm=True, new=True, weak_ok=weak_passphrase)
        # the backup opens with its own passphrase, else with the new wallet's
        wallet = opening(secret if secret is not None else passphrase,
                         lambda given: Wallet.restore(home, backup, passphrase, backup_passphrase=given,
                                                      verifier=verifier))
        report = wallet.last_import
        assert report is not None  # restore sets it
        _report_refused(report.refused)
        click.echo(f"OK: wallet restored in {wallet.home} with {len(wallet.list())} credential(s), "
                   f"{len(report.refused)} refused")
        click.echo(f"holder DID: {wallet.holder_did}")
    else:
        opened = _open(ctx, verifier)
        if secret is None:
            report = opened.import_backup(backup, passphrase=None)
        else:
            report = opening(secret, lambda given: opened.import_backup(backup, passphrase=given))
        _report_refused(report.refused)
        click.echo(f"OK: {len(report.added)} credential(s) added, {len(report.already_held)} already held, "
                   f"{len(report.refused)} refused")
    if report.refused:
        sys.exit(1)


def _report_refused(refused: tuple[tuple[str, str], ...]) -> None:
    for credential_id, why in refused:
        click.echo(_escaped(f"REFUSED {credential_id}: {why}; not kept"), err=True)


def main() -> None:
    cli(prog_name="vc-wallet")


if __name__ == "__main__":
    main()

