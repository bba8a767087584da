"""Offline trust packs (tradevc.verifier.pack): built against the local HTTPS server (did:web
issuers and their status lists served from 127.0.0.1), then used with no network at all."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import load_example
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.data_integrity import sign_presentation
from tradevc.verifier.pack import (
    PackError, build_pack, diff_packs, inspect_pack, load_pack, read_pack, write_pack,
)
from tradevc.verifier.pack import _serialize  # the canonical layout, to plant changes a signature must catch

PASS = b"issuer passphrase"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
VALID_FROM = NOW - timedelta(days=1)


def certificate(issuer):
    return issuer.issue(
        load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
        valid_from=VALID_FROM.strftime("%Y-%m-%dT%H:%M:%SZ"),
        valid_until=(VALID_FROM + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


class World:
    """Customs' key and policy, a mill (did:web on the local server, under /mill) with two
    certificates of origin, and the files a build reads."""

    def __init__(self, server, tmp_path):
        self.server, self.tmp = server, tmp_path
        self.key = KeyPair.generate("Ed25519")
        self.mill = Issuer.init(tmp_path / "mill", PASS, name="Aceros del Norte", did_web_domain=f"{server.host}/mill",
                                status_base_url=server.url("mill/status/"))
        self.coo = certificate(self.mill)
        self.other = certificate(self.mill)
        self.coo_path = tmp_path / "coo.json"
        self.coo_path.write_text(json.dumps(self.coo))
        self.policy_path = tmp_path / "policy.json"
        self.write_policy([self.mill.did])
        self.publish()

    def write_policy(self, dids, **extra):
        issuers = [{"did": d, "name": d.rsplit(":", 1)[-1], "types": ["USMCACertificationOfOrigin"]} for d in dids]
        self.policy_path.write_text(json.dumps({"trustedIssuers": issuers, **extra}))

    def publish(self):
        self.mill.publish(self.server.root)

    def build(self, **kw):
        options = dict(name="port-of-laredo", credentials=[self.coo_path], session=self.server.session(),
                       allow_hosts=self.server.allow_hosts, now=NOW)
        return build_pack(self.policy_path, kw.pop("key", self.key), **(options | kw))

    def pack_file(self, report, name="laredo.pack"):
        path = self.tmp / name
        write_pack(path, report.data)
        return path

    def status_urls(self):
        entries = self.coo["credentialStatus"]
        return [e["statusListCredential"] for e in (entries if isinstance(entries, list) else [entries])]

    def status_url(self):
        return self.coo["credentialStatus"][0]["statusListCredential"] if isinstance(
            self.coo["credentialStatus"], list) else self.coo["credentialStatus"]["statusListCredential"]


@pytest.fixture
def world(https_server, tmp_path):
    w = World(https_server, tmp_path)
    yield w
    w.mill.close()


def offline(world, report, **kw):
    """Stop serving the issuers' site, then load the pack and give its verifier."""
    path = world.pack_file(report)
    world.server.reset()
    pack = load_pack(path, trusted_signers=[world.key.did], **kw)
    return pack, pack.verifier()


def test_a_pack_verifies_a_credential_and_a_presentation_with_no_network(world):
    report = world.build()
    assert set(report.pack.did_documents) == {world.mill.did}
    assert world.status_url() in report.pack.status_lists
    pack, verifier = offline(world, report)
    result = verifier.verify_credential(world.coo)
    assert result.verified, result.summary()
    first = result.checks[0]
    assert first.name == "trust_pack" and first.outcome.value == "passed"
    assert first.message.startswith(f'pack "port-of-laredo" version 1, built {NOW.isoformat().replace("+00:00", "Z")}')
    assert f"signed by {world.key.did}" in first.message
    assert first.data["name"] == "port-of-laredo" and first.data["version"] == 1
    # built at NOW (when the module was collected): its age is the time since, however long that was
    since = (datetime.now(timezone.utc) - NOW).total_seconds()
    assert first.data["signer"] == world.key.did and 0 <= first.data["age_seconds"] <= since + 1
    assert 'resolved from trust pack "port-of-laredo" version 1' in result.check("proof").message
    assert 'read from trust pack "port-of-laredo" version 1' in result.check("revocation").message
    assert world.server.requested == []  # nothing was fetched: the site is gone anyway

    holder = KeyPair.generate("Ed25519")
    vp = sign_presentation([world.coo], holder, challenge="c-4711", domain="cbp.gov", cryptosuite="eddsa-jcs-2022")
    presented = verifier.verify_presentation(vp, challenge="c-4711", domain="cbp.gov")
    assert presented.verified, presented.summary()
    assert presented.checks[0].name == "trust_pack"
    assert world.server.requested == []


