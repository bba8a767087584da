"""The evidence archive: content-addressed files, an index in the ledger's database (SQLite and
PostgreSQL), search, retention with legal holds, and the integrity check."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sqlite3
import stat
from datetime import datetime, timedelta, timezone

import pytest

from support.bundles import SEALER, credential, make_bundle, policy_document, to_bytes
from tradevc.vc.keys import KeyPair
from tradevc.verifier.archive import Archive, ArchiveError, Retention
from tradevc.verifier.ledger import open_ledger

UTC = timezone.utc
MILL = KeyPair.generate("Ed25519")
OTHER = KeyPair.generate("Ed25519")
POLICY = policy_document(MILL, OTHER)
_databases = itertools.count()


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def bundles() -> dict[str, bytes]:
    """Four real verifications: two of the mill's credentials (one tampered with), one of
    another issuer's, one older than the retention."""
    good, second, other = credential(MILL, 1), credential(MILL, 2), credential(OTHER, 3)
    second["credentialSubject"]["goods"][0]["commodityCode"] = "000000"  # its proof no longer verifies
    return {
        "march": to_bytes(make_bundle(good, POLICY, at=at("2026-03-05T10:00:00"), entry_number="316-1111111-1",
                                      importer="Acme Imports")),
        "april": to_bytes(make_bundle(second, POLICY, at=at("2026-04-02T09:30:00"), entry_number="316-2222222-2",
                                      importer="Acme Imports")),
        "february": to_bytes(make_bundle(other, POLICY, at=at("2026-02-10T23:59:59"), entry_number="316-3333333-3",
                                         importer="Borealis Steel")),
        "old": to_bytes(make_bundle(credential(MILL, 4, issued="2020-01-01T00:00:00Z"), POLICY, at=at("2020-06-01T00:00:00"),
                                    entry_number="316-4444444-4", importer="Acme Imports")),
    }


def fresh_postgres_database(cluster) -> str:
    import psycopg

    name = f"archive_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(cluster.url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")  # noqa: S608  (a name made here)
    return cluster.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return fresh_postgres_database(request.getfixturevalue("postgres_cluster"))


@pytest.fixture
def archive(tmp_path, database):
    with Archive(tmp_path / "archive", database) as opened:
        yield opened


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_bundle_is_kept_byte_for_byte_by_its_digest_and_day(archive, bundles, tmp_path):
    added = archive.add(bundles["march"])
    assert added.new and added.digest == digest(bundles["march"])
    assert added.path == tmp_path / "archive" / "2026" / "03" / "05" / f"{added.digest}.json"
    assert added.path.read_bytes() == bundles["march"]
    assert stat.S_IMODE(added.path.stat().st_mode) == 0o600
    assert (added.kind, added.outcome, added.entry_number, added.importer) == (
        "credential", "verified", "316-1111111-1", "Acme Imports")
    assert added.verified_at == at("2026-03-05T10:00:00") and added.sealed_at == at("2026-03-05T10:00:01")
    assert added.issuers == (MILL.did,) and added.credential_ids == ("urn:uuid:00000000-0000-0000-0000-000000000001",)
    assert added.verification_methods == (f"{MILL.did}#{MILL.did.removeprefix('did:key:')}",)
    assert archive.read(added) == bundles["march"]


def test_adding_the_same_bundle_twice_changes_nothing(archive, bundles):
    first = archive.add(bundles["march"])
    again = archive.add(bundles["march"])
    assert not again.new and again.digest == first.digest
    assert [b.digest for b in archive.search()] == [first.digest]
    assert len(list((archive.root / "2026" / "03" / "05").iterdir())) == 1


def test_the_index_records_the_real_outcome(archive, bundles):
    assert archive.add(bundles["april"]).outcome == "not-verified"  # the tampered credential


