"""Re-verifying archived bundles: in this process, across local processes, and on a 2-worker
Dask cluster started on loopback, with identical results; the archive query picks exactly the
bundles that relied on a key since a date."""

from __future__ import annotations

import copy
import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from support.bundles import SEALER, credential, make_bundle, policy_document, to_bytes
from tradevc.vc.keys import KeyPair
from tradevc.verifier.archive import Archive
from tradevc.verifier.evidence import seal_bundle
from tradevc.verifier.reverify import ReverifyOutcome, check_replay, replay_check, reverify

UTC = timezone.utc
MILL = KeyPair.generate("Ed25519")
OTHER = KeyPair.generate("Ed25519")
POLICY = policy_document(MILL, OTHER)
START = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
MARCH = datetime(2026, 3, 1, tzinfo=UTC)


def method(key: KeyPair) -> str:
    return f"{key.did}#{key.did.removeprefix('did:key:')}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """20 real verifications over February to April, alternately of the mill's and another
    issuer's credentials, archived; the 8th one's credential was tampered with (not verified)."""
    root = tmp_path_factory.mktemp("reverify")
    archive = Archive(root / "archive", str(root / "ledger.db"))
    made = []
    for i in range(20):
        key = MILL if i % 2 == 0 else OTHER
        document = credential(key, i)
        if i == 7:
            document["credentialSubject"]["goods"][0]["commodityCode"] = "000000"
        bundle = make_bundle(document, POLICY, at=START + timedelta(days=4 * i), entry_number=f"316-{i:07d}-0",
                             importer="Acme Imports")
        made.append((key, archive.add(to_bytes(bundle))))
    yield archive, made
    archive.close()


def test_without_a_change_every_decision_holds(world):
    archive, made = world
    outcomes = reverify([b.path for _, b in made], replay_check(), workers=1)
    assert [o.digest for o in outcomes] == [b.digest for _, b in made]
    assert [o.now for o in outcomes] == [b.outcome for _, b in made]
    assert [o.now for o in outcomes].count("not-verified") == 1 and not any(o.changed for o in outcomes)


def test_a_compromised_key_changes_exactly_the_decisions_that_relied_on_it(world):
    archive, made = world
    relied = archive.search(verification_method=method(MILL), since=MARCH)
    expected = [b.digest for key, b in made if key is MILL and b.verified_at >= MARCH]
    assert [b.digest for b in relied] == expected and len(expected) == 6
    outcomes = reverify([b.path for b in archive.search(since=MARCH)], replay_check([method(MILL)]),
                        workers=1)
    changed = [o for o in outcomes if o.changed]
    assert [o.digest for o in changed] == expected
    assert all(o.recorded == "verified" and o.now == "not-verified" and method(MILL) in (o.reason or "")
               for o in changed)
    by_did = reverify([b.path for b in relied], replay_check([MILL.did]), workers=1)
    assert all(o.changed for o in by_did)


def test_a_revised_policy_changes_the_other_issuers_decisions(world):
    _, made = world
    outcomes = reverify([b.path for _, b in made], replay_check(policy=policy_document(MILL)), workers=1)
    assert [o.changed for o in outcomes] == [key is OTHER and i != 7 for i, (key, _) in enumerate(made)]
    assert {o.reason for o in outcomes if o.changed} == {"issuer_trust: UNTRUSTED_ISSUER"}


def test_a_bundle_altered_after_sealing_is_not_believed(world):
    """A document changed inside a sealed bundle: the seal no longer holds, so nothing in it is
    believed (could not verify, saying why)."""
    _, made = world
    bundle = json.loads(made[0][1].path.read_bytes())
    forged = copy.deepcopy(bundle)
    forged["input"]["documents"][0]["credentialSubject"]["goods"][0]["commodityCode"] = "999999"
    outcome = check_replay(to_bytes(forged))
    assert outcome.recorded == "verified" and outcome.now == "could-not-verify" and outcome.changed
    assert "changed after sealing" in (outcome.reason or "")


def test_a_resealed_forgery_is_replayed_not_believed(world):
    """Even resealed by the forger (the seal holds, but by another key), the replay checks the
    document's proof again instead of trusting the recorded outcome; and a sealer list refuses it."""
    _, made = world
    forged = json.loads(made[0][1].path.read_bytes())
    forged["input"]["documents"][0]["credentialSubject"]["goods"][0]["commodityCode"] = "999999"
    forger = KeyPair.generate("Ed25519")
    resealed = to_bytes(seal_bundle(forged, forger))
    outcome = check_replay(resealed)
    assert outcome.recorded == "verified" and outcome.now == "not-verified" and "proof" in (outcome.reason or "")
    pinned = check_replay(resealed, sealers=[SEALER.did])
    assert pinned.now == "could-not-verify" and f"sealed by {forger.verification_method}" in (pinned.reason or "")
    assert check_replay(made[0][1].path.read_bytes(), sealers=[SEALER.did]).now == "verified"


def test_what_is_not_a_bundle_is_could_not_verify():
    outcome = check_replay(b'{"type": "x"}')
    assert outcome.now == "could-not-verify" and "not a bundle" in (outcome.reason or "")
    outcomes = reverify(["/nonexistent/bundle.json"], replay_check(), workers=1)
    assert outcomes[0].now == "could-not-verify" and "cannot read" in (outcomes[0].reason or "")


def test_local_processes_and_a_local_dask_cluster_give_the_single_process_result(world):
    from distributed import Client, LocalCluster

    _, made = world
    paths = [b.path for _, b in made]
    check = replay_check([method(OTHER)])
    single = reverify(paths, check, workers=1)
    assert sum(o.changed for o in single) == 9  # the other issuer's, but the 8th: not verified before either
    assert reverify(paths, check, workers=2, chunk_size=3) == single
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      protocol="tcp") as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with Client(cluster) as client:  # two worker processes, not this one
            pids = set(client.run(os.getpid).values())
            assert len(pids) == 2 and os.getpid() not in pids
        on_dask = reverify(paths, check, engine="dask", address=cluster.scheduler_address, chunk_size=3)
        as_bytes = reverify([p.read_bytes() for p in paths], check, engine="dask", address=cluster.scheduler_address)
    assert on_dask == single and as_bytes == single
    assert all(isinstance(o, ReverifyOutcome) for o in on_dask)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="engine"):
        reverify([], replay_check(), engine="ray")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        reverify([], replay_check(), workers=0)
    with pytest.raises(ValueError, match="Dask scheduler"):
        reverify([b"{}"], replay_check(), address="tcp://127.0.0.1:8786")


def test_an_unreachable_scheduler_is_a_clear_error():
    from tradevc.verifier.reverify import ReverifyError

    with pytest.raises(ReverifyError, match="cannot reach the Dask scheduler tcp://127.0.0.1:9"):
        reverify([b"{}"], replay_check(), engine="dask", address="tcp://127.0.0.1:9", connect_timeout=1)
