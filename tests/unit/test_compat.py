"""The compatibility profile (vc.compat): each pre-Recommendation form is refused by default,
tolerated only when its deviation is allowed, and then named in a warning; the signature and
the issuer binding stay strict under the profile."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from conftest import load_vector
from tradevc.vc.compat import DEVIATIONS, PROFILES, STRICT, Compatibility
from tradevc.vc.verification import verify_credential
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_encode
from tradevc.vc.checks.policy import TrustPolicy

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
ISSUER = KeyPair.generate("P-256")
OTHER = KeyPair.generate("P-256")
POLICY = TrustPolicy({ISSUER.did: ["AlumniCredential"], OTHER.did: ["AlumniCredential"]})
PILOTS = Compatibility.profile("pilots-2023")
V2 = "https://www.w3.org/ns/credentials/v2"


def unsigned(issuer: KeyPair = ISSUER) -> dict:
    return load_vector("di-eddsa/unsigned.json") | {"issuer": issuer.did}


def forge(header: dict, payload: dict, key: KeyPair = ISSUER) -> str:
    """A compact JWS with exactly ``header``, correctly signed by ``key``."""
    encode = lambda value: base64url_encode(json.dumps(value, separators=(",", ":")).encode())  # noqa: E731
    signing_input = f"{encode(header)}.{encode(payload)}"
    return f"{signing_input}.{base64url_encode(key.sign(signing_input.encode()))}"


def draft_token(typ: str = "vc+ld+json+jwt", cty: str | None = "vc+ld+json", key: KeyPair = ISSUER,
                issuer: KeyPair = ISSUER) -> str:
    header = {"alg": "ES256", "kid": key.verification_method, "typ": typ}
    if cty is not None:
        header["cty"] = cty
    return forge(header, unsigned(issuer), key)


def envelope(id_: str) -> dict:
    return {"@context": V2, "id": id_, "type": "EnvelopedVerifiableCredential"}


def verify(document, compatibility=None):
    return verify_credential(document, policy=POLICY, now=NOW, compatibility=compatibility)


def compat_warnings(result) -> list[str]:
    return [w for w in result.warnings if w.startswith("compat:")]


# -- the object ----------------------------------------------------------------------------------


def test_the_default_is_strict_and_the_pilots_profile_allows_every_listed_deviation():
    assert Compatibility() == STRICT and STRICT.strict and STRICT.allowed == ()
    assert PILOTS.allowed == tuple(DEVIATIONS) and set(PROFILES) == {"pilots-2023"}
    assert all(PILOTS.allows(d) for d in DEVIATIONS)


def test_single_deviations_by_name():
    one = Compatibility.of("encoded-list-prefix")
    assert one.allowed == ("encoded-list-prefix",) and not one.allows("envelope-media-type")
    assert Compatibility.of("pilots-2023", "jose-typ") == PILOTS
    assert Compatibility.of() == STRICT


@pytest.mark.parametrize("bad", ["pilots-2024", "envelope", "", "ENVELOPE-MEDIA-TYPE"])
def test_unknown_names_are_refused(bad):
    with pytest.raises(ValueError, match="unknown compatibility"):
        Compatibility.of(bad)
    with pytest.raises(ValueError, match="unknown compatibility"):
        Compatibility.profile(bad)


def test_misuse_is_a_type_error():
    with pytest.raises(TypeError):
        Compatibility(jose_typ="yes")  # type: ignore[arg-type]
    for bad in ({"pilots-2023": True}, True, ["pilots-2023", 1]):
        with pytest.raises(TypeError):
            verify(sign_credential_jwt(unsigned(), ISSUER), compatibility=bad)
    with pytest.raises(ValueError, match="unknown compatibility"):
        verify(sign_credential_jwt(unsigned(), ISSUER), compatibility={"pilots-2024"})
    with pytest.raises(ValueError):
        PILOTS.allows("no-such-deviation")


@pytest.mark.parametrize("names", ["pilots-2023", {"pilots-2023"}, ["encoded-list-prefix", "pilots-2023"]])
def test_names_stand_for_the_profile(names):
    from tradevc.vc.compat import require_compatibility

    assert require_compatibility(names) == PILOTS
    pilot = envelope_of(sign_credential_jwt(unsigned(), ISSUER))
    pilot["id"] = pilot["id"].replace("data:application/vc+jwt,", "data:application/vc-ld+jwt,")
    assert not verify(pilot).verified
    assert verify(pilot, compatibility=names).verified


def test_a_standard_credential_gets_no_warning_under_the_profile():
    result = verify(envelope_of(sign_credential_jwt(unsigned(), ISSUER)), PILOTS)
    assert result.verified and result.warnings == []


def envelope_of(token: str, media_type: str = "application/vc+jwt", separator: str = ",") -> dict:
    return envelope(f"data:{media_type}{separator}{token}")


# -- envelope media types and the separator ------------------------------------------------------


@pytest.mark.parametrize("media_type", ["application/vc-ld+jwt", "application/vc+ld+json+jwt"])
def test_draft_envelope_media_types(media_type):
    document = envelope_of(sign_credential_jwt(unsigned(), ISSUER), media_type)
    strict = verify(document)
    assert not strict.verified and strict.check("structure").code == "MALFORMED_VALUE_ERROR"
    assert not verify(document, Compatibility.of("envelope-separator", "jose-typ")).verified
    tolerated = verify(document, Compatibility.of("envelope-media-type"))
    assert tolerated.verified, tolerated.summary()
    assert compat_warnings(tolerated) == [
        f"compat:envelope-media-type: the envelope's data: URL says {media_type}, "
        "a draft's name for application/vc+jwt"
    ]


def test_a_semicolon_for_the_comma():
    document = envelope_of(sign_credential_jwt(unsigned(), ISSUER), separator=";")
    assert verify(document).check("structure").code == "MALFORMED_VALUE_ERROR"
    assert not verify(document, Compatibility.of("envelope-media-type")).verified
    tolerated = verify(document, Compatibility.of("envelope-separator"))
    assert tolerated.verified and [w.split(":")[1] for w in compat_warnings(tolerated)] == ["envelope-separator"]


@pytest.mark.parametrize("url", [
    "data:application/vc+jwt;base64,{t}",  # a real parameter, not a misplaced separator
    "data:application/vc+jwt;",
    "data:application/vp+jwt,{t}",
    "data:application/vc+ld+jwt,{t}",  # not one of the listed media types
    "data:application/vc-ld+jwt",
    "data:,{t}",
    "data:;{t}",
])
def test_other_envelope_forms_stay_refused_under_the_profile(url):
    result = verify(envelope(url.format(t=sign_credential_jwt(unsigned(), ISSUER))), PILOTS)
    assert not result.verified and result.check("structure").code == "MALFORMED_VALUE_ERROR", result.summary()


def test_a_presentation_envelope_takes_no_draft_media_type():
    from tradevc.vc.verification import verify_presentation
    from tradevc.vc.securing.jose import sign_presentation_jwt

    holder = KeyPair.generate("Ed25519")
    token = sign_presentation_jwt([], holder, challenge="c", domain="d")
    document = {"@context": V2, "id": f"data:application/vp+ld+json+jwt,{token}",
                "type": "EnvelopedVerifiablePresentation"}
    result = verify_presentation(document, challenge="c", domain="d", policy=POLICY, now=NOW, compatibility=PILOTS)
    assert not result.verified and result.check("structure").code == "MALFORMED_VALUE_ERROR"


# -- the drafts' typ -----------------------------------------------------------------------------


@pytest.mark.parametrize("typ, cty", [("vc+ld+json+jwt", "vc+ld+json"), ("application/vc+ld+json+jwt", None),
                                      ("vc-ld+jwt", None), ("VC-LD+JWT", "vc")])
def test_draft_typ_values(typ, cty):
    token = draft_token(typ, cty)
    strict = verify(token)
    assert not strict.verified and strict.check("jose_header").code == "PROOF_VERIFICATION_ERROR"
    assert not verify(token, Compatibility.of("envelope-media-type", "envelope-separator")).verified
    tolerated = verify(token, Compatibility.of("jose-typ"))
    assert tolerated.verified, tolerated.summary()
    assert len(compat_warnings(tolerated)) == 1 and compat_warnings(tolerated)[0].startswith("compat:jose-typ: ")


# (a token with no typ at all is not a deviation: VC-JOSE-COSE only says typ SHOULD be vc+jwt,
# so a VC 2.0 payload without it verifies as vc+jwt with a warning, profile or not)
@pytest.mark.parametrize("typ", ["vc+ld+jwt", "vp+ld+json+jwt", "vc+ld+json", "jwt+vc"])
def test_other_typ_values_stay_refused_under_the_profile(typ):
    result = verify(draft_token(typ, None), PILOTS)
    assert not result.verified and result.check("jose_header").code == "PROOF_VERIFICATION_ERROR", result.summary()


def test_a_draft_typ_with_a_foreign_content_type_is_refused():
    result = verify(draft_token(cty="vp"), PILOTS)
    assert not result.verified and result.check("jose_header").code == "PROOF_VERIFICATION_ERROR"


def test_a_pilot_envelope_needs_both_deviations_and_names_both():
    document = envelope_of(draft_token(), "application/vc+ld+json+jwt")
    assert not verify(document, Compatibility.of("envelope-media-type")).verified
    result = verify(document, PILOTS)
    assert result.verified, result.summary()
    assert sorted(w.split(":")[1] for w in compat_warnings(result)) == ["envelope-media-type", "jose-typ"]
    assert "compat:jose-typ" in result.summary()  # the officer sees it in the printed report too


def test_the_signature_stays_strict_under_the_profile():
    header, payload, signature = draft_token().split(".")
    other_payload = base64url_encode(json.dumps(unsigned() | {"validUntil": "2099-01-01T00:00:00Z"}).encode())
    result = verify(envelope_of(f"{header}.{other_payload}.{signature}", "application/vc-ld+jwt"), PILOTS)
    assert not result.verified and result.check("proof").code == "PROOF_VERIFICATION_ERROR"


def test_the_issuer_binding_stays_strict_under_the_profile():
    result = verify(draft_token(key=OTHER, issuer=ISSUER), PILOTS)  # OTHER signs a credential naming ISSUER
    assert not result.verified and result.check("issuer_binding").code == "PROOF_VERIFICATION_ERROR"


def test_a_plain_name_issuer_is_tolerated_only_on_status_lists():
    token = forge({"alg": "ES256", "kid": ISSUER.verification_method, "typ": "vc+jwt"},
                  unsigned() | {"issuer": "Aceros del Norte"})
    result = verify(token, PILOTS)
    assert not result.verified and result.check("structure").code == "MALFORMED_VALUE_ERROR"
    assert compat_warnings(result) == []


# -- presentations and the command line ----------------------------------------------------------


def test_a_presentation_passes_the_profile_to_its_credentials():
    from tradevc.vc.securing.data_integrity import sign_presentation
    from tradevc.vc.verification import verify_presentation

    holder = KeyPair.generate("Ed25519")
    inner = envelope_of(draft_token(), "application/vc+ld+json+jwt")
    vp = sign_presentation([inner], holder, challenge="c", domain="d", created="2026-06-01T00:00:00Z")
    strict = verify_presentation(vp, challenge="c", domain="d", policy=POLICY, now=NOW)
    assert not strict.verified and not strict.credentials[0].verified
    tolerated = verify_presentation(vp, challenge="c", domain="d", policy=POLICY, now=NOW, compatibility=PILOTS)
    assert tolerated.verified, tolerated.summary()
    assert sorted(w.split(":")[1] for w in compat_warnings(tolerated.credentials[0])) == [
        "envelope-media-type", "jose-typ"]


def test_vc_verify_batch_compat(tmp_path):
    from click.testing import CliRunner
    from tradevc.verifier.cli import cli

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "pilot.json").write_text(json.dumps(envelope_of(draft_token(), "application/vc-ld+jwt")))
    (inbox / "plain.jwt").write_text(sign_credential_jwt(unsigned(), ISSUER))
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": {ISSUER.did: ["AlumniCredential"]}}))
    base = ["batch", str(inbox), "--trust", str(trust), "--offline", "--workers", "1", "--json"]
    strict = CliRunner().invoke(cli, base)
    assert strict.exit_code == 1, strict.output
    tolerated = CliRunner().invoke(cli, [*base, "--compat", "pilots-2023"])
    assert tolerated.exit_code == 0, tolerated.output
    summary = json.loads(tolerated.output[tolerated.output.index("{"):])  # after the progress bar
    assert summary["tolerated"] == {"compat:envelope-media-type": 1, "compat:jose-typ": 1}
    pilot, plain = sorted(summary["documents"], key=lambda d: d["source"])
    assert pilot["tolerated"] == ["compat:envelope-media-type", "compat:jose-typ"] and "tolerated" not in plain
    table = CliRunner().invoke(cli, [*base[:-1], "--compat", "pilots-2023"])
    assert table.exit_code == 0 and "tolerated" in table.output and "compat:jose-typ" in table.output
    bad = CliRunner().invoke(cli, [*base, "--compat", "nope"])
    assert bad.exit_code == 2 and "unknown compatibility profile or deviation 'nope'" in bad.output


def test_vc_verify_credential_compat_offline(tmp_path):
    from click.testing import CliRunner
    from tradevc.verifier.cli import cli

    path = tmp_path / "pilot.json"
    path.write_text(json.dumps(envelope_of(draft_token(), "application/vc-ld+jwt", ";")))
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": {ISSUER.did: ["AlumniCredential"]}}))
    base = ["credential", str(path), "--trust", str(trust), "--offline"]
    assert CliRunner().invoke(cli, base).exit_code == 1
    some = CliRunner().invoke(cli, [*base, "--compat", "envelope-media-type", "--compat", "envelope-separator"])
    assert some.exit_code == 1 and "jose_header" in some.output  # the typ is a third deviation, not allowed
    r = CliRunner().invoke(cli, [*base, "--compat", "pilots-2023"])
    assert r.exit_code == 0, r.output
    for deviation in ("envelope-media-type", "envelope-separator", "jose-typ"):
        assert f"WARNING: compat:{deviation}: " in r.output
