"""Trust packs: what the signature covers and what a signed pack may ask of a verifier. Packs
here are signed by hand (the library's own signing input) so that a trusted signer can be made
to sign odd content; no issuer is on the network (did:key only), so nothing is fetched."""

from __future__ import annotations

import copy
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


@pytest.mark.parametrize("text", ["\u0667d", "\uff17d", "P\u0667D", "1\u0661h"])
def test_durations_are_ascii_and_whole(text):
    with pytest.raises(ValueError):
        parse_duration(text)
