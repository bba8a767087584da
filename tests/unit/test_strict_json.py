"""Issue 15, parsing: one strict JSON reader everywhere (:mod:`tradevc.vc.jsontext`), I-JSON
only, resource limits before any expensive step, and compact JWS not trimmed.

Each test here failed on the code before the issue (a forged first ``credentialSubject``
verified; ``NaN``, ``1E400``, big integers and lone surrogates were read, signed, or raised;
10,000 proofs, 1,000 contexts, 5,000 credentials were verified at length; a token with
whitespace around it was trimmed), and each has its negative: what is within the rules still
verifies.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import load_vector
from tradevc.issuer import sign_credential
from tradevc.vc.errors import InvalidDocument, ParsingError, ResourceLimitError
from tradevc.vc.jsontext import DEFAULT_LIMITS, Limits, check_value, loads
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_encode
from tradevc.vc.retrieval.http import Fetched, HttpsFetcher, RetrievalError
from tradevc.vc.retrieval.mirror import Mirror
from tradevc.vc.securing.data_integrity import cosign_credential, sign_presentation
from tradevc.vc.securing.jose import sign_credential_jwt, sign_presentation_jwt
from tradevc.vc.securing.jws import document_of_file, parse_compact_jws
from tradevc.vc.securing.vcjwt import sign_credential_vcjwt, sign_presentation_vcjwt
from tradevc.vc.verification.pipeline import read_fetched
from tradevc.verifier import TrustPolicy, Verifier, verify_credential, verify_presentation
from tradevc.verifier.batch import read_documents
from tradevc.verifier.cli import cli as verify_cli

KEY = KeyPair.generate("Ed25519")
POLICY = TrustPolicy({KEY.did: ["AlumniCredential"]})
REFERENCE = Path(__file__).resolve().parents[2] / "bench" / "usmca-certification-of-origin.json"


def unsigned() -> dict:
    return load_vector("di-eddsa/unsigned.json") | {"issuer": KEY.did}


SIGNED = sign_credential(unsigned(), KEY, created="2026-01-01T00:00:00Z")
TOKEN = sign_credential_jwt(unsigned(), KEY)


def verify(document, **options):
    return verify_credential(document, policy=POLICY, **options)


def structure_code(result) -> str | None:
    return result.check("structure").code


# -- the reader ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    b'{"a": 1, "a": 2}', b'{"a": {"b": [{"c": 1, "c": 1}]}}', b'{"a":1,"a":1}',
    b'[NaN]', b'[Infinity]', b'[-Infinity]', b'[1E400]', b'[-1e400]',
    b'[9007199254740992]', b'[-9007199254740992]', b'["\\ud800"]', b'{"\\udfff": 1}',
    b'\xff', b'{"a": 1', b'[' + b'1' * 5000 + b']',
])
def test_loads_refuses_what_is_not_i_json(text):
    with pytest.raises(ParsingError) as refused:
        loads(text)
    assert refused.value.code == "PARSING_ERROR"


def test_loads_reads_i_json_in_either_form():
    value = {"a": [1, 2.5, "\u00e9\U0001f600", None, True], "n": 2**53 - 1, "m": -(2**53 - 1)}
    assert loads(json.dumps(value)) == value == loads(json.dumps(value, separators=(",", ":")).encode())
    assert loads(b'["\\ud83d\\ude00"]') == ["\U0001f600"]  # a surrogate pair is one character


def test_loads_refuses_text_over_the_size_before_parsing_it():
    with pytest.raises(ResourceLimitError) as refused:
        loads(b"[" + b"1," * 600 + b"1]", limits=Limits(max_document_size=1000))
    assert refused.value.code == "RESOURCE_LIMIT_ERROR"
    assert loads(b"[" + b"1," * 400 + b"1]", limits=Limits(max_document_size=1000))[0] == 1


def test_deep_nesting_is_a_resource_limit_not_a_recursion_error():
    for text in (b"[" * 100_000 + b"]" * 100_000, b"[" * 65 + b"]" * 65):
        with pytest.raises(ResourceLimitError):
            loads(text)
    assert loads(b"[" * 64 + b"]" * 64) == loads(b"[" * 64 + b"]" * 64)


def test_check_value_refuses_python_values_that_are_not_json():
    for value in ({1: "a"}, {"a": {1, 2}}, {"a": float("nan")}, ["\ud800"], {"a": 2**64}, {"a": b"x"}):
        with pytest.raises(ParsingError):
            check_value(value)
    check_value({"a": (1, 2.0, "x"), "b": {"c": None}})


def test_limits_are_checked_for_type_and_sign():
    with pytest.raises(ValueError):
        Limits(max_depth=0)
    with pytest.raises(TypeError):
        Limits(max_proofs=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify(SIGNED, limits={"max_depth": 3})


# -- 1. duplicate member names ------------------------------------------------------------------


def forged_first_subject(signed: dict) -> str:
    """The signed credential as text with a forged credentialSubject before the signed one: a
    last-wins reader sees the signed document, a first-wins reader the forgery."""
    forged = {**signed["credentialSubject"], "alumniOf": "Forged University"}
    body = json.dumps(signed)
    member = '"credentialSubject": '
    return body.replace(member, member + json.dumps(forged) + ", " + member, 1)


@pytest.fixture
def trust(tmp_path):
    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"trustedIssuers": [{"did": KEY.did, "name": "U", "types": ["AlumniCredential"]}]}))
    return str(path)


def vc_verify(tmp_path, trust, content: str | bytes, *extra: str):
    path = tmp_path / "document"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
    result = CliRunner().invoke(verify_cli, ["credential", str(path), "--trust", trust, "--offline", "--json", *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_vc_verify_refuses_a_duplicated_credential_subject(tmp_path, trust):
    text = forged_first_subject(SIGNED)
    assert json.loads(text) == SIGNED  # what the old last-wins reader verified
    result = vc_verify(tmp_path, trust, text)
    assert result.exit_code == 1, result.output
    assert json.loads(result.output)["checks"][0]["code"] == "PARSING_ERROR"
    assert vc_verify(tmp_path, trust, json.dumps(SIGNED, indent=2)).exit_code == 0


def test_a_duplicate_deep_inside_is_refused_too(tmp_path, trust):
    text = json.dumps(SIGNED).replace('"alumniOf": ', '"alumniOf": "x", "alumniOf": ', 1)
    result = vc_verify(tmp_path, trust, text)
    assert result.exit_code == 1 and "PARSING_ERROR" in result.output


def test_batch_refuses_a_duplicate_and_verifies_the_rest(tmp_path):
    (tmp_path / "a.json").write_text(forged_first_subject(SIGNED))
    (tmp_path / "b.json").write_text(json.dumps(SIGNED))
    (tmp_path / "c.jwt").write_text(TOKEN + "\n")
    items = dict(read_documents(tmp_path))
    assert items[str(tmp_path / "a.json")].check("structure").code == "PARSING_ERROR"
    assert items[str(tmp_path / "b.json")] == SIGNED and items[str(tmp_path / "c.jwt")] == TOKEN


def test_a_status_list_or_did_document_with_a_duplicate_is_not_read(tmp_path):
    body = forged_first_subject(SIGNED).encode()
    with pytest.raises(RetrievalError) as refused:
        read_fetched(Fetched("https://example.org/status/1", body, "application/json"), what="status list")
    assert refused.value.code == "PARSING_ERROR"
    assert read_fetched(Fetched("https://example.org/status/1", json.dumps(SIGNED).encode(), None), what="x") == SIGNED
    site = tmp_path / "snapshot" / "issuer.example" / ".well-known"
    site.mkdir(parents=True)
    (site / "did.json").write_text('{"id": "did:web:evil.example", "id": "did:web:issuer.example"}')
    fetcher = HttpsFetcher(None, mirror=Mirror(snapshots=[str(tmp_path / "snapshot")]), network=False)
    with pytest.raises(RetrievalError) as refused:
        fetcher.get_json("https://issuer.example/.well-known/did.json", what="DID document")
    assert refused.value.code == "PARSING_ERROR"
    (site / "did.json").write_text('{"id": "did:web:issuer.example"}')
    assert fetcher.get_json("https://issuer.example/.well-known/did.json", what="DID document")["id"]


# -- 2. I-JSON only -----------------------------------------------------------------------------


HOSTILE_VALUES = [float("nan"), float("inf"), float("-inf"), 2**53, -(2**60), 10**400, "\ud800x"]


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
def test_a_dict_that_is_not_i_json_is_a_failed_structure_check(value):
    document = copy.deepcopy(SIGNED)
    document["credentialSubject"]["weight"] = value
    result = verify(document)
    assert not result.verified and structure_code(result) == "PARSING_ERROR", result.summary()
    presentation = {**sign_presentation([SIGNED], KEY, challenge="c", domain="d"), "x": [value]}
    result = verify_presentation(presentation, challenge="c", domain="d", policy=POLICY)
    assert not result.verified and structure_code(result) == "PARSING_ERROR"


def test_an_integer_within_i_json_is_signed_and_verified():
    document = unsigned()
    document["credentialSubject"]["weight"] = 2**53 - 1
    assert verify(sign_credential(document, KEY, created="2026-01-01T00:00:00Z")).verified


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1E400", "9007199254740993", '"\\ud800"'])
def test_vc_verify_refuses_non_i_json_text_with_one_line_and_a_code(tmp_path, trust, literal):
    text = json.dumps(SIGNED).replace('"alumniOf": ', f'"weight": {literal}, "alumniOf": ', 1)
    result = vc_verify(tmp_path, trust, text)
    assert result.exit_code == 1 and json.loads(result.output)["checks"][0]["code"] == "PARSING_ERROR"
    plain = CliRunner().invoke(verify_cli, ["credential", str(tmp_path / "document"), "--trust", trust, "--offline"])
    assert plain.exit_code == 1 and "Traceback" not in plain.output and "PARSING_ERROR" in plain.output


def forge(payload: bytes) -> str:
    header = base64url_encode(json.dumps({"alg": "EdDSA", "kid": KEY.verification_method, "typ": "vc+jwt"}).encode())
    return f"{header}.{base64url_encode(payload)}.AAAA"


@pytest.mark.parametrize("literal", [b"NaN", b"1E400", b"9007199254740993", b'"\\ud800"'])
def test_a_jws_payload_that_is_not_i_json_is_a_parsing_error(literal):
    payload = json.dumps(unsigned()).encode().replace(b'"alumniOf": ', b'"weight": ' + literal + b', "alumniOf": ', 1)
    assert structure_code(verify(forge(payload))) == "PARSING_ERROR"
    with pytest.raises(ParsingError):
        parse_compact_jws(forge(payload))
    assert parse_compact_jws(forge(json.dumps(unsigned()).encode())).payload == unsigned()


SIGNERS = {
    "sign_credential": lambda doc: sign_credential(doc, KEY),
    "cosign_credential": lambda doc: cosign_credential({**doc, "proof": SIGNED["proof"]}, KEY),
    "sign_presentation": lambda doc: sign_presentation([doc], KEY, challenge="c", domain="d"),
    "sign_credential_jwt": lambda doc: sign_credential_jwt(doc, KEY),
    "sign_presentation_jwt": lambda doc: sign_presentation_jwt([doc], KEY, challenge="c", domain="d"),
    "sign_credential_vcjwt": lambda doc: sign_credential_vcjwt(doc, KEY),
    "sign_presentation_vcjwt": lambda doc: sign_presentation_vcjwt([doc], KEY, challenge="c", domain="d"),
}


@pytest.mark.parametrize("signer", SIGNERS)
@pytest.mark.parametrize("value", [float("inf"), float("nan"), 2**60, "\udc00"], ids=repr)
def test_signers_refuse_what_is_not_i_json(signer, value):
    document = unsigned()
    document["credentialSubject"]["weight"] = value
    with pytest.raises(InvalidDocument) as refused:
        SIGNERS[signer](document)
    assert refused.value.code == "PARSING_ERROR"


@pytest.mark.parametrize("signer", SIGNERS)
def test_signers_still_sign_i_json(signer):
    document = unsigned()
    document["credentialSubject"]["weight"] = 1.5
    assert SIGNERS[signer](document)


def test_the_jwt_signers_refuse_a_non_i_json_claim():
    with pytest.raises(ParsingError):
        sign_credential_jwt(unsigned(), KEY, claims={"exp": float("inf")})


def test_vc_issuer_refuses_to_sign_infinity_with_one_line(tmp_path):
    from tradevc.issuer.cli import cli as issuer_cli
    from tradevc.issuer.credential_types import load_example

    env = {"TRADEVC_ISSUER_HOME": str(tmp_path / "home"), "TRADEVC_ISSUER_PASSPHRASE": "s3cret s3cret"}
    runner = CliRunner()
    assert runner.invoke(issuer_cli, ["init", "--name", "Mill"], env=env).exit_code == 0
    subject = tmp_path / "subject.json"
    text = json.dumps(load_example("MillTestReportCredential"))
    subject.write_text(text.replace("{", '{"weight": Infinity, ', 1))
    out = tmp_path / "out.json"
    args = ["issue", "--type", "MillTestReportCredential", "--subject", str(subject), "--out", str(out),
            "--no-revocation", "--no-suspension"]
    result = runner.invoke(issuer_cli, args, env=env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "PARSING_ERROR" in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()
    subject.write_text(text)
    assert runner.invoke(issuer_cli, args, env=env).exit_code == 0 and "Infinity" not in out.read_text()


# -- 3. limits ----------------------------------------------------------------------------------


def reference(goods: int) -> dict:
    """The bench's reference credential (a USMCA certification of origin) with ``goods`` items."""
    credential = json.loads(REFERENCE.read_text(encoding="utf-8"))
    items = credential["credentialSubject"]["goods"]
    credential["credentialSubject"]["goods"] = [
        {**copy.deepcopy(items[i % 2]), "description": f"{items[i % 2]['description']}, lot {i}"} for i in range(goods)
    ]
    return credential


