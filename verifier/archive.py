"""The evidence archive: sealed evidence bundles kept for years, found again by what they decided on.

An :class:`Archive` keeps each bundle's exact bytes in a folder, content-addressed
(``ROOT/YYYY/MM/DD/<sha256>.json``, the day being the bundle's ``verifiedAt`` in UTC; written
atomically, mode 0600), and indexes it in tables of the ledger's database (an SQLite file or a
``postgresql://`` URL, as :func:`tradevc.verifier.ledger.open_ledger` takes it): the digest,
kind, times and outcome of each bundle, its entry number and importer, the issuers and
credential ids, and the verification methods it relied on: those that signed its documents, the
status lists it read and the vouches on its trust paths. Adding a bundle twice changes nothing,
whatever its serialisation: the same sealed bundle (the same digest under its seal) is one entry.

The file is written before its index row, and pruning deletes the row before the file: a crash
can leave a file the index does not name (:meth:`Archive.check` reports it,
:meth:`Archive.reindex` indexes it again), never a row without its file.

Bundles are kept for :attr:`Archive.retention` after their ``verifiedAt`` (five years by
default: what customs keeps entry records for); :meth:`Archive.prune` removes older ones,
except those under a legal hold (:meth:`Archive.hold`, :meth:`Archive.release`).

A bundle is read with :func:`tradevc.verifier.evidence.read_bundle` (its shape) and, before it
is archived or indexed again, its seal is checked (:func:`tradevc.verifier.evidence.check_seal`:
every recorded body's SHA-256, and the signature over the whole bundle). An archive given
``sealers`` (the DIDs, or DID URLs, of the evidence keys of the verifiers whose bundles it keeps:
a customs administration's border posts) refuses a bundle sealed by any other key; without
them, any bundle whose seal holds is kept (anyone can seal an edited bundle with a key of their
own: give ``sealers``; ``vc-verify archive`` always pins one unless told ``--any-sealer``), and
the key that sealed it is recorded in the index (``sealer``) for whoever reads it later. For example::

    with Archive("/var/lib/customs/evidence", "postgresql://customs@db/ledger",
                 sealers=["did:key:z6Mk...post-17"]) as archive:
        archive.add(Path("bundle.json").read_bytes())
        relied = archive.search(verification_method="did:web:mill.example#key-1", since=march)
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tradevc.vc.atomicfile import write_atomic

from .database import Transactions
from .evidence import Bundle, EvidenceError, check_seal, read_bundle
from .ledger import LedgerError, open_ledger

__all__ = [
    "ARCHIVE_SCHEMA_VERSION", "DEFAULT_RETENTION", "OUTCOMES", "Archive", "ArchiveError", "ArchivedBundle",
    "CheckProblem", "Pruned", "Retention", "bundle_facts", "parse_bundle", "parse_time",
]

ARCHIVE_SCHEMA_VERSION = 3
"""The version of the archive's tables this module writes (2: the ``sealer`` of each bundle; 3:
the digest its seal signs, and the keys of the status lists and trust-path vouches it relied
on); an older one is brought up to it when opened, a newer one is refused."""

ROLES = ("document", "status-list", "vouch")
"""What an indexed key signed: one of the documents verified, a status list the decision read,
or a vouch on its trust path."""

OUTCOMES = ("verified", "not-verified", "could-not-verify")
"""The outcomes a bundle's index may record."""

KINDS = ("credential", "presentation", "entry")

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_FILE = re.compile(r"^([0-9a-f]{64})\.json$")
_CHUNK = 500  # digests per IN (...) list


class ArchiveError(Exception):
    """The archive cannot be used, or a bundle cannot be archived; ``message`` says what failed
    and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- times and retention ------------------------------------------------------------------------


def parse_time(value: object, what: str) -> datetime:
    """An RFC 3339 time with its offset (``2026-03-01T08:00:00Z``) as an aware UTC datetime.

    :raises ArchiveError: not a string, not such a time, or without an offset."""
    if not isinstance(value, str):
        raise ArchiveError(f"{what} must be an RFC 3339 time string, not {type(value).__name__}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ArchiveError(f"{what} is not an RFC 3339 time: {value[:60]!r}") from None
    if at.tzinfo is None or "T" not in value.upper():
        raise ArchiveError(f"{what} must be a date and time with its offset (e.g. 2026-03-01T08:00:00Z): "
                           f"{value[:60]!r}")
    return at.astimezone(timezone.utc)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _micros(at: datetime) -> int:
    """Microseconds since 1970 (exact, for ordering and ranges in SQL)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value))


