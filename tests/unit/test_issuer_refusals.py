"""``Issuer.issue`` and ``vc-issuer issue`` refuse a credential before anything is recorded:
no id, no status index, no "reserved" record; on the command line, one line with a code."""

from __future__ import annotations

import copy
import json
import math

import pytest
from click.testing import CliRunner

from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli
from tradevc.issuer.errors import IssuerError
from tradevc.vc.errors import DataLossError, InvalidDocument

PASS = b"mill passphrase"
V2 = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "credentialSubject": {"id": "did:example:buyer", "name": "Steel Buyer"},
}
# A VC 1.1 credential: its context does not define the terms of the status entries the
# registry adds (BitstringStatusListEntry), so only the credential with its entries loses data.
V1 = {
    "@context": ["https://www.w3.org/2018/credentials/v1"],
    "type": ["VerifiableCredential"],
    "issuanceDate": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:buyer"},
}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("issuer") / "home"
    Issuer.init(path, PASS, name="Aceros del Norte", did_web_domain="mill.example",
                status_base_url="https://mill.example/status/").close()
    return path


@pytest.fixture
def issuer(home, tmp_path):
    # a fresh registry for each test: copy the home without it
    fresh = tmp_path / "home"
    fresh.mkdir(mode=0o700)
    for name in ("issuer.json", "keys"):
        source = home / name
        if source.is_dir():
            (fresh / name).mkdir(mode=0o700)
            for key in source.iterdir():
                (fresh / name / key.name).write_bytes(key.read_bytes())
                (fresh / name / key.name).chmod(0o600)
        else:
            (fresh / name).write_bytes(source.read_bytes())
            (fresh / name).chmod(0o600)
    with Issuer.open(fresh, PASS) as issuer:
        yield issuer


def with_name(value):
    credential = copy.deepcopy(V2)
    credential["credentialSubject"]["name"] = value
    return credential


def nothing_recorded(issuer: Issuer) -> bool:
    return issuer.issued() == [] and issuer.registry.lists() == []


