"""``make load``: a real ``tradevc-serve`` under locust, then a soak (issue 19, point 6).

1. Steps: for each mix (``verify``, ``issue``, ``mixed`` = 4 verifications to 1 issue) and
   each concurrency (``LOAD_USERS``, default ``1 4 16 64``), locust runs headless
   (``bench/locustfile.py``) for ``LOAD_SECONDS`` (default 20) against the server, statistics
   reset once its users are all started. Printed: users, mix, requests/s, p50, p99, errors,
   busy (503 refusals of the server's concurrency cap, by design: not errors; the users wait
   their Retry-After), and
   the CPU locust and the server each spent a request (they share this machine's cores).
2. Soak: the most ``POST /credentials/verify`` the server answers (``SOAK_PROBE_SECONDS``,
   default 15, closed loop over 4 keep-alive connections of the light client of
   ``bench/service_world.py``), then half that rate, paced, for ``SOAK_SECONDS`` (default 600).
   The server's memory (resident, all its processes) is sampled every ``SOAK_SAMPLE_SECONDS``
   (default 10): first and last sample, and the slope of a least-squares line through them.
   The soak passes with zero errors and growth (the line's rise over the soak) under 5% of
   the first sample or 10 MB, whichever is more.

The server is set up as by ``bench/service_world.py`` (its own issuer home, trust policy,
clients, in a temporary folder) with ``SERVICE_WORKERS`` processes (default 2; 1 where this
checkout's configuration has no ``[listen] workers`` yet, and the output says so). The
results go to ``bench/results/load-*.json``. Exit status 1 when the soak does not pass or a
step had errors.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from service_world import (
    TOKEN_LIFETIME, World, reference_documents, run_load, serve, unsigned_certificate,
    verify_requests, workers_supported,
)

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MIXES = ("verify", "issue", "mixed")


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def locust_step(world: World, files: dict[str, str], mix: str, users: int, seconds: int, work: Path) -> dict[str, Any]:
    """One headless locust run: its aggregated figures, and the CPU each side spent a request."""
    prefix = work / f"{mix}-{users}"
    env = {**os.environ, **files, "TRADEVC_LOAD_MIX": mix,
           "TRADEVC_LOAD_VERIFY_TOKEN": world.token("customs"), "TRADEVC_LOAD_ISSUE_TOKEN": world.token("erp")}
    command = [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless", "--host", world.base,
               "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--reset-stats", "--only-summary",
               "--csv", str(prefix), "--stop-timeout", "10", "--loglevel", "WARNING", "--exit-code-on-error", "0"]
    client_before, server_before = children_cpu(), world.cpu()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120)
    client_cpu, server_cpu = children_cpu() - client_before, world.cpu() - server_before
    if done.returncode != 0:
        raise RuntimeError(f"locust ended with {done.returncode}: {done.stderr[-2000:]}")
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    total = rows["Aggregated"]
    count, failures = int(total["Request Count"]), int(total["Failure Count"])
    first_failure, busy = "", 0
    try:
        with open(f"{prefix}_failures.csv", newline="") as f:
            for row in csv.DictReader(f):
                if "busy (503" in row["Error"]:  # the concurrency cap, by design: counted apart (locustfile)
                    busy += int(row["Occurrences"])
                elif not first_failure:
                    first_failure = row["Error"]
    except OSError:
        pass
    return {
        "users": users, "mix": mix, "requests": count, "requests_per_second": float(total["Requests/s"]),
        "p50_ms": float(total["50%"]), "p99_ms": float(total["99%"]), "errors": failures - busy,
        "busy": busy, "first_error": first_failure,
        "by_name": {name: {"requests": int(r["Request Count"]), "p50_ms": float(r["50%"]), "p99_ms": float(r["99%"])}
                    for name, r in rows.items() if name != "Aggregated"},
        "client_cpu_ms_per_request": round(client_cpu / count * 1000, 3) if count else None,
        "server_cpu_ms_per_request": round(server_cpu / count * 1000, 3) if count else None,
    }


def slope_per_minute(samples: list[tuple[float, int]]) -> float:
    """Bytes a minute of the least-squares line through (seconds, bytes)."""
    if len(samples) < 2:
        return 0.0
    xs, ys = [s[0] for s in samples], [float(s[1]) for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def soak(world: World, documents: list[dict[str, Any]], *, seconds: float, probe: float,
         every: float) -> dict[str, Any]:
    """The soak of the module's documentation."""
    requests = lambda: verify_requests(world, documents)  # noqa: E731  (new token now and then)
    most = run_load(world, requests(), seconds=probe, connections=4)
    rate = most.rate / 2
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    began = time.monotonic()

    def sample() -> None:
        while True:
            samples.append((time.monotonic() - began, world.rss()))
            if stop.wait(every):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        run = run_load(world, requests, seconds=seconds, connections=4, warmup=1, rate=rate,
                       refresh=TOKEN_LIFETIME / 4)
    finally:
        stop.set()
        sampler.join()
        samples.append((time.monotonic() - began, world.rss()))
    first, last = samples[0][1], samples[-1][1]
    per_minute = slope_per_minute(samples)
    rise = per_minute * (samples[-1][0] - samples[0][0]) / 60
    allowed = max(0.05 * first, 10 * 2**20)
    return {
        "most_requests_per_second": round(most.rate, 1), "probe": most.summary(), "rate": round(rate, 1),
        **run.summary(), "first_error": run.first_error,
        "rss_first_mb": round(first / 2**20, 1), "rss_last_mb": round(last / 2**20, 1),
        "rss_slope_mb_per_minute": round(per_minute / 2**20, 3), "rss_rise_mb": round(rise / 2**20, 2),
        "rss_allowed_rise_mb": round(allowed / 2**20, 1),
        "rss_samples": [(round(t, 1), round(b / 2**20, 2)) for t, b in samples],
        "server_processes": len(world.pids()),
        "passed": run.error_count == 0 and rise < allowed,
    }


