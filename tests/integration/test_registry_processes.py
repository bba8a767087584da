"""Index allocation with real processes: concurrent issuers and a crash between allocation
and signing never hand out an index twice."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from tradevc.issuer.registry import StatusRegistry

BASE = "https://mill.example/status/"

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tradevc.issuer.registry import StatusRegistry
    path, worker, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    registry = StatusRegistry(path, base_url=%r)
    for n in range(count):
        cid = f"urn:uuid:{worker}-{n}"
        for entry in registry.reserve(cid, ["VerifiableCredential"], ["revocation", "suspension"]):
            print(entry.purpose, entry.index, flush=True)
        registry.mark_issued(cid, {"id": cid}, valid_until=None)
    """
    % BASE
)

CRASH = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from tradevc.issuer.registry import StatusRegistry
    registry = StatusRegistry(Path(sys.argv[1]), base_url=%r)
    entries = registry.reserve("urn:uuid:crashed", ["VerifiableCredential"], ["revocation"])
    print(entries[0].index, flush=True)
    os._exit(9)  # dies before signing: no cleanup, no mark_issued
    """
    % BASE
)


def test_concurrent_processes_never_share_an_index(tmp_path):
    path = tmp_path / "registry.sqlite"
    StatusRegistry(path, base_url=BASE).close()
    workers, each = 4, 30
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(path), str(w), str(each)], stdout=subprocess.PIPE, text=True)
        for w in range(workers)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * workers
    by_purpose: dict[str, list[int]] = {"revocation": [], "suspension": []}
    for out in outputs:
        for line in out.split("\n"):
            if line:
                purpose, index = line.split()
                by_purpose[purpose].append(int(index))
    for indexes in by_purpose.values():
        assert len(indexes) == workers * each
        assert len(set(indexes)) == workers * each
    registry = StatusRegistry(path, base_url=BASE)
    assert len(registry.records()) == workers * each
    registry.close()


def test_crash_after_allocation_burns_the_index(tmp_path):
    path = tmp_path / "registry.sqlite"
    StatusRegistry(path, base_url=BASE).close()
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(path)], capture_output=True, text=True, timeout=60)
    assert crashed.returncode == 9
    burned = int(crashed.stdout.strip())
    registry = StatusRegistry(path, base_url=BASE)
    record = {r.id: r for r in registry.records()}["urn:uuid:crashed"]
    assert record.state == "reserved"
    later = [registry.reserve(f"urn:uuid:{n}", [], ["revocation"])[0].index for n in range(200)]
    assert burned not in later
    registry.close()


# -- Issuers in several processes, each shared by its threads (a service's workers) -------------

PASS = "mill passphrase"

ISSUING_WORKER = textwrap.dedent(
    """
    import json, sys, time
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path
    from tradevc.issuer import Issuer
    from tradevc.vc.sealed import unsafe_test_kdf
    home, worker, count, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:buyer"},
    }
    with unsafe_test_kdf(), Issuer.open(home, %r.encode()) as issuer:
        (go.parent / f"ready-{worker}").touch()
        while not go.exists():  # start issuing together with the other worker
            time.sleep(0.01)
        with ThreadPoolExecutor(4) as pool:
            issued = list(pool.map(lambda n: issuer.issue(credential, credential_id=f"urn:uuid:{worker}-{n}"),
                                   range(count)))
    print(json.dumps([[e["statusPurpose"], int(e["statusListIndex"])] for c in issued for e in c["credentialStatus"]]))
    """
    % PASS
)


def test_two_issuer_processes_with_threads_never_share_an_index(tmp_path):
    """Two processes (as two service workers) open the same issuer home and issue 50
    credentials each at once, each from 4 threads: 100 distinct indexes per purpose, all
    recorded."""
    import json
    import os
    from pathlib import Path

    from tradevc.issuer import Issuer

    home = tmp_path / "home"
    Issuer.init(home, PASS.encode(), name="Aceros del Norte", did_web_domain="mill.example",
                status_base_url=BASE).close()
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    procs = [
        subprocess.Popen([sys.executable, "-c", ISSUING_WORKER, str(home), str(w), "50", str(go)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for w in range(2)
    ]
    try:
        while not all((tmp_path / f"ready-{w}").exists() for w in range(2)):
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.05)
        go.touch()
        outputs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    by_purpose: dict[str, list[int]] = {"revocation": [], "suspension": []}
    for out, _ in outputs:
        for purpose, index in json.loads(out):
            by_purpose[purpose].append(index)
    for indexes in by_purpose.values():
        assert len(indexes) == 100 and len(set(indexes)) == 100
    with Issuer.open(home, PASS.encode()) as issuer:
        records = issuer.issued()
    assert len(records) == 100 and {r.state for r in records} == {"issued"}
    assert {r.id for r in records} == {f"urn:uuid:{w}-{n}" for w in range(2) for n in range(50)}


def _issue_on_threads(issuer, worker: str, count: int) -> list[tuple[str, int]]:
    from concurrent.futures import ThreadPoolExecutor

    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:buyer"},
    }
    with ThreadPoolExecutor(4) as pool:
        issued = list(pool.map(lambda n: issuer.issue(credential, credential_id=f"urn:uuid:{worker}-{n}"),
                               range(count)))
    return [(e["statusPurpose"], int(e["statusListIndex"])) for c in issued for e in c["credentialStatus"]]


def _forked_worker(issuer, worker: str, count: int, conn) -> None:
    try:
        conn.send(("ok", _issue_on_threads(issuer, worker, count)))
    except BaseException as e:  # noqa: BLE001  (reported to the test, which fails with it)
        conn.send(("error", f"{type(e).__name__}: {e}"))


def test_processes_forked_with_an_issuer_open_use_it_safely(tmp_path):
    """A pre-forking server opens the Issuer, then forks its workers: each worker (with its
    threads) and the parent keep issuing, each process on a connection of its own, and no
    index is handed out twice."""
    import multiprocessing

    from tradevc.issuer import Issuer

    issuer = Issuer.init(tmp_path / "home", PASS.encode(), name="Aceros del Norte", did_web_domain="mill.example",
                         status_base_url=BASE)
    children = []
    try:
        parent = _issue_on_threads(issuer, "parent-before", 4)
        context = multiprocessing.get_context("fork")
        pipes = [context.Pipe(duplex=False) for _ in range(2)]
        children = [context.Process(target=_forked_worker, args=(issuer, f"child{w}", 25, pipes[w][1]))
                    for w in range(2)]
        for child in children:
            child.start()
        parent += _issue_on_threads(issuer, "parent-after", 25)
        assert all(pipe[0].poll(300) for pipe in pipes), "a forked worker never answered"
        results = [pipe[0].recv() for pipe in pipes]
        for child in children:
            child.join(timeout=120)
        assert [r[0] for r in results] == ["ok", "ok"], results
        assert [c.exitcode for c in children] == [0, 0]
        everything = parent + [entry for _, entries in results for entry in entries]
        for purpose in ("revocation", "suspension"):
            indexes = [i for p, i in everything if p == purpose]
            assert len(indexes) == 4 + 25 * 3 and len(set(indexes)) == len(indexes)
        assert len(issuer.issued()) == 4 + 25 * 3
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
        issuer.close()
