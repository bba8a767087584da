"""What several service workers add to a request, measured in-process (``python
bench/bench_service_workers.py``; a few seconds, not part of ``make bench``):

- a rate limit take: the in-memory bucket of one worker, the shared SQLite bucket of several
  (one process alone, and two processes taking at once from the same file);
- the check a worker makes before serving a status list or verifying, that no other worker
  changed its issuers' lists (:meth:`Issuers.behind`, :meth:`Issuers.changes`), when nothing
  changed;
- signing an issuer's lists again after another worker revoked (what the first request after
  a change pays).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tradevc.issuer import Issuer  # noqa: E402
from tradevc.service.config import IssuerConfig, Rate  # noqa: E402
from tradevc.service.desks import Issuers  # noqa: E402
from tradevc.service.limits import RateLimiter, SharedBuckets, SharedRateLimiter  # noqa: E402
from tradevc.vc.sealed import unsafe_test_kdf  # noqa: E402

RATE = Rate(1_000_000, 1, 1_000_000)  # never refuses: every take writes


def per_call(call: Callable[[], object], count: int) -> float:
    """Microseconds per call (best of three runs of ``count``)."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        for _ in range(count):
            call()
        best = min(best, time.perf_counter() - began)
    return best / count * 1e6


def two_processes(path: Path, count: int) -> float:
    """Microseconds per take, two processes taking from the same bucket at once (wall time / all takes)."""
    began = time.perf_counter()
    pids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            limiter = SharedRateLimiter(RATE, SharedBuckets(path), "client erp")
            for _ in range(count):
                limiter.take("erp")
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    return (time.perf_counter() - began) / (2 * count) * 1e6


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    memory = RateLimiter(RATE)
    buckets = SharedBuckets.create(folder / "limits.sqlite")
    shared = SharedRateLimiter(RATE, buckets, "client erp")
    print(f"rate limit take, in memory (1 worker):        {per_call(lambda: memory.take('erp'), 20000):7.1f} us")
    print(f"rate limit take, shared file (1 process):     {per_call(lambda: shared.take('erp'), 5000):7.1f} us")
    print(f"rate limit take, shared file (2 at once):     {two_processes(folder / 'limits.sqlite', 5000):7.1f} us")
    with unsafe_test_kdf():
        Issuer.init(folder / "mill", b"bench passphrase", name="Mill", did_web_domain="mill.example",
                    status_base_url="https://mill.example/status/").close()
        issuers = Issuers((IssuerConfig("mill", folder / "mill", b"bench passphrase"),))
    credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                  "credentialSubject": {"id": "did:example:buyer"}}
    issued = [issuers.issue("mill", credential, type_name=None, securing="data-integrity", cryptosuite=None)[0]
              for _ in range(3)]
    print(f"lists changed elsewhere? (behind, no change): {per_call(issuers.behind, 20000):7.1f} us")
    print(f"change count for the verifier's cache:        {per_call(issuers.changes, 20000):7.1f} us")
    with Issuer.open(folder / "mill", b"bench passphrase") as other:  # another worker revokes
        timings = []
        for document in issued:
            assert isinstance(document, dict)
            other.revoke(document["id"])
            began = time.perf_counter()
            assert issuers.behind()
            issuers.sync()
            timings.append(time.perf_counter() - began)
            assert not issuers.behind()
    print(f"sign the lists again after a change:          {min(timings) * 1000:7.1f} ms (2 lists)")
    issuers.close()


if __name__ == "__main__":
    main()