def test_search_by_each_fact_and_their_combination(archive, bundles):
    added = {name: archive.add(data).digest for name, data in bundles.items()}

    def found(**conditions) -> list[str]:
        names = {v: k for k, v in added.items()}
        return [names[b.digest] for b in archive.search(**conditions)]

    assert found() == ["old", "february", "march", "april"]  # ordered by verifiedAt
    assert found(entry_number="316-2222222-2") == ["april"]
    assert found(importer="Acme Imports") == ["old", "march", "april"]
    assert found(issuer=OTHER.did) == ["february"]
    assert found(credential_id="urn:uuid:00000000-0000-0000-0000-000000000001") == ["march"]
    method = f"{MILL.did}#{MILL.did.removeprefix('did:key:')}"
    assert found(verification_method=method) == ["old", "march", "april"]
    assert found(verification_method=MILL.did) == ["old", "march", "april"]  # a DID: any of its methods
    assert found(verification_method=method + "x") == []
    assert found(since=at("2026-03-01T00:00:00")) == ["march", "april"]
    assert found(since=at("2026-02-10T23:59:59"), until=at("2026-03-05T10:00:00")) == ["february"]  # [since, until)
    assert found(outcome="not-verified") == ["april"]
    assert found(importer="Acme Imports", since=at("2026-01-01T00:00:00"), outcome="verified") == ["march"]
    assert found(issuer=OTHER.did, importer="Acme Imports") == []
    assert found(limit=2) == ["old", "february"]
    with pytest.raises(ValueError, match="outcome"):
        archive.search(outcome="maybe")
    with pytest.raises(ValueError, match="aware"):
        archive.search(since=datetime(2026, 3, 1))


def test_a_bundle_is_found_by_a_digest_prefix(archive, bundles):
    added = archive.add(bundles["march"])
    assert archive.find(added.digest[:10]).digest == added.digest
    with pytest.raises(ArchiveError, match="no bundle"):
        archive.find("0" * 12 if not added.digest.startswith("0" * 12) else "f" * 12)
    with pytest.raises(ArchiveError, match="not a bundle digest"):
        archive.find("abc")


@pytest.mark.parametrize(("change", "message"), [
    (lambda b: b"not json", "not strict JSON"),
    (lambda b: json.dumps({**b, "type": "something"}).encode(), "not an evidence bundle"),
    (lambda b: json.dumps({**b, "version": 2}).encode(), "version 2"),
    (lambda b: json.dumps({**b, "kind": "invoice"}).encode(), "kind"),
    (lambda b: json.dumps({**b, "verifiedAt": "2026-03-05T10:00:00"}).encode(), "ending in Z"),
    (lambda b: json.dumps({**b, "sealedAt": "yesterday"}).encode(), "sealedAt must be an RFC 3339 UTC time"),
    (lambda b: json.dumps({k: v for k, v in b.items() if k != "index"}).encode(), "index must have"),
    (lambda b: json.dumps({**b, "index": {k: v for k, v in b["index"].items() if k != "importer"}}).encode(),
     "index must have entryNumber, importer"),
    (lambda b: json.dumps({**b, "index": {**b["index"], "verified": False}}).encode(), "verified is False"),
    (lambda b: json.dumps({**b, "index": {**b["index"], "issuers": "did:key:z6Mk"}}).encode(), "issuers"),
    (lambda b: b'{"type": "tradevc-evidence-bundle", "type": "x"}', "not strict JSON"),
])
def test_what_is_not_a_bundle_is_refused_and_nothing_is_written(archive, bundles, change, message):
    data = change(json.loads(bundles["march"]))
    with pytest.raises(ArchiveError, match=message):
        archive.add(data)
    assert archive.search() == [] and not any(p.is_file() for p in archive.root.rglob("*"))


def test_the_key_that_sealed_a_bundle_is_recorded_and_searchable(archive, bundles):
    added = archive.add(bundles["march"])
    assert added.sealer == SEALER.verification_method and added.to_dict()["sealer"] == SEALER.verification_method
    assert archive.get(added.digest).sealer == SEALER.verification_method
    assert [b.digest for b in archive.search(sealer=SEALER.did)] == [added.digest]
    assert [b.digest for b in archive.search(sealer=SEALER.verification_method)] == [added.digest]
    assert archive.search(sealer=OTHER.did) == []


def _reseal_changed(data: bytes, change) -> bytes:
    bundle = json.loads(data)
    change(bundle)
    return to_bytes(bundle)


