"""Benchmark: the ledger against double use (issue 17).

1. SQLite: the time to record one entry of 20 lines (each line drawing from the certificate of
   its shipment, a heat, and the entry's standard SIMA licence: 41 draws, in one transaction,
   synced), in a ledger that already holds 2,000 entries; median and p95 (target: median < 5 ms).
2. Concurrent writers: 4 processes record 20-line entries for a fixed time with
   ``refuse_overdraw``, every line drawing from one shared certificate (the worst case: all
   writers queue on one resource, whose lock is held through each commit), then each writer
   from a certificate of its own (they go on in parallel), on a throwaway PostgreSQL cluster
   (fsync on; the one the tests start, from tests/support/postgres.py), then the shared case on
   SQLite for comparison: entries per second, and a check that nothing was over-drawn (what
   was drawn is exactly what the recorded entries drew, and within the cap).

The report is printed and written to bench/results/issue17/ledger.txt. Run with ``make bench``
or ``python bench/bench_ledger.py``.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from support.ledger_worker import record_for  # noqa: E402
from support.postgres import start  # noqa: E402

from tradevc.verifier.ledger import Draw, Ledger, open_ledger  # noqa: E402

OUT = HERE / "results" / "issue17" / "ledger.txt"
LINES = 20
FILL, MEASURED = 2000, 500
WRITERS, SECONDS = 4, 10.0
SHARED_CAP = 1000 * LINES * 300  # room for 300 entries: the writers reach it, and the rest are refused


def entry_draws(n: int) -> list[Draw]:
    """Entry ``n``: a shipment split over 5 entries, one certificate (50 t a line) and 20 heats
    (25 t each) per shipment; a licence of its own."""
    shipment = n // 5
    draws = [Draw("licence", f"urn:uuid:licence-{n}", 0, Decimal(0), None, single_entry=True)]
    for line in range(1, LINES + 1):
        draws.append(Draw("certificate", f"urn:uuid:certificate-{shipment}", line, Decimal("1814.36948"),
                          Decimal(5 * LINES * 2000)))
        draws.append(Draw("heat", f"heat:did:web:mill.example:{shipment}-{line}", line, Decimal("1814.36948"),
                          Decimal(25000)))
    return draws


def sqlite_rows() -> list[str]:
    with tempfile.TemporaryDirectory() as tmp, open_ledger(Path(tmp) / "ledger.db") as ledger:
        now = datetime.now(timezone.utc)
        started = time.perf_counter()
        for n in range(FILL):
            ledger.record(f"316-{n:07d}-0", entry_draws(n), decision="ACCEPT", when=now)
        fill = (time.perf_counter() - started) / FILL
        times = []
        for n in range(FILL, FILL + MEASURED):
            draws = entry_draws(n)
            t = time.perf_counter()
            result = ledger.record(f"316-{n:07d}-0", draws, decision="ACCEPT", when=now)
            times.append(time.perf_counter() - t)
            assert result.status == "new" and not result.overdraws, result
        replay = []
        for n in range(FILL, FILL + 100):
            draws = entry_draws(n)
            t = time.perf_counter()
            assert ledger.record(f"316-{n:07d}-0", draws, decision="ACCEPT", when=now).status == "replayed"
            replay.append(time.perf_counter() - t)
        check = []
        for n in range(FILL + MEASURED, FILL + MEASURED + 100):
            draws = entry_draws(n)
            t = time.perf_counter()
            ledger.check(f"316-{n:07d}-0", draws)
            check.append(time.perf_counter() - t)
    ms = lambda seconds: f"{seconds * 1000:.2f} ms"  # noqa: E731
    p95 = sorted(times)[int(len(times) * 0.95)]
    median = statistics.median(times)
    return [
        f"SQLite, record one {LINES}-line entry ({len(entry_draws(0))} draws), ledger of {FILL} entries, synced "
        f"(WAL, synchronous=FULL), {MEASURED} entries:",
        f"  median {ms(median)}, p95 {ms(p95)}, min {ms(min(times))}, max {ms(max(times))}"
        f"  [target: median < 5 ms: {'met' if median < 0.005 else 'NOT MET'}]",
        f"  while filling the first {FILL}: mean {ms(fill)} per entry",
        f"  replay of a recorded entry (nothing written): median {ms(statistics.median(replay))}",
        f"  check (dry run) of a new entry: median {ms(statistics.median(check))}",
    ]


def concurrent_rows(name: str, location: str, *, shared: bool = True) -> list[str]:
    open_ledger(location).close()
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WRITERS), context.Queue()
    certificate = (lambda w: "urn:uuid:shared-certificate") if shared else (lambda w: f"urn:uuid:certificate-{w}")
    workers = [context.Process(target=record_for, args=(location, f"W{w}", SECONDS, LINES, str(SHARED_CAP),
                                                       barrier, results, certificate(w))) for w in range(WRITERS)]
    for worker in workers:
        worker.start()
    counts = [results.get(timeout=SECONDS + 120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0, worker.exitcode
    recorded, refused = sum(c[0] for c in counts), sum(c[1] for c in counts)
    total, entries, kept = Decimal(0), 0, True
    with open_ledger(location) as ledger:
        for w in range(WRITERS if not shared else 1):
            drawn, per_entry = ledger.drawn(certificate(w))
            total, entries = total + drawn, entries + len(per_entry)
            kept = kept and drawn <= SHARED_CAP
    kept = kept and total == recorded * LINES * 1000 and entries == recorded
    what = "all drawing one certificate" if shared else "each writer drawing a certificate of its own"
    return [
        f"{name}, {WRITERS} writer processes for {SECONDS:g} s, {LINES}-line entries {what} "
        f"(cap {SHARED_CAP} kg), refuse_overdraw:",
        f"  {(recorded + refused) / SECONDS:.0f} entries/s over the run ({recorded} recorded, {refused} refused at the "
        f"cap); per writer: " + ", ".join(f"{c[0] + c[1]}" for c in counts),
        f"  recording rate, up to the last entry recorded (the cap, when reached): "
        f"{recorded / max(c[2] for c in counts):.0f} entries/s ({recorded} in {max(c[2] for c in counts):.1f} s)",
        f"  drawn {total} kg by {entries} entries, cap {SHARED_CAP} kg each: over-draw invariant "
        f"{'KEPT' if kept else 'BROKEN'}",
    ]


def main() -> int:
    lines = [f"tradevc ledger benchmark, {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}, Python "
             f"{platform.python_version()}, {os.cpu_count()} CPUs ({platform.machine()}), load average at start "
             f"{os.getloadavg()[0]:.1f} (the host is shared: other work moves these figures)", ""]
    lines += sqlite_rows() + [""]
    cluster, stop = start(fsync=True)
    try:
        name = "PostgreSQL (throwaway local cluster, fsync on, READ COMMITTED + row locks)"
        lines += concurrent_rows(name, cluster.url) + [""]
        lines += concurrent_rows(name, cluster.url.rsplit("/", 1)[0] + "/postgres", shared=False) + [""]
    finally:
        stop()
    with tempfile.TemporaryDirectory() as tmp:
        lines += concurrent_rows("SQLite (one file, BEGIN IMMEDIATE)", str(Path(tmp) / "ledger.db"))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    return 0 if "BROKEN" not in text and "NOT MET" not in text else 1


if __name__ == "__main__":
    assert Ledger  # the module under test
    sys.exit(main())
