"""Benchmark: issuance throughput (1,000 USMCA certificates with revocation and suspension
entries, each reserved durably before signing) and the time to publish the signed status
lists (131,072 entries each). Run with ``make bench``."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import load_example

COUNT = 1000


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> int:
    start = datetime.now(timezone.utc).replace(microsecond=0)
    subject = load_example("USMCACertificationOfOrigin")
    with tempfile.TemporaryDirectory() as tmp:
        with Issuer.init(f"{tmp}/home", b"bench", name="Bench Mill", did_web_domain="mill.example",
                         status_base_url="https://mill.example/status/") as issuer:
            began = time.perf_counter()
            for _ in range(COUNT):
                issuer.issue(subject, type_name="USMCACertificationOfOrigin", valid_from=stamp(start),
                             valid_until=stamp(start + timedelta(days=300)))
            elapsed = time.perf_counter() - began
            for record in issuer.issued()[::7]:  # some set bits in the lists
                issuer.revoke(record.id)
            samples = []
            for _ in range(5):
                t = time.perf_counter()
                issuer.publish(f"{tmp}/site")
                samples.append(time.perf_counter() - t)
    print(f"Python {sys.version.split()[0]}")
    print(f"issue {COUNT} certificates (status entries, fsynced registry): {elapsed:.1f} s, "
          f"{COUNT / elapsed:.0f} credentials/s, {elapsed / COUNT * 1000:.1f} ms each")
    print(f"publish did.json + 2 signed lists of 131,072 entries: median {statistics.median(samples) * 1000:.1f} ms "
          f"over {len(samples)} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
