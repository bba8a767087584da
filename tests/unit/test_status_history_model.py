"""The status history's model: the registry's append-only events and list versions (refused
changes, whoever makes them), and the history index a verifier reads (refused when malformed)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from tradevc.issuer.registry import HistoryRefused, ListVersion, StatusRegistry
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.status import (
    HISTORY_INDEX_TYPE, history_index_url, history_version_url, parse_history_index, version_covering,
)

BASE = "https://mill.example/status/"
LIST = f"{BASE}revocation/1"


@pytest.fixture
def registry(tmp_path):
    reg = StatusRegistry(tmp_path / "registry.sqlite", base_url=BASE)
    yield reg
    reg.close()


def issue(registry, n):
    registry.reserve(f"urn:uuid:{n}", ["VerifiableCredential"], ("revocation", "suspension"))
    registry.mark_issued(f"urn:uuid:{n}", {"id": f"urn:uuid:{n}"}, valid_until=None)


def version(n, start, until="2027-01-01T00:00:00Z", purpose="revocation"):
    return ListVersion(purpose, 1, n, start, until, start, 131_072, "uH4sI", "0" * 64)


def test_each_status_change_is_an_event_with_its_time_and_entry(registry):
    issue(registry, 1)
    issue(registry, 2)
    assert registry.suspend("urn:uuid:1") and registry.reinstate("urn:uuid:1") and registry.revoke("urn:uuid:2")
    assert not registry.revoke("urn:uuid:2")  # no change, no event
    events = registry.events()
    assert [(e.credential_id, e.action, e.purpose, e.value) for e in events] == [
        ("urn:uuid:1", "suspend", "suspension", 1), ("urn:uuid:1", "reinstate", "suspension", 0),
        ("urn:uuid:2", "revoke", "revocation", 1),
    ]
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert all(e.at.endswith("Z") and e.seq == 1 for e in events)
    entry = {r.id: r for r in registry.records()}
    assert entry["urn:uuid:2"].revoked and not entry["urn:uuid:1"].suspended
    assert [e.action for e in registry.events("urn:uuid:1")] == ["suspend", "reinstate"]


@pytest.mark.parametrize("statement", [
    "UPDATE status_events SET value = 0",
    "DELETE FROM status_events",
    "UPDATE list_versions SET encoded_list = 'u'",
    "DELETE FROM list_versions",
    "UPDATE sealed_versions SET document = '{}'",
    "DELETE FROM sealed_versions",
])
def test_history_rows_cannot_be_changed_by_anyone(registry, statement):
    issue(registry, 1)
    registry.revoke("urn:uuid:1")
    registry.record_versions([version(1, "2026-01-01T00:00:00Z")], [])
    registry.record_versions([version(2, "2026-02-01T00:00:00Z")], [(version(1, "2026-01-01T00:00:00Z"), "{}")])
    other = sqlite3.connect(registry.path)  # another program on the same file: the triggers refuse it too
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute(statement)
    finally:
        other.close()
    assert len(registry.events()) == 1 and len(registry.versions()) == 2


def test_versions_are_appended_in_order_and_never_rewritten(registry):
    registry.record_versions([version(1, "2026-01-01T00:00:00Z")], [])
    with pytest.raises(HistoryRefused, match="not the next one"):
        registry.record_versions([version(3, "2026-03-01T00:00:00Z")], [])
    with pytest.raises(HistoryRefused, match="cannot be rewritten"):
        registry.record_versions([version(2, "2025-12-01T00:00:00Z")], [])
    registry.record_versions([version(2, "2026-02-01T00:00:00Z")], [(version(1, "2026-01-01T00:00:00Z"), "{}")])
    with pytest.raises(HistoryRefused, match="sealed already"):
        registry.record_versions([version(3, "2026-03-01T00:00:00Z")], [(version(1, "2026-01-01T00:00:00Z"), "{}")])
    first, second = registry.versions("revocation", 1)
    assert first.valid_until == "2026-02-01T00:00:00Z" and first.sealed == "{}"  # until the next took effect
    assert second.valid_until == "2027-01-01T00:00:00Z" and second.sealed is None  # the current one
    assert registry.versions("suspension") == []


def index(*versions, url=LIST, **extra):
    return {"type": HISTORY_INDEX_TYPE, "statusListCredential": url, "versions": [
        {"version": n, "validFrom": a, "validUntil": b} for n, a, b in versions
    ]} | extra


def test_history_urls_and_the_version_covering_a_moment():
    assert history_index_url(LIST) == f"{LIST}.history/index.json"
    assert history_version_url(LIST, 3) == f"{LIST}.history/3"
    for no_history in (f"{BASE}", f"{LIST}?a=1", f"{LIST}#x", "http://mill.example/status/1"):
        assert history_index_url(no_history) is None
    versions = parse_history_index(index((2, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
                                         (1, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")), LIST)
    assert [v.version for v in versions] == [1, 2]
    at = lambda text: datetime.fromisoformat(text).replace(tzinfo=timezone.utc)  # noqa: E731
    assert version_covering(versions, at("2026-01-31T23:59:59")).version == 1
    assert version_covering(versions, at("2026-02-01T00:00:00")).version == 2  # a period ends where the next starts
    assert version_covering(versions, at("2025-12-31T00:00:00")) is None
    assert version_covering(versions, at("2026-03-01T00:00:00")) is None


@pytest.mark.parametrize("document, words", [
    ([], "is not a StatusListHistory"),
    (index(type="Other"), "is not a StatusListHistory"),
    (index(url=f"{BASE}suspension/1"), "is that of"),
    (index() | {"versions": {}}, "needs a list"),
    (index() | {"versions": [{}] * 100_001}, "at most 100000"),
    (index((0, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")), "positive integer"),
    (index((True, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")), "positive integer"),
    (index((1, "2026-01-01", "2026-02-01T00:00:00Z")), "time zone"),
    (index((1, "yesterday", "2026-02-01T00:00:00Z")), "not a dateTimeStamp"),
    (index((1, "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z")), "ends before it starts"),
    (index((1, "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"), (1, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")),
     "twice"),
    (index((1, "2026-01-01T00:00:00Z", "2026-02-15T00:00:00Z"), (2, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")),
     "overlap"),
])
def test_a_malformed_history_index_is_refused(document, words):
    with pytest.raises(InvalidDocument, match=words):
        parse_history_index(document, LIST)


def changed(n, start, bits="1" * 64):
    return ListVersion("revocation", 1, n, start, "2027-01-01T00:00:00Z", start, 131_072, "uH4sI", bits)


def test_with_renew_after_a_version_is_recorded_once_per_change_whoever_signs_it(registry, tmp_path):
    """Two processes (two registries on one file) sign the same lists after one change: the
    second finds the version recorded (same bits, recent) and records nothing, not even the
    sealing of the version before; a later change, or the same bits a day on, is a version."""
    day = timedelta(days=1)
    other = StatusRegistry(registry.path, base_url=BASE)
    try:
        registry.record_versions([version(1, "2026-01-01T00:00:00Z")], [])
        sealed_1 = (version(1, "2026-01-01T00:00:00Z"), "{}")
        assert registry.record_versions([changed(2, "2026-01-02T00:00:00Z")], [sealed_1], renew_after=day) == set()
        # the other process saw version 1 as the last, and signed the same change a moment later
        assert other.record_versions([changed(2, "2026-01-02T00:00:05Z")], [sealed_1], renew_after=day) == {
            ("revocation", 1)}
        assert [v.version for v in registry.versions()] == [1, 2]
        # same bits again within the day: nothing; without renew_after (vc-issuer publish): a version
        assert other.record_versions([changed(3, "2026-01-02T12:00:00Z")], [], renew_after=day) == {("revocation", 1)}
        # a change the other process had not seen yet: it was signed from version 1, so it is refused
        with pytest.raises(HistoryRefused, match="not the next one"):
            other.record_versions([version(2, "2026-01-02T13:00:00Z")], [sealed_1], renew_after=day)
        # the same bits a day after the last version: renewed (a new version, so the list never expires)
        assert other.record_versions([changed(3, "2026-01-03T00:00:00Z")], [(changed(2, "2026-01-02T00:00:00Z"), "{}")],
                                     renew_after=day) == set()
        assert [v.version for v in registry.versions()] == [1, 2, 3]
        assert registry.record_versions([changed(4, "2026-01-03T01:00:00Z")], [], renew_after=None) == set()
        assert [v.version for v in registry.versions()] == [1, 2, 3, 4]
    finally:
        other.close()
