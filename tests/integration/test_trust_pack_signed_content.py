"""Trust packs: what the signature covers and what a signed pack may ask of a verifier. Packs
here are signed by hand (the library's own signing input) so that a trusted signer can be made
to sign odd content; no issuer is on the network (did:key only), so nothing is fetched."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_encode
from tradevc.verifier.pack import (
    PACK_TYP, PackError, build_pack, describe_pack, inspect_pack, load_pack, parse_duration, read_pack, write_pack,
)
from tradevc.verifier.pack import _serialize, _signing_input

NOW = datetime.now(timezone.utc).replace(microsecond=0)
KEY = KeyPair.generate("Ed25519")
ISSUER = KeyPair.generate("Ed25519")


@pytest.fixture
def payload(tmp_path) -> dict[str, Any]:
    """The signed part of a small pack (a did:key issuer: nothing to fetch)."""
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"trustedIssuers": [{"did": ISSUER.did, "name": "mill", "types": ["X"]}]}))
    report = build_pack(policy, KEY, name="laredo", now=NOW)
    return copy.deepcopy(json.loads(report.data)["pack"])


def signed(pack: dict[str, Any], key: KeyPair = KEY) -> bytes:
    """``pack`` signed by ``key`` as build_pack signs, in the layout build_pack writes."""
    header = {"alg": "EdDSA", "kid": key.verification_method, "typ": PACK_TYP}
    protected = base64url_encode(json.dumps(header, separators=(",", ":")).encode())
    signature = base64url_encode(key.sign(_signing_input(protected, pack)))
    return _serialize({"pack": pack, "signature": {"protected": protected, "signature": signature}})


def read(data: bytes, **kw: Any):
    return read_pack(data, trusted_signers={KEY.did}, now=NOW, **kw)


@pytest.mark.parametrize("signed_as, altered_to", [("3", "3.0"), ("0", "-0.0"), ("0", "0.0")])
def test_a_number_rewritten_with_the_same_canonical_form_is_refused(payload, signed_as, altered_to):
    """JCS writes 3.0 as 3 (and -0.0 as 0), so the signature alone cannot tell them apart; the
    reader must not take a pack whose parsed content differs from what was signed."""
    payload["policy"]["note"] = int(signed_as)
    data = signed(payload)
    assert read(data).policy["note"] == int(signed_as)
    altered = data.replace(f'"note": {signed_as}'.encode(), f'"note": {altered_to}'.encode())
    assert altered != data
    with pytest.raises(PackError) as info:
        read(altered)
    assert info.value.code == "PACK_SIGNATURE"
    payload["version"] = 1
    version_altered = signed(payload).replace(b'"version": 1\n', b'"version": 1.0\n')
    assert b'"version": 1.0' in version_altered
    with pytest.raises(PackError) as info:
        read(version_altered)
    assert info.value.code == "PACK_SIGNATURE"


def test_a_build_refuses_a_float_its_signature_would_write_as_an_integer(tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text('{"trustedIssuers": [{"did": "%s", "name": "mill", "types": ["X"]}], "note": 3.0}' % ISSUER.did)
    with pytest.raises(PackError) as info:
        build_pack(policy, KEY, name="laredo", now=NOW)
    assert info.value.code == "PACK_INPUT" and "3.0" in info.value.message
    policy.write_text('{"trustedIssuers": [{"did": "%s", "name": "mill", "types": ["X"]}], "note": 3.5}' % ISSUER.did)
    assert build_pack(policy, KEY, name="laredo", now=NOW).pack.policy["note"] == 3.5


def test_a_pack_read_without_its_signature_checked_cannot_verify(payload, tmp_path):
    path = tmp_path / "laredo.pack"
    write_pack(path, signed(payload, KeyPair.generate("Ed25519")))  # anyone's key
    shown = inspect_pack(path)  # for display: fine
    assert not shown.signature_checked
    with pytest.raises(PackError) as info:
        shown.verifier()
    assert info.value.code == "PACK_NO_SIGNER"
    write_pack(path, signed(payload))
    assert load_pack(path, trusted_signers=[KEY.did], now=NOW).verifier() is not None


@pytest.mark.parametrize("staleness", ["P36500D", "P3000000D", "P999999999D"])
def test_a_pack_cannot_choose_an_unbounded_staleness(payload, tmp_path, staleness):
    """maxStaleness is the signer's choice; the verifier caps it (90 days unless told), so a pack
    signed with a century of life (or one past the calendar) is refused with a PackError."""
    payload["maxStaleness"] = staleness
    data = signed(payload)
    with pytest.raises(PackError) as info:
        read(data)
    assert info.value.code == "PACK_MALFORMED" and "P90D" in info.value.message
    shown = read(data, check_freshness=False)  # shown, not used: no traceback either
    assert describe_pack(shown, NOW)["expired"] is False


def test_the_staleness_cap_can_be_raised_and_a_build_respects_it(payload, tmp_path):
    payload["maxStaleness"] = "P120D"
    data = signed(payload)
    assert read(data, max_staleness_limit=timedelta(days=120)).max_staleness == timedelta(days=120)
    path = tmp_path / "laredo.pack"
    write_pack(path, data)
    with pytest.raises(PackError):
        load_pack(path, trusted_signers=[KEY.did], now=NOW)
    assert load_pack(path, trusted_signers=[KEY.did], now=NOW, max_staleness_limit=timedelta(days=120)).version == 1
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"trustedIssuers": [{"did": ISSUER.did, "name": "mill", "types": ["X"]}]}))
    with pytest.raises(PackError) as info:
        build_pack(policy, KEY, name="laredo", now=NOW, max_staleness=timedelta(days=365))
    assert info.value.code == "PACK_INPUT" and "P90D" in info.value.message


@pytest.mark.parametrize("names", [["a", "a/b"], ["a/b", "a"], ["x/y/z", "x/y"], ["n" * 300]])
def test_folder_file_names_that_collide_are_a_pack_error(payload, names):
    """A file cannot also be a folder: such a pack is malformed, not a traceback when used."""
    payload["contexts"] = {"index.json": '{"contexts": []}', **{n: "{}" for n in names}}
    with pytest.raises(PackError) as info:
        read(signed(payload)).verifier()
    assert info.value.code == "PACK_MALFORMED"


@pytest.mark.parametrize("text", ["\u0667d", "\uff17d", "P\u0667D", "1\u0661h"])
def test_durations_are_ascii_and_whole(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_show_and_diff_print_no_terminal_controls_from_a_pack(payload, tmp_path):
    """Anyone can hand over a pack to show (its signature is not checked without --pack-signer):
    what it says is printed with controls and format characters escaped, as vc-wallet does."""
    from click.testing import CliRunner

    from tradevc.verifier.cli import cli

    old, new = tmp_path / "old.pack", tmp_path / "new.pack"
    write_pack(old, signed(payload))
    payload["name"] = "laredo\x1b]0;all verified\x07\u202e"
    payload["anchors"] = [{"ref": "anchors/\x1b[2Jmill.json", "credential": {"id": "urn:uuid:1"}}]
    payload["version"] = 2
    write_pack(new, signed(payload, KeyPair.generate("Ed25519")))
    for args in (["pack", "show", new], ["pack", "diff", old, new]):
        result = CliRunner().invoke(cli, [str(a) for a in args], env={"TRADEVC_PACK_SIGNERS": ""})
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
        assert "\\u001b" in result.output and "\\u202e" in result.output


@pytest.mark.parametrize("url", ["http://mill.example/status/1", "mill.example/status/1", "", "ftp://mill.example/1"])
def test_a_status_list_url_that_is_not_https_is_a_pack_error(payload, url):
    body = '{"credentialSubject": {}}'
    payload["statusLists"] = {url: {"url": url, "body": body, "sha256": hashlib.sha256(body.encode()).hexdigest(),
                                    "fetched": "2026-01-01T00:00:00Z", "mediaType": None}}
    with pytest.raises(PackError) as info:
        read(signed(payload)).verifier()
    assert info.value.code == "PACK_MALFORMED"


@pytest.mark.parametrize("member, listed", [("schemas", "schemas"), ("contexts", "contexts")])
def test_a_folder_index_names_only_files_the_pack_holds(payload, tmp_path, member, listed):
    """The index a pack carries must not send the verifier to a file outside the pack (an
    absolute path, ../): the border post's own files, or /dev/zero, are never read."""
    url = "https://schemas.steel.example/lot.json"
    if member == "schemas":
        outside = json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": url, "type": "object"})
    else:
        outside = json.dumps({"@context": {"heatNumber": "https://contexts.steel.example/lot#heatNumber"}})
    path = tmp_path / "outside.json"
    path.write_text(outside)
    digest = hashlib.sha256(outside.encode()).hexdigest()
    for name in (str(path), "../" * 12 + str(path).lstrip("/")):
        payload[member] = {"index.json": json.dumps({listed: [{"url": url, "file": name, "sha256": digest}]})}
        with pytest.raises(PackError) as info:
            read(signed(payload)).verifier()
        assert info.value.code == "PACK_MALFORMED" and "outside.json" in info.value.message
    payload[member] = {"index.json": json.dumps({listed: [{"url": url, "file": "lot.json", "sha256": digest}]}),
                       "lot.json": outside}
    read(signed(payload)).verifier()  # held in the pack: fine


