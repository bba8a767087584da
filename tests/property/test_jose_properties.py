"""Hypothesis properties of vc+jwt: sign-then-verify holds for any claims and each algorithm;
changing any byte of a token, or any character of any part, makes verification fail, never
raise; arbitrary strings are failed reports, never exceptions."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_decode, base64url_encode
from tradevc.verifier import TrustPolicy, verify_credential

KEYS = [KeyPair.generate(t) for t in ("Ed25519", "P-256", "P-384")]
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
POLICY = TrustPolicy({k.did: ["AlumniCredential"] for k in KEYS})
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.from_regex(r"claim[A-Za-z0-9]{0,6}", fullmatch=True)
scalars = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.booleans(),
)
subjects = st.dictionaries(names, scalars, min_size=1, max_size=4)


def credential(issuer: KeyPair, subject: dict) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": issuer.did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": subject,
    }


@SETTINGS
@given(st.sampled_from(KEYS), subjects)
def test_sign_then_verify_holds_for_any_claims(key, subject):
    result = verify_credential(sign_credential_jwt(credential(key, subject), key), policy=POLICY, now=NOW)
    assert result.verified, result.summary()


@SETTINGS
@given(st.sampled_from(KEYS), subjects, st.data())
def test_changing_any_claim_value_fails(key, subject, data):
    token = sign_credential_jwt(credential(key, subject), key)
    head, payload, signature = token.split(".")
    claims = json.loads(base64url_decode(payload))
    name = data.draw(st.sampled_from(sorted(subject)))
    replacement = data.draw(scalars.filter(lambda v: v != subject[name] or type(v) is not type(subject[name])))
    claims["credentialSubject"][name] = replacement
    forged = f"{head}.{base64url_encode(json.dumps(claims).encode())}.{signature}"
    result = verify_credential(forged, policy=POLICY, now=NOW)
    assert not result.verified


@SETTINGS
@given(st.sampled_from(KEYS), st.data())
def test_flipping_any_signature_byte_fails(key, data):
    token = sign_credential_jwt(credential(key, {"claimA": 1}), key)
    head, payload, signature = token.split(".")
    raw = bytearray(base64url_decode(signature))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    result = verify_credential(f"{head}.{payload}.{base64url_encode(bytes(raw))}", policy=POLICY, now=NOW)
    assert not result.verified and result.check("proof").outcome.value == "failed"


@SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_strings_are_failed_reports(text):
    result = verify_credential(text, policy=POLICY, now=NOW)
    assert not result.verified and result.failures


@SETTINGS
@given(st.sampled_from(KEYS), st.data())
def test_changing_any_character_of_a_token_fails(key, data):
    token = sign_credential_jwt(credential(key, {"claimA": "x"}), key)
    i = data.draw(st.integers(0, len(token) - 1))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    c = data.draw(st.sampled_from(alphabet).filter(lambda ch: ch != token[i]))
    mutated = token[:i] + c + token[i + 1:]
    result = verify_credential(mutated, policy=POLICY, now=NOW)
    assert not result.verified


# -- JSON of a JWS: the orjson shortcut against the standard library's parser --------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
              st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=3), inner, max_size=4)),
    max_leaves=15,
)


def _reference_loads(data: bytes):
    """The straightforward definition of I-JSON: the standard library's parser, refusing
    duplicates and the non-numbers, then every value checked."""
    import math

    def no_duplicates(pairs):
        if len(dict(pairs)) != len(pairs):
            raise ValueError("duplicate")
        return dict(pairs)

    def refuse(name):
        raise ValueError(name)

    def check(value):
        if isinstance(value, dict):
            for key, item in value.items():
                check(key)
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)
        elif isinstance(value, str):
            value.encode("utf-8")  # a lone surrogate raises
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError("not finite")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1:
            raise ValueError("beyond 2**53-1")

    value = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=refuse)
    check(value)
    return value


def _outcome(parse, data: bytes):
    try:
        return "value", json.dumps(parse(data), sort_keys=True)  # tells 1 from 1.0 and True
    except Exception:  # noqa: BLE001 - refused or not, the two must agree
        return "refused", None


def _texts():
    import orjson

    def compact(value) -> str:  # as orjson writes it where it can (the shortcut's case)
        try:
            return orjson.dumps(value).decode()
        except (TypeError, UnicodeDecodeError):  # integers beyond 64 bits, lone surrogates
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def with_duplicate(value) -> str:
        text = compact(value)
        return text.replace("{", '{"k":1,"k":2,', 1) if "{" in text else text

    return st.one_of(
        json_values.map(compact),
        json_values.map(lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)),
        json_values.map(json.dumps),  # spaces, \\u escapes, Infinity
        json_values.map(with_duplicate),
        st.text(max_size=12),
    )


@SETTINGS
@given(_texts())
def test_jws_json_parsing_agrees_with_the_standard_library(text):
    """tradevc.vc.jsontext.loads (the orjson shortcut, the hooks, one walk) against the
    straightforward definition of I-JSON."""
    from tradevc.vc.jsontext import loads

    data = text.encode("utf-8", "surrogatepass")
    assert _outcome(lambda d: loads(d, limits=None), data) == _outcome(_reference_loads, data)
