"""A presentation's report gives its proof's challenge, domain and created (a vp+jwt's nonce,
aud and iat), as found (issue 15)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from conftest import load_vector
from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.vc.report import PresentationResult
from tradevc.vc.securing.enveloped import envelope_presentation
from tradevc.vc.securing.jose import sign_presentation_jwt
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.wallet import sign_presentation

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
CREATED = "2026-06-15T11:59:00Z"
DOMAIN = "cbp.gov"
MILL = KeyPair.generate("Ed25519")
IMPORTER = KeyPair.generate("Ed25519")
POLICY = TrustPolicy({MILL.did: ["AlumniCredential"]})


@pytest.fixture(scope="module")
def credential() -> dict:
    unsigned = load_vector("di-eddsa/unsigned.json")
    unsigned["issuer"] = MILL.did
    return sign_credential(unsigned, MILL, cryptosuite="eddsa-jcs-2022", created="2026-01-01T00:00:00Z")


def test_the_report_shows_the_data_integrity_proof_s_challenge_domain_and_created(credential):
    vp = sign_presentation([credential], IMPORTER, challenge="c-1", domain=DOMAIN, created=CREATED)
    result = Verifier.offline(policy=POLICY, clock=lambda: NOW).verify_presentation(vp, challenge="c-1", domain=DOMAIN)
    assert result.verified, result.summary()
    assert (result.challenge, result.domain, result.created) == ("c-1", DOMAIN, CREATED)
    out = result.to_dict()
    assert (out["challenge"], out["domain"], out["created"]) == ("c-1", DOMAIN, CREATED)
    # shown as found, also when it is not the one expected
    other = Verifier.offline(policy=POLICY, clock=lambda: NOW).verify_presentation(vp, challenge="c-2", domain=DOMAIN)
    assert not other.verified and other.challenge == "c-1"


def test_the_report_shows_a_vp_jwt_s_nonce_aud_and_iat(credential):
    iat = int(NOW.timestamp()) - 60
    vp = sign_presentation_jwt([credential], IMPORTER, challenge="n-1", domain=DOMAIN, claims={"iat": iat})
    verifier = Verifier.offline(policy=POLICY, clock=lambda: NOW)
    for document in (vp, envelope_presentation(vp)):
        result = verifier.verify_presentation(document, challenge="n-1", domain=DOMAIN)
        assert result.verified, result.summary()
        assert (result.challenge, result.domain, result.created) == ("n-1", DOMAIN, "2026-06-15T11:59:00Z")
    without_iat = sign_presentation_jwt([credential], IMPORTER, challenge="n-1", domain=DOMAIN)
    assert verifier.verify_presentation(without_iat, challenge="n-1", domain=DOMAIN).created is None


def test_the_report_shows_nothing_for_what_was_not_opened_or_not_a_string(credential):
    verifier = Verifier.offline(policy=POLICY, clock=lambda: NOW)
    unopened = verifier.verify_presentation({"type": "VerifiablePresentation"}, challenge="c", domain=DOMAIN)
    assert (unopened.challenge, unopened.domain, unopened.created) == (None, None, None)
    assert unopened.to_dict()["challenge"] is None
    report = PresentationResult()
    report.expose_proof(42, [DOMAIN, "cbsa.gc.ca"], {"not": "a date"})
    assert (report.challenge, report.domain, report.created) == (None, [DOMAIN, "cbsa.gc.ca"], None)
    report.expose_proof("c", [DOMAIN, 7], "2026-06-15T11:59:00Z")
    assert (report.challenge, report.domain, report.created) == ("c", None, "2026-06-15T11:59:00Z")
    huge_iat = sign_presentation_jwt([credential], IMPORTER, challenge="n", domain=DOMAIN, claims={"iat": 2**53 - 1})  # I-JSON, past the calendar
    assert verifier.verify_presentation(huge_iat, challenge="n", domain=DOMAIN).created is None
