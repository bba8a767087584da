"""The files of evidence (review of issue 20, LOW 4 and 5): a bundle and the evidence key are
written private (0600), atomically, whatever the umask and whatever was there; two
``evidence-key init`` at once make one key, and the other fails saying it already exists."""

from __future__ import annotations

import multiprocessing
import os
import stat
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from support.bundles import credential, policy_document
from tradevc.vc.atomicfile import write_atomic
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.verifier.cli import cli
from tradevc.verifier.cli_evidence import write_evidence
from tradevc.verifier.evidence import EVIDENCE_KEY_FILE, create_evidence_key, open_evidence_key, read_bundle, \
    with_evidence

PASSPHRASE = "evidence key passphrase, long enough"
MILL = KeyPair.generate("Ed25519")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0)  # a umask that would leave every new file readable and writable by all
    yield
    os.umask(old)


def test_a_bundle_is_written_0600_over_a_file_open_to_others(tmp_path, open_umask):
    at = datetime(2026, 3, 5, tzinfo=timezone.utc)
    verifier = Verifier.offline(policy=TrustPolicy.from_dict(policy_document(MILL)), clock=lambda: at)
    _, bundle = with_evidence(verifier).verify_credential(credential(MILL, 1), now=at)
    out = tmp_path / "bundle.json"
    out.write_text("an older file, open to all")
    os.chmod(out, 0o666)
    write_evidence(str(out), bundle, KeyPair.generate("Ed25519"))
    assert mode(out) == 0o600 and read_bundle(out).kind == "credential"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.json"]  # no temporary file left


def test_evidence_key_init_writes_the_key_0600(tmp_path, open_umask):
    (tmp_path / "pass.txt").write_text(PASSPHRASE)
    made = CliRunner().invoke(cli, ["evidence-key", "init", "--home", str(tmp_path / "home"),
                                    "--passphrase-file", str(tmp_path / "pass.txt")])
    assert made.exit_code == 0, made.output
    assert mode(tmp_path / "home" / EVIDENCE_KEY_FILE) == 0o600
    assert mode(tmp_path / "home") == 0o700
    assert mode(tmp_path / "home" / "evidence-key.json") == 0o644  # the public half, meant to be shown


def test_the_no_replace_write_never_replaces_a_file(tmp_path):
    target = tmp_path / "key"
    write_atomic(target, b"first", replace=False)
    with pytest.raises(FileExistsError):
        write_atomic(target, b"second", replace=False)
    assert target.read_bytes() == b"first" and [p.name for p in tmp_path.iterdir()] == ["key"]


def _create(home: str, passphrase: str, barrier, results) -> None:
    barrier.wait()
    try:
        results.put(("made", create_evidence_key(home, passphrase).did, passphrase))
    except FileExistsError:
        results.put(("exists", None, passphrase))


def test_two_inits_at_once_make_one_key(tmp_path):
    """Both pass the check for an existing key (each then spends the scrypt of sealing before it
    writes); the file written second would replace the first: it must fail instead."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    home = str(tmp_path / "home")
    workers = [context.Process(target=_create, args=(home, f"{PASSPHRASE} {i}", barrier, results)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in workers)
    assert [o[0] for o in outcomes] == ["exists", "made"], outcomes
    _, did, passphrase = outcomes[1]
    assert open_evidence_key(home, passphrase).did == did  # the key on disk is the one reported made
    assert sorted(os.listdir(home)) == [EVIDENCE_KEY_FILE]  # no temporary file left


def _init(home: str, passfile: str, barrier, results) -> None:
    barrier.wait()
    result = CliRunner().invoke(cli, ["evidence-key", "init", "--home", home, "--passphrase-file", passfile])
    results.put((result.exit_code, result.output))


def test_two_evidence_key_inits_at_once_one_fails_clearly(tmp_path):
    (tmp_path / "pass.txt").write_text(PASSPHRASE)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(2), context.Queue()
    args = (str(tmp_path / "home"), str(tmp_path / "pass.txt"), barrier, results)
    workers = [context.Process(target=_init, args=args) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in workers)
    assert [code for code, _ in outcomes] == [0, 2], outcomes
    made, refused = outcomes[0][1].strip(), outcomes[1][1]
    assert refused.startswith("error: ") and "already holds an evidence key" in refused
    assert len(refused.strip().splitlines()) == 1 and "Traceback" not in refused
    assert open_evidence_key(tmp_path / "home", PASSPHRASE).did == made
