"""A UN/CEFACT UNTP Digital Identity Anchor is readable once the user pins UNTP's context.

tradevc does not bundle UNTP's context, and tests never reach the network, so the user's
contexts folder here holds a hand-written stand-in at UNTP's DIA context URL (see
``untp-dia-standin/README.md``: it defines only the terms this test uses, with UNTP's IRIs).
The credential is signed with the library, verified with a Verifier given that folder (and
refused without it, saying the context is not pinned), and read as an identity anchor by
the verifier's ``read_vouch``."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tradevc.vc.checks.vouches import RegisteredId, read_vouch
from tradevc.vc.errors import ContextIndexError, ContextNotPinned
from tradevc.vc.jsonld import PinnedContextLoader, expand
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.data_integrity import sign_credential
from tradevc.verifier import TrustPolicy, Verifier

STANDIN = Path(__file__).parent / "untp-dia-standin"
UNTP_DIA = "https://test.uncefact.org/vocabulary/untp/dia/0.6.0/"
V2 = "https://www.w3.org/ns/credentials/v2"
DIA = "https://test.uncefact.org/vocabulary/untp/dia/0/"
NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
REGISTRAR = KeyPair.generate("Ed25519")
SCHEME = "https://id.registro-comercio.example/folio-mercantil"


def anchor() -> dict:
    return {
        "@context": [V2, UNTP_DIA],
        "id": "urn:uuid:6d1a3f2e-0b7c-4e59-8a14-92c3d5e7f801",
        "type": ["VerifiableCredential", "DigitalIdentityAnchor"],
        "issuer": {"id": REGISTRAR.did, "name": "Registro Publico de Comercio"},
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {
            "type": ["RegisteredIdentity"],
            "id": "did:web:certifier.aceros-del-norte.example",
            "name": "Aceros del Norte S.A. de C.V.",
            "registeredId": "N-2019-004512",
            "idScheme": {"id": SCHEME, "name": "Folio Mercantil Electronico"},
            "registerType": "Business",
        },
    }


@pytest.fixture
def user_contexts(tmp_path: Path) -> Path:
    """The user's contexts folder: the stand-in and its index, copied as a user would lay them out."""
    folder = tmp_path / "trade-contexts"
    shutil.copytree(STANDIN, folder)
    return folder


def policy() -> TrustPolicy:
    return TrustPolicy({REGISTRAR.did: ["DigitalIdentityAnchor"]})


def test_the_stand_in_is_not_bundled_and_says_what_it_is():
    assert UNTP_DIA not in PinnedContextLoader().urls
    readme = (STANDIN / "README.md").read_text(encoding="utf-8")
    assert "hand-written stand-in" in readme.lower() and "**not** UN/CEFACT's context" in readme


def test_a_untp_identity_anchor_verifies_with_the_pinned_context_and_reads_as_an_anchor(user_contexts):
    loader = PinnedContextLoader.with_user_contexts(user_contexts)
    signed = sign_credential(anchor(), REGISTRAR, created="2026-01-02T00:00:00Z", loader=loader)
    customs = Verifier.offline(policy=policy(), contexts=user_contexts, clock=lambda: NOW)
    result = customs.verify_credential(signed)
    assert result.verified, result.summary()
    assert result.check("data_loss").outcome.value == "passed"

    # the terms mean what UNTP says they mean
    [node] = expand(signed, loader)
    [subject] = node["https://www.w3.org/2018/credentials#credentialSubject"]
    assert node["@type"][1] == DIA + "DigitalIdentityAnchor" and subject["@type"] == [DIA + "RegisteredIdentity"]
    assert subject[DIA + "registeredId"][0]["@value"] == "N-2019-004512"
    assert subject["https://test.uncefact.org/vocabulary/untp/core/0/idScheme"][0]["@id"] == SCHEME
    assert subject[DIA + "registerType"] == [{"@id": DIA + "RegistryTypeCodeList#Business"}]

    vouch = read_vouch(signed)
    assert vouch is not None and vouch.kind == "anchor" and vouch.types == ("VerifiableCredential", "DigitalIdentityAnchor")
    assert (vouch.issuer, vouch.subject) == (REGISTRAR.did, "did:web:certifier.aceros-del-norte.example")
    assert vouch.identifiers == (RegisteredId(SCHEME, "N-2019-004512"),)
    assert vouch.name == "Aceros del Norte S.A. de C.V."
    assert vouch.scope.valid_until == datetime(2027, 1, 1, tzinfo=timezone.utc)


def test_without_the_pinned_context_it_is_refused_saying_so(user_contexts):
    signed = sign_credential(anchor(), REGISTRAR, created="2026-01-02T00:00:00Z",
                             loader=PinnedContextLoader.with_user_contexts(user_contexts))
    result = Verifier.offline(policy=policy(), clock=lambda: NOW).verify_credential(signed)
    assert not result.verified
    check = result.check("context")
    assert check.code == "CONTEXT_NOT_PINNED" and UNTP_DIA in check.message
    with pytest.raises(ContextNotPinned, match="untp/dia/0.6.0"):
        sign_credential(anchor(), REGISTRAR)  # nor is it signed with the bundled contexts alone


def test_a_changed_stand_in_is_refused(user_contexts):
    path = user_contexts / "untp-dia-standin.jsonld"
    path.write_text(path.read_text(encoding="utf-8").replace("registeredId", "registeredID"), encoding="utf-8")
    with pytest.raises(ContextIndexError, match="SHA-256"):
        Verifier.offline(policy=policy(), contexts=user_contexts)