def refused_quickly(document, *, presentation: bool = False, **options) -> str | None:
    start = time.perf_counter()
    if presentation:
        result = verify_presentation(document, challenge="c", domain="d", policy=POLICY, **options)
    else:
        result = verify(document, **options)
    assert time.perf_counter() - start < 0.5, "a document over the limits is refused before any expensive step"
    assert not result.verified
    return structure_code(result)


def test_too_many_proofs_are_refused_before_verifying_any():
    many = {**SIGNED, "proof": [SIGNED["proof"]] * 10_000}
    assert refused_quickly(many) == "RESOURCE_LIMIT_ERROR"
    assert refused_quickly({**SIGNED, "proof": [SIGNED["proof"]] * 17}) == "RESOURCE_LIMIT_ERROR"
    assert verify({**SIGNED, "proof": [SIGNED["proof"]] * 2}).verified


def test_a_long_proof_value_is_refused_before_decoding_it():
    long = {**SIGNED, "proof": {**SIGNED["proof"], "proofValue": "z" + "5" * 1_000_000}}
    assert refused_quickly(long) == "RESOURCE_LIMIT_ERROR"
    assert verify(long, limits=Limits(max_proof_value_length=2_000_000)).check("structure").outcome.value == "passed"


def test_too_many_contexts_are_refused():
    contexts = SIGNED["@context"]
    many = {**SIGNED, "@context": [contexts[0]] * 1000 + contexts[1:]}
    assert refused_quickly(many) == "RESOURCE_LIMIT_ERROR"
    assert verify({**SIGNED, "@context": [contexts[0]] * 2 + contexts[1:]}).check("structure").outcome.value == "passed"