def test_a_revoked_credential_is_revoked_offline_too(world):
    world.mill.revoke(world.coo["id"])
    world.publish()
    _, verifier = offline(world, world.build())
    result = verifier.verify_credential(world.coo)
    assert result.check("revocation").code == "REVOKED" and not result.verified
    assert verifier.verify_credential(world.other).verified  # the same list, another index


def test_a_status_list_missing_from_the_pack_cannot_be_checked(world):
    report = world.build(credentials=[])  # the policy alone names no status list
    assert report.pack.status_lists == {}
    _, verifier = offline(world, report)
    result = verifier.verify_credential(world.coo)
    assert not result.verified and result.could_not_verify
    assert result.check("revocation").code == "STATUS_RETRIEVAL_ERROR"
    assert "trust pack" in result.check("revocation").message and "offline" in result.check("revocation").message
    assert result.check("proof").outcome.value == "passed"  # the DID document is in the pack


def test_a_status_list_past_its_ttl_is_used_with_a_warning(world):
    _, verifier = offline(world, world.build())
    later = NOW + timedelta(hours=25)  # the mill's lists say ttl: one day
    result = verifier.verify_credential(world.coo, now=later)
    assert result.verified, result.summary()
    assert result.checks[0].data["age_seconds"] == 25 * 3600 and "(25 h ago)" in result.checks[0].message
    assert any(world.status_url() in w and "past its freshness" in w and "trust pack" in w for w in result.warnings)
    assert not verifier.verify_credential(world.coo, now=NOW + timedelta(hours=23)).warnings


def test_the_report_says_when_the_pack_expired_while_in_use(world):
    _, verifier = offline(world, world.build(max_staleness=timedelta(days=2)))
    result = verifier.verify_credential(world.coo, now=NOW + timedelta(days=3))
    assert not result.verified and result.could_not_verify
    assert result.checks[0].name == "trust_pack" and result.checks[0].code == "PACK_STALE"


# -- refused packs -----------------------------------------------------------------------------------


def _replace_once(text, old, new):
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def _plant(document, where, world):
    pack = document["pack"]
    if where == "did document":
        entry = pack["didDocuments"][world.mill.did]
        entry["body"] = _replace_once(entry["body"], "assertionMethod", "assertionMethoD")
    elif where == "status list":
        entry = pack["statusLists"][world.status_url()]
        entry["body"] = _replace_once(entry["body"], '"revocation"', '"revocatioN"')
    elif where == "sha256 and body":  # the sha256 follows the change: only the signature can tell
        import hashlib
        entry = pack["didDocuments"][world.mill.did]
        entry["body"] = _replace_once(entry["body"], "assertionMethod", "assertionMethoD")
        entry["sha256"] = hashlib.sha256(entry["body"].encode()).hexdigest()
    elif where == "policy":
        pack["policy"]["trustedIssuers"][0]["types"].append("SIMASteelImportLicenseCredential")
    elif where == "version":
        pack["version"] = 2
    elif where == "signature":
        value = document["signature"]["signature"]
        document["signature"]["signature"] = ("A" if value[0] != "A" else "B") + value[1:]
    return _serialize(document)


@pytest.mark.parametrize("where", ["did document", "status list", "sha256 and body", "policy", "version", "signature"])
def test_a_changed_byte_anywhere_is_refused(world, where):
    data = world.build().data
    tampered = _plant(json.loads(data), where, world)
    assert len(tampered) == len(data) or where == "policy"
    with pytest.raises(PackError) as info:
        read_pack(tampered, trusted_signers={world.key.did}, now=NOW)
    assert info.value.code in ("PACK_SIGNATURE", "PACK_MALFORMED"), info.value.message
    if where != "sha256 and body":
        assert info.value.code == "PACK_SIGNATURE" or "sha256" in info.value.message