@pytest.mark.parametrize(("change", "message"), [
    # a field changed after sealing: the seal no longer signs the content
    (lambda b: b["index"].__setitem__("importer", "Someone Else"), "a field was changed after sealing"),
    (lambda b: b["report"].__setitem__("outcome", "not_verified"), "a field was changed after sealing"),
    # a recorded body changed: its sha256 no longer matches
    (lambda b: b["retrieved"][0].__setitem__("bytes", "e30="), "does not match its sha256"),
    # the signature itself altered
    (lambda b: b["proof"].__setitem__("jws", b["proof"]["jws"][:-4] + ("AAAA" if not b["proof"]["jws"].endswith(
        "AAAA") else "BBBB")), "signature does not verify"),
    # another key named than the one that signed
    (lambda b: b["proof"].__setitem__("verificationMethod", OTHER.verification_method), "is not its verificationMethod"),
])
def test_a_bundle_whose_seal_does_not_hold_is_refused(archive, bundles, change, message):
    with pytest.raises(ArchiveError, match="the bundle's seal does not hold: .*" + message) as refused:
        archive.add(_reseal_changed(bundles["march"], change))
    assert "\n" not in refused.value.message
    assert archive.search() == [] and not any(p.is_file() for p in archive.root.rglob("*"))


def test_one_byte_changed_anywhere_is_refused(archive, bundles):
    data = bundles["march"]
    at_ = data.index(b"Acme Imports")
    with pytest.raises(ArchiveError, match="seal does not hold"):
        archive.add(data[:at_] + b"B" + data[at_ + 1:])


def test_an_archive_given_its_sealers_refuses_bundles_sealed_by_another_key(tmp_path, bundles):
    stranger = KeyPair.generate("Ed25519")
    foreign = to_bytes(make_bundle(credential(MILL, 9), POLICY, at=at("2026-03-06T10:00:00"), sealer=stranger))
    with Archive(tmp_path / "a", str(tmp_path / "l.db"), sealers=[SEALER.did]) as archive:
        assert archive.add(bundles["march"]).sealer == SEALER.verification_method
        with pytest.raises(ArchiveError, match=f"sealed by {stranger.verification_method}, which is not one of the "
                                               "trusted sealing keys"):
            archive.add(foreign)
        assert len(archive.search()) == 1
    with Archive(tmp_path / "b", str(tmp_path / "m.db"), sealers=[stranger.verification_method]) as archive:
        assert archive.add(foreign).sealer == stranger.verification_method
    with Archive(tmp_path / "c", str(tmp_path / "n.db")) as archive:  # none given: any seal that holds
        assert archive.add(foreign).sealer == stranger.verification_method


def test_reindex_leaves_out_a_file_whose_seal_does_not_hold(archive, bundles):
    forged = _reseal_changed(bundles["march"], lambda b: b["index"].__setitem__("importer", "Someone Else"))
    path = archive.root / "2026" / "03" / "05" / f"{digest(forged)}.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(forged)
    added, left = archive.reindex()
    assert added == [] and [(p.problem, p.path) for p in left] == [("unindexed", path)]


def _downgrade(location: str, version: int) -> None:
    """Make the archive's tables those of schema ``version`` (1: no sealer; 2: no seal digest, no key roles)."""
    with sqlite3.connect(location) as db:
        db.execute("DROP INDEX archive_bundles_seal")
        db.execute("ALTER TABLE archive_bundles DROP COLUMN seal_digest")
        db.execute("ALTER TABLE archive_methods DROP COLUMN role")
        if version == 1:
            db.execute("ALTER TABLE archive_bundles DROP COLUMN sealer")
        db.execute("UPDATE archive_schema_version SET version = ?", (version,))


def test_an_archive_of_schema_version_1_gains_the_sealer_column(tmp_path, bundles):
    location = str(tmp_path / "ledger.db")
    Archive(tmp_path / "a", location).close()
    _downgrade(location, 1)
    with Archive(tmp_path / "a", location) as archive:
        assert archive.add(bundles["march"]).sealer == SEALER.verification_method
    with sqlite3.connect(location) as db:
        assert db.execute("SELECT version FROM archive_schema_version").fetchall() == [(3,)]


def test_prune_removes_only_what_is_out_of_retention_and_not_held(archive, bundles):
    added = {name: archive.add(data) for name, data in bundles.items()}
    now = at("2026-12-03T00:00:00")  # the cutoff is 2021-12-03: only "old" (2020-06-01) is out
    assert archive.retention == Retention(5, 0)
    archive.hold(added["old"].digest, "appeal 2026-17")
    held = archive.get(added["old"].digest)
    assert held is not None and held.held and held.hold_reason == "appeal 2026-17"
    pruned = archive.prune(now)
    assert pruned.removed == () and pruned.held == 1 and pruned.cutoff == at("2021-12-03T00:00:00")
    assert added["old"].path.is_file()

    archive.release(added["old"].digest)
    assert archive.prune(now, dry_run=True).removed[0].digest == added["old"].digest
    assert added["old"].path.is_file() and archive.get(added["old"].digest) is not None  # a dry run
    pruned = archive.prune(now)
    assert [b.digest for b in pruned.removed] == [added["old"].digest] and pruned.held == 0
    assert not added["old"].path.exists() and not (archive.root / "2020").exists()
    assert archive.get(added["old"].digest) is None
    assert {b.digest for b in archive.search()} == {added[n].digest for n in ("february", "march", "april")}
    assert archive.check() == []


