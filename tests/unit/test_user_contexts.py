"""Contexts the user pins: a folder of context files and an index (URL, file, SHA-256; inline
contexts by the SHA-256 of their JCS serialization), checked like the bundled ones, taking the
same fast path, and given to Verifier, the signing functions and every CLI (--contexts DIR)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from importlib import resources

import pytest
import rfc8785
from click.testing import CliRunner

from conftest import write_context_folder
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.vc.securing.data_integrity import sign_credential
from tradevc.vc.verification import verify_credential
from tradevc.vc.errors import ContextIndexError, ContextNotPinned
from tradevc.vc.fastpath import canonical_nquads, fast_quads, reference_canonical_nquads
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.vc.jsonld import PinnedContextLoader, inline_context_sha256
from tradevc.vc.keys import KeyPair
from tradevc.vc.checks.policy import TrustPolicy
from tradevc.verifier import Verifier
from tradevc.verifier.cli import cli as verify_cli
from tradevc.wallet.cli import cli as wallet_cli

V2 = "https://www.w3.org/ns/credentials/v2"
STEEL_URL = "https://contexts.trade.example/steel/v1"
EX = "https://trade.example/vocab#"
STEEL = {
    "@context": {
        "@version": 1.1,
        "@protected": True,
        "SteelLotCredential": EX + "SteelLotCredential",
        "SteelLot": {"@id": EX + "SteelLot", "@context": {"@protected": True, "grade": EX + "grade"}},
        "heatNumber": EX + "heatNumber",
        "tensileStrengthMPa": {"@id": EX + "tensileStrengthMPa", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
    }
}
NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
ANY = TrustPolicy.unsafe_any_issuer()
KEY = KeyPair.generate("Ed25519")


def steel_credential(issuer: str = KEY.did) -> dict:
    return {
        "@context": [V2, STEEL_URL],
        "id": "urn:uuid:4b9d7c1e-6a55-4c3e-8f0e-2d1f6b7a9c10",
        "type": ["VerifiableCredential", "SteelLotCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:lot-7", "type": "SteelLot", "heatNumber": "H-1", "grade": "A36",
            "tensileStrengthMPa": 450,
        },
    }


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_context_folder(tmp_path_factory.mktemp("contexts"), {STEEL_URL: STEEL})


@pytest.fixture(scope="module")
def loader(folder):
    return PinnedContextLoader.with_user_contexts(folder)


# -- the loader -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_a_user_context_signs_and_verifies(loader, suite):
    signed = sign_credential(steel_credential(), KEY, cryptosuite=suite, created="2026-01-02T00:00:00Z", loader=loader)
    result = verify_credential(signed, policy=ANY, now=NOW, loader=loader)
    assert result.verified, result.summary()
    check = verify_credential(signed, policy=ANY, now=NOW).check("context")  # the bundled contexts alone
    assert check.code == "CONTEXT_NOT_PINNED" and STEEL_URL in check.message
    with pytest.raises(ContextNotPinned, match=STEEL_URL):
        sign_credential(steel_credential(), KEY, cryptosuite=suite)


def test_a_user_context_takes_the_fast_path(loader):
    document = steel_credential()
    assert fast_quads(document, loader) is not None
    assert canonical_nquads(document, loader=loader) == reference_canonical_nquads(document, loader=loader)
    assert EX + "grade" in canonical_nquads(document, loader=loader)  # the type-scoped term


def test_the_bundled_contexts_stay_served(loader):
    assert loader(V2)["document"] == PinnedContextLoader()(V2)["document"]
    assert loader.user_urls == {STEEL_URL} and STEEL_URL in loader.urls


def test_a_file_that_does_not_match_its_sha256_is_refused(tmp_path):
    folder = write_context_folder(tmp_path, {STEEL_URL: STEEL})
    path = folder / "context-1.jsonld"
    path.write_text(path.read_text().replace("heatNumber", "heatNumbr"))
    with pytest.raises(ContextIndexError, match="SHA-256") as info:
        PinnedContextLoader.with_user_contexts(folder)
    assert info.value.code == "CONTEXT_INDEX_ERROR"


def test_a_bundled_url_keeps_its_bundled_bytes(tmp_path):
    with pytest.raises(ContextIndexError, match="bundled"):
        PinnedContextLoader.with_user_contexts(write_context_folder(tmp_path / "other", {V2: STEEL}))
    # the very same bytes are no change: accepted
    same = tmp_path / "same"
    same.mkdir()
    data = resources.files("tradevc.contexts").joinpath("credentials-v2.jsonld").read_bytes()
    (same / "v2.jsonld").write_bytes(data)
    index = {"contexts": [{"url": V2, "file": "v2.jsonld", "sha256": hashlib.sha256(data).hexdigest()}]}
    (same / "index.json").write_text(json.dumps(index))
    assert PinnedContextLoader.with_user_contexts(same)(V2)["document"] == json.loads(data)


def _entry(**changes):
    entry = {"url": STEEL_URL, "file": "steel.jsonld", "sha256": hashlib.sha256(b'{"@context": {}}').hexdigest()}
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


BAD_INDEXES = {
    "not JSON": ("{", "not JSON"),
    "not an object": ([], "must be an object"),
    "contexts not a list": ({"contexts": {}}, "must be an object"),
    "no sha256": ({"contexts": [_entry(sha256=None)]}, '"sha256"'),
    "sha256 not hex": ({"contexts": [_entry(sha256="abc")]}, "not a SHA-256"),
    "relative URL": ({"contexts": [_entry(url="steel/v1")]}, "absolute URL"),
    "listed twice": ({"contexts": [_entry(), _entry()]}, "twice"),
    "outside the folder": ({"contexts": [_entry(file="../steel.jsonld")]}, "not inside"),
    "absolute file": ({"contexts": [_entry(file="/etc/hostname")]}, "not inside"),
    "missing file": ({"contexts": [_entry(file="nothing.jsonld")]}, "cannot read"),
    "NUL in the file name": ({"contexts": [_entry(file="steel\u0000.jsonld")]}, "not a usable file name"),
    "lone surrogate in the file name": ({"contexts": [_entry(file="steel\ud800.jsonld")]}, "not a usable file name"),
    "not a context": ({"contexts": [_entry(file="list.jsonld", sha256=hashlib.sha256(b"[]").hexdigest())]},
                      "not a JSON-LD context"),
    "inline without sha256": ({"inline": [{"note": "x"}]}, '"sha256"'),
}


@pytest.mark.parametrize("name", BAD_INDEXES)
def test_a_bad_index_is_refused_with_a_clear_error(tmp_path, name):
    index, message = BAD_INDEXES[name]
    (tmp_path / "steel.jsonld").write_bytes(b'{"@context": {}}')
    (tmp_path / "list.jsonld").write_bytes(b"[]")
    (tmp_path / "index.json").write_text(index if isinstance(index, str) else json.dumps(index))
    with pytest.raises(ContextIndexError, match=message):
        PinnedContextLoader.with_user_contexts(tmp_path)


def test_a_folder_without_an_index_is_refused(tmp_path):
    with pytest.raises(ContextIndexError, match="no index.json"):
        PinnedContextLoader.with_user_contexts(tmp_path)


def test_the_inline_pin_is_the_sha256_of_the_jcs_serialization():
    context = {"heatNumber": EX + "heatNumber", "grade": {"@id": EX + "grade"}}
    reordered = json.loads(json.dumps(dict(reversed(list(context.items())))))
    expected = hashlib.sha256(rfc8785.dumps(context)).hexdigest()
    assert inline_context_sha256(context) == inline_context_sha256(reordered) == expected
    assert inline_context_sha256({**context, "grade": EX + "grade"}) != expected


def test_an_inline_pin_is_read_from_the_index(tmp_path):
    context = {"heatNumber": EX + "heatNumber"}
    loader = PinnedContextLoader.with_user_contexts(write_context_folder(tmp_path, inline=[context]))
    assert loader.inline_sha256 == {inline_context_sha256(context)}


# -- Verifier, signing functions -------------------------------------------------------------------


def test_verifier_issuer_and_jose_signing_take_the_folder(folder, loader):
    token = sign_credential_jwt(steel_credential(), KEY, loader=loader)
    verifier = Verifier.offline(policy=ANY, contexts=folder)
    assert verifier.verify_credential(token, now=NOW).verified
    assert Verifier.offline(policy=ANY).verify_credential(token, now=NOW).check("context").code == "CONTEXT_NOT_PINNED"
    with pytest.raises(ContextNotPinned):
        sign_credential_jwt(steel_credential(), KEY)
    with pytest.raises(ValueError, match="not both"):
        Verifier.offline(policy=ANY, contexts=folder, loader=loader)


# -- the command lines ------------------------------------------------------------------------------


def test_every_cli_takes_contexts(tmp_path, folder):
    runner = CliRunner()
    env = {"TRADEVC_ISSUER_HOME": str(tmp_path / "mill"), "TRADEVC_ISSUER_PASSPHRASE": "s3cret s3cret"}
    r = runner.invoke(issuer_cli, ["init", "--name", "Aceros del Norte"], env=env)
    assert r.exit_code == 0, r.output
    did = next(line.split()[1] for line in r.output.splitlines() if line.startswith("DID:"))
    unsigned = tmp_path / "lot.json"
    unsigned.write_text(json.dumps(steel_credential(did)))
    (tmp_path / "inbox").mkdir()
    out = tmp_path / "inbox" / "signed.json"
    issue = ["issue", "--credential", str(unsigned), "--out", str(out)]
    r = runner.invoke(issuer_cli, issue, env=env)
    assert r.exit_code == 1 and "CONTEXT_NOT_PINNED" in r.output and "Traceback" not in r.output
    lot_id = steel_credential()["id"]  # refused before its id was reserved: it can be issued now
    r = runner.invoke(issuer_cli, [*issue, "--contexts", str(folder)], env=env)
    assert r.exit_code == 0, r.output

    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": {did: ["SteelLotCredential"]}}))
    check = ["credential", str(out), "--trust", str(trust), "--offline"]
    r = runner.invoke(verify_cli, check)
    assert r.exit_code == 1 and "CONTEXT_NOT_PINNED" in r.output
    assert runner.invoke(verify_cli, [*check, "--contexts", str(folder)]).exit_code == 0
    r = runner.invoke(verify_cli, ["batch", str(out.parent), "--workers", "1", "--trust", str(trust), "--offline", "--contexts", str(folder)])
    assert r.exit_code == 0, r.output

    wallet = {"TRADEVC_WALLET_HOME": str(tmp_path / "wallet"), "TRADEVC_WALLET_PASSPHRASE": "importer passphrase"}
    assert runner.invoke(wallet_cli, ["init"], env=wallet).exit_code == 0
    assert runner.invoke(wallet_cli, ["add", "--offline", str(out)], env=wallet).exit_code == 1
    r = runner.invoke(wallet_cli, ["add", "--offline", "--contexts", str(folder), str(out)], env=wallet)
    assert r.exit_code == 0, r.output
    assert runner.invoke(wallet_cli, ["check", "--offline", "--contexts", str(folder)], env=wallet).exit_code == 0
    present = ["present", "--credential", lot_id, "--challenge", "c-1", "--domain", "cbp.gov",
               "--cryptosuite", "eddsa-rdfc-2022"]
    r = runner.invoke(wallet_cli, present, env=wallet)
    assert r.exit_code == 1 and STEEL_URL in r.output and "Traceback" not in r.output
    r = runner.invoke(wallet_cli, [*present, "--contexts", str(folder)], env=wallet)
    assert r.exit_code == 0, r.output
    vp = tmp_path / "vp.json"
    vp.write_text(r.output)
    args = ["presentation", str(vp), "--challenge", "c-1", "--domain", "cbp.gov", "--trust", str(trust), "--offline"]
    assert runner.invoke(verify_cli, [*args, "--contexts", str(folder)]).exit_code == 0


def test_every_cli_refuses_a_bad_contexts_folder_in_one_line(tmp_path):
    bad = write_context_folder(tmp_path / "bad", {STEEL_URL: STEEL})
    (bad / "context-1.jsonld").write_text("{}")
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": {KEY.did: ["SteelLotCredential"]}}))
    runner = CliRunner()
    env = {"TRADEVC_ISSUER_HOME": str(tmp_path / "mill"), "TRADEVC_ISSUER_PASSPHRASE": "s3cret s3cret",
           "TRADEVC_WALLET_HOME": str(tmp_path / "wallet"), "TRADEVC_WALLET_PASSPHRASE": "importer passphrase"}
    assert runner.invoke(issuer_cli, ["init", "--name", "X"], env=env).exit_code == 0
    assert runner.invoke(wallet_cli, ["init"], env=env).exit_code == 0
    unsigned = tmp_path / "lot.json"
    unsigned.write_text(json.dumps(steel_credential()))
    for cli, args in (
        (verify_cli, ["credential", str(unsigned), "--trust", str(trust), "--offline"]),
        (issuer_cli, ["issue", "--credential", str(unsigned)]),
        (wallet_cli, ["add", "--offline", str(unsigned)]),
        (wallet_cli, ["present", "--credential", "urn:x", "--challenge", "c", "--domain", "d"]),
    ):
        r = runner.invoke(cli, [*args, "--contexts", str(bad)], env=env)
        assert r.exit_code == 2, r.output
        errors = [line for line in r.output.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and "--contexts" in errors[0] and "SHA-256" in errors[0], r.output
        assert r.exception is None or isinstance(r.exception, SystemExit)


def test_the_issuer_refuses_an_uncovered_inline_context_before_reserving_the_id(tmp_path):
    from tradevc.issuer import Issuer

    terms = {"heatNumber": EX + "heatNumber"}
    document = {
        "@context": [V2, terms], "id": "urn:uuid:0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5", "type": ["VerifiableCredential"],
        "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:lot-7", "heatNumber": "H-1"},
    }
    with Issuer.init(tmp_path / "mill", b"s3cret", name="Aceros del Norte") as issuer:
        with pytest.raises(ContextNotPinned, match="not covered by the eddsa-rdfc-2022 proof"):
            issuer.issue(document)
        assert issuer.issued() == []
        token = issuer.issue(document, securing="jose")  # the same id: the refusal reserved nothing
    assert Verifier.offline(policy=ANY).verify_credential(token, now=NOW).verified


def test_a_user_context_that_imports_another_leaves_the_imported_one_alone(tmp_path):
    # pyld merges an imported context's document in place; served as is, a pinned context
    # with @import would change the context it imports for every document after the first
    extension_url = "https://contexts.trade.example/steel-extension/v1"
    extension = {"@context": {"@import": STEEL_URL, "heatNumber": EX + "castNumber", "chemistry": EX + "chemistry"}}
    loader = PinnedContextLoader.with_user_contexts(
        write_context_folder(tmp_path, {STEEL_URL: STEEL, extension_url: extension})
    )
    extended = steel_credential()
    extended["@context"] = [V2, extension_url]
    extended["credentialSubject"].update(chemistry="C 0.21")
    del extended["credentialSubject"]["type"], extended["credentialSubject"]["grade"]
    signed = sign_credential(extended, KEY, cryptosuite="eddsa-rdfc-2022", created="2026-01-02T00:00:00Z",
                             loader=loader)
    assert verify_credential(signed, policy=ANY, now=NOW, loader=loader).verified
    assert loader(STEEL_URL)["document"] == STEEL
    plain = sign_credential(steel_credential(), KEY, cryptosuite="eddsa-rdfc-2022", created="2026-01-02T00:00:00Z",
                           loader=loader)
    quads = reference_canonical_nquads({k: v for k, v in plain.items() if k != "proof"}, loader=loader)
    assert EX + "heatNumber" in quads and EX + "castNumber" not in quads
    assert verify_credential(plain, policy=ANY, now=NOW, loader=loader).verified


def test_a_user_context_may_not_import_a_context_that_is_not_pinned(tmp_path):
    extension = {"@context": {"@import": "https://contexts.elsewhere.example/v1", "chemistry": EX + "chemistry"}}
    with pytest.raises(ContextIndexError, match="@import.*elsewhere.example/v1' is not one of the pinned contexts"):
        PinnedContextLoader.with_user_contexts(write_context_folder(tmp_path, {STEEL_URL: extension}))


def test_no_bundled_context_uses_import():
    # a bundled context is served as it is: pyld would merge a context that imports another
    # into the imported document itself (user contexts are merged when the folder is read)
    loader = PinnedContextLoader()
    for url in loader.urls:
        context = loader(url)["document"]["@context"]
        for entry in context if isinstance(context, list) else [context]:
            assert not (isinstance(entry, dict) and "@import" in entry), url
