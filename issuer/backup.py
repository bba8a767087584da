"""An issuer home in one file: what ``vc-issuer backup`` writes and ``vc-issuer restore`` reads.

The backup holds the profile (``issuer.json``), every key file the profile names (each sealed
under the passphrase already) and a copy of the status registry. Without the registry a mill
cannot revoke what it issued: the registry is where each credential's status list index is.
The copy is taken with SQLite's online backup API (:meth:`StatusRegistry.snapshot`), so it is
consistent while other processes go on issuing: each of their credentials is in it entirely
or not at all. All of it is JSON sealed by :mod:`tradevc.vc.sealed` under the issuer's key
passphrase (scrypt, AES-256-GCM; ``kind`` ``"issuer-backup"``): the keys inside open with that
passphrase anyway, so a second one would protect nothing more.

Restoring checks everything before it writes anything: the file opens with the passphrase, the
profile reads, every key file it names is there (a name under ``keys/``, nothing else) and the
current key opens with the passphrase, and the registry passes SQLite's integrity check. A
home that already holds an issuer (a profile or a registry) is refused unless ``force``. The
profile is written last, so a restore that fails half-way leaves no home that looks whole.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tradevc.vc.atomicfile import UnsafeFileError, check_private_dir, read_private, write_atomic
from tradevc.vc.errors import KeyMaterialError
from tradevc.vc.keys import KeyPair
from tradevc.vc.sealed import DamagedSealedFile, WrongPassphrase, is_sealed, new_key, seal, unseal

from .errors import IssuerError, IssuerHomeUnsafe
from .home import PROFILE_FILE, IssuerProfile
from .service import REGISTRY_FILE, Issuer

__all__ = ["BACKUP_KIND", "BackupSummary", "backup_home", "restore_home"]

BACKUP_KIND = "issuer-backup"
FORMAT = "tradevc-issuer-backup"
VERSION = 1
MAX_BACKUP = 1024 * 1024 * 1024
_KEY_FILE = re.compile(r"keys/[0-9A-Za-z_-]{1,64}\.(key|pem)")


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds (or a restore put back)."""

    did: str
    keys: int
    credentials: int


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _credentials_in(database: sqlite3.Connection) -> int:
    row = database.execute("SELECT count(*) FROM credentials").fetchone()
    return int(row[0])


def backup_home(home: str | os.PathLike[str], target: str | os.PathLike[str], passphrase: bytes) -> BackupSummary:
    """Write the issuer home at ``home`` to ``target`` (mode 0600), sealed under ``passphrase``.

    :raises IssuerError: no issuer there, or ``target`` is inside the home.
    :raises KeyMaterialError: the passphrase does not open the current key.
    :raises OSError: ``target`` cannot be written.
    """
    target = Path(target)
    with Issuer.open(home, passphrase) as issuer:  # checks the passphrase (and seals old-format keys)
        if issuer.home.path.resolve() in target.resolve().parents:
            raise IssuerError("write the backup outside the issuer home (it would be lost with it)")
        profile = issuer.home.profile
        keys: dict[str, str] = {}
        for record in profile.keys:
            try:
                keys[record.file] = _b64(read_private(issuer.home.path / record.file))
            except UnsafeFileError as e:
                raise IssuerHomeUnsafe(e.message) from None
        registry = issuer.registry.snapshot()
    database = sqlite3.connect(":memory:")
    try:
        database.deserialize(registry)
        credentials = _credentials_in(database)
    finally:
        database.close()
    payload = {
        "format": FORMAT, "version": VERSION,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "profile": _b64(profile.to_json()), "keys": keys, "registry": _b64(registry),
    }
    write_atomic(target, seal(json.dumps(payload).encode("ascii"), new_key(passphrase), kind=BACKUP_KIND))
    return BackupSummary(profile.did, len(keys), credentials)


