"""Re-verifying archived bundles of a did:web mill with status lists, by replay: the bundles hold
the DID document and status lists the decisions used, so after the mill's site is gone (the
HTTPS server stopped), its keys rotated and the first removed, and a certificate revoked after
entry, the decisions replay as recorded, in one process and on a 2-worker local Dask cluster
alike; a key found compromised (the one that signed the certificates, or the one that signed
the status lists) turns exactly the decisions that relied on it into not verified."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from support.https_server import start
from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import load_example
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.verifier.archive import Archive
from tradevc.verifier.evidence import seal_bundle, with_evidence
from tradevc.verifier.reverify import replay_check, reverify

PASS = b"issuer passphrase"
MILL = "mill.example"
CUSTOMS = KeyPair.generate("Ed25519")
COUNT = 6


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Six certificates of a did:web mill with status entries, verified over HTTPS with evidence
    and archived; the 3rd was revoked before it was verified. Then the 4th is revoked, the key
    rotated and the old one removed, and the server stopped: nothing is left online."""
    root = tmp_path_factory.mktemp("reverify-replay")
    (root / "https").mkdir()
    server, stop = start(root / "https")
    stopped = False
    mill = Issuer.init(root / "mill", PASS, name="Aceros del Norte", did_web_domain=MILL,
                       status_base_url=f"https://{MILL}/status/")
    try:
        method = mill.home.signing_key(PASS)[1]
        now = datetime.now(timezone.utc)
        certificates = [mill.issue(load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
                                   valid_from=stamp(now - timedelta(days=90)), valid_until=stamp(now + timedelta(days=200)))
                        for _ in range(COUNT)]
        mill.revoke(certificates[2]["id"])
        mill.home.rotate_key(PASS)  # the status lists are signed with the new key, the certificates with the old
        list_method = mill.home.signing_key(PASS)[1]
        assert list_method != method
        mill.publish(server.site(MILL))
        verifier = Verifier(policy=TrustPolicy({mill.did: ["USMCACertificationOfOrigin"]}), session=server.session(),
                            mirror=server.mirror(MILL))
        archive = Archive(root / "archive", str(root / "ledger.db"), sealers=[CUSTOMS.did])
        archived = []
        for i, certificate in enumerate(certificates):
            _, bundle = with_evidence(verifier).verify_credential(certificate)
            bundle["index"]["entryNumber"] = f"316-{i:07d}-0"
            kinds = {e["kind"] for e in bundle["retrieved"]}
            assert {"did", "status-list"} <= kinds, kinds
            archived.append(archive.add(_bytes(seal_bundle(bundle, CUSTOMS))))
        mill.revoke(certificates[3]["id"])  # revoked after the entry
        first = mill.home.profile.keys[0].id  # the key that signed the certificates
        mill.home.rotate_key(PASS)
        mill.home.remove_key(first)
        mill.publish(server.site(MILL))
        fresh = Verifier(policy=TrustPolicy({mill.did: ["USMCACertificationOfOrigin"]}), session=server.session(),
                         mirror=server.mirror(MILL))
        live = fresh.verify_credential(certificates[0])
        assert not live.verified  # a fresh verification now differs: the key is gone
        stop()
        stopped = True
        yield archive, archived, method, server, list_method
    finally:
        if not stopped:
            stop()
        mill.close()


def _bytes(bundle) -> bytes:
    import json

    return json.dumps(bundle, indent=1).encode()


def test_the_decisions_replay_as_recorded_with_the_site_gone(world):
    archive, archived, _, server, _ = world
    assert [b.outcome for b in archived] == ["verified", "verified", "not-verified", "verified", "verified",
                                             "verified"]
    assert all(b.issuers and b.issuers[0].startswith("did:web:") for b in archived)
    server.requested.clear()
    outcomes = reverify([b.path for b in archived], replay_check(sealers=[CUSTOMS.did]), workers=1)
    assert [o.now for o in outcomes] == [b.outcome for b in archived], [o.reason for o in outcomes]
    assert not any(o.changed for o in outcomes)
    assert "revocation: REVOKED" in (outcomes[2].reason or "")
    assert server.requested == []


def test_a_compromised_key_on_one_process_and_on_a_local_dask_cluster(world):
    from distributed import LocalCluster
    from distributed.security import Security

    archive, archived, method, _, _ = world
    relied = archive.search(verification_method=method)
    assert [b.digest for b in relied] == [b.digest for b in archived]
    check = replay_check([method], sealers=[CUSTOMS.did])
    paths = [b.path for b in relied]
    single = reverify(paths, check, workers=1)
    assert [o.changed for o in single] == [True, True, False, True, True, True]
    assert all(o.now == "not-verified" and f"relied on the compromised key {method}" == o.reason
               for o in single if o.changed)
    security = Security.temporary()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      protocol="tls", security=security) as cluster:
        from distributed import Client

        with Client(cluster, security=security) as client:
            pids = set(client.run(os.getpid).values())
            assert len(pids) == 2 and os.getpid() not in pids
        on_dask = reverify([p.read_bytes() for p in paths], check, engine="dask", address=cluster.scheduler_address,
                           chunk_size=2, security=security)
    assert on_dask == single


def test_bundles_sealed_by_another_verifier_are_not_believed(world):
    archive, archived, _, _, _ = world
    other = KeyPair.generate("Ed25519")
    outcomes = reverify([archived[0].path], replay_check(sealers=[other.did]), workers=1)
    assert outcomes[0].now == "could-not-verify" and "not one of the trusted sealing keys" in (outcomes[0].reason or "")


def test_a_compromised_key_that_signed_the_status_lists(world):
    """The certificates are signed with the mill's first key, its status lists with the second:
    with the second compromised, the status the decisions read no longer counts."""
    _, archived, method, _, list_method = world
    outcomes = reverify([b.path for b in archived], replay_check([list_method]), workers=1)
    assert [o.changed for o in outcomes] == [True, True, False, True, True, True]
    assert all(o.reason == f"relied on the compromised key {list_method}, which signed a status list it read"
               for o in outcomes if o.changed)
    untouched = reverify([b.path for b in archived], replay_check(["did:web:elsewhere.example"]), workers=1)
    assert not any(o.changed for o in untouched)


def test_the_status_list_key_is_indexed_and_found(world):
    """The key that signed the status lists is indexed beside the certificates' key, apart from
    it, and a search on it finds the decisions that read those lists."""
    archive, archived, method, _, list_method = world
    assert all(b.status_list_methods == (list_method,) and b.verification_methods == (method,) for b in archived)
    assert [b.digest for b in archive.search(verification_method=list_method)] == [b.digest for b in archived]
    assert archive.search(verification_method="did:web:elsewhere.example") == []
