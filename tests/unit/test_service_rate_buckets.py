"""The token buckets of the service's rate limits, on a clock the test moves."""

from __future__ import annotations

from tradevc.service.config import ClientConfig, Rate
from tradevc.service.limits import Limits, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate():
    clock = Clock()
    limiter = RateLimiter(Rate(3, 60, 3), clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    assert limiter.take("a") == 20  # one back every 20 seconds
    clock.now += 19.5
    assert limiter.take("a") == 1
    clock.now += 0.5
    assert limiter.take("a") is None and limiter.take("a") == 20
    clock.now += 3600  # never more than the burst
    assert [limiter.take("a") for _ in range(4)] == [None, None, None, 20]
    assert limiter.take("b") is None  # another key has its own bucket


def test_a_burst_smaller_than_the_count():
    limiter = RateLimiter(Rate(100, 60, 2), clock=Clock())
    assert [limiter.take("a") for _ in range(3)] == [None, None, 1]


def test_limits_by_client_and_failed_authentications_by_address():
    clock = Clock()
    limits = Limits((ClientConfig("slow", b"s" * 16, frozenset({"verify"}), Rate(1, 1, 1)),
                     ClientConfig("free", b"f" * 16, frozenset({"verify"}))), Rate(2, 60, 2), clock=clock)
    assert limits.client("slow") is None and limits.client("slow") == 1
    assert all(limits.client("free") is None for _ in range(1000))  # no rate: no limit
    assert limits.token_blocked("192.0.2.1") is None
    limits.token_failed("192.0.2.1")
    limits.token_failed("192.0.2.1")
    assert limits.token_blocked("192.0.2.1") == 30 and limits.token_blocked("192.0.2.1") == 30  # asking takes nothing
    assert limits.token_blocked("192.0.2.2") is None
    clock.now += 30
    assert limits.token_blocked("192.0.2.1") is None


def test_shared_buckets_behave_as_the_buckets_in_memory(tmp_path):
    """Several workers' buckets (an SQLite file): the same answers as in memory, and a second
    opening of the file (another worker) takes from the same bucket, not a bucket of its own."""
    from tradevc.service.limits import SharedBuckets, SharedRateLimiter

    clock = Clock()
    buckets = SharedBuckets.create(tmp_path / "limits.sqlite")
    assert (tmp_path / "limits.sqlite").stat().st_mode & 0o777 == 0o600
    shared = SharedRateLimiter(Rate(3, 60, 3), buckets, "client a", clock=clock)
    other = SharedRateLimiter(Rate(3, 60, 3), SharedBuckets(tmp_path / "limits.sqlite"), "client a", clock=clock)
    memory = RateLimiter(Rate(3, 60, 3), clock=clock)
    seen = []
    for step in [0, 0, 0, 0, 19.5, 0.5, 0, 3600, 0, 0, 0]:
        clock.now += step
        seen.append((shared if len(seen) % 2 else other).take("a"))
        assert memory.take("a") == seen[-1], (step, seen)
        assert shared.exhausted("a") == memory.exhausted("a") == other.exhausted("a")
    assert seen == [None, None, None, 20, 1, None, 20, None, None, None, 20]
    # another kind of limit, or another key, has a bucket of its own
    assert SharedRateLimiter(Rate(3, 60, 3), buckets, "client b", clock=clock).take("a") is None
    assert shared.take("b") is None


def test_limits_with_shared_buckets(tmp_path):
    from tradevc.service.limits import SharedBuckets

    clock = Clock()
    buckets = SharedBuckets.create(tmp_path / "limits.sqlite")
    clients = (ClientConfig("slow", b"s" * 16, frozenset({"verify"}), Rate(1, 1, 1)),)
    one, two = (Limits(clients, Rate(2, 60, 2), clock=clock, shared=buckets) for _ in range(2))
    assert one.client("slow") is None and two.client("slow") == 1
    assert one.client("free") is None  # no rate: never limited
    one.token_failed("10.0.0.1 x")
    two.token_failed("10.0.0.1 x")
    assert one.token_blocked("10.0.0.1 x") == 30 and two.token_blocked("10.0.0.2 x") is None