def test_white_space_changed_is_refused_too(world):
    data = world.build().data
    for changed in (data.replace(b'\n "signature"', b'\n  "signature"', 1), data.rstrip(b"\n"), data + b"\n"):
        assert changed != data
        with pytest.raises(PackError, match="altered") as info:
            read_pack(changed, trusted_signers={world.key.did}, now=NOW)
        assert info.value.code == "PACK_SIGNATURE"
    assert read_pack(data, trusted_signers={world.key.did}, now=NOW).version == 1


def test_a_pack_signed_by_another_key_is_refused(world):
    stranger = KeyPair.generate("Ed25519")
    path = world.pack_file(world.build(key=stranger))
    with pytest.raises(PackError, match="not a trusted pack signer") as info:
        load_pack(path, trusted_signers=[world.key.did], now=NOW)
    assert info.value.code == "PACK_SIGNATURE" and stranger.did in info.value.message
    # the stranger's signature over the payload, with customs' kid: does not verify
    ours = json.loads(world.build().data)
    theirs = json.loads(world.build(key=stranger).data)
    ours["signature"]["signature"] = theirs["signature"]["signature"]
    with pytest.raises(PackError, match="does not verify"):
        read_pack(_serialize(ours), trusted_signers={world.key.did}, now=NOW)


def test_a_pack_needs_a_trusted_signer_from_outside(world):
    path = world.pack_file(world.build())
    for signers in ([], (), ""):
        with pytest.raises(PackError, match="no trusted pack signer") as info:
            load_pack(path, trusted_signers=signers, now=NOW)
        assert info.value.code == "PACK_NO_SIGNER"
    with pytest.raises(PackError, match="not a pack signer"):
        load_pack(path, trusted_signers=["did:web:customs.example"], now=NOW)
    assert load_pack(path, trusted_signers=[world.key.verification_method], now=NOW).signer == world.key.did


def test_a_stale_pack_and_a_pack_from_the_future_are_refused(world):
    path = world.pack_file(world.build(max_staleness=timedelta(days=7)))
    assert load_pack(path, trusted_signers=[world.key.did], now=NOW + timedelta(days=6, hours=23)).version == 1
    with pytest.raises(PackError, match="expired") as info:
        load_pack(path, trusted_signers=[world.key.did], now=NOW + timedelta(days=7, seconds=1))
    assert info.value.code == "PACK_STALE"
    assert load_pack(path, trusted_signers=[world.key.did], now=NOW - timedelta(minutes=4)).version == 1
    with pytest.raises(PackError, match="in the future") as info:
        load_pack(path, trusted_signers=[world.key.did], now=NOW - timedelta(hours=1))
    assert info.value.code == "PACK_FUTURE"


@pytest.mark.parametrize("content", [b"", b"\x00\xff garbage", b"[]", b'{"pack": {}, "signature": {}}\n',
                                     b'{"pack": 1, "signature": 2}', b"{" * 100_000])
def test_a_malformed_file_is_a_pack_error(world, tmp_path, content):
    path = tmp_path / "bad.pack"
    path.write_bytes(content)
    with pytest.raises(PackError) as info:
        load_pack(path, trusted_signers=[world.key.did], now=NOW)
    assert info.value.code in ("PACK_MALFORMED", "PACK_SIGNATURE")


def test_a_missing_file_or_a_directory_is_a_pack_error(world, tmp_path):
    for path in (tmp_path / "none.pack", tmp_path):
        with pytest.raises(PackError, match="cannot read|directory") as info:
            load_pack(path, trusted_signers=[world.key.did], now=NOW)
        assert info.value.code == "PACK_UNREADABLE"


def test_the_pack_file_is_private(world):
    path = world.pack_file(world.build())
    assert path.stat().st_mode & 0o777 == 0o600


# -- building ----------------------------------------------------------------------------------------


def test_a_document_that_cannot_be_fetched_fails_the_build_naming_it(world):
    world.server.reset()  # the mill's site is gone
    with pytest.raises(PackError) as info:
        world.build()
    assert info.value.code == "PACK_FETCH"
    assert world.mill.did in info.value.message and "not built" in info.value.message


