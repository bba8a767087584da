"""The status registry: allocation, state changes and their refusals."""

from __future__ import annotations

import sqlite3

import pytest

from tradevc.issuer.errors import IssuerError
from tradevc.issuer.registry import DEFAULT_LIST_LENGTH, StatusRegistry

BASE = "https://mill.example/status/"


@pytest.fixture
def registry(tmp_path):
    reg = StatusRegistry(tmp_path / "registry.sqlite", base_url=BASE)
    yield reg
    reg.close()


def issue(registry, n, purposes=("revocation", "suspension")):
    entries = registry.reserve(f"urn:uuid:{n}", ["VerifiableCredential"], purposes)
    registry.mark_issued(f"urn:uuid:{n}", {"id": f"urn:uuid:{n}"}, valid_until=None)
    return entries


def test_entries_are_random_distinct_and_well_formed(registry):
    seen = {"revocation": [], "suspension": []}
    for n in range(40):
        for entry in issue(registry, n):
            seen[entry.purpose].append(entry.index)
            assert entry.list_url == f"{BASE}{entry.purpose}/1"
            assert 0 <= entry.index < DEFAULT_LIST_LENGTH
    for indexes in seen.values():
        assert len(set(indexes)) == 40
        assert indexes != sorted(indexes)  # not handed out in order (chance of failure ~1/40!)
    entry = issue(registry, 99)[0]
    assert entry.to_json() == {
        "id": f"{BASE}revocation/1#{entry.index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(entry.index),
        "statusListCredential": f"{BASE}revocation/1",
    }


def test_duplicate_id_is_refused(registry):
    issue(registry, 1)
    with pytest.raises(IssuerError, match="already issued"):
        registry.reserve("urn:uuid:1", [], ["revocation"])


def test_revoke_suspend_reinstate(registry):
    issue(registry, 1)
    assert registry.suspend("urn:uuid:1") is True
    assert registry.suspend("urn:uuid:1") is False
    assert registry.reinstate("urn:uuid:1") is True
    assert registry.revoke("urn:uuid:1") is True
    assert registry.revoke("urn:uuid:1") is False
    record = registry.records()[0]
    assert (record.revoked, record.suspended, record.state) == (True, False, "issued")
    with pytest.raises(IssuerError, match="permanent"):
        registry.reinstate("urn:uuid:1")
    with pytest.raises(IssuerError, match="permanent"):
        registry.suspend("urn:uuid:1")


def test_refusals_change_nothing(registry):
    issue(registry, 1, purposes=("revocation",))
    before = [(p, s, bits) for p, s, _u, _l, bits in registry.lists()]
    with pytest.raises(IssuerError, match="no credential urn:uuid:404"):
        registry.revoke("urn:uuid:404")
    with pytest.raises(IssuerError, match="no suspension status entry"):
        registry.suspend("urn:uuid:1")
    assert [(p, s, bits) for p, s, _u, _l, bits in registry.lists()] == before


def test_lists_report_set_bits(registry):
    entries = {n: issue(registry, n) for n in range(3)}
    registry.revoke("urn:uuid:1")
    registry.suspend("urn:uuid:2")
    lists = {purpose: bits for purpose, _s, _u, _l, bits in registry.lists()}
    assert lists["revocation"] == [entries[1][0].index]
    assert lists["suspension"] == [entries[2][1].index]


def _fill(path, purpose, count):
    """Mark `count` indexes of list 1 as used, directly in the database (fast set-up)."""
    db = sqlite3.connect(path)
    with db:
        db.execute("INSERT OR IGNORE INTO lists (purpose, seq, length) VALUES (?, 1, ?)", (purpose, DEFAULT_LIST_LENGTH))
        list_id = db.execute("SELECT id FROM lists WHERE purpose = ? AND seq = 1", (purpose,)).fetchone()[0]
        db.execute("INSERT INTO credentials (id, types, state, reserved_at) VALUES ('urn:fill', '[]', 'issued', '')")
        db.executemany(
            "INSERT INTO entries (list_id, idx, credential_id) VALUES (?, ?, 'urn:fill')",
            ((list_id, i) for i in range(count)),
        )
        db.execute("UPDATE lists SET used = ? WHERE id = ?", (count, list_id))
    db.close()


def test_nearly_full_list_uses_the_last_free_indexes_then_rolls_over(tmp_path):
    path = tmp_path / "registry.sqlite"
    StatusRegistry(path, base_url=BASE).close()
    _fill(path, "revocation", DEFAULT_LIST_LENGTH - 2)
    registry = StatusRegistry(path, base_url=BASE)
    got = {registry.reserve(f"urn:uuid:{n}", [], ["revocation"])[0].index for n in range(2)}
    assert got == {DEFAULT_LIST_LENGTH - 2, DEFAULT_LIST_LENGTH - 1}
    third = registry.reserve("urn:uuid:3", [], ["revocation"])[0]
    assert third.list_url == f"{BASE}revocation/2"
    registry.close()


def test_no_status_lists_without_a_base_url(tmp_path):
    registry = StatusRegistry(tmp_path / "r.sqlite", base_url=None)
    assert registry.reserve("urn:uuid:1", [], []) == []
    with pytest.raises(IssuerError, match="status base URL"):
        registry.reserve("urn:uuid:2", [], ["revocation"])
    registry.close()


def test_lists_must_be_long_enough(tmp_path):
    with pytest.raises(ValueError, match="131072"):
        StatusRegistry(tmp_path / "r.sqlite", base_url=BASE, list_length=1000)


def test_a_watch_counts_what_changes_the_signed_lists_and_nothing_else(registry):
    """What a worker serving signed lists from memory asks before serving them: the count moves
    when a bit changes or a list is added or dropped, whichever connection made the change, and
    not when a credential is issued into a list that exists."""
    watch = registry.watch()
    try:
        start = watch.count()
        registry.reserve("urn:a", [], ["revocation", "suspension"])
        registry.mark_issued("urn:a", {}, valid_until=None)
        assert watch.count() == start + 2  # two new lists
        registry.reserve("urn:b", [], ["revocation"])
        registry.mark_issued("urn:b", {}, valid_until=None)
        assert watch.count() == start + 2  # issued into them: nothing the lists say changed
        assert registry.revoke("urn:a") and watch.count() == start + 3
        assert not registry.revoke("urn:a") and watch.count() == start + 3  # already revoked: no change
        other = StatusRegistry(registry.path, base_url=registry.base_url)  # another process, as it were
        try:
            with pytest.raises(IssuerError):
                other.suspend("urn:a")  # refused (revoked): no change
            assert watch.count() == start + 3
            other.reserve("urn:c", [], ["suspension"])
            other.mark_issued("urn:c", {}, valid_until=None)
            assert other.suspend("urn:c") and watch.count() == start + 4
            assert other.reinstate("urn:c") and watch.count() == start + 5
            other.reserve("urn:d", [], [])
            assert other.release("urn:d") and watch.count() == start + 5
        finally:
            other.close()
    finally:
        watch.close()
