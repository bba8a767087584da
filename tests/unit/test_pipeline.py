"""The verification pipeline picks each document's securing mechanism once and goes down the
layers: the mechanism opens the document once, verifies it once, and a presentation's
credentials each go through the same pipeline."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

import pytest

from conftest import load_vector
from tradevc import KeyPair, TrustPolicy, sign_credential, sign_credential_jwt, sign_presentation
from tradevc.vc.securing import registry
from tradevc.vc.securing.enveloped import envelope_credential
from tradevc.vc.securing.jose import sign_presentation_jwt
from tradevc.vc.verification import pipeline

# The presentations are signed when each test runs, which on a loaded machine can be minutes after
# this module is imported; verifying an hour ahead keeps their proofs from being "created in the
# future" (beyond the 5-minute skew allowed).
NOW = datetime.now(timezone.utc) + timedelta(hours=1)
MILL = KeyPair.generate("Ed25519")
LICENSING = KeyPair.generate("P-384")
IMPORTER = KeyPair.generate("Ed25519")
POLICY = TrustPolicy({MILL.did: ["AlumniCredential"], LICENSING.did: ["AlumniCredential"]})


def _credential(issuer: KeyPair) -> dict:
    credential = load_vector("di-eddsa/unsigned.json")
    credential["issuer"] = issuer.did
    return credential


@pytest.fixture()
def counted(monkeypatch):
    """Every mechanism's open and verify calls, and every detection, by mechanism name."""
    calls: list[tuple[str, str]] = []
    real_detect = pipeline.detect

    def detect(document, mechanisms=registry.MECHANISMS):
        mechanism = real_detect(document, mechanisms)
        calls.append(("detect", mechanism.name if mechanism else "none"))
        return mechanism

    monkeypatch.setattr(pipeline, "detect", detect)
    for mechanism in registry.MECHANISMS:
        cls = type(mechanism)
        for method in ("open", "verify"):
            real = getattr(cls, method)

            def wrapper(self, *args, _real=real, _method=method, **kw):
                calls.append((_method, self.name))
                return _real(self, *args, **kw)

            monkeypatch.setattr(cls, method, wrapper)
    return calls


def test_each_document_of_a_data_integrity_presentation_is_detected_opened_and_verified_once(counted):
    token = sign_credential_jwt(_credential(LICENSING), LICENSING)
    vp = sign_presentation(
        [sign_credential(_credential(MILL), MILL), envelope_credential(token)], IMPORTER,
        challenge="c-1", domain="cbp.gov",
    )
    counted.clear()
    result = pipeline.verify_presentation(vp, challenge="c-1", domain="cbp.gov", policy=POLICY, now=NOW)
    assert result.verified, result.summary()
    assert counted == [
        ("detect", "Data Integrity"), ("open", "Data Integrity"), ("verify", "Data Integrity"),  # the presentation
        ("detect", "Data Integrity"), ("open", "Data Integrity"), ("verify", "Data Integrity"),  # the mill's
        ("detect", "enveloped"), ("open", "enveloped"), ("verify", "JOSE"),  # the licence, opened to its token
    ]


def test_a_jose_presentation_is_detected_once_and_its_credentials_once_each(counted):
    tokens = [sign_credential_jwt(_credential(LICENSING), LICENSING), sign_credential_jwt(_credential(MILL), MILL)]
    vp = sign_presentation_jwt(tokens, IMPORTER, challenge="c-2", domain="cbp.gov")
    counted.clear()
    result = pipeline.verify_presentation(vp, challenge="c-2", domain="cbp.gov", policy=POLICY, now=NOW)
    assert result.verified, result.summary()
    assert [c for c in counted if c[0] == "detect"] == [("detect", "JOSE"), ("detect", "enveloped"), ("detect", "enveloped")]
    assert counted.count(("verify", "JOSE")) == 3