def test_a_presentation_of_too_many_credentials_is_refused():
    small = sign_presentation([SIGNED], KEY, challenge="c", domain="d", created="2026-01-01T00:00:00Z")
    assert refused_quickly({**small, "verifiableCredential": [SIGNED] * 5000}, presentation=True) == "RESOURCE_LIMIT_ERROR"
    assert refused_quickly({**small, "verifiableCredential": [SIGNED] * 101}, presentation=True) == "RESOURCE_LIMIT_ERROR"
    assert verify_presentation(small, challenge="c", domain="d", policy=POLICY).verified


def test_size_depth_and_array_entries_are_limited():
    big = copy.deepcopy(SIGNED)
    big["credentialSubject"]["notes"] = "x" * (DEFAULT_LIMITS.max_document_size + 1)
    assert refused_quickly(big) == "RESOURCE_LIMIT_ERROR"
    deep = copy.deepcopy(SIGNED)
    nested: dict = {}
    deep["credentialSubject"]["nested"] = nested
    for _ in range(70):
        nested["n"] = nested = {}
    assert refused_quickly(deep) == "RESOURCE_LIMIT_ERROR"
    wide = copy.deepcopy(SIGNED)
    wide["credentialSubject"]["list"] = list(range(10_001))
    assert refused_quickly(wide) == "RESOURCE_LIMIT_ERROR"
    assert structure_code(verify(SIGNED, limits=Limits(max_document_size=100))) == "RESOURCE_LIMIT_ERROR"
    assert structure_code(verify(SIGNED, limits=Limits(max_depth=1))) == "RESOURCE_LIMIT_ERROR"
    assert structure_code(verify(TOKEN, limits=Limits(max_depth=1))) == "RESOURCE_LIMIT_ERROR"  # the payload
    assert verify(TOKEN).verified and verify(SIGNED).verified