REFUSED = [
    # (credential, securing, cryptosuite, error, code)
    pytest.param(V1, "data-integrity", None, DataLossError, "DATA_LOSS_DETECTION_ERROR", id="v1-status-terms-rdfc"),
    pytest.param(
        {**V2, "credentialSubject": {"id": "did:example:buyer", "https://example.org/weight": 1}},
        "data-integrity", None, DataLossError, "DATA_LOSS_DETECTION_ERROR", id="iri-as-property-rdfc",
    ),
    pytest.param(with_name(math.nan), "data-integrity", None, InvalidDocument, "PARSING_ERROR", id="nan-rdfc"),
    pytest.param(with_name(math.inf), "jose", None, InvalidDocument, "PARSING_ERROR", id="inf-jose"),
    pytest.param(with_name(2**53), "data-integrity", "eddsa-jcs-2022", InvalidDocument, "PARSING_ERROR",
                 id="2**53-jcs"),
    pytest.param(with_name(-(2**60)), "jose", None, InvalidDocument, "PARSING_ERROR", id="-2**60-jose"),
    pytest.param(with_name([{"x": 2**64}]), "data-integrity", None, InvalidDocument, "PARSING_ERROR",
                 id="nested-2**64-rdfc"),
    pytest.param({**V2, "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}, "data-integrity",
                 None, IssuerError, "ISSUER_ERROR", id="foreign-issuer"),
]


@pytest.mark.parametrize(("credential", "securing", "suite", "error", "code"), REFUSED)
def test_a_refused_credential_reserves_nothing(issuer, credential, securing, suite, error, code):
    with pytest.raises(error) as refused:
        issuer.issue(copy.deepcopy(credential), securing=securing, cryptosuite=suite, credential_id="urn:uuid:one")
    assert refused.value.code == code
    assert nothing_recorded(issuer)


def test_the_id_of_a_refused_credential_can_be_issued_and_gets_fresh_entries(issuer):
    with pytest.raises(InvalidDocument):
        issuer.issue(with_name(math.nan), credential_id="urn:uuid:again")
    signed = issuer.issue(with_name("Steel Buyer"), credential_id="urn:uuid:again")
    assert [r.state for r in issuer.issued()] == ["issued"]
    assert [e["statusPurpose"] for e in signed["credentialStatus"]] == ["revocation", "suspension"]
    assert all(e["statusListCredential"].endswith("/1") for e in signed["credentialStatus"])


@pytest.mark.parametrize("securing", ["data-integrity", "jose"])
@pytest.mark.parametrize("value", [2**53 - 1, -(2**53 - 1), 1e300, 0.1])
def test_numbers_inside_i_json_are_issued(issuer, securing, value):
    issuer.issue(with_name(value), securing=securing, cryptosuite="eddsa-jcs-2022" if securing != "jose" else None)
    assert [r.state for r in issuer.issued()] == ["issued"]


def test_without_status_lists_a_refusal_records_no_id(tmp_path):
    with Issuer.init(tmp_path / "home", PASS, name="Aceros del Norte") as issuer:
        with pytest.raises(DataLossError):
            issuer.issue({**V2, "credentialSubject": {"https://example.org/weight": 1}}, credential_id="urn:uuid:x")
        assert issuer.issued() == []
        issuer.issue(copy.deepcopy(V2), credential_id="urn:uuid:x")
        assert [(r.id, r.state, r.revoked) for r in issuer.issued()] == [("urn:uuid:x", "issued", None)]
        with pytest.raises(IssuerError, match="already issued"):
            issuer.issue(copy.deepcopy(V2), credential_id="urn:uuid:x")


# -- vc-issuer issue ---------------------------------------------------------------------------------


def run(issuer: Issuer, *args: str, expect: int):
    env = {"TRADEVC_ISSUER_HOME": str(issuer.home.path), "TRADEVC_ISSUER_PASSPHRASE": PASS.decode(),
           "TRADEVC_ISSUER_PASSPHRASE_FILE": None}
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == expect, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], '
         '"credentialSubject": {"id": "did:example:b", "name": NaN}}',
         "error: PARSING_ERROR: {path}: NaN is not a JSON number (I-JSON)"),
        ('{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], '
         '"credentialSubject": {"id": "did:example:b", "name": 9007199254740993}}',
         "error: PARSING_ERROR: {path}: an integer beyond 2**53-1 in magnitude"),
        (json.dumps(V1), "error: DATA_LOSS_DETECTION_ERROR: JSON-LD expansion would drop term"),
        (json.dumps({**V2, "issuer": "did:web:other.example"}),
         "error: ISSUER_ERROR: the credential names issuer 'did:web:other.example'"),
        ('{"credentialSubject": ', "error: PARSING_ERROR: {path}: not JSON"),
        ("[1, 2]", "error: MALFORMED_VALUE_ERROR: "),
    ],  # a file that is not UTF-8 exits 2: tests/unit/test_text_encodings.py
    ids=["nan", "2**53+1", "data-loss", "foreign-issuer", "not-json", "not-an-object"],
)
def test_cli_refusals_are_one_line_with_a_code_and_record_nothing(issuer, tmp_path, text, line):
    path = tmp_path / "credential.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = run(issuer, "issue", "--credential", str(path), expect=1)
    assert result.output.startswith(line.format(path=path)) and result.output.count("\n") == 1, result.output
    assert "Traceback" not in result.output
    assert nothing_recorded(issuer)
    assert run(issuer, "list", expect=0).output == "nothing issued yet\n"


def test_cli_issues_the_same_credential_once_valid(issuer, tmp_path):
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(V2))
    result = run(issuer, "issue", "--credential", str(path), "--id", "urn:uuid:ok", expect=0)
    assert json.loads(result.output)["id"] == "urn:uuid:ok"
    again = run(issuer, "issue", "--credential", str(path), "--id", "urn:uuid:ok", expect=1)
    assert again.output == "error: ISSUER_ERROR: a credential with id urn:uuid:ok was already issued\n"
