"""Benchmark: re-verifying archived evidence bundles (issue 20, point 5).

N sealed evidence bundles (default 1000) of real offline verifications of the reference
certificate of origin (eddsa-rdfc-2022, did:key), made with ``with_evidence`` and archived in a
temporary folder with an SQLite index, are re-verified with the default check, the replay
(``replay_check``: each bundle's seal checked against the border post's key, then its decision
replayed offline from its recorded contexts and schemas, as of the time it was made):

1. in one process: bundles re-verified per second, on one core;
2. on a Dask distributed cluster of 2 worker processes started on 127.0.0.1 (started before the
   timing, as a standing cluster would be): bundles per second, and the speed-up over 1;
3. on 2 local worker processes (``engine="local"``), for comparison.

Each figure is the median of RUNS runs (default 3). Every run's outcomes are checked equal to the
single-process ones. The rows are printed and written as JSON to
``bench/results/reverify-<time>.json``. Run with ``make bench`` or
``python bench/bench_reverify.py [--bundles N] [--runs R]`` (``--bundles 40 --runs 1``: a smoke run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from support.bundles import SEALER, credential, make_bundle, policy_document, to_bytes  # noqa: E402

from tradevc.vc.keys import KeyPair  # noqa: E402
from tradevc.verifier.archive import Archive  # noqa: E402
from tradevc.verifier.reverify import replay_check, reverify  # noqa: E402

from common import machine  # noqa: E402

RESULTS = HERE / "results"


def archived(folder: Path, count: int) -> list[Path]:
    key = KeyPair.generate("Ed25519")
    policy = policy_document(key)
    start = datetime(2026, 2, 1, tzinfo=timezone.utc)
    with Archive(folder / "archive", str(folder / "ledger.db")) as archive:
        return [archive.add(to_bytes(make_bundle(credential(key, i), policy, at=start + timedelta(hours=i),
                                                 entry_number=f"316-{i:07d}-0", importer="Acme Imports"))).path
                for i in range(count)]


def timed(run: Any, runs: int, expected: Any) -> list[float]:
    seconds = []
    for _ in range(runs):
        begin = time.perf_counter()
        outcomes = run()
        seconds.append(time.perf_counter() - begin)
        assert outcomes == expected, "an engine gave other outcomes than the single-process run"
    return seconds


def measure(bundles: int = 1000, runs: int = 3) -> list[dict[str, Any]]:
    """The three rows (see the module): seconds, bundles/s, per core and the speed-up over one
    process, each the median of ``runs`` runs over ``bundles`` archived bundles."""
    from distributed import LocalCluster
    from distributed.security import Security

    check = replay_check(sealers=[SEALER.did])
    with tempfile.TemporaryDirectory() as tmp:
        paths = archived(Path(tmp), bundles)
        expected = reverify(paths, check, workers=1)  # also warms this process's caches
        assert all(o.now == "verified" and not o.changed for o in expected)
        single = timed(lambda: reverify(paths, check, workers=1), runs, expected)
        local = timed(lambda: reverify(paths, check, workers=2), runs, expected)
        security = Security.temporary()  # TLS, as reverify's own local cluster speaks it
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, protocol="tls", security=security) as cluster:
            address = cluster.scheduler_address
            reverify(paths[:4], check, engine="dask", address=address,
                     security=security)  # the workers import tradevc once
            dask = timed(lambda: reverify(paths, check, engine="dask", address=address, security=security), runs,
                         expected)

    base = statistics.median(single)

    def row(measure: str, seconds: list[float], cores: int) -> dict[str, Any]:
        median = statistics.median(seconds)
        return {"measure": measure, "bundles": bundles, "runs": len(seconds), "seconds_median": median,
                "seconds_min": min(seconds), "seconds_max": max(seconds),
                "bundles_per_second": bundles / median, "bundles_per_second_per_core": bundles / median / cores,
                "bundles_per_second_per_core_min": bundles / max(seconds) / cores,
                "bundles_per_second_per_core_max": bundles / min(seconds) / cores,
                "speedup_vs_one_process": base / median}

    return [row("re-verify (replay), 1 process", single, 1),
            row("re-verify (replay), local Dask cluster, 2 workers", dask, 2),
            row("re-verify (replay), 2 local worker processes", local, 2)]


def table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of ``bench_table.py`` (its ``row`` layout): bundles re-verified per second per
    core, and for 2 workers the speed-up over one process as the ratio."""
    single, dask, local = rows
    return [
        {"measure": f"re-verify archived bundles (replay), 1 process, {single['bundles']}", "unit": "b/s/core",
         "median": single["bundles_per_second_per_core"], "min": single["bundles_per_second_per_core_min"],
         "max": single["bundles_per_second_per_core_max"], "baseline": "", "ratio": None, "target": ""},
        {"measure": "  (local Dask cluster, 2 workers: speed-up as ratio)", "unit": "b/s/core",
         "median": dask["bundles_per_second_per_core"], "min": dask["bundles_per_second_per_core_min"],
         "max": dask["bundles_per_second_per_core_max"], "baseline": "1 process",
         "ratio": dask["speedup_vs_one_process"], "target": ""},
        {"measure": "  (2 local worker processes: speed-up as ratio)", "unit": "b/s/core",
         "median": local["bundles_per_second_per_core"], "min": local["bundles_per_second_per_core_min"],
         "max": local["bundles_per_second_per_core_max"], "baseline": "1 process",
         "ratio": local["speedup_vs_one_process"], "target": ""},
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    n = args.bundles
    rows = measure(n, args.runs)
    info = machine()
    print(f"tradevc bench_reverify, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {info['cpu']}, "
          f"{info['cores']} cores, Python {info['python']}; {n} bundles, median of {args.runs} run(s)")
    print(f"{'measure':52} {'seconds':>9} {'bundles/s':>10} {'per core':>9} {'speed-up':>9}")
    for r in rows:
        print(f"{r['measure']:52} {r['seconds_median']:9.3f} {r['bundles_per_second']:10.1f} "
              f"{r['bundles_per_second_per_core']:9.1f} {r['speedup_vs_one_process']:8.2f}x")
    RESULTS.mkdir(exist_ok=True)
    payload = {"measured": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": info, "rows": rows}
    (RESULTS / f"reverify-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json").write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
