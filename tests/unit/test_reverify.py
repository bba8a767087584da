"""Re-verifying archived bundles: in this process, across local processes, and on a 2-worker
Dask cluster started on loopback with TLS, with identical results; the archive query picks
exactly the bundles that relied on a key since a date. An outcome for another bundle than the
one sent stops the run, a swapped archive file is not the indexed bundle, a scheduler without
TLS is refused, and no process without the call's certificate reaches the local cluster."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from datetime import datetime, timedelta, timezone

import pytest

from support.bundles import SEALER, credential, make_bundle, policy_document, to_bytes
from tradevc.vc.keys import KeyPair
from tradevc.verifier.archive import Archive
from tradevc.verifier.evidence import seal_bundle
from tradevc.verifier.reverify import (
    ReverifyError,
    ReverifyOutcome,
    check_replay,
    cluster_security,
    replay_check,
    reverify,
    reverify_archived,
)

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
    from distributed.security import Security

    _, made = world
    paths = [b.path for _, b in made]
    check = replay_check([method(OTHER)])
    single = reverify(paths, check, workers=1)
    assert sum(o.changed for o in single) == 9  # the other issuer's, but the 8th: not verified before either
    assert reverify(paths, check, workers=2, chunk_size=3) == single
    assert reverify(paths, check, engine="dask", workers=2, chunk_size=5) == single  # its own TLS cluster
    security = Security.temporary()  # a remote cluster's own certificates, given to reverify
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      protocol="tls", security=security) as cluster:
        assert cluster.scheduler_address.startswith("tls://127.0.0.1:")
        with Client(cluster, security=security) as client:  # two worker processes, not this one
            pids = set(client.run(os.getpid).values())
            assert len(pids) == 2 and os.getpid() not in pids
        on_dask = reverify(paths, check, engine="dask", address=cluster.scheduler_address, chunk_size=3,
                           security=security)
        as_bytes = reverify([p.read_bytes() for p in paths], check, engine="dask", address=cluster.scheduler_address,
                            security=security)
    assert on_dask == single and as_bytes == single
    assert all(isinstance(o, ReverifyOutcome) for o in on_dask)


def probe_scheduler(data: bytes) -> ReverifyOutcome:
    """A check run on a worker of the local cluster: it tries to reach the cluster's scheduler
    as another local process would, without the call's certificate, and reports how each try
    ended in the outcome's reason."""
    import socket
    import ssl

    from distributed import Client, get_worker
    from distributed.security import Security

    address = get_worker().scheduler.address
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    tries = {}
    for name, target, security in [("no-security", address, None),
                                   ("plain-tcp", "tcp://" + address.removeprefix("tls://"), None),
                                   ("other-ca", address, Security.temporary())]:
        try:
            Client(target, security=security, timeout=5, set_as_default=False).close()
            tries[name] = "connected"
        except Exception as e:  # noqa: BLE001
            tries[name] = type(e).__name__
    context = ssl.create_default_context()  # TLS that trusts any server, with no client certificate
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, int(port)), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(b"\0" * 16)
            tries["no-client-cert"] = "connected" if tls.recv(1) else "closed"
    except (OSError, ssl.SSLError) as e:
        tries["no-client-cert"] = type(e).__name__
    import urllib.error
    import urllib.request

    from distributed import get_client

    http = {"scheduler": get_client().scheduler_info()["services"]["dashboard"],
            "worker": get_worker().http_server.port}
    for name, port in http.items():  # Dask's HTTP server, in clear: nothing but /health
        for path in ("/health", "/json/identity.json", "/metrics"):
            try:
                with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=5) as answer:
                    tries[f"{name}{path}"] = str(answer.status)
            except urllib.error.HTTPError as e:
                tries[f"{name}{path}"] = str(e.code)
    reason = address + " " + " ".join(f"{k}={v}" for k, v in tries.items())
    return ReverifyOutcome(hashlib.sha256(data).hexdigest(), "verified", "verified", reason)


