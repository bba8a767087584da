"""Index allocation with real processes: concurrent issuers and a crash between allocation
and signing never hand out an index twice."""

from __future__ import annotations

import subprocess
import sys
import textwrap

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
