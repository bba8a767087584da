"""Benchmark: ``POST /credentials/verify`` of the reference certificate over keep-alive HTTP
against a real ``tradevc-serve`` (issue 19's rows of the table), and against ``verify_many``
with 2 worker processes in this process, measured in the same run.

The server (``bench/service_world.py``) runs on 127.0.0.1 with ``SERVICE_WORKERS`` processes
(default 2; 1 where this checkout's configuration does not know ``[listen] workers`` yet, and
the rows say so). The certificate is the one the table's other rows verify (the reference file
signed with eddsa-rdfc-2022 by a test issuer's did:key, no status entry), 2,000 distinct copies,
sent in turn; the verifier is offline on both sides, so both do the same checks.

Each sample pairs ``verify_many(documents, workers=2)`` of the 2,000 with a window of
``SERVICE_BENCH_SECONDS`` (default 5) of closed-loop requests from ``SERVICE_BENCH_CONNECTIONS``
(default 4) keep-alive connections of the light client (``service_world.Connection``); a
ratio is the server's requests per second over the in-process credentials per second of its
pair. p99 is the 99th percentile latency of the window's requests at that load.

The load generator runs on the same 2 cores as the server: it is a raw-socket client that
costs some tens of microseconds of CPU a request, reported as ``client CPU``, so that the
figures are the server's, not the client's. ``python bench/bench_service.py`` prints the rows,
then the detail: connections 1 to 8, the CPU each side spent a request, TLS; and writes them to
``bench/results/service-*.json``. ``bench/bench_table.py`` includes the rows in the table.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from service_world import (
    USMCA, Run, World, reference_documents, run_load, serve, verify_requests, workers_supported,
)

from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOCUMENTS = 2000


def _env(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def workers_to_run(requested: int) -> tuple[int, str]:
    """The worker count to start and a note when it is not the one asked for."""
    if requested > 1 and not workers_supported():
        return 1, (f"{requested} workers asked, but this checkout's configuration has no [listen] workers yet: "
                   "measured with 1 server process")
    return requested, ""


def in_process_rate(verifier: Verifier, documents: list[dict[str, Any]], workers: int = 2) -> float:
    """Credentials per second of ``verify_many(documents, workers=workers)`` (forks included, as
    the table's batch row)."""
    start = time.perf_counter()
    results = verifier.verify_many(documents, workers=workers)
    elapsed = time.perf_counter() - start
    assert all(r.verified for r in results), results[0].summary()
    return len(documents) / elapsed


def paired_windows(world: World, verifier: Verifier, documents: list[dict[str, Any]], requests: list[bytes], *,
                   pairs: int, seconds: float, connections: int) -> tuple[list[float], list[float], list[Run]]:
    """``pairs`` samples: the in-process rate, then a window against the server; the server's
    rates, their ratios to their pair's in-process rate, and the windows."""
    run_load(world, requests, seconds=1, connections=connections, warmup=0.5)  # every worker warm
    rates, ratios, runs = [], [], []
    for _ in range(pairs):
        base = in_process_rate(verifier, documents)
        run = run_load(world, requests, seconds=seconds, connections=connections)
        if run.error_count:
            raise RuntimeError(f"{run.error_count} errors against the server; the first: {run.first_error}")
        rates.append(run.rate)
        ratios.append(run.rate / base)
        runs.append(run)
    return rates, ratios, runs


def measure(*, detail: bool = False) -> dict[str, Any]:
    """The rows (and with ``detail``, the connection sweep and the TLS windows)."""
    requested = int(_env("SERVICE_WORKERS", 2))
    workers, note = workers_to_run(requested)
    seconds = _env("SERVICE_BENCH_SECONDS", 5.0)
    connections = int(_env("SERVICE_BENCH_CONNECTIONS", 4))
    pairs = int(_env("SERVICE_BENCH_PAIRS", 5))
    key = KeyPair.generate("Ed25519")
    documents = reference_documents(key, DOCUMENTS)
    verifier = Verifier.offline(policy=TrustPolicy({key.did: [USMCA]}))
    assert verifier.verify_credential(documents[0]).verified  # warm, as the server is: the workers fork from it
    out: dict[str, Any] = {"workers": workers, "workers_requested": requested, "note": note,
                           "connections": connections, "seconds": seconds, "documents": DOCUMENTS}
    with serve(workers=workers, test_issuer=key) as world:
        out["server_processes"] = len(world.pids())
        requests = verify_requests(world, documents)
        rates, ratios, runs = paired_windows(world, verifier, documents, requests, pairs=pairs, seconds=seconds,
                                             connections=connections)
        out["http"] = {"rates": rates, "ratios": ratios, "windows": [r.summary() for r in runs]}
        if detail:
            out["sweep"] = {}
            for count in (1, 2, 4, 8):
                out["sweep"][count] = run_load(world, requests, seconds=seconds, connections=count).summary()
            out["costs"] = costs(world, documents, requests, seconds, connections)
    tls_pairs = int(_env("SERVICE_BENCH_TLS_PAIRS", 3))
    if tls_pairs:
        with serve(workers=workers, tls=True, test_issuer=key) as world:
            requests = verify_requests(world, documents)
            rates, ratios, runs = paired_windows(world, verifier, documents, requests, pairs=tls_pairs,
                                                 seconds=seconds, connections=connections)
            out["https"] = {"rates": rates, "ratios": ratios, "windows": [r.summary() for r in runs]}
    return out


def costs(world: World, documents: list[dict[str, Any]], requests: list[bytes], seconds: float,
          connections: int) -> dict[str, Any]:
    """Where a verify request's CPU goes: the server's CPU a request (verify, and GET /healthz
    for the fixed cost of HTTP, routing, middleware, log and metrics), and the parts the
    service adds around the verification timed in this process, one call at a time (ms). The
    thread hop is a part only when the server verifies the documents in a thread (see
    ``routes.cheap_to_verify``: the reference certificate's RDFC proof is; a JCS proof or a
    vc+jwt token of that size with its documents in memory is verified on the event loop)."""
    import asyncio
    import logging

    from starlette.concurrency import run_in_threadpool

    from tradevc.service.auth import TokenService
    from tradevc.service.config import ClientConfig
    from tradevc.service.logs import configure, log_request
    from tradevc.service.metrics import Metrics
    from tradevc.service.routes import INLINE_BODY_BYTES, _answer, cheap_to_verify
    from tradevc.vc.jsontext import loads

    from common import mean_seconds

    out: dict[str, Any] = {}
    health = f"GET /healthz HTTP/1.1\r\nHost: {world.host}:{world.port}\r\n\r\n".encode()
    out["server_verify_ms"] = run_load(world, requests, seconds=seconds, connections=connections).summary()[
        "server_cpu_ms_per_request"]
    out["server_healthz_ms"] = run_load(world, [health], seconds=seconds, connections=connections).summary()[
        "server_cpu_ms_per_request"]

    verifier = Verifier.offline(policy=TrustPolicy({world.test_issuer.did: [USMCA]}))
    turn = iter(range(10**9))
    bodies = [r.split(b"\r\n\r\n", 1)[1] for r in requests]
    verify = lambda: verifier.verify_credential(documents[next(turn) % len(documents)])  # noqa: E731
    result = verify()
    out["verification_ms"] = mean_seconds(verify, 300) * 1000
    out["json_body_ms"] = mean_seconds(lambda: loads(bodies[next(turn) % len(bodies)], limits=None), 300) * 1000
    tokens = TokenService((ClientConfig("customs", b"x" * 16, frozenset({"verify"})),), lifetime=600, key=b"k" * 48)
    token = tokens.issue("customs", frozenset({"verify"}))
    out["token_check_ms"] = mean_seconds(lambda: tokens.check(token), 300) * 1000  # remembered after the first
    out["token_first_check_ms"] = mean_seconds(lambda: tokens._signed_claims(token), 300) * 1000
    out["answer_ms"] = mean_seconds(lambda: _answer(result, []), 300) * 1000
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    with tempfile.TemporaryFile("w") as sink:
        configure(sink)
        try:
            out["log_line_ms"] = mean_seconds(
                lambda: log_request("0" * 32, "customs", "POST", "/credentials/verify", 200, 1.0), 2000) * 1000
        finally:
            for handler in list(root.handlers):
                root.removeHandler(handler)
            for handler in saved[0]:
                root.addHandler(handler)
            root.setLevel(saved[1])
    metrics = Metrics()
    out["metrics_ms"] = mean_seconds(lambda: metrics.observe("POST", "/credentials/verify", 200, 0.002), 2000) * 1000

    async def hops(count: int) -> float:
        await run_in_threadpool(int)
        start = time.process_time()
        for _ in range(count):
            await run_in_threadpool(int)
        return (time.process_time() - start) / count

    parts = ["verification_ms", "json_body_ms", "token_check_ms", "answer_ms", "log_line_ms", "metrics_ms"]
    out["in_thread"] = not cheap_to_verify(documents[0]) or max(map(len, bodies)) > INLINE_BODY_BYTES
    if out["in_thread"]:
        out["threadpool_hop_ms"] = asyncio.run(hops(2000)) * 1000
        parts.append("threadpool_hop_ms")
    out["rest_ms"] = out["server_verify_ms"] - sum(out[p] for p in parts)
    return out


COST_LABELS = {
    "verification_ms": "verification (Verifier.verify_credential, in process)",
    "json_body_ms": "request body, strict I-JSON reader (jsontext.loads)",
    "token_check_ms": "bearer token check (a token checked before: remembered)",
    "answer_ms": "answer: report to JSON (routes._answer)",
    "log_line_ms": "request log line (JSON, to a file)",
    "metrics_ms": "metrics (counter and histogram)",
    "threadpool_hop_ms": "threadpool hop (run_in_threadpool, CPU): the verification runs in a thread",
    "rest_ms": "the rest: uvicorn + h11, Starlette/FastAPI routing, dependencies, middleware",
}


def table_rows(measured: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``bench_table.py`` (its ``row`` layout): requests/s with the ratio to
    verify_many's rate, p99 at that load, and the same over TLS."""
    workers, connections = measured["workers"], measured["connections"]
    label = f"{workers} worker{'s' if workers > 1 else ''}"  # the note says when it is not the count asked for
    baseline = "verify_many, 2 workers, in process"

    def rate_row(name: str, part: dict[str, Any], target: str) -> dict[str, Any]:
        rates = part["rates"]
        return {"measure": name, "unit": "req/s", "median": statistics.median(rates), "min": min(rates),
                "max": max(rates), "baseline": baseline, "ratio": statistics.median(part["ratios"]),
                "target": target, "note": measured["note"]}

    def p99_row(name: str, part: dict[str, Any], target: str) -> dict[str, Any]:
        p99 = [w["p99_ms"] for w in part["windows"]]
        return {"measure": name, "unit": "ms", "median": statistics.median(p99), "min": min(p99), "max": max(p99),
                "baseline": "", "ratio": None, "target": target, "note": measured["note"]}

    rows = [
        rate_row(f"POST /credentials/verify, HTTP keep-alive, {label}", measured["http"], ">= 0.70x"),
        p99_row(f"  (p99 latency at that load, {connections} connections)", measured["http"], "< 20 ms"),
    ]
    if "https" in measured:
        rows += [rate_row("  (the same over TLS)", measured["https"], ""),
                 p99_row("  (p99 latency over TLS)", measured["https"], "")]
    return rows


def main() -> int:
    measured = measure(detail=True)
    if measured["note"]:
        print(f"note: {measured['note']}")
    print(f"server: {measured['server_processes']} process(es); client: {measured['connections']} keep-alive "
          f"connections, closed loop, {measured['seconds']:.0f} s windows")
    print(f"{'measure':58} {'median':>10} {'min':>9} {'max':>9}  {'ratio':>8}  {'target':>9}")
    for r in table_rows(measured):
        ratio = f"{r['ratio']:7.2f}x" if r["ratio"] is not None else ""
        print(f"{r['measure']:58} {r['median']:7.1f} {r['unit']:5} {r['min']:6.1f} {r['max']:9.1f}  {ratio:>8}  "
              f"{r['target']:>9}")
    print(f"\n{'connections':>11} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'client CPU us/req':>18} {'server CPU ms/req':>18}")
    for count, s in measured["sweep"].items():
        print(f"{count:>11} {s['requests_per_second']:8.1f} {s['p50_ms']:8.2f} {s['p99_ms']:8.2f} {s['errors']:7} "
              f"{s['client_cpu_us_per_request']:18.1f} {s['server_cpu_ms_per_request']:18.3f}")
    c = measured["costs"]
    print(f"\nwhere a verify request's CPU goes: the server spent {c['server_verify_ms']:.3f} ms a request "
          f"({measured['connections']} connections; GET /healthz: {c['server_healthz_ms']:.3f} ms); the parts, timed in "
          "this process one call at a time:")
    for name, label in COST_LABELS.items():
        if name in c:  # no thread hop when the server verifies on its event loop
            print(f"  {label:80} {c[name]:7.3f} ms {100 * c[name] / c['server_verify_ms']:5.1f}%")
    if not c["in_thread"]:
        print("  (no thread hop: the server verifies these credentials on its event loop)")
    print(f"  (a token's first check, HS256 with jwcrypto: {c['token_first_check_ms']:.3f} ms)")
    RESULTS.mkdir(exist_ok=True)
    payload = {"measured": datetime.now(timezone.utc).isoformat(timespec="seconds"), **measured,
               "rows": table_rows(measured)}
    path = RESULTS / f"service-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(payload, indent=2))
    print(f"\nwritten to bench/results/{path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