def test_no_process_without_the_calls_certificate_can_reach_the_local_cluster():
    """The local cluster's scheduler listens with TLS and asks for a client certificate signed
    by the CA made for the call: a Dask client without security, in clear, or with another
    CA's certificate, and a TLS client with no certificate, are all turned away; the HTTP
    servers Dask keeps in clear answer /health only."""
    outcome = reverify([b"bundle"], probe_scheduler, engine="dask", workers=1)[0]
    address, *found = (outcome.reason or "").split()
    assert address.startswith("tls://127.0.0.1:")
    tries = dict(t.split("=", 1) for t in found)
    assert set(tries) >= {"no-security", "plain-tcp", "other-ca", "no-client-cert"}
    assert not any(v == "connected" for v in tries.values()), tries
    assert {k: v for k, v in tries.items() if "/" in k} == {
        "scheduler/health": "200", "scheduler/json/identity.json": "404", "scheduler/metrics": "404",
        "worker/health": "200", "worker/json/identity.json": "404", "worker/metrics": "404"}


def forged(data: bytes) -> ReverifyOutcome:
    """A check (a compromised worker) that answers with another bundle's outcome."""
    return ReverifyOutcome(hashlib.sha256(b"another bundle").hexdigest(), "verified", "verified")


def nameless(data: bytes) -> ReverifyOutcome:
    return ReverifyOutcome(None, "verified", "verified")


@pytest.mark.parametrize("check", [forged, nameless])
@pytest.mark.parametrize("workers", [1, 2])
def test_an_outcome_for_another_bundle_stops_the_run(world, check, workers):
    _, made = world
    with pytest.raises(ReverifyError, match=r"the outcome returned for bundle 1 of 4 is for .*not for the bundle sent"):
        reverify([b.path for _, b in made[:4]], check, workers=workers, chunk_size=2)


def test_a_reordered_outcome_stops_the_run(world):
    """Each outcome right, but two of them swapped (as a cluster mixing up its tasks would):
    the outcome at the first place names the second bundle."""
    _, made = world
    data = [b.path.read_bytes() for _, b in made[:2]]
    with pytest.raises(ReverifyError, match="bundle 1 of 2"):
        reverify(data, replay_check(), workers=1, digests=[hashlib.sha256(d).hexdigest() for d in reversed(data)])


def test_a_file_swapped_for_another_sealed_bundle_is_not_the_indexed_one(tmp_path):
    archive = Archive(tmp_path / "archive", str(tmp_path / "ledger.db"))
    try:
        kept = [archive.add(to_bytes(make_bundle(credential(MILL, i), POLICY, at=START + timedelta(days=i),
                                                 entry_number=f"316-{i:07d}-0"))) for i in range(3)]
        kept[0].path.write_bytes(kept[1].path.read_bytes())  # both seals hold: only the index tells them apart
        kept[2].path.unlink()
        outcomes = reverify_archived(archive.search(), replay_check(), workers=1)
    finally:
        archive.close()
    assert [o.digest for o in outcomes] == [b.digest for b in kept]
    assert outcomes[0].now == "not-verified" and outcomes[0].changed
    assert f"altered (it no longer hashes to its name: it holds {kept[1].digest[:16]})" in (outcomes[0].reason or "")
    assert outcomes[1].now == "verified" and not outcomes[1].changed
    assert outcomes[2].now == "could-not-verify" and "cannot read" in (outcomes[2].reason or "")


def test_a_policys_relative_trust_store_is_read_where_the_policy_is(world, tmp_path, monkeypatch):
    """The trust store a revised policy names relative to its file is read once, in this
    process: workers in another folder use it as read."""
    _, made = world
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "vouch.json").write_text(json.dumps(credential(MILL, 99)))
    document = {**POLICY, "anchors": ["store/vouch.json"]}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(ValueError, match="relative"):
        replay_check(policy=document)
    check = replay_check(policy=document, base=tmp_path)
    assert [origin for origin, _ in check.keywords["anchors"]] == ["store/vouch.json"]  # type: ignore[attr-defined]
    paths = [b.path for _, b in made[:4]]
    outcomes = reverify(paths, check, workers=2, chunk_size=2)
    assert [o.now for o in outcomes] == [b.outcome for _, b in made[:4]] == ["verified"] * 4
    assert reverify(paths, check, workers=1) == outcomes


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="engine"):
        reverify([], replay_check(), engine="ray")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="workers"):
        reverify([], replay_check(), workers=0)
    with pytest.raises(ValueError, match="Dask scheduler"):
        reverify([b"{}"], replay_check(), address="tcp://127.0.0.1:8786")