_RETENTION = re.compile(r"^\s*(?:(\d{1,3})\s*y)?\s*(?:(\d{1,6})\s*d)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Retention:
    """How long a bundle is kept after its ``verifiedAt``: ``years`` calendar years (a 29 February
    counts from 28 February in other years) and then ``days`` days."""

    years: int = 5
    days: int = 0

    def __post_init__(self) -> None:
        for name in ("years", "days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"a retention's {name} is a whole number, 0 or more, not {value!r}")
        if self.years == 0 and self.days == 0:
            raise ValueError("a retention of nothing would remove every bundle: give years or days")

    @classmethod
    def parse(cls, text: str) -> Retention:
        """``5y``, ``400d``, ``5y30d`` (years then days).

        :raises ValueError: another form."""
        match = _RETENTION.match(text) if isinstance(text, str) else None
        if match is None or not (match.group(1) or match.group(2)):
            raise ValueError(f"a retention is years and/or days such as 5y, 400d or 5y30d, not {text!r}")
        return cls(int(match.group(1) or 0), int(match.group(2) or 0))

    def cutoff(self, now: datetime) -> datetime:
        """The moment before which a bundle verified is out of retention at ``now``."""
        year = now.year - self.years
        try:
            back = now.replace(year=year)
        except ValueError:  # 29 February in a year without one
            back = now.replace(year=year, day=28)
        return back - timedelta(days=self.days)

    def __str__(self) -> str:
        return (f"{self.years}y" if self.years else "") + (f"{self.days}d" if self.days else "")


DEFAULT_RETENTION = Retention(5, 0)
"""Five years: how long customs keeps the records of an entry."""


# -- the bundle's facts -------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchivedBundle:
    """A bundle in the archive, as its index holds it. ``path`` is its file; ``new`` says
    whether :meth:`Archive.add` archived it now (False: it was there already)."""

    digest: str
    kind: str
    verified_at: datetime
    sealed_at: datetime
    outcome: str
    entry_number: str | None
    importer: str | None
    issuers: tuple[str, ...]
    credential_ids: tuple[str, ...]
    verification_methods: tuple[str, ...]
    path: Path
    sealer: str | None = None
    held: bool = False
    hold_reason: str | None = None
    new: bool = False
    status_list_methods: tuple[str, ...] = ()
    vouch_methods: tuple[str, ...] = ()
    seal_digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest, "kind": self.kind, "verifiedAt": _rfc3339(self.verified_at),
            "sealedAt": _rfc3339(self.sealed_at), "outcome": self.outcome, "entryNumber": self.entry_number,
            "importer": self.importer, "issuers": list(self.issuers), "credentialIds": list(self.credential_ids),
            "verificationMethods": list(self.verification_methods),
            "statusListMethods": list(self.status_list_methods), "vouchMethods": list(self.vouch_methods),
            "sealer": self.sealer, "sealDigest": self.seal_digest, "path": str(self.path),
            "held": self.held,
            "holdReason": self.hold_reason,
        }


def _rfc3339(at: datetime) -> str:
    text = at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return text


def _did_of(method: str) -> str:
    """The DID of a verification method's DID URL (what comes before its path, query or fragment)."""
    return re.split(r"[/?#]", method, maxsplit=1)[0]


@dataclass(frozen=True)
class _Facts:
    kind: str
    verified_at: datetime
    sealed_at: datetime
    outcome: str
    entry_number: str | None
    importer: str | None
    issuers: tuple[str, ...]
    credential_ids: tuple[str, ...]
    verification_methods: tuple[str, ...]
    sealer: str
    seal_digest: str = ""
    status_list_methods: tuple[str, ...] = ()
    vouch_methods: tuple[str, ...] = ()


def _texts(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ArchiveError(f"the bundle's index.{what} must be a list of non-empty strings")
    return tuple(sorted(set(value)))


def _optional_text(value: object, what: str) -> str | None:
    if value is not None and not (isinstance(value, str) and value):
        raise ArchiveError(f"the bundle's index.{what} must be a non-empty string or null")
    return value


def bundle_facts(bundle: Bundle) -> _Facts:
    """What the archive reads of a bundle read by :func:`~tradevc.verifier.evidence.read_bundle`:
    its kind, times, outcome and index facts, each checked (the seal is not: see
    :meth:`Archive.add`).

    :raises ArchiveError: an index fact of the wrong form (the message names it)."""
    data, index = bundle.data, bundle.index
    verified_at = bundle.verified_at.astimezone(timezone.utc)
    if not 1970 <= verified_at.year <= 9999:
        raise ArchiveError(f"the bundle's verifiedAt {data['verifiedAt']!r} is not a plausible time")
    outcome = index["outcome"]
    if outcome not in OUTCOMES:
        raise ArchiveError(f"the bundle's index.outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    if index["verified"] is not (outcome == "verified"):
        raise ArchiveError(f"the bundle's index says verified is {index['verified']!r} but the outcome is {outcome}")
    return _Facts(
        kind=bundle.kind, verified_at=verified_at, sealed_at=bundle.sealed_at.astimezone(timezone.utc),
        outcome=outcome, entry_number=_optional_text(index["entryNumber"], "entryNumber"),
        importer=_optional_text(index["importer"], "importer"),
        issuers=_texts(index["issuers"], "issuers"), credential_ids=_texts(index["credentialIds"], "credentialIds"),
        verification_methods=_texts(index["verificationMethods"], "verificationMethods"), sealer=bundle.signer,
        seal_digest=bundle.seal_digest, status_list_methods=tuple(sorted(set(bundle.status_list_methods()))),
        vouch_methods=tuple(sorted(set(bundle.vouch_methods()))),
    )


def parse_bundle(data: bytes) -> tuple[Bundle, _Facts]:
    """The bundle ``data`` read (:func:`~tradevc.verifier.evidence.read_bundle`: strict JSON, its
    shape) and what the archive reads of it (:func:`bundle_facts`). The seal is not checked.

    :raises ArchiveError: not a bundle (the message names the member)."""
    try:
        bundle = read_bundle(bytes(data))
    except EvidenceError as e:
        raise ArchiveError(e.message) from None
    return bundle, bundle_facts(bundle)


# -- what check and prune report ------------------------------------------------------------------


@dataclass(frozen=True)
class CheckProblem:
    """What :meth:`Archive.check` found: ``missing`` (an index row whose file is gone),
    ``altered`` (a file that no longer hashes to its name), ``unindexed`` (a file the index
    does not name: a crash between writing it and indexing it, repaired by :meth:`Archive.reindex`),
    ``misplaced`` (an indexed bundle's file in another folder than its day's), ``duplicate`` (another
    serialisation of a sealed bundle already indexed: the same digest under its seal)."""

    problem: str
    digest: str
    path: Path

    def __str__(self) -> str:
        return f"{self.problem}: {self.digest} ({self.path})"


@dataclass(frozen=True)
class Pruned:
    """What :meth:`Archive.prune` did: the bundles it removed, and how many out of retention it
    kept because they are held."""

    cutoff: datetime
    removed: tuple[ArchivedBundle, ...] = ()
    held: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"cutoff": _rfc3339(self.cutoff), "removed": [b.to_dict() for b in self.removed], "held": self.held}


# -- the tables ---------------------------------------------------------------------------------

_SQLITE_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS archive_schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS archive_bundles (
        digest       TEXT PRIMARY KEY,
        kind         TEXT NOT NULL,
        verified_at  INTEGER NOT NULL,
        sealed_at    INTEGER NOT NULL,
        outcome      TEXT NOT NULL,
        entry_number TEXT,
        importer     TEXT,
        path         TEXT NOT NULL,
        size         INTEGER NOT NULL,
        archived_at  INTEGER NOT NULL,
        held         INTEGER NOT NULL DEFAULT 0,
        hold_reason  TEXT,
        sealer       TEXT,
        seal_digest  TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS archive_bundles_verified ON archive_bundles (verified_at)",
    "CREATE INDEX IF NOT EXISTS archive_bundles_entry ON archive_bundles (entry_number)",
    "CREATE INDEX IF NOT EXISTS archive_bundles_importer ON archive_bundles (importer)",
    """CREATE TABLE IF NOT EXISTS archive_issuers (
        digest TEXT NOT NULL REFERENCES archive_bundles (digest) ON DELETE CASCADE,
        issuer TEXT NOT NULL,
        PRIMARY KEY (digest, issuer)
    )""",
    "CREATE INDEX IF NOT EXISTS archive_issuers_issuer ON archive_issuers (issuer)",
    """CREATE TABLE IF NOT EXISTS archive_credentials (
        digest        TEXT NOT NULL REFERENCES archive_bundles (digest) ON DELETE CASCADE,
        credential_id TEXT NOT NULL,
        PRIMARY KEY (digest, credential_id)
    )""",
    "CREATE INDEX IF NOT EXISTS archive_credentials_id ON archive_credentials (credential_id)",
    """CREATE TABLE IF NOT EXISTS archive_methods (
        digest TEXT NOT NULL REFERENCES archive_bundles (digest) ON DELETE CASCADE,
        method TEXT NOT NULL,
        did    TEXT NOT NULL,
        role   TEXT NOT NULL DEFAULT 'document',
        PRIMARY KEY (digest, method)
    )""",
    "CREATE INDEX IF NOT EXISTS archive_methods_method ON archive_methods (method)",
    "CREATE INDEX IF NOT EXISTS archive_methods_did ON archive_methods (did)",
]
_PG_SCHEMA = [s.replace("INTEGER", "BIGINT").replace("held         BIGINT NOT NULL DEFAULT 0",
                                                     "held         BOOLEAN NOT NULL DEFAULT FALSE")
              for s in _SQLITE_SCHEMA]
_SEAL_DIGEST_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS archive_bundles_seal ON archive_bundles (seal_digest)"
"""Made once the tables are at the current version (an older table has no such column yet)."""
_PG_SCHEMA_LOCK = 0x7472_6164_6576_65  # an advisory lock key for making the tables (not the ledger's)

_COLUMNS = ("digest, kind, verified_at, sealed_at, outcome, entry_number, importer, path, held, hold_reason, sealer, "
            "seal_digest")


def _checked_digest(value: Any, location: str) -> str:
    if not isinstance(value, str) or not _DIGEST.match(value):
        raise ArchiveError(f"the archive index {location} holds a row whose digest is not a SHA-256: "
                           f"{str(value)[:80]!r}; it was altered")
    return value


# -- the archive --------------------------------------------------------------------------------


class Archive:
    """The archive in the folder ``root`` (made if missing) indexed in the ledger database
    ``database`` (a path, ``sqlite:///path`` or ``postgresql://...``; its ledger tables are
    made if missing, and the archive's beside them). ``retention`` is how long a bundle is kept
    after its ``verifiedAt``. ``sealers`` are the DIDs (or DID URLs) of the evidence keys whose
    bundles it accepts (none: any bundle whose seal holds; see the module). Safe to share
    between threads.

    :raises ArchiveError: the folder or the database cannot be used.
    """

    def __init__(self, root: str | os.PathLike[str], database: str | os.PathLike[str], *,
                 retention: Retention = DEFAULT_RETENTION, timeout: float = 10.0,
                 sealers: Iterable[str] | None = None) -> None:
        if not isinstance(retention, Retention):
            raise TypeError(f"retention is a Retention, not {type(retention).__name__}")
        if isinstance(sealers, str):
            raise TypeError("sealers is a list of DIDs or DID URLs, not one string")
        self.root = Path(root)
        self.retention = retention
        self.sealers: tuple[str, ...] | None = tuple(sealers) if sealers else None
        """The sealing keys accepted (DIDs, or DID URLs); None: any key whose seal holds."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ArchiveError(f"cannot make the archive folder {self.root}: {e.strerror}") from None
        if not self.root.is_dir():
            raise ArchiveError(f"the archive {self.root} is not a folder")
        self._db = Transactions(database, timeout=timeout, what="archive index", error=ArchiveError,
                                application_name="tradevc-archive")
        self.location = self._db.location
        if not self._db.in_memory:  # the index lives in the ledger's database: make the ledger's tables first
            try:
                open_ledger(database, timeout=timeout).close()
            except LedgerError as e:
                self._db.close()
                raise ArchiveError(e.message) from None
        self._make_tables()

    def _make_tables(self) -> None:
        def make(cursor: Any) -> list[Any]:
            self._db.lock_schema(cursor, _PG_SCHEMA_LOCK)
            for statement in _PG_SCHEMA if self._db.postgres else _SQLITE_SCHEMA:
                cursor.execute(statement)
            cursor.execute("SELECT version FROM archive_schema_version")
            versions = [row[0] for row in cursor.fetchall()]
            if not versions:
                cursor.execute(self._db.sql("INSERT INTO archive_schema_version (version) VALUES (?)"),
                               (ARCHIVE_SCHEMA_VERSION,))
                versions = [ARCHIVE_SCHEMA_VERSION]
            elif versions in ([1], [2]):
                if versions == [1]:  # made before the seal was checked: the sealer column is added (empty)
                    cursor.execute("ALTER TABLE archive_bundles ADD COLUMN sealer TEXT")
                # the seal's digest and the keys' roles: filled in for the bundles already there by reindex
                cursor.execute("ALTER TABLE archive_bundles ADD COLUMN seal_digest TEXT")
                cursor.execute("ALTER TABLE archive_methods ADD COLUMN role TEXT NOT NULL DEFAULT 'document'")
                cursor.execute(self._db.sql("UPDATE archive_schema_version SET version = ?"),
                               (ARCHIVE_SCHEMA_VERSION,))
                versions = [ARCHIVE_SCHEMA_VERSION]
            if versions == [ARCHIVE_SCHEMA_VERSION]:
                cursor.execute(_SEAL_DIGEST_INDEX)
            return versions

        versions = self._db.run(make, write=True)  # the first use: an SQLite file is put in WAL mode
        if len(versions) != 1 or not isinstance(versions[0], int):
            raise ArchiveError(f"{self.location} holds an unreadable archive schema version")
        if versions[0] > ARCHIVE_SCHEMA_VERSION:
            raise ArchiveError(f"the archive index {self.location} has schema version {versions[0]}, newer than "
                               f"this tradevc reads ({ARCHIVE_SCHEMA_VERSION}): upgrade tradevc to use it")

    # -- files -----------------------------------------------------------------------------------

    def _relative(self, digest: str, verified_at: datetime) -> str:
        at = verified_at.astimezone(timezone.utc)
        return f"{at.year:04d}/{at.month:02d}/{at.day:02d}/{digest}.json"

    # -- adding ------------------------------------------------------------------------------------

    def add(self, data: bytes) -> ArchivedBundle:
        """Archive the bundle ``data`` (its exact bytes): its file first, then its index rows.
        Adding a bundle already archived changes nothing (``new`` is False): the same sealed
        bundle is recognised by the digest its seal signs, whatever its serialisation (another
        indentation or member order), and the entry already there is returned.

        :raises ArchiveError: not a bundle (the message names the member), its seal does not
            hold or is not by one of :attr:`sealers`, or the file or the index cannot be written."""
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"a bundle is given as bytes, not {type(data).__name__}")
        data = bytes(data)
        bundle, facts = parse_bundle(data)
        self._check_seal(bundle)
        there = self._by_seal(facts.seal_digest)
        if there is not None:
            return replace(there, new=False)
        digest = hashlib.sha256(data).hexdigest()
        relative = self._relative(digest, facts.verified_at)
        path = self.root / relative
        self._write_file(path, data, digest)
        indexed, new = self._index(digest, facts, relative, len(data))
        if indexed != digest:  # the same sealed bundle, another serialisation, indexed meanwhile
            path.unlink(missing_ok=True)
        found = self.get(indexed)
        assert found is not None
        return replace(found, new=new)

    def _by_seal(self, seal_digest: str) -> ArchivedBundle | None:
        found = self._select(["b.seal_digest = ?"], [seal_digest], 1)
        return found[0] if found else None

    def _check_seal(self, bundle: Bundle) -> None:
        try:
            check_seal(bundle, self.sealers)
        except EvidenceError as e:
            raise ArchiveError(f"the bundle's seal does not hold: {e.message}") from None

    def _write_file(self, path: Path, data: bytes, digest: str) -> None:
        try:
            if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest:
                return  # there already (the same bytes: the name is their digest)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data, mode=0o600)
        except OSError as e:
            raise ArchiveError(f"cannot write the bundle {path}: {e.strerror or e}; check the archive folder's "
                               "space and permissions") from None

    def _index(self, digest: str, facts: _Facts, relative: str, size: int) -> tuple[str, bool]:
        """Index the bundle: its row and its links, in one transaction. Returns the digest of the
        entry that holds it, and whether it was made now (False: this file, or another
        serialisation of the same sealed bundle, was indexed already)."""
        now = _micros(datetime.now(timezone.utc))

        def work(cursor: Any) -> tuple[str, bool]:
            cursor.execute(self._db.sql("SELECT digest FROM archive_bundles WHERE digest = ? OR seal_digest = ?"),
                           (digest, facts.seal_digest))
            row = cursor.fetchone()
            if row is not None:
                return str(row[0]), False
            cursor.execute(self._db.sql(
                "INSERT INTO archive_bundles (digest, kind, verified_at, sealed_at, outcome, entry_number, importer, "
                "path, size, archived_at, sealer, seal_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING"),
                (digest, facts.kind, _micros(facts.verified_at), _micros(facts.sealed_at), facts.outcome,
                 facts.entry_number, facts.importer, relative, size, now, facts.sealer, facts.seal_digest))
            if cursor.rowcount != 1:  # indexed by another process since the SELECT
                cursor.execute(self._db.sql("SELECT digest FROM archive_bundles WHERE digest = ? OR seal_digest = ?"),
                               (digest, facts.seal_digest))
                row = cursor.fetchone()
                return (str(row[0]) if row is not None else digest), False
            links: list[tuple[str, str, list[tuple[Any, ...]]]] = [
                ("archive_issuers (digest, issuer)", "?, ?", [(digest, i) for i in facts.issuers]),
                ("archive_credentials (digest, credential_id)", "?, ?", [(digest, c) for c in facts.credential_ids]),
            ]
            for table, marks, rows in links:
                if rows:
                    cursor.executemany(self._db.sql(f"INSERT INTO {table} VALUES ({marks})"), rows)  # noqa: S608
            self._insert_methods(cursor, digest, facts)
            return digest, True

        return self._db.run(work, write=True)

    def _insert_methods(self, cursor: Any, digest: str, facts: _Facts) -> None:
        """The keys a bundle relied on, each once, with the first of its roles (a document's
        key, a status list's, a vouch's); those already indexed for it are left as they are."""
        cursor.execute(self._db.sql("SELECT method FROM archive_methods WHERE digest = ?"), (digest,))
        seen = {str(row[0]) for row in cursor.fetchall()}
        rows: list[tuple[str, str, str, str]] = []
        for role, methods in (("document", facts.verification_methods), ("status-list", facts.status_list_methods),
                              ("vouch", facts.vouch_methods)):
            for method in methods:
                if method not in seen:
                    seen.add(method)
                    rows.append((digest, method, _did_of(method), role))
        if rows:
            cursor.executemany(
                self._db.sql("INSERT INTO archive_methods (digest, method, did, role) VALUES (?, ?, ?, ?)"), rows)

    # -- reading -------------------------------------------------------------------------------------

    def get(self, digest: str) -> ArchivedBundle | None:
        """The bundle of ``digest`` (its SHA-256, hex), or None."""
        if not isinstance(digest, str) or not _DIGEST.match(digest):
            return None
        found = self._select(["b.digest = ?"], [digest], None)
        return found[0] if found else None

    def find(self, prefix: str) -> ArchivedBundle:
        """The one bundle whose digest starts with ``prefix`` (at least 8 hex digits).

        :raises ArchiveError: none, several, or not a digest prefix."""
        text = prefix.strip().lower() if isinstance(prefix, str) else ""
        if not re.match(r"^[0-9a-f]{8,64}$", text):
            raise ArchiveError(f"{prefix!r} is not a bundle digest: give its SHA-256 in hex (at least its first "
                               "8 digits), as 'archive list' shows it")
        found = self._select(["b.digest LIKE ?"], [text + "%"], 2)
        if not found:
            raise ArchiveError(f"no bundle {text} in the archive: see 'archive list'")
        if len(found) > 1:
            raise ArchiveError(f"several bundles start with {text}: give more digits")
        return found[0]

    def read(self, bundle: ArchivedBundle) -> bytes:
        """The bytes of an archived bundle, checked against its digest.

        :raises ArchiveError: the file is gone or altered."""
        try:
            data = bundle.path.read_bytes()
        except OSError as e:
            raise ArchiveError(f"cannot read the bundle {bundle.path}: {e.strerror or e}; run 'archive check'") \
                from None
        if hashlib.sha256(data).hexdigest() != bundle.digest:
            raise ArchiveError(f"the bundle file {bundle.path} was altered (it no longer hashes to its name); "
                               "run 'archive check'")
        return data

    def search(self, *, entry_number: str | None = None, importer: str | None = None, issuer: str | None = None,
               credential_id: str | None = None, verification_method: str | None = None,
               since: datetime | None = None, until: datetime | None = None, outcome: str | None = None,
               kind: str | None = None, sealer: str | None = None, limit: int | None = None) -> list[ArchivedBundle]:
        """The bundles matching every condition given, ordered by ``verifiedAt`` (then digest).
        ``verification_method`` is a DID URL (matched exactly) or a DID (any of its methods): a
        key the bundle relied on, whether it signed one of its documents, a status list it read
        or a vouch on its trust path; and so is ``sealer`` (the key that sealed the bundle);
        ``since`` and ``until`` bound ``verifiedAt`` (inclusive, exclusive). No condition: all.

        :raises ValueError: an unknown outcome or kind, a naive time, a limit below 1."""
        where: list[str] = []
        values: list[Any] = []
        for column, value in (("b.entry_number", entry_number), ("b.importer", importer)):
            if value is not None:
                where.append(f"{column} = ?")
                values.append(value)
        if sealer is not None:
            if _did_of(sealer) == sealer:
                where.append("(b.sealer = ? OR substr(b.sealer, 1, ?) = ?)")
                values.extend([sealer, len(sealer) + 1, sealer + "#"])
            else:
                where.append("b.sealer = ?")
                values.append(sealer)
        links = (("archive_issuers", "issuer", issuer), ("archive_credentials", "credential_id", credential_id))
        for table, column, value in links:
            if value is not None:
                where.append(f"EXISTS (SELECT 1 FROM {table} l WHERE l.digest = b.digest AND l.{column} = ?)")
                values.append(value)
        if verification_method is not None:
            column = "did" if _did_of(verification_method) == verification_method else "method"
            where.append(f"EXISTS (SELECT 1 FROM archive_methods l WHERE l.digest = b.digest AND l.{column} = ?)")
            values.append(verification_method)
        for bound, sign, name in ((since, ">=", "since"), (until, "<", "until")):
            if bound is not None:
                if not isinstance(bound, datetime) or bound.tzinfo is None:
                    raise ValueError(f"{name} must be an aware datetime")
                where.append(f"b.verified_at {sign} ?")
                values.append(_micros(bound))
        if outcome is not None:
            if outcome not in OUTCOMES:
                raise ValueError(f"an outcome is one of {', '.join(OUTCOMES)}, not {outcome!r}")
            where.append("b.outcome = ?")
            values.append(outcome)
        if kind is not None:
            if kind not in KINDS:
                raise ValueError(f"a kind is one of {', '.join(KINDS)}, not {kind!r}")
            where.append("b.kind = ?")
            values.append(kind)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"a limit is a whole number of 1 or more, not {limit!r}")
        return self._select(where, values, limit)

    def __iter__(self) -> Iterator[ArchivedBundle]:
        return iter(self.search())

    def _select(self, where: list[str], values: list[Any], limit: int | None) -> list[ArchivedBundle]:
        statement = f"SELECT {_COLUMNS} FROM archive_bundles b"  # noqa: S608
        if where:
            statement += " WHERE " + " AND ".join(where)
        statement += " ORDER BY b.verified_at, b.digest"
        if limit is not None:
            statement += f" LIMIT {int(limit)}"

        def work(cursor: Any) -> tuple[list[Any], dict[str, dict[str, list[str]]]]:
            cursor.execute(self._db.sql(statement), values)
            rows = cursor.fetchall()
            links: dict[str, dict[str, list[str]]] = {"issuer": {}, "credential_id": {}, **{r: {} for r in ROLES}}
            digests = [row[0] for row in rows]
            for start in range(0, len(digests), _CHUNK):
                chunk = digests[start:start + _CHUNK]
                marks = ", ".join("?" for _ in chunk)
                for table, column, kind in (("archive_issuers", "issuer", "'issuer'"),
                                            ("archive_credentials", "credential_id", "'credential_id'"),
                                            ("archive_methods", "method", "role")):
                    cursor.execute(self._db.sql(f"SELECT digest, {column}, {kind} FROM {table} "  # noqa: S608
                                                f"WHERE digest IN ({marks}) ORDER BY digest, {column}"), chunk)
                    for digest, value, link in cursor.fetchall():
                        links.setdefault(str(link), {}).setdefault(digest, []).append(value)
            return rows, links

        rows, links = self._db.run(work)
        return [ArchivedBundle(
            digest=row[0], kind=row[1], verified_at=_from_micros(row[2]), sealed_at=_from_micros(row[3]),
            outcome=row[4], entry_number=row[5], importer=row[6], held=bool(row[8]),
            # the file's place follows from the digest and the day (never from a stored path, which
            # a tampered index could point anywhere)
            path=self.root / self._relative(_checked_digest(row[0], self.location), _from_micros(row[2])),
            hold_reason=row[9], sealer=row[10], issuers=tuple(links["issuer"].get(row[0], ())),
            credential_ids=tuple(links["credential_id"].get(row[0], ())),
            verification_methods=tuple(links["document"].get(row[0], ())),
            status_list_methods=tuple(links["status-list"].get(row[0], ())),
            vouch_methods=tuple(links["vouch"].get(row[0], ())), seal_digest=row[11],
        ) for row in rows]

    # -- legal holds ---------------------------------------------------------------------------------

    def hold(self, digest: str, reason: str | None = None) -> ArchivedBundle:
        """Keep the bundle ``digest`` past its retention until :meth:`release` (an audit, an appeal,
        a fraud case); ``reason`` is kept with it.

        :raises ArchiveError: no such bundle."""
        return self._set_hold(digest, True, reason)

    def release(self, digest: str) -> ArchivedBundle:
        """Lift the legal hold of ``digest``: it is pruned again once out of retention.

        :raises ArchiveError: no such bundle."""
        return self._set_hold(digest, False, None)

    def _set_hold(self, digest: str, held: bool, reason: str | None) -> ArchivedBundle:
        if reason is not None and (not isinstance(reason, str) or len(reason) > 1000):
            raise ValueError("a hold's reason is text of at most 1000 characters")

        def work(cursor: Any) -> int:
            cursor.execute(self._db.sql("UPDATE archive_bundles SET held = ?, hold_reason = ? WHERE digest = ?"),
                           (held if self._db.postgres else int(held), reason, digest))
            return int(cursor.rowcount)

        if not self._db.run(work, write=True):
            raise ArchiveError(f"no bundle {digest} in the archive: see 'archive list'")
        found = self.get(digest)
        assert found is not None
        return found

    # -- retention -----------------------------------------------------------------------------------

    def prune(self, now: datetime, *, dry_run: bool = False) -> Pruned:
        """Remove the bundles verified before ``now`` less the retention, except those held: each
        one's index rows first, then its file (a crash between leaves an unindexed file, which
        :meth:`check` reports and the next :meth:`reindex` and prune deal with). ``dry_run``:
        only say what would be removed.

        :raises ValueError: ``now`` is naive. :raises ArchiveError: the index or a file cannot be
            changed."""
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        cutoff = self.retention.cutoff(now.astimezone(timezone.utc))
        expired = self.search(until=cutoff)
        held = sum(1 for b in expired if b.held)
        doomed = [b for b in expired if not b.held]
        if dry_run:
            return Pruned(cutoff, tuple(doomed), held)
        removed: list[ArchivedBundle] = []
        for bundle in doomed:
            def work(cursor: Any, digest: str = bundle.digest) -> int:
                # not held now either (a hold may have come since the search)
                cursor.execute(self._db.sql("DELETE FROM archive_bundles WHERE digest = ? AND held = ?"),
                               (digest, False if self._db.postgres else 0))
                return int(cursor.rowcount)

            if not self._db.run(work, write=True):
                continue
            try:
                bundle.path.unlink(missing_ok=True)
            except OSError as e:
                raise ArchiveError(f"the bundle {bundle.digest} was removed from the index but its file "
                                   f"{bundle.path} could not be deleted ({e.strerror or e}): delete it, or run "
                                   "'archive prune' again after 'archive reindex'") from None
            removed.append(bundle)
        self._remove_empty_folders()
        return Pruned(cutoff, tuple(removed), held)

    def _remove_empty_folders(self) -> None:
        for folder in sorted((p for p in self.root.glob("[0-9]*/**") if p.is_dir()), reverse=True):
            try:
                folder.rmdir()
            except OSError:
                pass  # not empty

    # -- integrity -------------------------------------------------------------------------------------

    def _files(self) -> Iterator[tuple[str, Path]]:
        """Every ``<digest>.json`` file under the root's year/month/day folders."""
        for path in sorted(self.root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*.json")):
            match = _FILE.match(path.name)
            if match and path.is_file():
                yield match.group(1), path

    def check(self) -> list[CheckProblem]:
        """Every problem between the files and the index: index rows whose file is missing,
        files that no longer hash to their name, files the index does not name, indexed files in
        the wrong folder. An empty list: the archive is whole."""
        problems: list[CheckProblem] = []
        indexed = {b.digest: b for b in self.search()}
        seen: set[str] = set()
        for digest, path in self._files():
            if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
                problems.append(CheckProblem("altered", digest, path))
            bundle = indexed.get(digest)
            if bundle is None:
                problems.append(CheckProblem("unindexed", digest, path))
            elif path != bundle.path:
                problems.append(CheckProblem("misplaced", digest, path))
            else:
                seen.add(digest)
        for digest, bundle in indexed.items():
            if digest not in seen and not bundle.path.is_file():
                problems.append(CheckProblem("missing", digest, bundle.path))
        return problems

    def reindex(self) -> tuple[list[ArchivedBundle], list[CheckProblem]]:
        """Index the files the index does not name (after a crash), those that still hash to
        their name and are bundles; returns them, and the files left out (``altered``,
        ``unindexed`` when not a bundle, ``duplicate`` when another serialisation of the same
        sealed bundle is indexed). Bundles indexed before schema version 3 gain the digest of
        their seal and the keys of their status lists and vouches."""
        everything = self.search()
        indexed = {b.digest for b in everything}
        added: list[ArchivedBundle] = []
        left: list[CheckProblem] = []
        for old in everything:
            if old.seal_digest is None:
                self._complete(old, left)
        for digest, path in self._files():
            if digest in indexed:
                continue
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != digest:
                left.append(CheckProblem("altered", digest, path))
                continue
            try:
                bundle, facts = parse_bundle(data)
                self._check_seal(bundle)
            except ArchiveError:
                left.append(CheckProblem("unindexed", digest, path))
                continue
            relative = self._relative(digest, facts.verified_at)
            if self.root / relative != path:
                left.append(CheckProblem("misplaced", digest, path))
                continue
            held, _ = self._index(digest, facts, relative, len(data))
            if held != digest:
                left.append(CheckProblem("duplicate", digest, path))
                continue
            found = self.get(digest)
            assert found is not None
            added.append(found)
        return added, left

    def _complete(self, bundle: ArchivedBundle, left: list[CheckProblem]) -> None:
        """Give a bundle indexed before schema version 3 its seal's digest and the keys of its
        status lists and vouches (from its file; one that cannot be read is left as it is)."""
        try:
            _, facts = parse_bundle(self.read(bundle))
        except ArchiveError:
            return  # reported by check (missing or altered)

        def work(cursor: Any) -> bool:
            cursor.execute(self._db.sql("SELECT digest FROM archive_bundles WHERE seal_digest = ?"),
                           (facts.seal_digest,))
            if cursor.fetchone() is not None:
                return False
            cursor.execute(self._db.sql("UPDATE archive_bundles SET seal_digest = ? WHERE digest = ?"),
                           (facts.seal_digest, bundle.digest))
            self._insert_methods(cursor, bundle.digest, facts)
            return True

        if not self._db.run(work, write=True):
            left.append(CheckProblem("duplicate", bundle.digest, bundle.path))

    # -- closing ---------------------------------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Archive {self.root} indexed in {self.location}>"