def test_the_verifier_passes_its_limits_on():
    strict = Verifier.offline(policy=POLICY, limits=Limits(max_proofs=1))
    assert strict.verify_credential({**SIGNED, "proof": [SIGNED["proof"]] * 2}).check("structure").code == (
        "RESOURCE_LIMIT_ERROR"
    )
    assert strict.verify_credential(SIGNED).verified
    assert Verifier.offline(policy=POLICY).verify_credential({**SIGNED, "proof": [SIGNED["proof"]] * 2}).verified


def test_vc_verify_refuses_a_file_over_the_size_without_reading_it_all(tmp_path, trust):
    text = json.dumps(SIGNED)
    result = vc_verify(tmp_path, trust, text + " " * DEFAULT_LIMITS.max_document_size)
    assert result.exit_code == 1 and json.loads(result.output)["checks"][0]["code"] == "RESOURCE_LIMIT_ERROR"


def test_the_defaults_hold_a_presentation_of_dozens_of_500_goods_credentials():
    credential = reference(500)
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                    "verifiableCredential": [{**credential, "proof": SIGNED["proof"]}] * 48,
                    "proof": SIGNED["proof"]}
    check_value(presentation, DEFAULT_LIMITS)
    assert len(json.dumps(presentation)) < DEFAULT_LIMITS.max_document_size


