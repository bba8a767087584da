"""Evidence records the contexts a user pinned (a file in --contexts, and the pins of inline
contexts), so that a replay, which holds only what the bundle recorded, decides the same; a
context the bundle does not hold is not taken from anywhere else."""

from __future__ import annotations

import base64
import copy
from datetime import datetime, timezone

from conftest import write_context_folder
from tradevc.vc.checks.policy import TrustPolicy
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.data_integrity import sign_credential
from tradevc.verifier import Verifier
from tradevc.verifier.evidence import replay, seal_bundle, with_evidence

V2 = "https://www.w3.org/ns/credentials/v2"
STEEL_URL = "https://contexts.trade.example/steel/v1"
EX = "https://trade.example/vocab#"
STEEL = {"@context": {"@version": 1.1, "@protected": True, "SteelLotCredential": EX + "SteelLotCredential",
                      "SteelLot": EX + "SteelLot", "heatNumber": EX + "heatNumber"}}
INLINE = {"grade": EX + "grade"}
NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
KEY, CUSTOMS = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")


def steel_credential(loader) -> dict:
    return sign_credential({
        "@context": [V2, STEEL_URL, INLINE], "id": "urn:uuid:steel-lot-7",
        "type": ["VerifiableCredential", "SteelLotCredential"], "issuer": KEY.did, "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:lot-7", "type": "SteelLot", "heatNumber": "H-1", "grade": "A36"},
    }, KEY, created="2026-01-02T00:00:00Z", cryptosuite="eddsa-rdfc-2022", loader=loader)


def test_user_contexts_are_recorded_and_replay(tmp_path):
    folder = write_context_folder(tmp_path / "contexts", {STEEL_URL: STEEL}, inline=[INLINE])
    verifier = Verifier.offline(policy=TrustPolicy({KEY.did: ["SteelLotCredential"]}), contexts=folder)
    result, bundle = with_evidence(verifier).verify_credential(steel_credential(verifier.loader), now=NOW)
    assert result.verified, result.summary()
    recorded = {e["url"]: e for e in bundle["retrieved"] if e["kind"] == "context"}
    assert {V2, STEEL_URL} <= set(recorded)
    assert base64.b64decode(recorded[STEEL_URL]["bytes"]) == (folder / "context-1.jsonld").read_bytes()
    assert bundle["input"]["options"]["inlineContexts"]
    assert replay(seal_bundle(bundle, CUSTOMS)).same

    without = copy.deepcopy(bundle)  # a bundle that does not hold the context: not pinned on replay
    without["retrieved"] = [e for e in without["retrieved"] if e["url"] != STEEL_URL]
    again = replay(seal_bundle(without, CUSTOMS))
    assert not again.same_decision and again.report["outcome"] != "verified"
    unpinned = copy.deepcopy(bundle)  # nor an inline context whose pin it does not hold
    unpinned["input"]["options"]["inlineContexts"] = []
    assert not replay(seal_bundle(unpinned, CUSTOMS)).same_decision
