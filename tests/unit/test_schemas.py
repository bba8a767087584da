"""VC JSON Schema: credentialSchema of type JsonSchema and JsonSchemaCredential, validated with
jsonschema against the schemas the verifier holds (pinned by URL and SHA-256), never fetched."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import load_vector
from tradevc.issuer import sign_credential
from tradevc.issuer.credential_types import build_credential, load_example, type_names
from tradevc.vc.digests import digest_multibase, digest_sri
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.vc.keys import KeyPair
from tradevc.vc.checks.schemas import SUPPORTED_DIALECTS, SchemaStore, SchemaStoreError, shipped_schema_for
from tradevc.verifier import TrustPolicy, Verifier, verify_credential, verify_presentation
from tradevc.verifier.cli import cli as verify_cli
from tradevc.wallet import sign_presentation

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
ANY = TrustPolicy.unsafe_any_issuer()
KEY = KeyPair.generate("Ed25519")
AUTHOR = KeyPair.generate("Ed25519")  # the author of a JsonSchemaCredential
SHIPPED = Path(__file__).resolve().parents[2] / "contexts" / "schemas"
D2020 = "https://json-schema.org/draft/2020-12/schema"
WEIGHT_URL = "https://schemas.example/weight.json"
WEIGHT = {
    "$schema": D2020, "$id": WEIGHT_URL, "title": "Weight", "type": "object",
    "properties": {"credentialSubject": {"type": "object", "required": ["weight"],
                                         "properties": {"weight": {"type": "number", "exclusiveMinimum": 0}}}},
}


def credential(schema=None, **subject):
    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"] = KEY.did
    document["credentialSubject"].update(subject)
    if schema is not None:
        document["credentialSchema"] = schema
    return document


def signed(schema=None, **subject):
    return sign_credential(credential(schema, **subject), KEY, created="2026-01-01T00:00:00Z")


def verify(document, schemas=None):
    return verify_credential(document, policy=ANY, now=NOW, schemas=schemas)


def schema_checks(result):
    return [c for c in result.checks if c.name == "schema"]


def one_schema_check(result):
    [check] = schema_checks(result)
    return check


STORE = SchemaStore.from_documents({WEIGHT_URL: WEIGHT})
ENTRY = {"id": WEIGHT_URL, "type": "JsonSchema"}


# -- the shipped schemas ------------------------------------------------------------------------------


def test_the_shipped_schemas_are_pinned_valid_2020_12_schemas():
    index = json.loads((SHIPPED / "index.json").read_text(encoding="utf-8"))
    entries = index["schemas"]
    assert sorted(e["credentialType"] for e in entries) == sorted(type_names())
    for entry in entries:
        data = (SHIPPED / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]
        assert json.loads(data)["$id"] == entry["url"]
    # from_index checks every schema now: version, $id, and the schema against its meta-schema
    store = SchemaStore.from_index(SHIPPED, include_shipped=False)
    assert store.urls == SchemaStore.shipped().urls and len(store) == len(type_names()) == 11
    assert {store.get(url).dialect for url in store.urls} == {"JSON Schema 2020-12"}


@pytest.mark.parametrize("type_name", type_names())
def test_every_trade_example_conforms_to_its_shipped_schema(type_name):
    body = build_credential(type_name, load_example(type_name), issuer=KEY.did,
                            valid_from="2026-01-01T00:00:00Z", valid_until="2026-12-31T00:00:00Z")
    entry = body.setdefault("credentialSchema", {"id": shipped_schema_for(type_name), "type": "JsonSchema"})
    assert entry["type"] == "JsonSchema" and entry["id"] in SchemaStore.shipped()
    result = verify(sign_credential(body, KEY, created="2026-01-01T00:00:00Z"))
    assert result.verified, result.summary()
    check = one_schema_check(result)
    assert (check.outcome.value, check.subject) == ("passed", entry["id"])


def test_a_trade_credential_that_breaks_its_schema_fails_naming_the_paths():
    body = build_credential("USMCACertificationOfOrigin", load_example("USMCACertificationOfOrigin"), issuer=KEY.did,
                            valid_from="2026-01-01T00:00:00Z", valid_until="2026-12-31T00:00:00Z")
    body.setdefault("credentialSchema", {"id": shipped_schema_for("USMCACertificationOfOrigin"), "type": "JsonSchema"})
    subject = body["credentialSubject"]
    subject["goods"][0]["commodityCode"] = "73041"
    del subject["exporterDetails"]["name"]
    subject["importerDetails"][0]["type"] = ["Person"]
    result = verify(sign_credential(body, KEY, created="2026-01-01T00:00:00Z"))  # signing checks only the data model
    assert not result.verified and result.check("proof").outcome.value == "passed"
    check = one_schema_check(result)
    assert (check.outcome.value, check.code) == ("failed", "SCHEMA_VALIDATION_ERROR")
    assert check.data["paths"] == [
        "credentialSubject.exporterDetails.name",
        "credentialSubject.importerDetails[0].type",
        "credentialSubject.goods[0].commodityCode",
    ]
    assert "credentialSubject.goods[0].commodityCode: '73041' does not match" in check.message
    assert "credentialSubject.exporterDetails.name: required property is missing" in check.message
    assert "must include 'Organization'" in check.message


# -- JsonSchema -----------------------------------------------------------------------------------------


def test_a_conforming_credential_passes_and_a_failing_one_names_the_path():
    result = verify(signed(ENTRY, weight=12.5), STORE)
    assert result.verified and one_schema_check(result).outcome.value == "passed", result.summary()
    names = [c.name for c in result.checks]
    assert names[-2:] == ["schema", "issuer_trust"]

    missing = one_schema_check(verify(signed(ENTRY), STORE))
    assert (missing.outcome.value, missing.code) == ("failed", "SCHEMA_VALIDATION_ERROR")
    assert missing.data["paths"] == ["credentialSubject.weight"]
    assert missing.data["errors"] == [{"path": "credentialSubject.weight", "message": "required property is missing"}]

    wrong = one_schema_check(verify(signed(ENTRY, weight="heavy"), STORE))
    assert wrong.data["paths"] == ["credentialSubject.weight"] and "'heavy' is not of type 'number'" in wrong.message
    zero = one_schema_check(verify(signed(ENTRY, weight=0), STORE))
    assert zero.outcome.value == "failed" and "credentialSubject.weight" in zero.message


def test_the_proof_is_not_part_of_what_is_validated():
    closed = {**WEIGHT, "$id": "https://schemas.example/closed.json", "additionalProperties": False,
              "properties": {k: {} for k in ("@context", "id", "type", "name", "description", "issuer", "validFrom",
                                             "credentialSubject", "credentialSchema")}}
    store = SchemaStore.from_documents({closed["$id"]: closed})
    entry = {"id": closed["$id"], "type": "JsonSchema"}
    assert one_schema_check(verify(signed(entry), store)).outcome.value == "passed"
    extra = credential(entry)
    extra["evidence"] = {"type": ["Evidence"]}  # not allowed by the closed schema
    assert one_schema_check(verify(sign_credential(extra, KEY, created="2026-01-01T00:00:00Z"), store)).outcome.value == "failed"


def test_jose_credentials_are_validated_too():
    token = sign_credential_jwt(credential(ENTRY, weight=3), KEY)
    assert one_schema_check(verify(token, STORE)).outcome.value == "passed"
    token = sign_credential_jwt(credential(ENTRY, weight=-3), KEY)
    result = verify(token, STORE)
    assert not result.verified and one_schema_check(result).data["paths"] == ["credentialSubject.weight"]


def test_a_schema_the_verifier_does_not_hold_is_skipped_not_passed(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a schema must never be fetched")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    monkeypatch.setattr("requests.sessions.Session.request", no_network)
    result = verify(signed({"id": "https://schemas.example/unknown.json", "type": "JsonSchema"}), STORE)
    check = one_schema_check(result)
    assert check.outcome.value == "skipped" and "not held by the verifier" in check.message
    assert result.verified  # optional for the verifier: reported, not passed


def test_an_unsupported_credential_schema_type_is_skipped():
    result = verify(signed({"id": WEIGHT_URL, "type": "JsonSchemaValidator2018"}), STORE)
    check = one_schema_check(result)
    assert check.outcome.value == "skipped" and "not supported" in check.message


def test_several_schemas_get_a_check_each():
    other = {"id": "https://schemas.example/unknown.json", "type": "JsonSchema"}
    result = verify(signed([ENTRY, other], weight=1), STORE)
    assert [(c.subject, c.outcome.value) for c in schema_checks(result)] == [(WEIGHT_URL, "passed"),
                                                                             (other["id"], "skipped")]


def test_the_entry_digest_must_match_the_held_schema():
    held = STORE.resource_bytes(WEIGHT_URL)
    for digest in ({"digestSRI": digest_sri(held)}, {"digestMultibase": digest_multibase(held)},
                   {"digestMultibase": digest_multibase(held, "sha384", form="raw")}):
        assert one_schema_check(verify(signed({**ENTRY, **digest}, weight=1), STORE)).outcome.value == "passed"
    check = one_schema_check(verify(signed({**ENTRY, "digestSRI": digest_sri(held + b" ")}, weight=1), STORE))
    assert (check.outcome.value, check.code) == ("failed", "RESOURCE_INTEGRITY_ERROR")


def test_the_entry_type_must_match_what_is_held():
    check = one_schema_check(verify(signed({"id": WEIGHT_URL, "type": "JsonSchemaCredential"}, weight=1), STORE))
    assert (check.outcome.value, check.code) == ("failed", "MALFORMED_VALUE_ERROR")


def test_refs_reach_held_schemas_only(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a $ref must never be fetched")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    part = {"$schema": D2020, "$id": "https://schemas.example/positive.json", "type": "number", "exclusiveMinimum": 0}
    uses = {"$schema": D2020, "$id": "https://schemas.example/uses.json", "type": "object",
            "properties": {"credentialSubject": {"properties": {"weight": {"$ref": "positive.json"}}}}}
    remote = {"$schema": D2020, "$id": "https://schemas.example/remote.json",
              "properties": {"credentialSubject": {"$ref": "https://elsewhere.example/s.json"}}}
    store = SchemaStore.from_documents({part["$id"]: part, uses["$id"]: uses, remote["$id"]: remote})
    uses_entry = {"id": uses["$id"], "type": "JsonSchema"}
    assert one_schema_check(verify(signed(uses_entry, weight=1), store)).outcome.value == "passed"
    assert one_schema_check(verify(signed(uses_entry, weight=-1), store)).data["paths"] == ["credentialSubject.weight"]
    check = one_schema_check(verify(signed({"id": remote["$id"], "type": "JsonSchema"}), store))
    assert (check.outcome.value, check.code) == ("error", "RESOLUTION_ERROR")
    assert "elsewhere.example" in check.message


@pytest.mark.parametrize("dialect", sorted(SUPPORTED_DIALECTS))
def test_each_supported_version(dialect):
    schema = {**WEIGHT, "$schema": dialect}
    if "draft-07" in dialect:
        schema["properties"]["credentialSubject"]["properties"]["weight"]["exclusiveMinimum"] = 0
    store = SchemaStore.from_documents({WEIGHT_URL: schema})
    assert one_schema_check(verify(signed(ENTRY, weight=1), store)).message.endswith(f"({SUPPORTED_DIALECTS[dialect]})")
    assert one_schema_check(verify(signed(ENTRY, weight=0), store)).outcome.value == "failed"


@pytest.mark.parametrize("schema,message", [
    ({k: v for k, v in WEIGHT.items() if k != "$schema"}, "must name one of"),
    ({**WEIGHT, "$schema": "http://json-schema.org/draft-04/schema#"}, "must name one of"),
    ({**WEIGHT, "$id": "https://schemas.example/other.json"}, "must be the URL it is held under"),
    ({**WEIGHT, "type": 5}, "not a valid JSON Schema 2020-12 schema"),
    ({**WEIGHT, "required": "weight"}, "not a valid JSON Schema 2020-12 schema"),
    ([WEIGHT], "must be a JSON object"),
])
def test_a_schema_the_store_cannot_use_is_refused_when_loaded(schema, message):
    with pytest.raises(SchemaStoreError, match=message):
        SchemaStore.from_documents({WEIGHT_URL: schema})


def write_index(folder: Path, schemas: dict, *, sha=None, extra=()):
    entries = []
    for i, (url, schema) in enumerate(schemas.items()):
        data = json.dumps(schema).encode()
        (folder / f"s{i}.json").write_bytes(data)
        entries.append({"url": url, "file": f"s{i}.json", "sha256": sha or hashlib.sha256(data).hexdigest()})
    (folder / "index.json").write_text(json.dumps({"schemas": entries + list(extra)}))
    return folder


def test_an_index_of_extra_schemas(tmp_path):
    store = SchemaStore.from_index(write_index(tmp_path, {WEIGHT_URL: WEIGHT}))
    assert WEIGHT_URL in store and SchemaStore.shipped().urls < store.urls
    assert SchemaStore.from_index(tmp_path / "index.json", include_shipped=False).urls == {WEIGHT_URL}
    verifier = Verifier.offline(policy=ANY, schemas=store)
    assert one_schema_check(verifier.verify_credential(signed(ENTRY, weight=2), now=NOW)).outcome.value == "passed"
    default = Verifier.offline(policy=ANY)
    assert default.schemas.urls == SchemaStore.shipped().urls
    assert one_schema_check(default.verify_credential(signed(ENTRY, weight=2), now=NOW)).outcome.value == "skipped"


@pytest.mark.parametrize("case,message", [
    ("sha", "has SHA-256"),
    ("missing-file", "cannot read"),
    ("not-json", "is not JSON"),
    ("bad-entry", "must have the strings url, file and sha256"),
    ("duplicate", "two schemas are held"),
])
def test_a_bad_index_is_refused(tmp_path, case, message):
    if case == "sha":
        write_index(tmp_path, {WEIGHT_URL: WEIGHT}, sha="0" * 64)
    elif case == "missing-file":
        write_index(tmp_path, {}, extra=[{"url": WEIGHT_URL, "file": "nope.json", "sha256": "0" * 64}])
    elif case == "not-json":
        (tmp_path / "index.json").write_text("{")
    elif case == "bad-entry":
        write_index(tmp_path, {}, extra=[{"url": WEIGHT_URL}])
    else:
        shipped_url = sorted(SchemaStore.shipped().urls)[0]
        write_index(tmp_path, {shipped_url: {**WEIGHT, "$id": shipped_url}})
    with pytest.raises(SchemaStoreError, match=message):
        SchemaStore.from_index(tmp_path)


def test_vc_verify_takes_extra_schemas(tmp_path):
    folder = tmp_path / "schemas"
    folder.mkdir()
    write_index(folder, {WEIGHT_URL: WEIGHT})
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": {KEY.did: ["AlumniCredential"]}}))
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(signed(ENTRY, weight=1)))
    bad.write_text(json.dumps(signed(ENTRY, weight=-1)))
    common = ["--trust", str(trust), "--offline", "--schemas", str(folder)]
    r = CliRunner().invoke(verify_cli, ["credential", str(good), *common])
    assert r.exit_code == 0 and "OK   schema" in r.output, r.output
    r = CliRunner().invoke(verify_cli, ["credential", str(bad), *common])
    assert r.exit_code == 1 and "credentialSubject.weight" in r.output, r.output
    (folder / "index.json").write_text("{")
    r = CliRunner().invoke(verify_cli, ["credential", str(good), *common])
    assert r.exit_code == 2 and "--schemas" in r.output and "Traceback" not in r.output, r.output


# -- JsonSchemaCredential -------------------------------------------------------------------------------

SC_URL = "https://schemas.example/credentials/weight"


def schema_credential(schema=WEIGHT, **changes):
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": SC_URL,
        "type": ["VerifiableCredential", "JsonSchemaCredential"],
        "issuer": AUTHOR.did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": WEIGHT_URL, "type": "JsonSchema", "jsonSchema": schema},
    }
    document.update(changes)
    return document


SC_ENTRY = {"id": SC_URL, "type": "JsonSchemaCredential"}


@pytest.mark.parametrize("suite", ["eddsa-jcs-2022", "eddsa-rdfc-2022", "jose"])
def test_a_held_schema_credential_is_verified_then_used(suite):
    unsigned = schema_credential()
    held = sign_credential_jwt(unsigned, AUTHOR) if suite == "jose" else \
        sign_credential(unsigned, AUTHOR, cryptosuite=suite, created="2026-01-01T00:00:00Z")
    store = SchemaStore.from_documents({SC_URL: held})
    assert store.get(SC_URL).kind == "JsonSchemaCredential"
    check = one_schema_check(verify(signed(SC_ENTRY, weight=1), store))
    assert check.outcome.value == "passed", check.message
    failed = one_schema_check(verify(signed(SC_ENTRY), store))
    assert (failed.code, failed.data["paths"]) == ("SCHEMA_VALIDATION_ERROR", ["credentialSubject.weight"])


def test_a_tampered_schema_credential_fails():
    held = sign_credential(schema_credential(), AUTHOR, cryptosuite="eddsa-jcs-2022", created="2026-01-01T00:00:00Z")
    held["credentialSubject"]["jsonSchema"] = copy.deepcopy(WEIGHT)
    del held["credentialSubject"]["jsonSchema"]["properties"]  # a laxer schema, under the author's proof
    store = SchemaStore.from_documents({SC_URL: held})
    check = one_schema_check(verify(signed(SC_ENTRY), store))
    assert (check.outcome.value, check.code) == ("failed", "PROOF_VERIFICATION_ERROR")
    assert "did not verify" in check.message


def test_an_expired_schema_credential_fails():
    held = sign_credential(schema_credential(validUntil="2026-02-01T00:00:00Z"), AUTHOR,
                           cryptosuite="eddsa-jcs-2022", created="2026-01-01T00:00:00Z")
    check = one_schema_check(verify(signed(SC_ENTRY, weight=1), SchemaStore.from_documents({SC_URL: held})))
    assert (check.outcome.value, check.code) == ("failed", "RANGE_ERROR")


@pytest.mark.parametrize("change,message", [
    ({"type": ["VerifiableCredential"]}, "must be the URL it is held under"),  # then it is read as a plain schema
    ({"credentialSubject": {"type": "Other", "jsonSchema": WEIGHT}}, "must have type JsonSchema"),
    ({"credentialSubject": {"type": "JsonSchema", "jsonSchema": "{}"}}, "must be a JSON object"),
    ({"id": "https://schemas.example/credentials/other"}, "not its URL"),
])
def test_a_malformed_schema_credential_is_refused_when_loaded(change, message):
    with pytest.raises(SchemaStoreError, match=message):
        SchemaStore.from_documents({SC_URL: schema_credential(**change)})


# -- wiring ---------------------------------------------------------------------------------------------


def test_presentations_pass_the_schemas_to_each_credential():
    holder = KeyPair.generate("Ed25519")
    vp = sign_presentation([signed(ENTRY)], holder, challenge="c", domain="d", created="2026-01-02T00:00:00Z")
    result = verify_presentation(vp, challenge="c", domain="d", policy=ANY, now=NOW, schemas=STORE)
    assert not result.verified
    assert one_schema_check(result.credentials[0]).data["paths"] == ["credentialSubject.weight"]


def test_credentials_without_credential_schema_never_load_jsonschema():
    code = (
        "import sys, json;"
        "from datetime import datetime, timezone;"
        "from tradevc.vc.keys import KeyPair; from tradevc.issuer import sign_credential;"
        "from tradevc.verifier import TrustPolicy, verify_credential;"
        "k = KeyPair.generate('Ed25519');"
        f"c = json.loads({json.dumps(json.dumps(load_vector('di-eddsa/unsigned.json')))}); c['issuer'] = k.did;"
        "r = verify_credential(sign_credential(c, k, created='2026-01-01T00:00:00Z'), policy=TrustPolicy.unsafe_any_issuer(),"
        " now=datetime(2026, 6, 1, tzinfo=timezone.utc));"
        "assert r.verified, r.summary();"
        "print(','.join(m for m in ('jsonschema', 'referencing') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_an_empty_store_holds_nothing_not_the_shipped_schemas():
    body = build_credential("CommercialInvoiceCredential", load_example("CommercialInvoiceCredential"), issuer=KEY.did,
                            valid_from="2026-01-01T00:00:00Z")
    document = sign_credential(body, KEY, created="2026-01-02T00:00:00Z")
    assert one_schema_check(verify(document)).outcome.value == "passed"  # the default: the shipped schemas
    assert one_schema_check(verify(document, SchemaStore.empty())).outcome.value == "skipped"
    verifier = Verifier.offline(policy=ANY, schemas=SchemaStore.empty())
    assert one_schema_check(verifier.verify_credential(document, now=NOW)).outcome.value == "skipped"


def test_cached_results_are_per_credential_and_per_schema():
    store = SchemaStore.from_documents({WEIGHT_URL: WEIGHT})
    bad, good = credential(ENTRY, weight=-1), credential(ENTRY, weight=1)
    first = store.problems(WEIGHT_URL, bad)
    assert first and store.problems(WEIGHT_URL, bad) == first  # from the cache, equal
    first[0]["path"] = "changed by the caller"
    assert store.problems(WEIGHT_URL, bad)[0]["path"] == "credentialSubject.weight"  # the cache keeps its own copy
    assert store.problems(WEIGHT_URL, good) == []
    assert store.problems(WEIGHT_URL, {**good, "proof": {"type": "DataIntegrityProof"}}) == []  # proof left out
    bad["credentialSubject"]["weight"] = 2  # the same object, now conforming: not served from the cache
    assert store.problems(WEIGHT_URL, bad) == []


@pytest.mark.parametrize("value,twin", [
    (float("inf"), None), (float("-inf"), None), (float("nan"), None), ((1, 2), [1, 2]),
    (datetime(2026, 1, 1), "2026-01-01T00:00:00"),
])
def test_a_value_orjson_writes_like_another_is_not_served_from_the_cache(value, twin):
    """orjson writes NaN and infinities as null (json.loads reads NaN and Infinity), a tuple as
    a list and a datetime as a string: the cache must not give such a credential the result
    of the conforming credential it is written like."""
    no_numbers = {"$schema": D2020, "$id": WEIGHT_URL, "type": "object", "properties": {"credentialSubject": {
        "properties": {"weight": {"type": ["null", "array", "string"]}}}}}
    store = SchemaStore.from_documents({WEIGHT_URL: no_numbers})
    conforming, hostile = credential(ENTRY, weight=1), credential(ENTRY, weight=1)
    conforming["credentialSubject"]["weight"], hostile["credentialSubject"]["weight"] = twin, value
    assert store.problems(WEIGHT_URL, conforming) == []  # and its result is kept
    assert store.problems(WEIGHT_URL, hostile)[0]["path"] == "credentialSubject.weight"


def test_a_number_too_large_for_a_fractional_multiple_of_is_a_failure_not_a_traceback():
    """jsonschema divides by a float multipleOf in floating point: an integer beyond the float
    range (json.loads reads 4300 digits) raised OverflowError out of verify_credential. Such a
    number is not I-JSON (issue 15): it is neither signed nor verified."""
    cents = {"$schema": D2020, "$id": WEIGHT_URL, "type": "object", "properties": {"credentialSubject": {
        "properties": {"weight": {"type": "number", "multipleOf": 0.01}}}}}
    store = SchemaStore.from_documents({WEIGHT_URL: cents})
    document = json.loads(json.dumps(credential(ENTRY, weight=1)).replace('"weight": 1', '"weight": 1' + "0" * 400))
    assert document["credentialSubject"]["weight"] == 10**400
    with pytest.raises(InvalidDocument) as refused:
        sign_credential_jwt(document, KEY)
    assert refused.value.code == "PARSING_ERROR"
    result = verify(document, store)
    assert result.check("structure").code == "PARSING_ERROR" and not result.verified
    assert one_schema_check(verify(sign_credential_jwt(credential(ENTRY, weight=12.5), KEY), store)).outcome.value == "passed"


def test_a_schema_credential_that_cannot_be_verified_is_could_not_verify():
    status = {"id": "https://schemas.example/status/1#5", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
              "statusListIndex": "5", "statusListCredential": "https://schemas.example/status/1"}
    held = sign_credential(schema_credential(credentialStatus=status), AUTHOR, cryptosuite="eddsa-jcs-2022",
                           created="2026-01-01T00:00:00Z")
    result = verify(signed(SC_ENTRY, weight=1), SchemaStore.from_documents({SC_URL: held}))
    check = one_schema_check(result)  # offline: the schema credential's status cannot be checked
    assert (check.outcome.value, check.code) == ("error", "STATUS_RETRIEVAL_ERROR")
    assert result.could_not_verify and not result.verified


def test_a_related_resource_that_is_a_held_schema_is_checked_against_it():
    url = shipped_schema_for("CommercialInvoiceCredential")
    data = SchemaStore.shipped().resource_bytes(url)
    document = sign_credential(credential() | {"relatedResource": [{"id": url, "digestSRI": digest_sri(data)}]}, KEY,
                               created="2026-01-01T00:00:00Z")
    assert verify(document).check("related_resource").outcome.value == "passed"
    document = sign_credential(credential() | {"relatedResource": [{"id": url, "digestSRI": digest_sri(data + b"x")}]},
                               KEY, created="2026-01-01T00:00:00Z")
    assert verify(document).check("related_resource").code == "RESOURCE_INTEGRITY_ERROR"
    assert verify(document, SchemaStore.empty()).check("related_resource").outcome.value == "skipped"