# -- 4. a compact JWS is not trimmed ------------------------------------------------------------


@pytest.mark.parametrize("padded", [" " + TOKEN, TOKEN + "\n", "\t" + TOKEN + " ", TOKEN[:20] + " " + TOKEN[20:]])
def test_a_token_with_whitespace_is_refused_not_trimmed(padded):
    assert structure_code(verify(padded)) == "PARSING_ERROR"
    with pytest.raises(ParsingError):
        parse_compact_jws(padded)
    assert verify(TOKEN).verified


def test_a_token_file_may_end_with_one_line_end(tmp_path, trust):
    for content in (TOKEN, TOKEN + "\n", TOKEN + "\r\n"):
        assert vc_verify(tmp_path, trust, content).exit_code == 0
    for content in (TOKEN + "\n\n", " " + TOKEN + "\n", TOKEN + " \n"):
        result = vc_verify(tmp_path, trust, content)
        assert result.exit_code == 1 and json.loads(result.output)["checks"][0]["code"] == "PARSING_ERROR"
    assert document_of_file(TOKEN + "\n") == TOKEN


def test_a_fetched_token_may_end_with_one_line_end():
    assert read_fetched(Fetched("https://x.example/l", (TOKEN + "\n").encode(), None), what="x") == TOKEN
    with pytest.raises(RetrievalError):
        read_fetched(Fetched("https://x.example/l", (" " + TOKEN + "\n\n").encode(), None), what="x")


