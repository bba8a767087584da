"""``vc-verify pack``: build, show and compare offline trust packs (see
:mod:`tradevc.verifier.pack`), and the ``--pack`` / ``--pack-signer`` options of ``vc-verify
credential`` and ``presentation``.

Exit status of the pack commands: 0 done; 2 bad input (unreadable or malformed policy, key,
credential, contexts or schemas; a pack that cannot be read, was altered, or is not signed by
a trusted signer); 3 could not (a document could not be fetched for a build; a pack too old,
or built in the future, to verify with).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn

from pathlib import Path

import click
import requests

from tradevc.vc.jsontext import escape_hidden
from tradevc.vc.atomicfile import unsafe_mode_warnings_as_lines
from tradevc.vc.compat import Compatibility
from tradevc.vc.keys import KeyPair
from tradevc.vc.retrieval.mirror import Mirror
from tradevc.vc.retrieval.netguard import AllowList

from .pack import (
    DEFAULT_REFETCH_AFTER, SIGNERS_ENV, PackError, PackVerifier, build_pack, describe_pack, diff_packs,
    inspect_pack, load_pack, load_signing_key, parse_duration, trusted_signers_from, write_pack, write_signing_key,
)

# The exit codes of verifier/cli.py (not imported from it: it imports this module).
EXIT_USAGE, EXIT_COULD_NOT = 2, 3
_COULD_NOT = {"PACK_FETCH", "PACK_STALE", "PACK_FUTURE"}


def _escaped(text: str) -> str:
    """``text`` with every hidden character written as a JSON escape (``\\uXXXX``), so that
    a pack cannot rewrite the terminal or reorder what is printed; JSON reads it back alike."""
    return escape_hidden(text)


def fail(error: PackError) -> NoReturn:
    """Print ``error: <message>`` and exit 3 (could not: a fetch failed, a pack too old or
    from the future) or 2 (bad input)."""
    click.echo(_escaped(f"error: {error.message}"), err=True)
    sys.exit(EXIT_COULD_NOT if error.code in _COULD_NOT else EXIT_USAGE)


PACK_SIGNER_HELP = (
    "The did:key of a key trusted to sign packs (repeatable; default: $" + SIGNERS_ENV + ", DIDs separated by "
    "spaces). Given from outside the pack: a pack signed by any other key is refused."
)


def pack_verifier(
    pack_path: str, signers: tuple[str, ...], *, compatibility: Compatibility | None = None,
    conflicts: dict[str, bool] | None = None,
) -> PackVerifier:
    """The verifier of ``--pack FILE --pack-signer DID`` (for ``vc-verify credential`` and
    ``presentation``). ``conflicts`` names options that cannot go with ``--pack`` and whether
    each was given. Exits (2 or 3, one line on stderr) if the pack is refused."""
    given = [name for name, used in (conflicts or {}).items() if used]
    if given:
        raise click.UsageError(
            f"--pack holds the policy, DID documents, status lists, contexts and schemas; do not also give "
            f"{', '.join(given)}"
        )
    try:
        trusted = trusted_signers_from(signers)
        pack = load_pack(pack_path, trusted_signers=trusted)
        return pack.verifier(compatibility=compatibility)
    except PackError as e:
        fail(e)


def _signers(values: tuple[str, ...]) -> frozenset[str] | None:
    try:
        return trusted_signers_from(values) if values else None
    except PackError as e:
        raise click.BadParameter(e.message, param_hint="--pack-signer") from None


def _duration(value: str | None, hint: str) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint=hint) from None


@click.group("pack")
def pack() -> None:
    """Offline trust packs: one signed, versioned file with your policy, the DID documents and
    status lists of the issuers it names, and your pinned contexts and schemas, for a border post
    with no network. Verify with it: 'vc-verify credential FILE --pack P --pack-signer DID --offline'.

    Exit status: 0 done, 2 bad input or a refused pack, 3 a document could not be fetched, or
    the pack is too old (or from the future)."""


@pack.command("keygen")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the key (mode 0600).")
@click.option("--key-type", type=click.Choice(["Ed25519", "P-256", "P-384"]), default="Ed25519", show_default=True)
def keygen(out: str, key_type: str) -> None:
    """Make a key to sign packs with, and print its did:key: give that DID to the border
    posts (--pack-signer or $TRADEVC_PACK_SIGNERS)."""
    key = KeyPair.generate(key_type)
    try:
        write_signing_key(out, key)
    except OSError as e:
        click.echo(f"error: cannot write {out}: {e.strerror or e}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(key.did)


@pack.command("build")
@click.option("--policy", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help='The trust policy JSON ({"trustedIssuers": [...], "anchors": [...], "statusLists": [...]}); '
              "carried whole into the pack, with the anchor credentials it names (paths relative to it).")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="The key file that signs the pack ('vc-verify pack keygen' makes one; a private JWK works too).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to write the pack (atomically, mode 0600).")
@click.option("--name", default=None,
              help="The pack's name (default: the previous pack's, else the --out file's name).")
@click.option("--previous", type=click.Path(dir_okay=False), default=None, metavar="OLD",
              help="The pack this one replaces (signed by the same key): version +1, fresh entries reused, and "
              "documents that cannot be fetched now kept from it (and reported).")
@click.option("--max-staleness", default=None, metavar="DURATION",
              help="How long the pack may be used after it is built, e.g. 7d, 36h (default: the previous pack's, "
              "else 7d).")
@click.option("--refetch-after", default=None, metavar="DURATION",
              help="With --previous, fetch again a DID document fetched longer ago than this (default 1d).")
@click.option("--refetch-all", is_flag=True,
              help="With --previous, fetch every document again, fresh or not (e.g. to take in a revocation now); "
              "what cannot be fetched is still kept from it.")
@click.option("--credential", "credentials", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="A credential or presentation whose issuers' DID documents and status lists to pack too "
              "(repeatable).")
@click.option("--contexts", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="A folder of JSON-LD contexts you pin (index.json and its files) to carry in the pack.")
@click.option("--schemas", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="A folder of JSON Schemas you hold (index.json and its files) to carry in the pack.")
@click.option("--ca-bundle", type=click.Path(dir_okay=False, exists=True),
              help="PEM file of CA certificates to trust for HTTPS instead of the system's.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="HOST[:PORT]",
              help="Fetch from HOST although it is not public, e.g. a local mirror (repeatable).")
@click.option("--mirror-file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help='Read the hosts it maps from their mirror instead (JSON: {"hosts": {"HOST": "https://..."}}, '
              "as for vc-verify credential); what is read is checked as if fetched from the host.")
def build(
    policy: str, key_path: str, out: str, name: str | None, previous: str | None, max_staleness: str | None,
    refetch_after: str | None, refetch_all: bool, credentials: tuple[str, ...], contexts: str | None,
    schemas: str | None,
    ca_bundle: str | None, allow_hosts: tuple[str, ...], mirror_file: str | None,
) -> None:
    """Build and sign a trust pack from your policy: fetch the DID documents and status lists it
    needs (did:web over HTTPS), and write one file. A document that cannot be fetched fails the
    build, naming it, unless --previous has a copy (kept with its old fetch time, and said)."""
    staleness = _duration(max_staleness, "--max-staleness")
    refetch = _duration(refetch_after, "--refetch-after") or DEFAULT_REFETCH_AFTER
    try:
        AllowList(allow_hosts)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--allow-host") from None
    mirror = None
    if mirror_file:
        try:
            mirror = Mirror.from_file(mirror_file)
        except OSError as e:
            raise click.BadParameter(f"cannot read {mirror_file}: {e.strerror}", param_hint="--mirror-file") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise click.BadParameter(f"{mirror_file}: {e}", param_hint="--mirror-file") from None
    session = requests.Session()
    session.trust_env = False
    if ca_bundle:
        session.verify = ca_bundle
    try:
        with unsafe_mode_warnings_as_lines():
            key = load_signing_key(key_path)
        old = inspect_pack(previous, trusted_signers=[key.did]) if previous else None
        default_name = Path(out).name.removesuffix(".pack") or None
        report = build_pack(
            policy, key, name=name or (None if old is not None else default_name), previous=old,
            max_staleness=staleness, credentials=credentials, contexts=contexts, schemas=schemas, session=session,
            allow_hosts=allow_hosts, refetch_after=refetch, refetch_all=refetch_all, mirror=mirror,
        )
    except PackError as e:
        fail(e)
    try:
        write_pack(out, report.data)
    except OSError as e:
        click.echo(f"error: cannot write {out}: {e.strerror or e}", err=True)
        sys.exit(EXIT_USAGE)
    built = report.pack
    for line in report.kept:
        click.echo(f"warning: {line}", err=True)
    click.echo(
        f"wrote {out}: {built.describe(built.built)}; {len(built.did_documents)} DID document(s), "
        f"{len(built.status_lists)} status list(s), {len(built.anchors)} anchor(s); fetched {len(report.fetched)}, "
        f"reused {len(report.reused)}, kept {len(report.kept)}"
    )


def _inspect(path: str, signers: frozenset[str] | None) -> Any:
    try:
        return inspect_pack(path, trusted_signers=signers)
    except PackError as e:
        fail(e)


def _signature_line(pack: Any) -> str:
    if pack.signature_checked:
        return f"signed by {pack.signer} (signature checked)"
    return f"signed by {pack.signer} (signature NOT checked: give --pack-signer to check it)"


@pack.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--pack-signer", "signers", multiple=True, envvar=SIGNERS_ENV, metavar="DID", help=PACK_SIGNER_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def show(file: str, signers: tuple[str, ...], as_json: bool) -> None:
    """Print a pack's name, version, build time, age, signer, counts, issuers and status lists
    with their fetch times. Works offline; checks the signature if --pack-signer is given."""
    pack_ = _inspect(file, _signers(signers))
    now = datetime.now(timezone.utc)
    shown = describe_pack(pack_, now)
    if as_json:
        click.echo(_escaped(json.dumps(shown, indent=2, ensure_ascii=False)))
        return
    age = "EXPIRED" if shown["expired"] else "usable"
    lines = [
        f'pack "{pack_.name}" version {pack_.version}',
        f"  built {shown['built']} ({shown['age']}); max staleness {shown['maxStaleness']}, "
        f"expires {shown['expires']} ({age})",
        f"  {_signature_line(pack_)}",
        "  counts: " + ", ".join(f"{k} {v}" for k, v in shown["counts"].items()),
        "  trusted issuers: " + (", ".join(shown["trustedIssuers"]) or "none"),
    ]
    lines += [f"  DID document {d['did']} fetched {d['fetched']}" for d in shown["didDocuments"]]
    lines += [f"  anchor {ref}" for ref in shown["anchors"]]
    lines += [f"  status list {s['url']} ({s['purpose']}, {s['set']} set) fetched {s['fetched']}, fresh until "
              f"{s['freshUntil']}" for s in shown["statusLists"]]
    click.echo(_escaped("\n".join(lines)))


@pack.command("diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option("--pack-signer", "signers", multiple=True, envvar=SIGNERS_ENV, metavar="DID", help=PACK_SIGNER_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def diff(old: str, new: str, signers: tuple[str, ...], as_json: bool) -> None:
    """Show what changed from OLD to NEW: issuers added, removed or changed (verification methods
    added and removed), anchors and status lists added and removed, and revocations: the indexes
    newly set (revoked, suspended) and cleared (reinstated) in each status list. Works offline;
    checks the signatures if --pack-signer is given."""
    trusted = _signers(signers)
    a, b = _inspect(old, trusted), _inspect(new, trusted)
    changes = diff_packs(a, b)
    if as_json:
        click.echo(_escaped(json.dumps(changes, indent=2, ensure_ascii=False)))
        return
    lines = [f'{old}: pack "{a.name}" version {a.version} -> {new}: pack "{b.name}" version {b.version}',
             f"  old {_signature_line(a)}", f"  new {_signature_line(b)}"]
    if changes["policyChanged"]:
        lines.append("  policy changed")
    issuers = changes["issuers"]
    lines += [f"  + issuer {d}" for d in issuers["added"]] + [f"  - issuer {d}" for d in issuers["removed"]]
    for item in issuers["changed"]:
        lines.append(f"  ~ issuer {item['did']}: DID document changed")
        lines += [f"      + method {m}" for m in item["methodsAdded"]]
        lines += [f"      - method {m}" for m in item["methodsRemoved"]]
        lines += [f"      ~ method {m} (key replaced)" for m in item["methodsReplaced"]]
    lines += [f"  + anchor {a_}" for a_ in changes["anchors"]["added"]]
    lines += [f"  - anchor {a_}" for a_ in changes["anchors"]["removed"]]
    lists = changes["statusLists"]
    lines += [f"  + status list {u}" for u in lists["added"]] + [f"  - status list {u}" for u in lists["removed"]]
    for item in lists["changed"]:
        if "error" in item:
            lines.append(f"  ~ status list {item['url']}: {item['error']}")
            continue
        purpose = item["purpose"] or "status"
        if item["newlySet"]:
            lines.append(f"  ~ status list {item['url']}: newly set ({purpose}): "
                         + ", ".join(map(str, item["newlySet"])))
        if item["cleared"]:
            lines.append(f"  ~ status list {item['url']}: cleared (reinstated from {purpose}): "
                         + ", ".join(map(str, item["cleared"])))
    if len(lines) == 3:
        lines.append("  no changes")
    click.echo(_escaped("\n".join(lines)))