def _read(source: Path, passphrase: bytes) -> dict[str, Any]:
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise IssuerError(f"no backup file at {source}") from None
    if len(data) > MAX_BACKUP:
        raise IssuerError(f"{source} is larger than any issuer backup ({MAX_BACKUP} bytes)")
    try:
        opened = unseal(data, passphrase, kind=BACKUP_KIND, what="issuer backup")
    except WrongPassphrase:
        raise IssuerError("wrong passphrase for this backup (it opens with the key passphrase of the issuer backed up)",
                          code="WRONG_PASSPHRASE") from None
    except DamagedSealedFile as e:
        raise IssuerError(f"{source}: {e.message}", code="DAMAGED_FILE") from None
    try:
        payload = json.loads(opened.plaintext)
        if payload.get("format") != FORMAT or payload.get("version") != VERSION:
            raise IssuerError(f"{source}: not an issuer backup this version reads (format {payload.get('version')!r})")
        return {
            "profile": base64.b64decode(payload["profile"], validate=True),
            "keys": {name: base64.b64decode(value, validate=True) for name, value in dict(payload["keys"]).items()},
            "registry": base64.b64decode(payload["registry"], validate=True),
        }
    except IssuerError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as e:
        raise IssuerError(f"{source}: the backup's content is damaged", code="DAMAGED_FILE") from e


def restore_home(
    source: str | os.PathLike[str], home: str | os.PathLike[str], passphrase: bytes, *, force: bool = False
) -> BackupSummary:
    """Put the issuer of the backup ``source`` in ``home``.

    :raises IssuerError: wrong passphrase, a damaged backup, or ``home`` already holds an
        issuer and ``force`` is not set (nothing is written then).
    :raises IssuerHomeUnsafe: ``home`` or its ``keys/`` is writable by group or others.
    :raises OSError: the home cannot be written.
    """
    source, home = Path(source), Path(home)
    content = _read(source, passphrase)
    profile = IssuerProfile.from_json(content["profile"], source)
    for record in profile.keys:
        if not _KEY_FILE.fullmatch(record.file) or record.file not in content["keys"]:
            raise IssuerError(f"{source}: the backup lacks the key file {record.file!r} its profile names",
                              code="DAMAGED_FILE")
    current = profile.current_key
    data = content["keys"][current.file]
    try:
        key = KeyPair.from_sealed(data, passphrase)[0] if is_sealed(data) else KeyPair.from_encrypted_pem(data, passphrase)
    except (WrongPassphrase, DamagedSealedFile, KeyMaterialError) as e:
        raise IssuerError(f"{source}: the backup's current key does not open with this passphrase",
                          code="WRONG_PASSPHRASE") from e
    if key.public_key_multibase != current.public_key_multibase:
        raise IssuerError(f"{source}: the backup's key file {current.file} does not hold the key {current.id}",
                          code="DAMAGED_FILE")
    snapshot = sqlite3.connect(":memory:")
    try:
        try:
            snapshot.deserialize(content["registry"])
            ok = snapshot.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            credentials = _credentials_in(snapshot)
        except sqlite3.DatabaseError:
            ok = False
        if not ok:
            raise IssuerError(f"{source}: the backup's status registry is damaged", code="DAMAGED_FILE")
        if (home / PROFILE_FILE).exists() or (home / REGISTRY_FILE).exists():
            if not force:
                raise IssuerError(f"{home} already holds an issuer; restore into another --home, or pass --force "
                                  "to replace it (stop every other vc-issuer using it first)")
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        (home / "keys").mkdir(exist_ok=True, mode=0o700)
        try:
            check_private_dir(home)
            check_private_dir(home / "keys")
        except UnsafeFileError as e:
            raise IssuerHomeUnsafe(e.message) from None
        for record in profile.keys:
            write_atomic(home / record.file, content["keys"][record.file])
        _write_registry(snapshot, home / REGISTRY_FILE)
    finally:
        snapshot.close()
    write_atomic(home / PROFILE_FILE, content["profile"])
    return BackupSummary(profile.did, len(profile.keys), credentials)


def _write_registry(snapshot: sqlite3.Connection, path: Path) -> None:
    """Replace the registry at ``path`` with ``snapshot``: built beside it, then renamed over
    it, with the old database's write-ahead log removed so it cannot be replayed into the new one."""
    temp = path.with_name(f".{path.name}.restore.tmp")
    temp.unlink(missing_ok=True)
    database = sqlite3.connect(temp)
    try:
        snapshot.backup(database)
    finally:
        database.close()
    temp.chmod(0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    os.replace(temp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
