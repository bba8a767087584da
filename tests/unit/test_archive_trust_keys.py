"""The keys that signed the vouches of a decision's trust paths (review of issue 20, MEDIUM 2):
an entry decided under a path-aware policy whose store holds the register's anchor of the mill
is indexed under the register's key too, found by a search on that key, and a re-verification
that names the register's key compromised turns the decision to not verified, naming the key."""

from __future__ import annotations

import json

import pytest

from support.bundles import SEALER
from support.entries import CHALLENGE, DOMAIN, IMPORT_RECORDS, OTHER, REGISTRY, World
from tradevc.verifier.archive import Archive
from tradevc.verifier.evidence import read_bundle, seal_bundle, with_evidence
from tradevc.verifier.reverify import check_replay


def method(key) -> str:
    return f"{key.did}#{key.did.removeprefix('did:key:')}"


@pytest.fixture(scope="module")
def entry_bundle() -> bytes:
    world = World.steel()
    report, bundle = with_evidence(world.verifier()).verify_entry(
        world.declaration(), world.presentation(), challenge=CHALLENGE, domain=DOMAIN,
        entry_rules=world.policy.get("entryRules"))
    assert report.decision.value == "ACCEPT", report.summary()
    return json.dumps(seal_bundle(bundle, SEALER), indent=1).encode()


def test_the_bundle_names_the_keys_of_its_stored_vouches(entry_bundle):
    bundle = read_bundle(entry_bundle)
    vouches = bundle.vouch_methods()
    assert set(vouches) == {method(REGISTRY), method(IMPORT_RECORDS)}
    assert not set(vouches) & set(bundle.index["verificationMethods"])  # not the documents' keys


def test_vouch_keys_are_indexed_and_found_by_a_search_on_the_key(tmp_path, entry_bundle):
    with Archive(tmp_path / "archive", str(tmp_path / "ledger.db"), sealers=[SEALER.did]) as archive:
        added = archive.add(entry_bundle)
        assert set(added.vouch_methods) == {method(REGISTRY), method(IMPORT_RECORDS)}
        assert method(REGISTRY) not in added.verification_methods
        assert added.to_dict()["vouchMethods"] == sorted(added.vouch_methods)
        for key in (method(REGISTRY), REGISTRY.did, IMPORT_RECORDS.did):
            assert [b.digest for b in archive.search(verification_method=key)] == [added.digest], key
        assert archive.search(verification_method=OTHER.did) == []  # a key it did not rely on


def test_a_compromised_vouch_key_turns_the_decision_naming_the_key(entry_bundle):
    now = check_replay(entry_bundle, sealers=[SEALER.did], compromised=[REGISTRY.did])
    assert (now.recorded, now.now) == ("verified", "not-verified")
    assert now.reason == f"relied on the compromised key {method(REGISTRY)}, which signed a vouch on its trust path"
    unrelated = check_replay(entry_bundle, sealers=[SEALER.did], compromised=[OTHER.did])
    assert unrelated.now == "verified" and not unrelated.changed
