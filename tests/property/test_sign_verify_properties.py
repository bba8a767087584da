"""Hypothesis properties: sign-then-verify holds for any claims; changing any claim value,
the proofValue, the verification method or a context makes verification fail, never raise."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, verify_credential

KEY = KeyPair.generate("Ed25519")
OTHER = KeyPair.generate("Ed25519")
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
POLICY = TrustPolicy({KEY.did: ["AlumniCredential"]})
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Claim names under the examples context's @vocab; the prefix keeps clear of every defined term.
names = st.from_regex(r"claim[A-Za-z0-9]{0,6}", fullmatch=True)
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
scalars = st.one_of(
    text,
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
)
claims = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.dictionaries(names, inner, min_size=1, max_size=3),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"@list": xs}),
    ),
    max_leaves=8,
)
subjects = st.dictionaries(names, claims, min_size=1, max_size=4)


def credential(subject: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": KEY.did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": subject,
    }


def leaves(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaves(v, path + (k,))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaves(v, path + (i,))]
    return [path]


def changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):  # stays an I-JSON integer (within 2**53-1), else refused before the proof
        return value + 1 if value < 2**53 - 1 else value - 1
    if isinstance(value, float):
        return value + 1.5 if abs(value) < 1e15 else -value
    return value + "\u00e9"


def set_leaf(document: Any, path: tuple, new: Any) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = new


def get_leaf(document: Any, path: tuple) -> Any:
    for part in path:
        document = document[part]
    return document


@SETTINGS
@given(subjects)
def test_sign_then_verify_holds_for_any_claims(subject):
    signed = sign_credential(credential(subject), KEY, created="2026-01-01T00:00:00Z")
    result = verify_credential(signed, policy=POLICY, now=NOW)
    assert result.verified, result.summary()


@SETTINGS
@given(subjects, st.data())
def test_changing_any_claim_value_fails(subject, data):
    signed = sign_credential(credential(subject), KEY, created="2026-01-01T00:00:00Z")
    paths = leaves(signed["credentialSubject"], ("credentialSubject",))
    path = data.draw(st.sampled_from(paths))
    tampered = copy.deepcopy(signed)
    set_leaf(tampered, path, changed(get_leaf(signed, path)))
    result = verify_credential(tampered, policy=POLICY, now=NOW)
    assert result.verified is False
    assert result.check("proof").outcome.value == "failed", result.summary()


@SETTINGS
@given(subjects, st.integers(min_value=0, max_value=200), st.sampled_from("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"))
def test_changing_the_proof_value_fails(subject, position, char):
    signed = sign_credential(credential(subject), KEY, created="2026-01-01T00:00:00Z")
    value = signed["proof"]["proofValue"]
    index = 1 + position % (len(value) - 1)
    if value[index] == char:
        char = "2" if char != "2" else "3"
    tampered = copy.deepcopy(signed)
    tampered["proof"]["proofValue"] = value[:index] + char + value[index + 1:]
    result = verify_credential(tampered, policy=POLICY, now=NOW)
    assert result.verified is False
    assert result.check("proof").outcome.value == "failed"


@SETTINGS
@given(subjects, st.sampled_from(["other-key", "garbage", "no-fragment", "other-method"]))
def test_changing_the_verification_method_fails(subject, how):
    signed = sign_credential(credential(subject), KEY, created="2026-01-01T00:00:00Z")
    tampered = copy.deepcopy(signed)
    tampered["proof"]["verificationMethod"] = {
        "other-key": OTHER.verification_method,
        "garbage": "did:key:zNotAKey#zNotAKey",
        "no-fragment": KEY.did,
        "other-method": "did:example:123#key-1",
    }[how]
    result = verify_credential(tampered, policy=POLICY, now=NOW)
    assert result.verified is False


@SETTINGS
@given(
    subjects,
    st.sampled_from(
        [
            ["https://www.w3.org/ns/credentials/v2"],
            ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/traceability/v1"],
            ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2", "https://w3id.org/traceability/v1"],
            ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/undefined-terms/v2"],
            ["https://www.w3.org/ns/credentials/v2", "https://example.com/unknown"],
            ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/examples/v2"],
        ]
    ),
)
def test_changing_a_context_fails(subject, contexts):
    signed = sign_credential(credential(subject), KEY, created="2026-01-01T00:00:00Z")
    tampered = copy.deepcopy(signed)
    tampered["@context"] = contexts
    result = verify_credential(tampered, policy=POLICY, now=NOW)
    assert result.verified is False


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(json_values, st.sampled_from(["credentialSubject", "issuer", "@context", "proof", "type", "validFrom", "id"]))
def test_arbitrary_values_in_any_field_never_raise(value, field):
    signed = sign_credential(credential({"claimA": "x"}), KEY, created="2026-01-01T00:00:00Z")
    tampered = copy.deepcopy(signed)
    tampered[field] = value
    result = verify_credential(tampered, policy=POLICY, now=NOW)
    assert result.verified is False