def test_verify_document_tells_a_presentation_from_a_credential_by_opening_it_once(counted):
    vp = sign_presentation_jwt([sign_credential_jwt(_credential(MILL), MILL)], IMPORTER, challenge="c", domain="d")
    counted.clear()
    result = pipeline.verify_document(vp, challenge="c", domain="d", policy=POLICY, now=NOW)
    assert result.verified, result.summary()
    assert counted[:3] == [("detect", "JOSE"), ("open", "JOSE"), ("verify", "JOSE")]
    assert len(result.credentials) == 1

    counted.clear()
    refused = pipeline.verify_document(vp, policy=POLICY, now=NOW)  # no challenge: said, could not verify
    assert not refused.verified and refused.could_not_verify
    assert refused.check("challenge").code == pipeline.CHALLENGE_REQUIRED
    assert ("verify", "JOSE") not in counted


def test_a_jose_only_entry_point_refuses_a_data_integrity_credential():
    signed = sign_credential(_credential(MILL), MILL)
    result = pipeline.verify_credential_jwt(signed, policy=POLICY, now=NOW)
    assert not result.verified
    assert result.check("structure").code == "MALFORMED_VALUE_ERROR"
    assert "JOSE" in result.check("structure").message


def _layer(module: str) -> int:
    """The layer of a tradevc module, from the top (the desks) down to the primitives."""
    parts = module.split(".")
    if parts[1] != "vc":
        return 5
    return {"verification": 4, "securing": 3, "checks": 2, "retrieval": 1}.get(parts[2] if len(parts) > 2 else "", 0)


def test_following_a_presentation_goes_down_the_layers_without_coming_back_up():
    """Issue 14's measure: from Verifier.verify_presentation, every call from one tradevc
    module into another goes to the same layer or a lower one, and no call comes back into a
    module that is still waiting on the stack (a Data Integrity presentation holding a Data
    Integrity credential and an enveloped vc+jwt; offline, so no status callback)."""
    from tradevc import Verifier

    token = sign_credential_jwt(_credential(LICENSING), LICENSING)
    vp = sign_presentation(
        [sign_credential(_credential(MILL), MILL), envelope_credential(token)], IMPORTER,
        challenge="c-3", domain="cbp.gov",
    )
    verifier = Verifier.offline(policy=POLICY)
    assert verifier.verify_presentation(vp, challenge="c-3", domain="cbp.gov").verified  # warm the caches

    stack: list[str | None] = []
    upward: list[tuple[str, str]] = []
    back_in: list[tuple[str, str]] = []
    entered: set[str] = set()

    def profile(frame, event, arg):
        if event == "call":
            module = frame.f_globals.get("__name__", "")
            module = module if module.startswith("tradevc.") else None
            caller = next((m for m in reversed(stack) if m is not None), None)
            stack.append(module)
            if module is None or caller is None or caller == module:
                return
            entered.add(module)
            if _layer(module) > _layer(caller):
                upward.append((caller, module))
            if module in stack[:-1]:
                back_in.append((caller, module))
        elif event == "return" and stack:
            stack.pop()

    sys.setprofile(profile)
    try:
        result = verifier.verify_presentation(vp, challenge="c-3", domain="cbp.gov")
    finally:
        sys.setprofile(None)
    assert result.verified, result.summary()
    assert {"tradevc.vc.verification.pipeline", "tradevc.vc.securing.data_integrity", "tradevc.vc.securing.jose",
            "tradevc.vc.checks.common"} <= entered
    assert upward == []
    assert back_in == []


def test_a_data_integrity_presentation_takes_a_vc_jwt_token_as_an_enveloped_credential():
    """sign_presentation used to fail with a ValueError traceback (dict() of a string)."""
    token = sign_credential_jwt(_credential(LICENSING), LICENSING)
    vp = sign_presentation([token], IMPORTER, challenge="c-4", domain="cbp.gov")
    assert vp["verifiableCredential"] == [envelope_credential(token)]
    result = pipeline.verify_presentation(vp, challenge="c-4", domain="cbp.gov", policy=POLICY, now=NOW)
    assert result.verified, result.summary()
    with pytest.raises(TypeError):
        sign_presentation([7], IMPORTER, challenge="c-4", domain="cbp.gov")