def test_vc_wallet_add_refuses_a_duplicate_and_a_padded_token_file(tmp_path):
    from tradevc.wallet.cli import cli as wallet_cli

    env = {"TRADEVC_WALLET_HOME": str(tmp_path / "wallet"), "TRADEVC_WALLET_PASSPHRASE": "importer passphrase",
           "TRADEVC_WALLET_PASSPHRASE_FILE": None}
    runner = CliRunner()
    assert runner.invoke(wallet_cli, ["init"], env=env).exit_code == 0
    forged, padded, token = tmp_path / "forged.json", tmp_path / "padded.jwt", tmp_path / "token.jwt"
    forged.write_text(forged_first_subject(SIGNED))
    padded.write_text("  " + TOKEN + "\n")
    token.write_text(TOKEN + "\n")
    result = runner.invoke(wallet_cli, ["add", str(forged), str(padded), str(token), "--offline"], env=env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "forged.json: not JSON (PARSING_ERROR" in result.output
    assert "padded.jwt: not JSON (PARSING_ERROR" in result.output
    assert "added" in result.output and result.output.count("REFUSED") == 2


def test_a_did_jwk_with_a_duplicated_member_is_an_invalid_did():
    from tradevc.vc.retrieval.did import DidResolutionError
    from tradevc.vc.retrieval.did.jwk import did_jwk, resolve

    other = KeyPair.generate("Ed25519").to_jwk()["x"]
    jwk = json.dumps(KEY.to_jwk(), separators=(",", ":"))
    twice = jwk.replace('"x":', f'"x":"{other}","x":', 1)  # a first-wins reader sees another key
    with pytest.raises(DidResolutionError) as refused:
        resolve("did:jwk:" + base64url_encode(twice.encode()))
    assert refused.value.error == "invalidDid"
    assert resolve(did_jwk(KEY))["id"] == did_jwk(KEY)


# The reader's fast path: text as orjson writes it (compact) or as json.dumps writes it by default
# (what requests and httpx send) is parsed by orjson and proven duplicate-free by writing it back.
_DUPLICATED = {
    "compact": '{"id":"urn:uuid:1","credentialSubject":{"name":"A","name":"B"},"n":1}',
    "json.dumps": '{"id": "urn:uuid:1", "credentialSubject": {"name": "A", "name": "B"}, "n": 1}',
    "pretty": '{\n  "id": "urn:uuid:1",\n  "credentialSubject": {\n    "name": "A",\n    "name": "B"\n  }\n}',
    "tabs and CRLF": '{\r\n\t"id": "urn:uuid:1",\r\n\t"credentialSubject": {"name": "A",\t"name": "B"}\r\n}',
    "spaces in names": '{"id": "urn:uuid:1", "credentialSubject": {"name": "A", "name": "B", "na me": "C"}}',
}
_WRITERS = {
    "compact": lambda value: json.dumps(value, separators=(",", ":"), ensure_ascii=False),
    "json.dumps": json.dumps,
    "pretty": lambda value: json.dumps(value, indent=2),
}


@pytest.mark.parametrize("form", sorted(_DUPLICATED))
def test_a_duplicate_member_is_refused_in_every_form_the_fast_path_reads(form):
    with pytest.raises(ParsingError, match="name"):
        loads(_DUPLICATED[form].encode())
    once = _DUPLICATED[form].replace('"name": "A",', "").replace('"name":"A",', "")
    assert loads(once.encode())["credentialSubject"]["name"] == "B"


def test_names_that_differ_only_in_spaces_are_two_members_not_a_duplicate():
    """Out of white space "a b" and "ab" look the same: both members are kept."""
    assert loads(b'{"a b": 1, "ab": 2, "s": "x, y: z"}') == {"a b": 1, "ab": 2, "s": "x, y: z"}
    with pytest.raises(ParsingError, match="duplicate"):
        loads(b'{"a b": 1, "ab": 2, "ab": 3}')


@pytest.mark.parametrize("form", sorted(_WRITERS))
def test_the_fast_path_reads_what_the_strict_reader_reads(form):
    reference = json.loads(REFERENCE.read_text())
    text = _WRITERS[form](reference).encode()
    assert loads(text) == reference == json.loads(text)
    # numbers the writer-back would not reproduce go the strict way and still read right
    odd = text.replace(b"{", b'{"e": 1E5, "f": 1.50, "s": "\\/", ', 1)
    value = loads(odd)
    assert (value["e"], value["f"], value["s"]) == (100000.0, 1.5, "/")
