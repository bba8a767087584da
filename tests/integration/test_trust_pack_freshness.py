"""Trust packs: what a pack carries besides DID documents and lists (contexts, schemas), how old
a status list copy may be, and the held copies of a Mirror that the pack verifier reads."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests

from test_trust_pack import NOW, PASS, World, offline  # noqa: F401  (the world fixture's class)
from tradevc.vc.retrieval.http import HttpsFetcher, RetrievalError
from tradevc.vc.retrieval.mirror import Held, Mirror
from tradevc.verifier.pack import PackError, build_pack


@pytest.fixture
def world(https_server, tmp_path):
    w = World(https_server, tmp_path)
    yield w
    w.mill.close()


def test_a_list_copy_older_than_the_pack_allows_cannot_be_checked(world):
    """A rebuild keeps a list it cannot fetch; once that copy is further past its freshness
    than the pack's maxStaleness, the status is could-not-verify (not silently old)."""
    first = world.build(max_staleness=timedelta(days=2)).pack
    world.server.reset()
    world.publish()  # the DID document is online again (a copy is kept only within maxStaleness); the lists not
    for url in first.status_lists:
        (world.server.root / urlsplit(url).path.lstrip("/")).unlink()
    rebuilt = world.build(previous=first, now=NOW + timedelta(days=5))
    assert rebuilt.pack.did_documents[world.mill.did].fetched == NOW + timedelta(days=5)
    assert rebuilt.pack.status_lists[world.status_url()].fetched == NOW
    world.server.reset()
    path = world.pack_file(rebuilt)
    from tradevc.verifier.pack import load_pack

    verifier = load_pack(path, trusted_signers=[world.key.did], now=NOW + timedelta(days=5, hours=1)).verifier()
    result = verifier.verify_credential(world.coo, now=NOW + timedelta(days=5, hours=1))
    assert result.checks[0].outcome.value == "passed"  # the pack itself is one hour old
    check = result.check("revocation")
    assert check.code == "STATUS_RETRIEVAL_ERROR" and "a fresher copy is needed" in check.message
    assert result.could_not_verify
    # and again (a cached copy is judged each time)
    assert verifier.verify_credential(world.coo, now=NOW + timedelta(days=5, hours=2)).could_not_verify


def test_a_list_past_its_valid_until_does_not_verify(world):
    _, verifier = offline(world, world.build(max_staleness=timedelta(days=60)))
    result = verifier.verify_credential(world.coo, now=NOW + timedelta(days=31))  # the mill's lists: 30 days
    check = result.check("revocation")
    assert check.outcome.value == "error" and check.code == "STATUS_VERIFICATION_ERROR"


def test_the_warning_is_in_every_report_that_uses_a_stale_copy(world):
    _, verifier = offline(world, world.build())
    for hours in (25, 26, 30):
        result = verifier.verify_credential(world.coo, now=NOW + timedelta(hours=hours))
        assert result.verified
        assert sum("past its freshness" in w for w in result.warnings) == 2  # revocation and suspension lists


def test_contexts_and_schemas_travel_in_the_pack(world, tmp_path):
    from conftest import write_context_folder

    contexts = write_context_folder(tmp_path / "contexts", {"https://contexts.steel.example/lot/v1": {
        "@context": {"heatNumber": "https://contexts.steel.example/lot#heatNumber"}}})
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://schemas.example/lot.json",
              "type": "object"}
    data = json.dumps(schema).encode()
    (schemas / "lot.json").write_bytes(data)
    (schemas / "index.json").write_text(json.dumps({"schemas": [
        {"url": schema["$id"], "file": "lot.json", "sha256": hashlib.sha256(data).hexdigest()}]}))
    pack, verifier = offline(world, world.build(contexts=contexts, schemas=schemas))
    assert pack.schemas is not None and pack.schemas["lot.json"] == data
    assert verifier.schemas.resource_bytes(schema["$id"]) == data
    assert "https://contexts.steel.example/lot/v1" in verifier.loader.urls  # type: ignore[attr-defined]

    (schemas / "lot.json").write_bytes(data + b" ")  # no longer its pinned SHA-256
    with pytest.raises(PackError, match="schemas cannot be used"):
        world.build(schemas=schemas)
    (tmp_path / "escape").mkdir()
    (tmp_path / "escape" / "index.json").write_text(json.dumps({"schemas": [
        {"url": schema["$id"], "file": "../schemas/lot.json", "sha256": "00" * 32}]}))
    with pytest.raises(PackError, match="plain relative file name"):
        world.build(schemas=tmp_path / "escape")