def test_retention_is_configurable(tmp_path, database, bundles):
    with Archive(tmp_path / "a", database, retention=Retention.parse("30d")) as archive:
        kept, gone = archive.add(bundles["april"]), archive.add(bundles["march"])
        pruned = archive.prune(at("2026-05-01T00:00:00"))  # cutoff 2026-04-01
        assert [b.digest for b in pruned.removed] == [gone.digest]
        assert [b.digest for b in archive.search()] == [kept.digest]


def test_holding_an_unknown_bundle_is_an_error(archive):
    with pytest.raises(ArchiveError, match="no bundle"):
        archive.hold("0" * 64)


def test_check_finds_altered_missing_and_unindexed_files_and_reindex_repairs(archive, bundles):
    march, april, old = archive.add(bundles["march"]), archive.add(bundles["april"]), archive.add(bundles["old"])
    assert archive.check() == []
    march.path.write_bytes(bundles["march"].replace(b"Acme", b"Acne"))  # tampered with on disk
    april.path.unlink()  # lost
    # a crash between writing a file and indexing it: the file is there, the row is not
    crashed = archive.root / "2026" / "02" / "10" / f"{digest(bundles['february'])}.json"
    crashed.parent.mkdir(parents=True)
    crashed.write_bytes(bundles["february"])
    found = {(p.problem, p.digest) for p in archive.check()}
    assert found == {("altered", march.digest), ("missing", april.digest),
                     ("unindexed", digest(bundles["february"]))}
    with pytest.raises(ArchiveError, match="altered"):
        archive.read(march)

    added, left = archive.reindex()
    assert [b.digest for b in added] == [digest(bundles["february"])] and left == []
    assert archive.search(importer="Borealis Steel")[0].path == crashed
    assert {(p.problem, p.digest) for p in archive.check()} == {("altered", march.digest), ("missing", april.digest)}
    assert archive.read(old) == bundles["old"]


def test_reindex_leaves_out_files_that_are_not_bundles(archive):
    junk = b"{}"
    path = archive.root / "2026" / "01" / "01" / f"{digest(junk)}.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(junk)
    added, left = archive.reindex()
    assert added == [] and [(p.problem, p.path) for p in left] == [("unindexed", path)]


def test_the_index_lives_beside_the_ledger(archive, database, bundles):
    archive.add(bundles["march"])
    with open_ledger(database) as ledger:  # the same database is still a ledger
        assert ledger.entries() == []


