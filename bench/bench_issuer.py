"""Benchmark: issuance throughput (1,000 USMCA certificates with revocation and suspension
entries, each reserved durably before signing), the time to publish the signed status lists
(131,072 entries each; each publish also signs the version it replaces once more, for the
lists' history), and a publish after a year of daily publishing (365 versions of each list
kept and written). Run with ``make bench``."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

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
    history_figures(subject, start)
    return 0


def history_figures(subject: dict[str, object], start: datetime, days: int = 365) -> None:
    """A year of daily publishing: the time of the last publish, the files of the site and the
    registry's size, with every version of both lists kept."""
    with tempfile.TemporaryDirectory() as tmp:
        with Issuer.init(f"{tmp}/home", b"bench", name="Bench Mill", did_web_domain="mill.example",
                         status_base_url="https://mill.example/status/") as issuer:
            issuer.issue(subject, type_name="USMCACertificationOfOrigin", valid_from=stamp(start),
                         valid_until=stamp(start + timedelta(days=300)))
            first = start - timedelta(days=days + 1)
            for day in range(days - 1):
                issuer.publish(f"{tmp}/site", now=first + timedelta(days=day))
            t = time.perf_counter()
            issuer.publish(f"{tmp}/site", now=first + timedelta(days=days))
            last = time.perf_counter() - t
            files = sum(1 for p in Path(f"{tmp}/site").rglob("*") if p.is_file())
            size = Path(f"{tmp}/home/registry.sqlite").stat().st_size
    print(f"publish after {days} daily publishes ({days} versions of each of 2 lists kept, {files} site files): "
          f"{last * 1000:.0f} ms; registry {size / 1e6:.1f} MB")


if __name__ == "__main__":
    raise SystemExit(main())