def test_a_policy_naming_an_unsupported_did_method_is_refused(world):
    world.write_policy([world.mill.did, "did:ion:EiAnKD8"])
    with pytest.raises(PackError, match="did:ion cannot be packed"):
        world.build()


# -- the Mirror's held copies ---------------------------------------------------------------------


def test_held_copies_are_read_by_exact_url_with_their_fetch_time_and_limits():
    fetched = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)
    mirror = Mirror(held={"https://mill.example/status/1": Held(b'{"a": 1}', fetched)}, held_in='trust pack "x"')
    fetcher = HttpsFetcher(requests.Session(), mirror=mirror, network=False, max_bytes=100)
    got = fetcher.fetch("https://mill.example/status/1", what="status list", accept="application/json")
    assert got.body == b'{"a": 1}' and got.fetched_at == fetched and got.media_type is None
    assert str(fetcher.origin("https://mill.example/status/1")) == 'trust pack "x"'
    with pytest.raises(RetrievalError, match='not in a snapshot or trust pack "x", and this verifier is offline'):
        fetcher.fetch("https://mill.example/status/2", what="status list", accept="application/json")
    small = HttpsFetcher(requests.Session(), mirror=mirror, network=False, max_bytes=4)
    with pytest.raises(RetrievalError, match="over the 4-byte limit"):
        small.fetch("https://mill.example/status/1", what="status list", accept="application/json")
    merged = Mirror(snapshots=[]).merged(mirror)
    assert merged.held("https://mill.example/status/1") is not None and not merged.uses_network
    with pytest.raises(ValueError):
        Mirror(held={"http://mill.example/status/1": Held(b"{}")})


# -- malformed packs shown without a signer: a PackError, never a traceback ----------------------


def test_any_malformed_member_is_a_pack_error_when_shown(world):
    from tradevc.verifier.pack import _serialize, describe_pack, diff_packs, read_pack

    good = world.build().data
    base = read_pack(good, trusted_signers=None, check_freshness=False)
    members = ["type", "formatVersion", "name", "version", "built", "maxStaleness", "policy", "anchors",
               "didDocuments", "statusLists", "contexts", "schemas"]
    for member in members:
        for value in (1, "x", [], {}, None, True, [1], {"k": 1}, {"k": {"url": 1}}):
            document = json.loads(good)
            document["pack"][member] = value
            try:
                pack = read_pack(_serialize(document), trusted_signers=None, check_freshness=False)
            except PackError:
                continue
            describe_pack(pack)
            diff_packs(base, pack)
            diff_packs(pack, base)
    entry = json.loads(good)
    body = entry["pack"]["statusLists"][world.status_url()]
    body["body"] = '{"credentialSubject": {"encodedList": "uH4sInotgzip", "statusPurpose": "revocation"}}'
    body["sha256"] = hashlib.sha256(body["body"].encode()).hexdigest()
    odd = read_pack(_serialize(entry), trusted_signers=None, check_freshness=False)
    assert describe_pack(odd)["statusLists"]
    assert diff_packs(base, odd)["statusLists"]["changed"][0]["error"] == "a copy cannot be decoded"


def test_durations_read_and_written():
    from tradevc.verifier.pack import format_duration, parse_duration

    cases = {"7d": timedelta(days=7), "36h": timedelta(hours=36), "1d12h": timedelta(days=1, hours=12),
             "90m": timedelta(minutes=90), "1s": timedelta(seconds=1), "P7D": timedelta(days=7),
             "PT12H": timedelta(hours=12), "P1DT2H3M4S": timedelta(days=1, hours=2, minutes=3, seconds=4)}
    for text, value in cases.items():
        assert parse_duration(text) == value
        assert parse_duration(format_duration(value)) == value
    assert format_duration(timedelta(days=7)) == "P7D" and format_duration(timedelta(minutes=30)) == "PT30M"
    for bad in ("", "P", "PT", "0d", "7", "seven days", "-1d", "1w", "P1W", "d7"):
        with pytest.raises(ValueError):
            parse_duration(bad)