def test_a_rebuild_reuses_fresh_entries_refetches_the_rest_and_bumps_the_version(world):
    first = world.build().pack
    world.server.requested.clear()
    soon = NOW + timedelta(minutes=2)  # the DID document (1 day) and the list (its ttl) are still fresh
    again = world.build(previous=first, now=soon)
    assert again.pack.version == 2 and again.pack.name == "port-of-laredo"
    assert world.server.requested == []
    assert again.pack.did_documents[world.mill.did].fetched == NOW
    assert again.pack.status_lists[world.status_url()].fetched == NOW
    assert len(again.reused) == 3 and again.fetched == []  # the DID document, the revocation and suspension lists

    later = NOW + timedelta(hours=25)  # the list is past its ttl (a day); the DID document is not past 2 days
    third = world.build(previous=again.pack, now=later, refetch_after=timedelta(days=2))
    assert third.pack.version == 3
    assert sorted(world.server.requested) == sorted(
        "/mill/status/" + url.rsplit("/status/", 1)[1] for url in world.status_urls())
    assert third.pack.status_lists[world.status_url()].fetched == later
    assert third.pack.did_documents[world.mill.did].fetched == NOW

    world.server.requested.clear()
    hours = NOW + timedelta(hours=27)  # the list is fresh again; a DID document is refetched after an hour
    fourth = world.build(previous=third.pack, now=hours, refetch_after=timedelta(hours=1))
    assert world.server.requested == ["/mill/did.json"]
    assert fourth.pack.did_documents[world.mill.did].fetched == hours
    assert fourth.pack.status_lists[world.status_url()].fetched == later

    world.server.requested.clear()
    fifth = world.build(previous=fourth.pack, now=NOW + timedelta(days=3))
    assert fifth.pack.version == 5 and len(world.server.requested) == 3
    assert fifth.pack.did_documents[world.mill.did].fetched == NOW + timedelta(days=3)


def test_a_rebuild_keeps_what_cannot_be_fetched_and_says_so(world):
    first = world.build().pack
    world.server.reset()
    later = NOW + timedelta(days=2)
    report = world.build(previous=first, now=later)
    assert report.pack.version == 2
    assert report.pack.did_documents[world.mill.did].fetched == NOW  # its old fetch time
    assert len(report.kept) == 3 and all("kept from version 1" in line for line in report.kept)
    assert any(world.mill.did in line for line in report.kept)


def test_a_rebuild_does_not_reuse_or_keep_entries_fetched_in_its_future(world):
    """A pack built once on a computer whose clock ran a year ahead must not make later
    rebuilds (clock right again) reuse its copies as fresh for a year, nor keep them."""
    ahead = world.build(now=NOW + timedelta(days=365)).pack
    report = world.build(previous=ahead)
    assert report.pack.did_documents[world.mill.did].fetched == NOW
    assert all(entry.fetched == NOW for entry in report.pack.status_lists.values())
    assert report.reused == [] and len(report.fetched) == 1 + len(report.pack.status_lists)
    world.server.reset()
    with pytest.raises(PackError) as info:
        world.build(previous=ahead)
    assert info.value.code == "PACK_FETCH"


def test_a_did_document_is_not_kept_for_longer_than_the_pack_may_be_used(world):
    """A verifier trusts the keys of a DID document in a pack whatever its age; a rebuild that
    cannot fetch it keeps the old copy only while it is within the pack's maxStaleness."""
    first = world.build(max_staleness=timedelta(days=2)).pack
    world.server.reset()
    kept = world.build(previous=first, now=NOW + timedelta(days=2))
    assert kept.pack.did_documents[world.mill.did].fetched == NOW
    with pytest.raises(PackError) as info:
        world.build(previous=kept.pack, now=NOW + timedelta(days=2, seconds=1))
    assert info.value.code == "PACK_FETCH" and world.mill.did in info.value.message
    assert "longer ago than the pack's maxStaleness (P2D)" in info.value.message


def test_a_rebuild_needs_the_same_key(world, tmp_path):
    first = world.pack_file(world.build())
    stranger = KeyPair.generate("Ed25519")
    previous = inspect_pack(first, trusted_signers=[world.key.did])
    with pytest.raises(PackError, match="rebuilt only with the key"):
        world.build(previous=previous, key=stranger)
    unchecked = inspect_pack(first)
    assert not unchecked.signature_checked
    with pytest.raises(PackError, match="rebuilt only with the key"):
        world.build(previous=unchecked)