def test_an_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ReverifyError, match="cannot reach the Dask scheduler tcp://127.0.0.1:9"):
        reverify([b"{}"], replay_check(), engine="dask", address="tcp://127.0.0.1:9", connect_timeout=1,
                 insecure=True)


@pytest.mark.parametrize(("address", "options", "message"), [
    ("tcp://127.0.0.1:9", {}, "refusing the scheduler tcp://127.0.0.1:9: tcp:// is neither encrypted nor "
                              "authenticated"),
    ("127.0.0.1:9", {}, "a Dask scheduler address is tls://HOST:PORT"),
    ("ws://127.0.0.1:9", {"insecure": True}, "a Dask scheduler address is tls://HOST:PORT"),
    ("tls://127.0.0.1:9", {}, "needs the cluster's CA and a client certificate"),
])
def test_a_scheduler_without_tls_and_certificates_is_refused(address, options, message):
    """Refused before any connection is tried (port 9 would not answer anyway)."""
    with pytest.raises(ValueError, match=re.escape(message)):
        reverify([b"{}"], replay_check(), engine="dask", address=address, **options)


def test_cluster_security_needs_readable_files(tmp_path):
    with pytest.raises(ValueError, match="distributed.comm.tls.ca-file"):
        cluster_security()
    with pytest.raises(ValueError, match="both the cluster's CA and a client certificate"):
        cluster_security(tmp_path / "ca.pem")
    with pytest.raises(ValueError, match="cannot read .*ca.pem"):
        cluster_security(tmp_path / "ca.pem", tmp_path / "cert.pem")
    for name in ("ca.pem", "cert.pem"):
        (tmp_path / name).write_text("-----BEGIN CERTIFICATE-----\n")
    security = cluster_security(tmp_path / "ca.pem", tmp_path / "cert.pem")
    assert security.require_encryption and security.tls_ca_file == str(tmp_path / "ca.pem")
    assert security.tls_client_cert == str(tmp_path / "cert.pem") and security.tls_client_key is None


def test_cluster_security_from_dasks_configuration(tmp_path):
    import dask

    files = {"distributed.comm.tls.ca-file": str(tmp_path / "ca.pem"),
             "distributed.comm.tls.client.cert": str(tmp_path / "client.pem")}
    with dask.config.set(files):
        security = cluster_security()
    assert security.require_encryption
    assert (security.tls_ca_file, security.tls_client_cert) == tuple(files.values())
    with dask.config.set({"distributed.comm.tls.ca-file": str(tmp_path / "ca.pem")}), \
            pytest.raises(ValueError, match="client certificate"):
        cluster_security()


def _dies_on_the_poisoned_bundle(data: bytes) -> ReverifyOutcome:
    if data == b"poison":
        os.kill(os.getpid(), 9)  # as the OOM killer would
    return ReverifyOutcome(hashlib.sha256(data).hexdigest(), "verified", "verified")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the local engine forks its workers")
def test_a_worker_killed_midway_is_a_clear_error_not_a_hang():
    items = [b"a", b"b", b"poison", b"c", b"d", b"e"]
    with pytest.raises(ReverifyError, match="stopped unexpectedly.*fewer workers"):
        reverify(items, _dies_on_the_poisoned_bundle, workers=2, chunk_size=1)
    clean = [b"a", b"b", b"c"]
    assert [o.digest for o in reverify(clean, _dies_on_the_poisoned_bundle, workers=2, chunk_size=1)] == [
        hashlib.sha256(d).hexdigest() for d in clean]
