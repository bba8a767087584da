"""The load harness of ``bench/`` (``service_world``: the server it sets up and its light
keep-alive client; ``load_service``: the soak's memory line) against a real ``tradevc-serve`` on
127.0.0.1, for a few seconds: answers are read and counted, a refused request counts as an
error, the server's processes and memory are found. No figure is asserted (speed is measured
by ``make bench`` and ``make load``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH))  # bench/ modules: service_world, load_service (and common, which they import)

from load_service import slope_per_minute  # noqa: E402
from service_world import (  # noqa: E402
    VERIFY_PATH, IssueRequests, percentile, reference_documents, request_bytes, run_load, serve, service_config,
    verify_requests,
)


@pytest.fixture(scope="module")
def world():
    with serve(workers=1) as world:
        yield world


@pytest.fixture(scope="module")
def documents(world):
    return reference_documents(world.test_issuer, 8)


def test_a_short_closed_loop_run_has_its_figures_and_no_error(world, documents):
    run = run_load(world, verify_requests(world, documents), seconds=2, connections=2, warmup=0.2)
    assert run.requests > 0 and run.error_count == 0, run.first_error
    assert len(run.latencies) == run.requests
    summary = run.summary()
    assert 0 < summary["p50_ms"] <= summary["p99_ms"]
    assert summary["requests_per_second"] > 0 and summary["errors"] == 0
    assert summary["client_cpu_us_per_request"] > 0 and summary["server_cpu_ms_per_request"] > 0


def test_what_the_client_sends_is_verified_by_the_server(world, documents):
    requests = verify_requests(world, documents)
    connection = world.connect()
    try:
        for document, request in zip(documents[:3], requests):  # one keep-alive connection, answer after answer
            status, body = connection.request(request)
            answer = json.loads(body)
            assert status == 200 and answer["verified"] is True and answer["document"] == document["id"]
    finally:
        connection.close()
    assert len({d["id"] for d in documents}) == len(documents)  # distinct copies, as the bench needs


def test_issue_requests_carry_a_new_credential_id_each(world):
    run = run_load(world, [IssueRequests(world)], seconds=1, connections=2, warmup=0, expect=201)
    assert run.requests > 1 and run.error_count == 0, run.first_error


def test_a_refused_request_counts_as_an_error(world, documents):
    body = json.dumps({"verifiableCredential": documents[0]}).encode()
    refused = request_bytes(world, VERIFY_PATH, body, token="not-a-token")
    run = run_load(world, [refused], seconds=0.5, connections=1, warmup=0)
    assert run.requests > 0 and run.errors == {401: run.requests}
    assert run.first_error.startswith("401: ") and "urn:tradevc:problem:unauthorized" in run.first_error


def test_a_paced_run_sends_no_more_than_its_schedule(world, documents):
    run = run_load(world, verify_requests(world, documents), seconds=1, connections=2, warmup=0, rate=20)
    assert 0 < run.requests <= 20 + 2 and run.error_count == 0


def test_the_servers_processes_and_memory(world):
    pids = world.pids()
    assert pids[0] == world.process.pid
    assert world.rss() > 10 * 2**20 and world.cpu() > 0


def test_workers_are_written_only_above_one():
    assert "workers" not in service_config(8080, workers=1, tls=None)
    assert "\nworkers = 2\n" in service_config(8080, workers=2, tls=None)


def test_percentiles_and_the_memory_line():
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0 and percentile([1.0, 2.0, 3.0, 4.0], 0.99) == 4.0
    assert slope_per_minute([(0, 100), (60, 100), (120, 100)]) == 0
    assert slope_per_minute([(0, 100), (30, 150), (60, 200)]) == pytest.approx(100)