def main() -> int:
    requested = int(_env("SERVICE_WORKERS", "2"))
    workers, note = requested, ""
    if requested > 1 and not workers_supported():
        workers, note = 1, (f"{requested} workers asked, but this checkout's configuration has no [listen] workers "
                            "yet: measured with 1 server process")
    users = [int(u) for u in _env("LOAD_USERS", "1 4 16 64").split()]
    mixes = _env("LOAD_MIXES", " ".join(MIXES)).split()
    seconds = int(_env("LOAD_SECONDS", "20"))
    soak_seconds = float(_env("SOAK_SECONDS", "600"))
    if note:
        print(f"note: {note}", flush=True)
    with serve(workers=workers) as world, tempfile.TemporaryDirectory(prefix="tradevc-load-") as tmp:
        work = Path(tmp)
        documents = reference_documents(world.test_issuer, 2000)
        (work / "verify.jsonl").write_text("".join(json.dumps({"verifiableCredential": d}) + "\n" for d in documents))
        credential = unsigned_certificate(world.mill_did)
        credential["id"] = placeholder = "urn:uuid:" + "0" * 36
        (work / "issue.json").write_text(json.dumps({"credential": credential}))
        files = {"TRADEVC_LOAD_VERIFY_BODIES": str(work / "verify.jsonl"), "TRADEVC_LOAD_ISSUE_BODY": str(work / "issue.json"),
                 "TRADEVC_LOAD_ISSUE_ID": placeholder}
        processes = len(world.pids())
        print(f"tradevc-serve on {world.base}, {processes} process(es); locust headless, {seconds} s a step "
              f"(statistics from when all users are started)", flush=True)
        header = (f"{'users':>5}  {'mix':6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'busy':>6} "
                  f"{'locust CPU ms/req':>18} {'server CPU ms/req':>18}")
        print(header, flush=True)
        steps = []
        for mix in mixes:
            for count in users:
                step = locust_step(world, files, mix, count, seconds, work)
                steps.append(step)
                print(f"{count:>5}  {mix:6} {step['requests_per_second']:8.1f} {step['p50_ms']:8.0f} "
                      f"{step['p99_ms']:8.0f} {step['errors']:7} {step['busy']:6} "
                      f"{step['client_cpu_ms_per_request'] or 0:18.3f} "
                      f"{step['server_cpu_ms_per_request'] or 0:18.3f}", flush=True)
                if step["errors"]:
                    print(f"       first error: {step['first_error'][:200]}", flush=True)
        soaked = None
        if soak_seconds > 0:
            print(f"\nsoak: POST /credentials/verify at half the most measured, for {soak_seconds:.0f} s; the server's "
                  f"memory sampled every {float(_env('SOAK_SAMPLE_SECONDS', '10')):.0f} s", flush=True)
            soaked = soak(world, documents, seconds=soak_seconds, probe=float(_env("SOAK_PROBE_SECONDS", "15")),
                          every=float(_env("SOAK_SAMPLE_SECONDS", "10")))
            print(f"  most: {soaked['most_requests_per_second']} req/s (light client, 4 connections); soak at "
                  f"{soaked['rate']} req/s: {soaked['requests']} requests, {soaked['requests_per_second']} req/s, "
                  f"p50 {soaked['p50_ms']:.1f} ms, p99 {soaked['p99_ms']:.1f} ms, errors {soaked['errors']}")
            print(f"  memory ({soaked['server_processes']} process(es), resident): first {soaked['rss_first_mb']} MB, "
                  f"last {soaked['rss_last_mb']} MB, slope {soaked['rss_slope_mb_per_minute']:+.3f} MB/min "
                  f"(rise {soaked['rss_rise_mb']:+.2f} MB over the soak, allowed {soaked['rss_allowed_rise_mb']} MB)")
            if soaked["first_error"]:
                print(f"  first error: {soaked['first_error'][:200]}")
            print(f"  soak {'passed' if soaked['passed'] else 'FAILED'}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc)
    payload = {"measured": stamp.isoformat(timespec="seconds"), "workers": workers, "workers_requested": requested,
               "note": note, "server_processes": processes, "step_seconds": seconds, "steps": steps, "soak": soaked}
    path = RESULTS / f"load-{stamp:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(payload, indent=2))
    print(f"\nwritten to bench/results/{path.name}")
    failed = any(s["errors"] for s in steps) or (soaked is not None and not soaked["passed"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
