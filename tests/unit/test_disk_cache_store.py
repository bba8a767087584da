"""The plain-file store under the verifier's disk cache (tradevc.vc.retrieval.disk_cache): what
it keeps, what it refuses to read back, its bounds and its permissions. Whether what it gives
back is trusted is the verifier's business (tests/integration/test_disk_cache.py): it only
ever gives back the bytes that were put, for the URL they were put for."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone

import pytest

from tradevc.vc.atomicfile import UnsafeFileError
from tradevc.vc.retrieval.disk_cache import (
    DID_DOCUMENT, MAX_ENTRIES, MAX_TOTAL_BYTES, STATUS_LIST, DiskCache, is_outage,
)
from tradevc.vc.retrieval.http import HttpsFetcher, RetrievalError

WHEN = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
URL = "https://mill.example/status/1"


def put(store, url=URL, body=b'{"a": 1}', kind=STATUS_LIST, **kw):
    return store.put(kind, url, body, media_type="application/json", fetched_at=WHEN, max_bytes=1 << 20, **kw)


def test_the_bytes_come_back_as_put(tmp_path):
    store = DiskCache(tmp_path / "cache")
    assert put(store, body=b'{"exact":  "bytes"}\n')
    copy = store.get(STATUS_LIST, URL, max_bytes=1 << 20)
    assert copy is not None
    assert (copy.url, copy.body, copy.media_type, copy.fetched_at) == (URL, b'{"exact":  "bytes"}\n',
                                                                       "application/json", WHEN)
    assert store.get(DID_DOCUMENT, URL, max_bytes=1 << 20) is None  # another kind, another entry
    assert store.get(STATUS_LIST, URL + "/", max_bytes=1 << 20) is None


def test_the_directory_is_0700_and_the_files_0600_whatever_the_umask(tmp_path):
    old = os.umask(0o000)
    try:
        store = DiskCache(tmp_path / "a" / "cache")
        put(store)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a" / "cache").stat().st_mode) == 0o700
    files = list((tmp_path / "a" / "cache").iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600


def test_an_entry_over_the_size_limit_is_neither_kept_nor_read(tmp_path):
    store = DiskCache(tmp_path / "cache")
    assert not store.put(STATUS_LIST, URL, b"x" * 101, media_type=None, fetched_at=WHEN, max_bytes=100)
    assert list((tmp_path / "cache").iterdir()) == []
    assert put(store, body=b"y" * 200)
    assert store.get(STATUS_LIST, URL, max_bytes=100) is None  # a smaller limit at reading: not read


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "extended", "no header", "empty", "other url"])
def test_a_damaged_entry_is_ignored_and_deleted(tmp_path, damage):
    store = DiskCache(tmp_path / "cache")
    put(store, body=b'{"list": "' + b"0" * 200 + b'"}')
    path = store.entry_path(STATUS_LIST, URL)
    data = path.read_bytes()
    if damage == "flipped byte":
        data = data[:-5] + bytes([data[-5] ^ 1]) + data[-4:]
    elif damage == "truncated":
        data = data[:-1]
    elif damage == "extended":
        data = data + b" "
    elif damage == "no header":
        data = data.split(b"\n", 2)[2]
    elif damage == "empty":
        data = b""
    else:
        other = DiskCache(tmp_path / "other")
        put(other, url="https://evil.example/status/1")
        data = other.entry_path(STATUS_LIST, "https://evil.example/status/1").read_bytes()
    path.write_bytes(data)
    assert store.get(STATUS_LIST, URL, max_bytes=1 << 20) is None
    assert not path.exists()


def test_a_symlinked_entry_is_not_followed(tmp_path):
    store = DiskCache(tmp_path / "cache")
    put(store, url="https://mill.example/status/2")
    path = store.entry_path(STATUS_LIST, URL)
    path.symlink_to(store.entry_path(STATUS_LIST, "https://mill.example/status/2"))
    assert store.get(STATUS_LIST, URL, max_bytes=1 << 20) is None
    assert not path.is_symlink() and not os.path.lexists(path)


def test_the_cache_stays_bounded_by_entries(tmp_path):
    store = DiskCache(tmp_path / "cache", max_entries=5)
    for n in range(12):
        assert put(store, url=f"https://mill.example/status/{n}")
        os.utime(store.entry_path(STATUS_LIST, f"https://mill.example/status/{n}"), (1000 + n, 1000 + n))
    kept = [p for p in (tmp_path / "cache").iterdir()]
    assert len(kept) == 5
    # the least recently used went first: the newest five are left
    assert all(store.get(STATUS_LIST, f"https://mill.example/status/{n}", max_bytes=1 << 20) for n in range(7, 12))


def test_the_cache_stays_bounded_by_bytes(tmp_path):
    store = DiskCache(tmp_path / "cache", max_total_bytes=10_000)
    for n in range(30):
        assert put(store, url=f"https://mill.example/status/{n}", body=b"z" * 1000)
    sizes = [p.stat().st_size for p in (tmp_path / "cache").iterdir()]
    assert sum(sizes) <= 10_000 and len(sizes) >= 5


def test_reading_an_entry_makes_it_recently_used(tmp_path):
    store = DiskCache(tmp_path / "cache", max_entries=3)
    for n in range(3):
        put(store, url=f"https://mill.example/status/{n}")
        os.utime(store.entry_path(STATUS_LIST, f"https://mill.example/status/{n}"), (1000 + n, 1000 + n))
    assert store.get(STATUS_LIST, "https://mill.example/status/0", max_bytes=1 << 20) is not None
    put(store, url="https://mill.example/status/3")
    assert store.get(STATUS_LIST, "https://mill.example/status/0", max_bytes=1 << 20) is not None
    assert store.get(STATUS_LIST, "https://mill.example/status/1", max_bytes=1 << 20) is None


def test_the_default_bounds():
    assert MAX_ENTRIES == 2000 and MAX_TOTAL_BYTES == 64 * 1024 * 1024


def test_a_symlinked_or_group_writable_directory_is_refused(tmp_path):
    real = tmp_path / "real"
    DiskCache(real)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    with pytest.raises(UnsafeFileError, match="symbolic link"):
        DiskCache(link)
    real.chmod(0o775)
    with pytest.raises(UnsafeFileError, match="writable by group or others"):
        DiskCache(real)
    afile = tmp_path / "file"
    afile.write_text("")
    with pytest.raises(UnsafeFileError, match="not a directory"):
        DiskCache(afile)


def test_a_group_writable_directory_found_later_is_not_written(tmp_path):
    store = DiskCache(tmp_path / "cache")
    (tmp_path / "cache").chmod(0o777)
    assert not put(store)
    assert store.get(STATUS_LIST, URL, max_bytes=1 << 20) is None


def test_two_writers_of_one_entry_leave_one_whole_entry(tmp_path):
    first, second = DiskCache(tmp_path / "cache"), DiskCache(tmp_path / "cache")
    put(first, body=b"1" * 5000)
    put(second, body=b"2" * 7000)
    copy = first.get(STATUS_LIST, URL, max_bytes=1 << 20)
    assert copy is not None and copy.body == b"2" * 7000
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")] == []


def test_which_failures_are_an_outage(tmp_path):
    """No answer (connection refused) and HTTP 5xx are; a 404, a refused host and a malformed
    URL are answers or decisions, not an outage."""
    import socket

    from support.https_server import start, body as answer

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fetcher = HttpsFetcher(allow_hosts=[f"localhost:{port}"], timeout=5)
    with pytest.raises(RetrievalError) as refused:
        fetcher.fetch(f"https://localhost:{port}/x", what="test", accept="*/*")
    assert is_outage(refused.value)
    (tmp_path / "server").mkdir()
    server, stop = start(tmp_path / "server")
    try:
        server.special["/down"] = answer(b"", status=502)
        fetcher = HttpsFetcher(server.session(), allow_hosts=server.allow_hosts)
        with pytest.raises(RetrievalError) as bad_gateway:
            fetcher.fetch(server.url("down"), what="test", accept="*/*")
        assert is_outage(bad_gateway.value)
        with pytest.raises(RetrievalError) as missing:
            fetcher.fetch(server.url("missing"), what="test", accept="*/*")
        assert missing.value.status == 404 and not is_outage(missing.value)
    finally:
        stop()
    with pytest.raises(RetrievalError) as not_public:
        HttpsFetcher().fetch(f"https://localhost:{port}/x", what="test", accept="*/*")
    assert not is_outage(not_public.value)
    assert not is_outage(RetrievalError("http://x is not https"))