def test_an_sqlite_file_of_something_else_is_refused(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE invoices (id TEXT)")
    with pytest.raises(ArchiveError, match="something else"):
        Archive(tmp_path / "a", str(other))


def test_a_newer_archive_schema_is_refused(tmp_path):
    location = str(tmp_path / "ledger.db")
    Archive(tmp_path / "a", location).close()
    with sqlite3.connect(location) as db:
        db.execute("UPDATE archive_schema_version SET version = 99")
    with pytest.raises(ArchiveError, match="schema version 99, newer"):
        Archive(tmp_path / "a", location)


def test_retention_parsing_and_leap_days():
    assert Retention.parse("5y") == Retention(5, 0) and Retention.parse("400d") == Retention(0, 400)
    assert Retention.parse("5y30d") == Retention(5, 30) and str(Retention(5, 30)) == "5y30d"
    for bad in ("", "5", "5 years", "-1y", "0y"):
        with pytest.raises(ValueError):
            Retention.parse(bad)
    assert Retention(1, 0).cutoff(at("2028-02-29T12:00:00")) == at("2027-02-28T12:00:00")
    assert Retention(5, 1).cutoff(at("2026-03-01T00:00:00")) == at("2021-02-28T00:00:00")


def test_a_bundle_exactly_at_the_cutoff_is_kept(tmp_path, bundles):
    with Archive(tmp_path / "a", str(tmp_path / "l.db")) as archive:
        march = archive.add(bundles["march"])
        assert archive.prune(march.verified_at + timedelta(days=5 * 365 + 1)).removed == ()  # 5 years to the second
        assert archive.prune(at("2031-03-05T10:00:00") + timedelta(microseconds=1)).removed[0].digest == march.digest


def test_a_tampered_index_cannot_point_prune_at_other_files(tmp_path, bundles):
    """The stored path is not trusted: a file's place follows from its digest and day."""
    location = str(tmp_path / "ledger.db")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    with Archive(tmp_path / "a", location) as archive:
        old = archive.add(bundles["old"])
        with sqlite3.connect(location) as db:
            db.execute("UPDATE archive_bundles SET path = ?", ("../victim.txt",))
        assert archive.get(old.digest).path == old.path
        assert [b.digest for b in archive.prune(at("2026-12-03T00:00:00")).removed] == [old.digest]
    assert victim.read_text() == "keep me" and not old.path.exists()


def test_an_index_row_with_a_bad_digest_is_reported(tmp_path, bundles):
    location = str(tmp_path / "ledger.db")
    with Archive(tmp_path / "a", location) as archive:
        archive.add(bundles["march"])
        with sqlite3.connect(location) as db:
            db.execute("UPDATE archive_bundles SET digest = '../../x'")
        with pytest.raises(ArchiveError, match="not a SHA-256"):
            archive.search()


def test_an_implausible_verification_time_is_refused(archive, bundles):
    bundle = json.loads(bundles["march"])
    bundle["verifiedAt"] = "0999-01-01T00:00:00Z"
    with pytest.raises(ArchiveError, match="not a plausible time"):
        archive.add(json.dumps(bundle).encode())


def test_an_index_write_that_fails_leaves_a_file_that_reindex_indexes(tmp_path, bundles):
    """The file is written before its row: when the index cannot be written (here another writer
    holds the database past the timeout), the bundle's file is there, unindexed, and reindex
    repairs it; no row ever names a missing file."""
    location = str(tmp_path / "ledger.db")
    with Archive(tmp_path / "a", location, timeout=0.2) as archive:
        blocker = sqlite3.connect(location, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(ArchiveError, match="locked"):
                archive.add(bundles["march"])
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert [(p.problem, p.digest) for p in archive.check()] == [("unindexed", digest(bundles["march"]))]
        assert archive.search() == []
        added, left = archive.reindex()
        assert [b.digest for b in added] == [digest(bundles["march"])] and left == []
        assert archive.check() == [] and archive.add(bundles["march"]).new is False


def test_the_same_sealed_bundle_reserialised_is_archived_once(archive, bundles, tmp_path):
    first = archive.add(bundles["march"])
    data = json.loads(bundles["march"])
    other = json.dumps(dict(reversed(list(data.items()))), indent=4).encode()  # other order and indentation
    assert other != bundles["march"] and digest(other) != first.digest
    again = archive.add(other)
    assert not again.new and again.digest == first.digest and again.seal_digest == first.seal_digest
    assert [b.digest for b in archive.search()] == [first.digest]
    assert not list((tmp_path / "archive").rglob(f"{digest(other)}.json"))  # its bytes were not kept
    assert archive.add(bundles["april"]).new  # another bundle is another entry

    # a file of the other serialisation left in its day's folder is not indexed twice
    stray = first.path.with_name(f"{digest(other)}.json")
    stray.write_bytes(other)
    added, left = archive.reindex()
    assert added == [] and [(p.problem, p.digest) for p in left] == [("duplicate", digest(other))]


def test_an_archive_of_schema_version_2_is_completed_by_reindex(tmp_path, bundles):
    location = str(tmp_path / "ledger.db")
    with Archive(tmp_path / "a", location) as archive:
        first = archive.add(bundles["march"])
    _downgrade(location, 2)
    with Archive(tmp_path / "a", location) as archive:
        assert archive.get(first.digest).seal_digest is None
        assert archive.reindex() == ([], [])
        assert archive.get(first.digest).seal_digest == json_seal_digest(bundles["march"])
        again = archive.add(json.dumps(json.loads(bundles["march"]), indent=3).encode())
        assert not again.new and again.digest == first.digest
    with sqlite3.connect(location) as db:
        assert db.execute("SELECT version FROM archive_schema_version").fetchall() == [(3,)]


def json_seal_digest(data: bytes) -> str:
    from tradevc.verifier.evidence import bundle_digest

    return bundle_digest(json.loads(data)).hex()