def test_anchors_and_policy_status_lists_are_carried(world, tmp_path):
    anchors = tmp_path / "anchors"
    anchors.mkdir()
    (anchors / "other.json").write_text(json.dumps(world.other))
    world.write_policy([world.mill.did], anchors=["anchors/other.json", world.coo],
                       statusLists=[world.status_url()],
                       roots=[{"did": "did:key:" + world.key.public_key_multibase, "vouches": ["anchor"],
                               "types": ["USMCACertificationOfOrigin"]}])
    report = world.build(credentials=[])
    assert [a.ref for a in report.pack.anchors] == ["anchors/other.json", "(anchors[1], inline)"]
    assert report.pack.anchors[0].credential == world.other
    assert report.pack.policy["anchors"][0] == "anchors/other.json"  # the policy as given
    assert world.status_url() in report.pack.status_lists
    assert set(report.pack.did_documents) == {world.mill.did}  # did:key roots need no document


# -- diff ------------------------------------------------------------------------------------------


def test_diff_shows_a_revocation_a_key_rotation_and_an_added_issuer(world, tmp_path):
    old = world.build().pack
    world.mill.revoke(world.coo["id"])
    world.mill.home.rotate_key(PASS)
    world.publish()
    inspector = KeyPair.generate("Ed25519")
    world.write_policy([world.mill.did, inspector.did])
    new = world.build(previous=old, now=NOW + timedelta(days=2)).pack
    changes = diff_packs(old, new)
    assert changes["issuers"]["added"] == [inspector.did] and changes["issuers"]["removed"] == []
    [changed] = changes["issuers"]["changed"]
    assert changed["did"] == world.mill.did and len(changed["methodsAdded"]) == 1 and changed["methodsRemoved"] == []
    index = int(world.coo["credentialStatus"][0]["statusListIndex"] if isinstance(world.coo["credentialStatus"], list)
                else world.coo["credentialStatus"]["statusListIndex"])
    revocations = [c for c in changes["statusLists"]["changed"] if c["url"] == world.status_url()]
    assert revocations == [{"url": world.status_url(), "purpose": "revocation", "newlySet": [index], "cleared": []}]
    assert changes["policyChanged"] is True

    back = diff_packs(new, old)
    assert back["statusLists"]["changed"][0]["cleared"] == [index]
    assert back["issuers"]["removed"] == [inspector.did]
    assert back["issuers"]["changed"][0]["methodsRemoved"] == changed["methodsAdded"]


def test_a_pack_with_roots_trusts_an_issuer_through_its_packed_anchor(world, tmp_path):
    """The policy names a registrar as root and the mill's anchor in its trust store: the pack
    carries the anchor and the registrar's status list, and offline the mill's certificate is
    trusted through the anchor, the report showing the path; without the anchor it is not."""
    registrar = Issuer.init(tmp_path / "registrar", PASS, name="Registro", did_web_domain=f"{world.server.host}/registry",
                            status_base_url=world.server.url("registry/status/"))
    anchor = registrar.issue(
        {"type": "RegisteredParty", "id": world.mill.did, "name": "Aceros del Norte",
         "identifier": [{"type": "PropertyValue", "propertyID": "MID", "value": "MXACEDEL1234SAN"}],
         "authorizedCredentialType": ["USMCACertificationOfOrigin"]},
        type_name="IdentityAnchorCredential", valid_from=VALID_FROM.strftime("%Y-%m-%dT%H:%M:%SZ"),
        valid_until=(VALID_FROM + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    registrar.publish(world.server.root)
    (tmp_path / "mill-anchor.json").write_text(json.dumps(anchor))
    root = {"did": registrar.did, "name": "Registro", "vouches": ["anchor"], "schemes": ["MID"],
            "types": ["USMCACertificationOfOrigin"]}
    world.policy_path.write_text(json.dumps({"roots": [root], "anchors": ["mill-anchor.json"]}))
    report = world.build()
    assert registrar.did in report.pack.did_documents and [a.ref for a in report.pack.anchors] == ["mill-anchor.json"]
    pack, verifier = offline(world, report)
    result = verifier.verify_credential(world.coo)
    assert result.verified, result.summary()
    path = result.check("issuer_trust").data["trustPath"]
    assert path["length"] == 2 and path["root"]["did"] == registrar.did
    assert path["steps"][0]["vouch"]["id"] == anchor["id"]
    assert world.server.requested == []

    world.policy_path.write_text(json.dumps({"roots": [root]}))
    world.publish()
    registrar.publish(world.server.root)
    _, bare = offline(world, world.build())
    refused = bare.verify_credential(world.coo)
    assert not refused.verified and refused.check("issuer_trust").code == "UNTRUSTED_ISSUER"
    registrar.close()