def test_an_entry_fetched_after_the_pack_was_built_is_refused(payload):
    """A pack's copies were fetched by the time it was built; one dated later would count as
    fresh (a held copy's freshness runs from its fetch time) beyond what the pack allows."""
    url, body = "https://mill.example/status/1", '{"credentialSubject": {}}'
    entry = {"url": url, "body": body, "sha256": hashlib.sha256(body.encode()).hexdigest(), "mediaType": None}
    payload["statusLists"] = {url: {**entry, "fetched": payload["built"]}}
    assert read(signed(payload)).status_lists[url].fetched == NOW
    payload["statusLists"] = {url: {**entry, "fetched": "2099-01-01T00:00:00Z"}}
    with pytest.raises(PackError) as info:
        read(signed(payload))
    assert info.value.code == "PACK_MALFORMED" and "after the pack was built" in info.value.message


def test_diff_of_a_full_list_takes_linear_time():
    """pack diff runs on packs anyone can hand over: a list with every bit set must not take
    time quadratic in its length (about a minute for 2**20 entries, days for the largest)."""
    import time

    from tradevc.vc.status import BitstringStatusList
    from tradevc.verifier.pack import _changed_bits

    bits = 2**20
    empty, full = BitstringStatusList(bits), BitstringStatusList(bits)
    for index in range(bits):
        full.set(index, 1)
    started = time.monotonic()
    newly_set, cleared = _changed_bits(empty, full)
    assert time.monotonic() - started < 10
    assert newly_set == list(range(bits)) and cleared == []
    some = BitstringStatusList(bits)
    for index in (0, 7, 8, 4711, bits - 1):
        some.set(index, 1)
    assert _changed_bits(some, empty) == ([], [0, 7, 8, 4711, bits - 1])
    assert _changed_bits(empty, some) == ([0, 7, 8, 4711, bits - 1], [])


def test_a_key_file_is_never_overwritten_even_if_it_appears_meanwhile(tmp_path, monkeypatch):
    """keygen refuses an existing file; one created between that check and the write (another
    keygen, a restore) must not be replaced either: the key in it may already sign packs."""
    import os

    from tradevc.verifier import pack as pack_module

    path = tmp_path / "customs-key.json"
    pack_module.write_signing_key(path, KEY)
    with pytest.raises(FileExistsError):
        pack_module.write_signing_key(path, KeyPair.generate("Ed25519"))
    monkeypatch.setattr(os.path, "lexists", lambda _: False)  # as if it appeared after the check
    with pytest.raises(FileExistsError):
        pack_module.write_signing_key(path, KeyPair.generate("Ed25519"))
    assert pack_module.load_signing_key(path).did == KEY.did
    assert path.stat().st_mode & 0o777 == 0o600 and [p.name for p in tmp_path.iterdir()] == [path.name]
