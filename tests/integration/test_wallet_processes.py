"""The wallet file under real processes: two ``vc-wallet`` processes adding at once lose
nothing, and a process killed in the middle of a write leaves a readable wallet."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import load_vector
from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.wallet import KdfParams, Wallet

PASS = "importer passphrase"
ISSUER = KeyPair.generate("Ed25519")
ROOT = Path(__file__).resolve().parents[2]


def credential(n: int) -> dict:
    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"] = ISSUER.did
    document["id"] = f"urn:uuid:00000000-0000-4000-8000-{n:012d}"
    return sign_credential(document, ISSUER, cryptosuite="eddsa-jcs-2022", created="2026-01-01T00:00:00Z")


def offline() -> Verifier:
    return Verifier.offline(policy=TrustPolicy({ISSUER.did: ["AlumniCredential"]}))


@pytest.fixture
def home(tmp_path):
    Wallet.create(tmp_path / "wallet", PASS, kdf=KdfParams(n=2**14))
    return tmp_path / "wallet"


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "TRADEVC_WALLET_HOME": str(home), "TRADEVC_WALLET_PASSPHRASE": PASS}


def test_two_processes_adding_at_once_keep_everything(tmp_path, home):
    batches = []
    for batch in range(2):
        files = []
        for i in range(6):
            path = tmp_path / f"c{batch}-{i}.json"
            path.write_text(json.dumps(credential(batch * 100 + i)))
            files.append(str(path))
        batches.append(files)
    command = [sys.executable, "-m", "tradevc.wallet.cli", "add", "--offline"]
    procs = [subprocess.Popen(command + files, env=env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for files in batches]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    held = {h.id for h in Wallet.open(home, PASS).list()}
    assert held == {credential(b * 100 + i)["id"] for b in range(2) for i in range(6)}


STALL = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    import tradevc.vc.atomicfile
    from tradevc.verifier import TrustPolicy, Verifier
    from tradevc.wallet import Wallet

    home, marker, stall_at, document = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    real_fsync, calls = os.fsync, [0]

    def stalling_fsync(fd):
        calls[0] += 1
        if calls[0] == stall_at:  # 1: the new file is written, not yet renamed; 2: renamed, directory not synced
            marker.write_text("stalled")
            time.sleep(600)
        real_fsync(fd)

    tradevc.vc.atomicfile.os.fsync = stalling_fsync
    wallet = Wallet.open(home, os.environ["TRADEVC_WALLET_PASSPHRASE"],
                         verifier=Verifier.offline(policy=TrustPolicy.unsafe_any_issuer()))
    wallet.add(json.loads(Path(document).read_text()))
    """
)


@pytest.mark.parametrize("stall_at, kept_new", [(1, False), (2, True)])
def test_a_process_killed_during_a_write_leaves_a_readable_wallet(tmp_path, home, stall_at, kept_new):
    Wallet.open(home, PASS, verifier=offline()).add(credential(1))
    document = tmp_path / "new.json"
    document.write_text(json.dumps(credential(2)))
    marker = tmp_path / "stalled"
    proc = subprocess.Popen(
        [sys.executable, "-c", STALL, str(home), str(marker), str(stall_at), str(document)],
        env=env(home), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the writer never reached the write"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the write, lock held
    finally:
        proc.wait(timeout=30)

    expected = [credential(1)["id"]] + ([credential(2)["id"]] if kept_new else [])
    assert [h.id for h in Wallet.open(home, PASS).list()] == expected
    # the kernel released the dead writer's lock: the next write goes through and clears its leftovers
    Wallet.open(home, PASS, verifier=offline()).add(credential(3))
    assert [h.id for h in Wallet.open(home, PASS).list()] == expected + [credential(3)["id"]]
    assert sorted(p.name for p in home.iterdir()) == ["wallet.vcw", "wallet.vcw.lock"]


RACE = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    import tradevc.wallet.store
    from tradevc.verifier import TrustPolicy, Verifier
    from tradevc.wallet import Wallet

    home, ready, go, document = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    real_write = tradevc.wallet.store.WalletFile.write

    def slow_write(self, data):  # between reading the wallet and writing it back
        time.sleep(float(os.environ["RACE_WRITE_DELAY"]))
        real_write(self, data)

    tradevc.wallet.store.WalletFile.write = slow_write
    wallet = Wallet.open(home, os.environ["TRADEVC_WALLET_PASSPHRASE"],
                         verifier=Verifier.offline(policy=TrustPolicy.unsafe_any_issuer()))
    credential = json.loads(Path(document).read_text())
    ready.write_text("ready")
    while not go.exists():
        time.sleep(0.005)
    wallet.add(credential)
    """
)


def test_processes_adding_at_the_same_moment_with_slow_writes_keep_everything(tmp_path, home):
    """Four processes, each adding its own credential at the same moment, each taking a while
    between reading the wallet and writing it back: all four are held. Without the lock each
    would write back what it read plus its own, and the last writer would erase the others."""
    go = tmp_path / "go"
    procs, readies = [], []
    for n in range(4):
        document, ready = tmp_path / f"c{n}.json", tmp_path / f"ready{n}"
        document.write_text(json.dumps(credential(300 + n)))
        readies.append(ready)
        procs.append(subprocess.Popen(
            [sys.executable, "-c", RACE, str(home), str(ready), str(go), str(document)],
            env={**env(home), "RACE_WRITE_DELAY": "0.6"}, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        ))
    try:
        deadline = time.monotonic() + 120
        while not all(r.exists() for r in readies):
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            assert time.monotonic() < deadline, "the writers never got ready"
            time.sleep(0.02)
        go.write_text("go")
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    held = [h.id for h in Wallet.open(home, PASS).list()]
    assert sorted(held) == sorted(credential(300 + n)["id"] for n in range(4))
